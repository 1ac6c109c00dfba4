//! `[policy]`, `[security]` and `[[credential]]`. The policy crate validates its own sections and places
//! every error itself (`file:line:col`, in the config or in a CPL script); this module turns those errors
//! into [`ConfigError`]s, checks the credentials, and decides where the Server header value comes from.

use std::collections::HashMap;
use std::ops::Range;

use causeway_policy::digest::credentials::{Algorithm, CredentialTable, Ha1};
use causeway_policy::rules::config::PolicyConfig;
use causeway_policy::seal::RouteKey;
use causeway_policy::security::{Security, SecurityConfig};
use causeway_policy::{PolicyError, PolicySet, SourceText};
use causeway_routing::config::raw::{AuthPolicyConfig, ZoneConfig};
use toml::Spanned;

use super::Validator;
use crate::error::{ConfigError, Reason};
use crate::raw::RawCredential;
use crate::settings::{CallPolicy, SecuritySettings};

/// The three sections, raw.
pub(crate) struct RawSecurity {
    pub(crate) policy: Option<PolicyConfig>,
    pub(crate) security: SecurityConfig,
    pub(crate) credentials: Vec<Spanned<RawCredential>>,
    /// Zones whose `authentication` is `check-credentials`, with that value's span.
    pub(crate) checking: Vec<(String, Range<usize>)>,
}

/// The zones that check credentials, with the span of their `authentication` value.
pub(crate) fn checking_zones(zones: &[Spanned<ZoneConfig>]) -> Vec<(String, Range<usize>)> {
    zones
        .iter()
        .map(Spanned::get_ref)
        .filter_map(|z| {
            let auth = z.authentication.as_ref().filter(|a| *a.get_ref() == AuthPolicyConfig::CheckCredentials)?;
            Some((z.name.get_ref().clone(), auth.span()))
        })
        .collect()
}

