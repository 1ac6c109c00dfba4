//! The `causeway rooms run -c FILE` configuration: controller settings and one `[[room]]` per device.
//!
//! ```toml
//! [controller]
//! request_timeout_ms = 10000
//! backoff_initial_ms = 500
//! backoff_max_ms = 60000
//! bookings_interval_s = 60
//! swap_panel_id = "causeway-swap"
//!
//! [[room]]
//! name = "oslo"
//! url = "wss://10.1.2.3/ws"
//! username = "causeway"
//! password_file = "/etc/causeway/oslo.pw"
//! ca_file = "/etc/causeway/device-ca.pem"   # or: insecure = true (lab devices only)
//! bookings_file = "/var/lib/causeway/oslo-bookings.json"
//! ```

use super::client::{DeviceTarget, TlsVerify};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a configuration was refused; every message names the file, and the room where it applies.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax or shape error (the message carries line and column).
    #[error("{path}: {source}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: Box<toml::de::Error>,
    },
    /// A room's settings do not make sense.
    #[error("{path}: room {room:?}: {reason}")]
    Room {
        /// The file.
        path: PathBuf,
        /// The room name.
        room: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A password file could not be read.
    #[error("{path}: room {room:?}: cannot read password_file {file}: {source}")]
    PasswordFile {
        /// The config file.
        path: PathBuf,
        /// The room name.
        room: String,
        /// The password file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No rooms at all.
    #[error("{path}: no [[room]] configured")]
    NoRooms {
        /// The file.
        path: PathBuf,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    controller: RawController,
    #[serde(default)]
    room: Vec<RawRoom>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawController {
    /// Time allowed for a connect or one JSON-RPC request.
    #[serde(default = "default_timeout")]
    request_timeout_ms: u64,
    /// First reconnect delay; doubles per failure.
    #[serde(default = "default_backoff_initial")]
    backoff_initial_ms: u64,
    /// Longest reconnect delay.
    #[serde(default = "default_backoff_max")]
    backoff_max_ms: u64,
    /// How often bookings are re-read and pushed when they changed.
    #[serde(default = "default_bookings_interval")]
    bookings_interval_s: u64,
    /// `PanelId` of the swap button the controller saves on each device.
    #[serde(default = "default_panel_id")]
    swap_panel_id: String,
}

impl Default for RawController {
    fn default() -> Self {
        RawController {
            request_timeout_ms: default_timeout(),
            backoff_initial_ms: default_backoff_initial(),
            backoff_max_ms: default_backoff_max(),
            bookings_interval_s: default_bookings_interval(),
            swap_panel_id: default_panel_id(),
        }
    }
}

fn default_timeout() -> u64 {
    10_000
}
fn default_backoff_initial() -> u64 {
    500
}
fn default_backoff_max() -> u64 {
    60_000
}
fn default_bookings_interval() -> u64 {
    60
}
fn default_panel_id() -> String {
    "causeway-swap".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoom {
    name: String,
    url: String,
    #[serde(default = "default_user")]
    username: String,
    password: Option<String>,
    password_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    #[serde(default)]
    insecure: bool,
    bookings_file: Option<PathBuf>,
}

fn default_user() -> String {
    "admin".to_owned()
}

/// Controller-wide settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Time allowed for a connect or one request.
    pub request_timeout: Duration,
    /// First reconnect delay.
    pub backoff_initial: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// Booking refresh period.
    pub bookings_interval: Duration,
    /// `PanelId` of the swap button.
    pub swap_panel_id: String,
}

impl Default for Settings {
    fn default() -> Self {
        RawController::default().into()
    }
}

impl From<RawController> for Settings {
    fn from(raw: RawController) -> Self {
        Settings {
            request_timeout: Duration::from_millis(raw.request_timeout_ms),
            backoff_initial: Duration::from_millis(raw.backoff_initial_ms),
            backoff_max: Duration::from_millis(raw.backoff_max_ms),
            bookings_interval: Duration::from_secs(raw.bookings_interval_s),
            swap_panel_id: raw.swap_panel_id,
        }
    }
}

/// One room: its device and where its bookings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomConfig {
    /// Room name (logs, booking store key).
    pub name: String,
    /// The device.
    pub device: DeviceTarget,
    /// A JSON booking list to push, when no booking store is wired in.
    pub bookings_file: Option<PathBuf>,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerConfig {
    /// Controller-wide settings.
    pub settings: Settings,
    /// The rooms.
    pub rooms: Vec<RoomConfig>,
}

impl ControllerConfig {
    /// Reads and validates a file; relative paths inside are relative to the file's folder.
    pub fn load(path: &Path) -> Result<ControllerConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Self::parse(&text, path)
    }

    /// Validates `text` as if read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<ControllerConfig, ConfigError> {
        let raw: RawFile = toml::from_str(text)
            .map_err(|source| ConfigError::Toml { path: path.to_owned(), source: Box::new(source) })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
        let settings = Settings::from(raw.controller);
        if raw.room.is_empty() {
            return Err(ConfigError::NoRooms { path: path.to_owned() });
        }
        let mut names = BTreeSet::new();
        let mut rooms = Vec::new();
        for r in raw.room {
            let err = |reason| ConfigError::Room { path: path.to_owned(), room: r.name.clone(), reason };
            if r.name.trim().is_empty() {
                return Err(err("name is empty"));
            }
            if !names.insert(r.name.clone()) {
                return Err(err("name is used by another room"));
            }
            let secure = if r.url.starts_with("wss://") {
                true
            } else if r.url.starts_with("ws://") {
                false
            } else {
                return Err(err("url must start with wss:// or ws://"));
            };
            let tls = match (secure, r.ca_file, r.insecure) {
                (true, Some(_), true) => return Err(err("ca_file and insecure = true contradict each other")),
                (true, Some(ca), false) => TlsVerify::CaFile(resolve(ca)),
                (true, None, true) => TlsVerify::Insecure,
                (true, None, false) => TlsVerify::SystemRoots,
                (false, None, false) => TlsVerify::Insecure,
                (false, _, _) => return Err(err("ca_file and insecure only apply to wss:// URLs")),
            };
            let password = match (r.password, r.password_file) {
                (Some(p), None) => p,
                (None, Some(file)) => {
                    let file = resolve(file);
                    std::fs::read_to_string(&file)
                        .map(|s| s.trim_end_matches(['\r', '\n']).to_owned())
                        .map_err(|source| ConfigError::PasswordFile {
                            path: path.to_owned(),
                            room: r.name.clone(),
                            file,
                            source,
                        })?
                }
                (Some(_), Some(_)) => return Err(err("give password or password_file, not both")),
                (None, None) => return Err(err("password or password_file is required")),
            };
            rooms.push(RoomConfig {
                name: r.name,
                device: DeviceTarget { url: r.url, username: r.username, password, tls },
                bookings_file: r.bookings_file.map(resolve),
            });
        }
        Ok(ControllerConfig { settings, rooms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ControllerConfig, ConfigError> {
        ControllerConfig::parse(text, Path::new("/etc/causeway/rooms.toml"))
    }

    #[test]
    fn a_full_room_resolves_relative_paths_and_defaults() {
        let cfg = parse(
            r#"
            [[room]]
            name = "oslo"
            url = "wss://10.1.2.3/ws"
            password = "pw"
            ca_file = "ca.pem"
            bookings_file = "oslo.json"
            "#,
        )
        .expect("valid");
        assert_eq!(cfg.settings, Settings::default());
        let room = cfg.rooms.first().expect("one room");
        assert_eq!(room.device.username, "admin");
        assert_eq!(room.device.tls, TlsVerify::CaFile("/etc/causeway/ca.pem".into()));
        assert_eq!(room.bookings_file.as_deref(), Some(Path::new("/etc/causeway/oslo.json")));
    }

    #[test]
    fn password_file_is_read_and_trimmed() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("pw"), "s3cret\n").expect("write");
        let text = "[[room]]\nname = \"a\"\nurl = \"ws://127.0.0.1:1/ws\"\npassword_file = \"pw\"\n";
        let cfg = ControllerConfig::parse(text, &dir.path().join("rooms.toml")).expect("valid");
        assert_eq!(cfg.rooms.first().map(|r| r.device.password.as_str()), Some("s3cret"));
        let missing = ControllerConfig::parse(&text.replace("\"pw\"", "\"nope\""), &dir.path().join("rooms.toml"));
        assert!(matches!(missing, Err(ConfigError::PasswordFile { .. })));
    }

    #[test]
    fn contradictions_and_typos_are_refused_with_the_room_named() {
        let room = |extra: &str| format!("[[room]]\nname = \"r1\"\nurl = \"wss://h/ws\"\npassword = \"p\"\n{extra}");
        let msg = |text: &str| parse(text).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg(&room("ca_file = \"c\"\ninsecure = true")).contains("room \"r1\": ca_file and insecure"));
        assert!(msg(&room("password_file = \"x\"")).contains("not both"));
        assert!(msg(&room("colour = \"red\"")).contains("unknown field `colour`"));
        assert!(msg(&format!("{}{}", room(""), room(""))).contains("used by another room"));
        assert!(msg(&room("").replace("wss://", "http://")).contains("wss:// or ws://"));
        assert!(msg(&room("insecure = true").replace("wss://", "ws://")).contains("only apply to wss://"));
        assert!(msg("[controller]\nbackoff_max_ms = \"x\"\n").contains("line 2"));
        assert!(matches!(parse(""), Err(ConfigError::NoRooms { .. })));
    }
}
