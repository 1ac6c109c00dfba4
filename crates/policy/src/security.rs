//! The `[security]` section: Server/User-Agent header, digest settings, flood-guard limits and
//! the allow-list, as raw serde shapes with spans and their validation into engine configs.
//!
//! ```toml
//! [security]
//! server_header = "Causeway"            # "" sends no Server/User-Agent header
//! record_route_key_file = "rr.key"      # 64 hex digits, mode 0600; default: a key per start
//!
//! [security.digest]
//! realm = "ent-pa.com"
//! algorithms = ["SHA-256", "MD5"]      # offered in this order
//! nonce_lifetime_secs = 300
//!
//! [security.flood]
//! requests_per_source = { count = 200, window_secs = 10 }
//! trusted_cidrs = ["10.0.0.0/8"]
//! trusted_zones = ["traversal", "webex"]
//! ```

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::digest::credentials::Algorithm;
use crate::digest::DigestConfig;
use crate::error::PolicyError;
use crate::flood::{AllowList, Cidr, FloodConfig, Limit};
use crate::server_header::ServerHeader;
use crate::source::SourceText;

/// Raw `[security]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// Server / User-Agent value; default `Causeway` (no version); `""` for none.
    pub server_header: Option<Spanned<String>>,
    /// Digest authentication settings (needed by zones that check credentials).
    pub digest: Option<DigestSection>,
    /// Flood and brute-force protection.
    #[serde(default)]
    pub flood: FloodSection,
    /// A file holding the Record-Route seal key (64 hex digits), shared by a cluster's nodes and
    /// kept across restarts; without it each start draws a key of its own. The caller reads it.
    pub record_route_key_file: Option<Spanned<String>>,
}

/// Raw `[security.digest]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestSection {
    /// Realm in challenges.
    pub realm: Spanned<String>,
    /// `SHA-256` and/or `MD5`, most preferred first.
    pub algorithms: Option<Vec<Spanned<String>>>,
    /// Nonce lifetime in seconds (default 300).
    pub nonce_lifetime_secs: Option<Spanned<u64>>,
    /// Nonces tracked against replay (default 65536).
    pub replay_capacity: Option<Spanned<usize>>,
}

/// Raw `[security.flood]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodSection {
    /// Requests per source address.
    pub requests_per_source: Option<Spanned<LimitSection>>,
    /// Failed authentications per source address.
    pub auth_failures_per_source: Option<Spanned<LimitSection>>,
    /// Failed authentications per username.
    pub auth_failures_per_user: Option<Spanned<LimitSection>>,
    /// First ban, seconds.
    pub ban_secs: Option<Spanned<u64>>,
    /// Longest ban, seconds.
    pub max_ban_secs: Option<Spanned<u64>>,
    /// Quiet time after which a source starts again from the first ban, seconds.
    pub forget_after_secs: Option<Spanned<u64>>,
    /// Source addresses tracked.
    pub source_capacity: Option<Spanned<usize>>,
    /// Usernames tracked.
    pub user_capacity: Option<Spanned<usize>>,
    /// Address blocks never counted or banned.
    #[serde(default)]
    pub trusted_cidrs: Vec<Spanned<String>>,
    /// Zones never counted or banned.
    #[serde(default)]
    pub trusted_zones: Vec<Spanned<String>>,
}

/// `{ count = 200, window_secs = 10 }`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSection {
    /// Events per window.
    pub count: u32,
    /// Window length in seconds.
    pub window_secs: u64,
}

/// The validated `[security]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// Server / User-Agent header.
    pub server_header: ServerHeader,
    /// Digest settings, when configured.
    pub digest: Option<DigestConfig>,
    /// Flood-guard settings (defaults when not configured).
    pub flood: FloodConfig,
}

impl Security {
    /// Validates `raw`; spans index into `src`; `zones` are the configured zone names.
    pub fn from_config(raw: &SecurityConfig, src: SourceText<'_>, zones: &[&str]) -> Result<Self, PolicyError> {
        let server_header = match &raw.server_header {
            Some(v) => ServerHeader::new(v.get_ref())
                .map_err(|error| PolicyError::ServerHeader { at: src.locate(&v.span()), error })?,
            None => ServerHeader::default(),
        };
        let digest = raw.digest.as_ref().map(|d| digest(d, src)).transpose()?;
        Ok(Self { server_header, digest, flood: flood(&raw.flood, src, zones)? })
    }
}