impl Validator<'_> {
    /// Validates the sections; `server_header` is `[node] server_header` with its span, `zones` the zones a
    /// policy rule or `trusted_zones` may name, and the result's second value is the Server header to use when
    /// `[security]` sets one.
    pub(crate) fn security(
        &mut self,
        raw: RawSecurity,
        node_server_header: Option<Range<usize>>,
        zones: &[&str],
    ) -> (SecuritySettings, Option<String>) {
        let source = SourceText::new(self.file, self.source);
        let policy = match &raw.policy {
            None => CallPolicy::off(),
            Some(section) => {
                let base_dir = self.base_dir;
                let read = |path: &str| std::fs::read_to_string(base_dir.join(path));
                match PolicySet::from_config(section, source, zones, read) {
                    Ok(set) => CallPolicy::new(set),
                    Err(error) => {
                        self.policy_error(&error);
                        CallPolicy::off()
                    }
                }
            }
        };
        let security = match Security::from_config(&raw.security, source, zones) {
            Ok(security) => Some(security),
            Err(error) => {
                self.policy_error(&error);
                None
            }
        };
        let server_header = raw.security.server_header.as_ref().and_then(|value| {
            if let Some(node_span) = &node_server_header {
                let first_line = self.line_of(node_span);
                self.error(value.span(), Reason::ServerHeaderTwice { first_line });
            }
            security.as_ref().map(|s| s.server_header.value().unwrap_or_default().to_owned())
        });
        let realm = security.as_ref().and_then(|s| s.digest.as_ref()).map(|d| d.realm.clone());
        if realm.is_none() && security.is_some() {
            for (zone, span) in raw.checking {
                self.error(span, Reason::CheckWithoutDigest { zone });
            }
        }
        let credentials = self.credentials(raw.credentials, realm.as_deref());
        let route_key = raw.security.record_route_key_file.and_then(|path| self.route_key(path));
        let settings = match security {
            Some(security) => {
                SecuritySettings { policy, digest: security.digest, flood: security.flood, credentials, route_key }
            }
            None => SecuritySettings { policy, credentials, route_key, ..SecuritySettings::default() },
        };
        (settings, server_header)
    }

    /// Every `[[credential]]` into one table for `realm`; credentials need `[security.digest]` for their realm.
    fn credentials(&mut self, raw: Vec<Spanned<RawCredential>>, realm: Option<&str>) -> CredentialTable {
        let mut table = CredentialTable::new(realm.unwrap_or_default());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for credential in raw {
            let table_span = credential.span();
            let credential = credential.into_inner();
            if realm.is_none() {
                self.error(table_span, Reason::CredentialWithoutRealm);
                return CredentialTable::default();
            }
            let name_span = credential.username.span();
            let username = credential.username.into_inner();
            if username.is_empty() || username.chars().any(char::is_control) {
                self.error(name_span, Reason::BadText { key: "username" });
                continue;
            }
            let line = self.line_of(&name_span);
            if let Some(&first_line) = seen.get(&username) {
                self.error(name_span, Reason::DuplicateCredential { username, first_line });
                continue;
            }
            seen.insert(username.clone(), line);
            let hashes = [(Algorithm::Md5, credential.ha1_md5), (Algorithm::Sha256, credential.ha1_sha256)];
            if hashes.iter().all(|(_, h)| h.is_none()) {
                self.error(table_span, Reason::CredentialWithoutHa1 { username });
                continue;
            }
            for (algorithm, hex) in hashes {
                let Some(hex) = hex else { continue };
                match Ha1::from_hex(algorithm, hex.get_ref()) {
                    Ok(ha1) => table.insert(&username, ha1),
                    Err(error) => self.error(hex.span(), Reason::BadHa1 { error }),
                }
            }
        }
        table
    }

    /// `[security] record_route_key_file`: 64 hex digits in a file only its owner may read (like a TLS
    /// private key: whoever has the key can forge requests that pass as in-dialog). Errors name the file,
    /// never its content.
    fn route_key(&mut self, path: Spanned<String>) -> Option<RouteKey> {
        let span = path.span();
        let resolved = self.base_dir.join(path.into_inner());
        let metadata = std::fs::metadata(&resolved);
        #[cfg(unix)]
        if let Ok(metadata) = &metadata {
            use std::os::unix::fs::PermissionsExt;
            let mode = metadata.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                self.error(span, Reason::RouteKeyExposed { path: resolved, mode });
                return None;
            }
        }
        let text = match metadata.and_then(|_| std::fs::read(&resolved)) {
            Ok(text) => text,
            Err(source) => {
                self.error(span, Reason::RouteKeyUnreadable { path: resolved, source });
                return None;
            }
        };
        match RouteKey::from_hex(&text) {
            Ok(key) => Some(key),
            Err(error) => {
                self.error(span, Reason::RouteKeyInvalid { path: resolved, error });
                None
            }
        }
    }

    /// A policy-crate error as a [`ConfigError`]: it names its place (the config file or a CPL script)
    /// at the start of its message.
    fn policy_error(&mut self, error: &PolicyError) {
        let message = error.to_string();
        let placed = split_location(&message).unwrap_or((self.file, 1, 1, message.as_str()));
        let (file, line, column, reason) = placed;
        self.errors.push(ConfigError {
            file: file.to_owned(),
            line,
            column,
            reason: Reason::Policy { message: reason.to_owned() },
        });
    }
}

/// `file:line:col: reason` (or `file: reason`, for whole-file problems) split into its parts. The file
/// name may itself hold colons, so the line and column are the last two numbers before the first `: `
/// that follows them.
pub(super) fn split_location(message: &str) -> Option<(&str, usize, usize, &str)> {
    let (head, reason) = message.split_once(": ")?;
    let numbered = head.rsplit_once(':').and_then(|(rest, column)| {
        let (file, line) = rest.rsplit_once(':')?;
        Some((file, line.parse().ok()?, column.parse().ok()?))
    });
    Some(match numbered {
        Some((file, line, column)) => (file, line, column, reason),
        None => (head, 1, 1, reason),
    })
}

#[cfg(test)]
mod tests {
    use super::split_location;

    #[test]
    fn policy_messages_are_split_at_their_place() {
        assert_eq!(
            split_location("c.toml:12:5: rule \"x\": unknown zone \"dmz\""),
            Some(("c.toml", 12, 5, "rule \"x\": unknown zone \"dmz\""))
        );
        assert_eq!(split_location("C:/p/a.cpl:3:1: bad"), Some(("C:/p/a.cpl", 3, 1, "bad")));
        assert_eq!(split_location("big.cpl: CPL script larger than 1 bytes"), Some(("big.cpl", 1, 1, "CPL script larger than 1 bytes")));
        assert_eq!(split_location("no place"), None);
    }
}
