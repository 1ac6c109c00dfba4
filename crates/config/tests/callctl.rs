//! `[callctl]` and `[store]` in the main config: the shipped call-control example loads beside the
//! zones its route patterns name, and its errors keep `file:line:col` in the whole file.

use std::path::Path;

use causeway_config::{Config, LoadError};

const EXAMPLE: &str = include_str!("../../../examples/callctl/ent-pa.toml");

const NODE: &str = r#"[[listener]]
transport = "udp"
address = "127.0.0.1:5060"

[[zone]]
name = "webex"
kind = "neighbor"
peer = [{ address = "127.0.0.2:5060", transport = "udp" }]
[[zone]]
name = "pstn-gw"
kind = "neighbor"
peer = [{ address = "127.0.0.4:5060", transport = "udp" }]
[[zone]]
name = "unity"
kind = "neighbor"
peer = [{ address = "127.0.0.3:5060", transport = "udp" }]
[[zone]]
name = "teams"
kind = "neighbor"
peer = [{ address = "127.0.0.5:5060", transport = "udp" }]

[store]
url = "sqlite:///var/lib/causeway/causeway.db"

"#;

fn parse(source: &str) -> Result<Config, String> {
    Config::parse(source, "node.toml", Path::new("/nonexistent")).map_err(|e| match e {
        e @ LoadError::Invalid(_) => e.to_string(),
        e => panic!("expected LoadError::Invalid, got {e}"),
    })
}

#[test]
fn the_call_control_example_loads_as_part_of_a_node_config() {
    let config = parse(&format!("{NODE}{EXAMPLE}")).unwrap_or_else(|e| panic!("{e}"));
    let cc = config.call_control.unwrap_or_else(|| panic!("no call control"));
    assert_eq!(cc.cluster().directory().users().count(), 3);
    assert!(cc.cluster().is_cfqdn("us-cm-pub.ent-pa.com"));
    assert_eq!(config.store.as_deref(), Some("sqlite:///var/lib/causeway/causeway.db"));
}

#[test]
fn call_control_errors_are_placed_in_the_whole_file() {
    let without_unity = NODE.replace("name = \"unity\"", "name = \"voicemail\"");
    let source = format!("{without_unity}{EXAMPLE}");
    let error = parse(&source).err().unwrap_or_else(|| panic!("loaded without the unity zone"));
    let line = source.lines().position(|l| l.trim() == "zone = \"unity\"").map_or(0, |i| i + 1);
    assert!(error.starts_with(&format!("node.toml:{line}:")), "{error}");
    assert!(error.contains("unity"), "{error}");
}

#[test]
fn a_store_url_must_be_sqlite_or_postgres() {
    let source = NODE.replace("sqlite:///var/lib/causeway/causeway.db", "mysql://db");
    let error = parse(&source).err().unwrap_or_else(|| panic!("accepted"));
    let line = source.lines().position(|l| l.starts_with("url =")).map_or(0, |i| i + 1);
    assert_eq!(error.trim(), format!("node.toml:{line}:7: store url `mysql://db` is neither sqlite:///path nor postgres://…"));
}

#[test]
fn registrar_times_and_algorithms_are_checked() {
    use causeway_policy::digest::credentials::Algorithm;
    let ok = parse(&format!("{NODE}[registrar]\nmin_expires_secs = 30\ndigest_algorithms = [\"MD5\"]\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((ok.registrar.min_expires, ok.registrar.default_expires, ok.registrar.digest_algorithms), (30, 3600, vec![Algorithm::Md5]));
    let bad = format!("{NODE}[registrar]\nmin_expires_secs = 7200\ndigest_algorithms = [\"MD5\", \"md5\", \"SHA-512\"]\n");
    let error = parse(&bad).err().unwrap_or_else(|| panic!("accepted"));
    let line = bad.lines().position(|l| l.starts_with("min_expires")).map_or(0, |i| i + 1);
    assert!(error.contains(&format!("node.toml:{line}:20: registration times must satisfy min_expires_secs (7200)")), "{error}");
    assert!(error.contains("`md5` is given twice") && error.contains("`SHA-512` is not a digest algorithm"), "{error}");
}