fn positive<T: Copy + PartialEq + Default>(src: SourceText<'_>, v: &Spanned<T>, field: &'static str) -> Result<T, PolicyError> {
    if *v.get_ref() == T::default() {
        return Err(PolicyError::NotPositive { at: src.locate(&v.span()), field });
    }
    Ok(*v.get_ref())
}

fn digest(raw: &DigestSection, src: SourceText<'_>) -> Result<DigestConfig, PolicyError> {
    let mut config = DigestConfig::new(raw.realm.get_ref());
    if raw.realm.get_ref().is_empty() || raw.realm.get_ref().chars().any(char::is_control) {
        return Err(PolicyError::BadRealm { at: src.locate(&raw.realm.span()) });
    }
    if let Some(list) = &raw.algorithms {
        let mut algorithms = Vec::new();
        for a in list {
            let at = src.locate(&a.span());
            let algorithm = Algorithm::from_token(a.get_ref())
                .ok_or_else(|| PolicyError::BadAlgorithm { at: at.clone(), value: a.get_ref().clone() })?;
            if algorithms.contains(&algorithm) {
                return Err(PolicyError::BadAlgorithm { at, value: a.get_ref().clone() });
            }
            algorithms.push(algorithm);
        }
        if algorithms.is_empty() {
            return Err(PolicyError::BadAlgorithm { at: src.locate(&raw.realm.span()), value: String::new() });
        }
        config.algorithms = algorithms;
    }
    if let Some(v) = &raw.nonce_lifetime_secs {
        config.nonce_lifetime = Duration::from_secs(positive(src, v, "nonce_lifetime_secs")?);
    }
    if let Some(v) = &raw.replay_capacity {
        config.replay_capacity = positive(src, v, "replay_capacity")?;
    }
    Ok(config)
}

fn flood(raw: &FloodSection, src: SourceText<'_>, zones: &[&str]) -> Result<FloodConfig, PolicyError> {
    let mut config = FloodConfig::default();
    let limit = |v: &Option<Spanned<LimitSection>>, default: Limit, field: &'static str| match v {
        None => Ok(default),
        Some(l) if l.get_ref().count == 0 || l.get_ref().window_secs == 0 => {
            Err(PolicyError::NotPositive { at: src.locate(&l.span()), field })
        }
        Some(l) => Ok(Limit { count: l.get_ref().count, window: Duration::from_secs(l.get_ref().window_secs) }),
    };
    config.requests_per_source = limit(&raw.requests_per_source, config.requests_per_source, "requests_per_source")?;
    config.auth_failures_per_source =
        limit(&raw.auth_failures_per_source, config.auth_failures_per_source, "auth_failures_per_source")?;
    config.auth_failures_per_user = limit(&raw.auth_failures_per_user, config.auth_failures_per_user, "auth_failures_per_user")?;
    let secs = |v: &Option<Spanned<u64>>, default: Duration, field| match v {
        Some(v) => positive(src, v, field).map(Duration::from_secs),
        None => Ok(default),
    };
    config.ban = secs(&raw.ban_secs, config.ban, "ban_secs")?;
    config.max_ban = secs(&raw.max_ban_secs, config.max_ban, "max_ban_secs")?;
    config.forget_after = secs(&raw.forget_after_secs, config.forget_after, "forget_after_secs")?;
    if config.max_ban < config.ban {
        let span = raw.max_ban_secs.as_ref().map(Spanned::span).unwrap_or_default();
        return Err(PolicyError::MaxBanBelowBan { at: src.locate(&span) });
    }
    if let Some(v) = &raw.source_capacity {
        config.source_capacity = positive(src, v, "source_capacity")?;
    }
    if let Some(v) = &raw.user_capacity {
        config.user_capacity = positive(src, v, "user_capacity")?;
    }
    let mut allow = AllowList::default();
    for c in &raw.trusted_cidrs {
        let cidr = c.get_ref().parse::<Cidr>().map_err(|error| PolicyError::BadCidr { at: src.locate(&c.span()), error })?;
        allow.cidrs.push(cidr);
    }
    for z in &raw.trusted_zones {
        if !zones.contains(&z.get_ref().as_str()) {
            return Err(PolicyError::UnknownTrustedZone { at: src.locate(&z.span()), zone: z.get_ref().clone() });
        }
        allow.zones.push(z.get_ref().clone());
    }
    config.allow = allow;
    Ok(config)
}
