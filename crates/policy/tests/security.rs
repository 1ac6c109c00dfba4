//! The `[security]` section: defaults, a full example, and refusals with file:line:col.

mod common;

use std::time::Duration;

use causeway_policy::digest::credentials::Algorithm;
use causeway_policy::security::{Security, SecurityConfig};
use causeway_policy::SourceText;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    security: SecurityConfig,
}

fn load(text: &str) -> Result<Security, String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    Security::from_config(&file.security, SourceText::new("causeway.toml", text), common::ZONES).map_err(|e| e.to_string())
}

#[test]
fn defaults_reveal_no_version_and_trust_nobody() {
    let s = load("").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.server_header.value(), Some("Causeway"));
    assert!(s.digest.is_none());
    assert!(s.flood.allow.cidrs.is_empty() && s.flood.allow.zones.is_empty());
    assert_eq!(s.flood.requests_per_source.count, 200);
}

#[test]
fn a_full_section() {
    let s = load(
        r#"
[security]
server_header = ""
[security.digest]
realm = "ent-pa.com"
algorithms = ["MD5", "SHA-256"]
nonce_lifetime_secs = 120
[security.flood]
requests_per_source = { count = 50, window_secs = 5 }
ban_secs = 30
max_ban_secs = 900
trusted_cidrs = ["10.0.0.0/8", "2001:db8::/32"]
trusted_zones = ["traversal"]
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.server_header.value(), None);
    let digest = s.digest.unwrap_or_else(|| panic!("digest"));
    assert_eq!(digest.algorithms, [Algorithm::Md5, Algorithm::Sha256]);
    assert_eq!(digest.nonce_lifetime, Duration::from_secs(120));
    assert_eq!(s.flood.requests_per_source.window, Duration::from_secs(5));
    assert_eq!((s.flood.ban, s.flood.max_ban), (Duration::from_secs(30), Duration::from_secs(900)));
    assert!(s.flood.allow.trusts("10.9.8.7".parse().unwrap_or_else(|e| panic!("{e}")), "default"));
    assert!(s.flood.allow.trusts("192.0.2.1".parse().unwrap_or_else(|e| panic!("{e}")), "traversal"));
}

#[test]
fn mistakes_are_refused_with_their_position() {
    let cases = [
        ("[security]\nserver_header = \"Causeway/1.0\\r\\nX: y\"\n", "causeway.toml:2:17: server_header must be printable ASCII"),
        ("[security.digest]\nrealm = \"r\"\nalgorithms = [\"SHA-512\"]\n", "causeway.toml:3:15: digest algorithms are"),
        ("[security.digest]\nrealm = \"r\"\nalgorithms = [\"MD5\", \"md5\"]\n", "causeway.toml:3:22: digest algorithms are"),
        ("[security.digest]\nrealm = \"\"\n", "causeway.toml:2:9: realm must be non-empty"),
        ("[security.flood]\nrequests_per_source = { count = 0, window_secs = 1 }\n", "causeway.toml:2:23: requests_per_source must be positive"),
        ("[security.flood]\nban_secs = 600\nmax_ban_secs = 60\n", "causeway.toml:3:16: max_ban_secs is below ban_secs"),
        ("[security.flood]\ntrusted_cidrs = [\"10.0.0.0/33\"]\n", "causeway.toml:2:18: \"10.0.0.0/33\" is not an address block"),
        ("[security.flood]\ntrusted_zones = [\"dmz\"]\n", "causeway.toml:2:18: unknown zone \"dmz\" in trusted_zones"),
    ];
    for (text, expected) in cases {
        match load(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => assert!(e.starts_with(expected), "got {e:?}\nwanted {expected:?}"),
        }
    }
    assert!(load("[security]\nserver_heder = \"x\"\n").is_err_and(|e| e.contains("unknown field `server_heder`")));
}
