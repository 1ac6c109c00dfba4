//! The `[meetings]` TOML section: admin API address, polling, resolver settings and the rooms with their CalDAV
//! collections. It lives in its own file for now (`causeway meetings serve -c meetings.toml`); the section name is
//! `[meetings]` so it can move into the main config unchanged.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;
use url::Url;

use crate::resolve::ResolverConfig;

/// A config file holding a `[meetings]` section (other top-level sections are not allowed here).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    meetings: MeetingsConfig,
}

/// `[meetings]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingsConfig {
    /// Admin HTTP API address; loopback by default.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Seconds between polls of each room calendar.
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
    /// Days ahead to expand recurrences, check conflicts and list bookings.
    #[serde(default = "default_horizon")]
    pub horizon_days: u32,
    /// HTTP timeout per CalDAV request, seconds.
    #[serde(default = "default_timeout")]
    pub http_timeout_secs: u64,
    /// Largest CalDAV response body accepted, bytes.
    #[serde(default = "default_max_response")]
    pub max_response_bytes: usize,
    /// Join resolver settings (`[meetings.resolver]`).
    #[serde(default)]
    pub resolver: ResolverConfig,
    /// Rooms (`[[meetings.rooms]]`).
    #[serde(default)]
    pub rooms: Vec<RoomConfig>,
}

/// `[[meetings.rooms]]`: one room and its calendar.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomConfig {
    /// Room id (used in the API path and by the rooms controller).
    pub id: String,
    /// CalDAV calendar collection URL (ends with `/`).
    pub calendar_url: Url,
    /// The room's calendar user address as invites name it (`mailto:board@ent.example`).
    pub address: String,
    /// SIP identities of the room's devices (for the Zoom repair, which sees the caller, not the room id).
    #[serde(default)]
    pub identities: Vec<String>,
    /// CalDAV user name (HTTP Basic).
    #[serde(default)]
    pub username: Option<String>,
    /// CalDAV password, inline.
    #[serde(default)]
    pub password: Option<String>,
    /// CalDAV password, read from this file (first line) at load time.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8089))
}
fn default_poll() -> u64 {
    60
}
fn default_horizon() -> u32 {
    7
}
fn default_timeout() -> u64 {
    10
}
fn default_max_response() -> usize {
    16 * 1024 * 1024
}

/// Why the meetings config is not usable.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// TOML syntax or shape (the message names line and column).
    #[error("{path}: {source}")]
    Toml { path: String, source: toml::de::Error },
    /// Two rooms with one id.
    #[error("{path}: room id `{id}` is used twice")]
    DuplicateRoom { path: String, id: String },
    /// A value outside its range.
    #[error("{path}: {field} must be {rule}")]
    OutOfRange { path: String, field: &'static str, rule: &'static str },
    /// Both `password` and `password_file`, or a password without a user name.
    #[error("{path}: room `{id}`: {problem}")]
    Credentials { path: String, id: String, problem: &'static str },
    /// The password file could not be read.
    #[error("{path}: room `{id}`: password_file {file}: {source}")]
    PasswordFile { path: String, id: String, file: String, source: std::io::Error },
    /// `resolver.floating_timezone` is not an IANA zone.
    #[error("{path}: resolver.floating_timezone `{zone}` is not an IANA time zone")]
    Timezone { path: String, zone: String },
}

impl MeetingsConfig {
    /// Reads and validates a file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
        Self::from_toml(&text, &shown)
    }

    /// Parses and validates TOML text; `path` is only used in messages. Password files are read here.
    pub fn from_toml(text: &str, path: &str) -> Result<Self, ConfigError> {
        let file: File = toml::from_str(text).map_err(|source| ConfigError::Toml { path: path.to_owned(), source })?;
        let mut config = file.meetings;
        let range = |field, rule| ConfigError::OutOfRange { path: path.to_owned(), field, rule };
        if !(1..=86_400).contains(&config.poll_interval_secs) {
            return Err(range("poll_interval_secs", "1..=86400"));
        }
        if !(1..=366).contains(&config.horizon_days) {
            return Err(range("horizon_days", "1..=366"));
        }
        if !(1..=300).contains(&config.http_timeout_secs) {
            return Err(range("http_timeout_secs", "1..=300"));
        }
        if config.resolver.floating_timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(ConfigError::Timezone { path: path.to_owned(), zone: config.resolver.floating_timezone.clone() });
        }
        let mut seen = std::collections::BTreeSet::new();
        for room in &mut config.rooms {
            if !seen.insert(room.id.clone()) {
                return Err(ConfigError::DuplicateRoom { path: path.to_owned(), id: room.id.clone() });
            }
            let credentials = |problem| ConfigError::Credentials { path: path.to_owned(), id: room.id.clone(), problem };
            if room.password.is_some() && room.password_file.is_some() {
                return Err(credentials("set password or password_file, not both"));
            }
            if let Some(file) = &room.password_file {
                let read = std::fs::read_to_string(file).map_err(|source| ConfigError::PasswordFile {
                    path: path.to_owned(),
                    id: room.id.clone(),
                    file: file.display().to_string(),
                    source,
                })?;
                room.password = Some(read.lines().next().unwrap_or_default().to_owned());
            }
            if room.password.is_some() && room.username.is_none() {
                return Err(credentials("a password needs a username"));
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_loads_with_defaults() -> Result<(), ConfigError> {
        let text = r#"
[meetings]
[meetings.resolver]
priority = ["zoom", "sip", "webex", "teams", "google-meet"]
meet_gateway = "{code}@meet-gw.ent.example"
[[meetings.resolver.teams_providers]]
name = "pexip"
domain = "vc.ent.example"
template = "{tenant}.{vtcid}@{domain}"
tenant_key = "acme"
[[meetings.rooms]]
id = "board"
calendar_url = "http://127.0.0.1:5232/causeway/board/"
address = "mailto:board@ent.example"
username = "causeway"
password = "secret"
"#;
        let config = MeetingsConfig::from_toml(text, "m.toml")?;
        assert_eq!(config.listen, default_listen());
        assert_eq!(config.rooms.len(), 1);
        assert_eq!(config.resolver.teams_providers.first().map(|p| p.name.as_str()), Some("pexip"));
        assert_eq!(config.resolver.zoom_domain, "zoomcrc.com");
        Ok(())
    }

    #[test]
    fn bad_configs_are_named() {
        let err = |t: &str| MeetingsConfig::from_toml(t, "m.toml").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("[meetings]\npoll_intervall = 5\n").starts_with("m.toml: TOML parse error at line 2, column 1"));
        assert_eq!(err("[meetings]\nhorizon_days = 0\n"), "m.toml: horizon_days must be 1..=366");
        let room = "[[meetings.rooms]]\nid = \"a\"\ncalendar_url = \"http://127.0.0.1/a/\"\naddress = \"mailto:a@x.example\"\n";
        assert_eq!(err(&format!("[meetings]\n{room}{room}")), "m.toml: room id `a` is used twice");
        assert_eq!(err(&format!("[meetings]\n{room}password = \"p\"\n")), "m.toml: room `a`: a password needs a username");
        assert!(err(&format!("[meetings]\n{}", room.replace("http://127.0.0.1/a/", "not a url"))).contains("line 4"));
    }
}
