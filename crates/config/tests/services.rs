//! `[admin]` and `[dns]`: defaults, values, and the errors with their places.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use causeway_config::{Config, LoadError};

const LISTENER: &str = "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:5060\"\n";

fn parse(extra: &str) -> Result<Config, String> {
    Config::parse(&format!("{LISTENER}{extra}"), "t.toml", Path::new("/nonexistent")).map_err(|e| match e {
        LoadError::Invalid(_) => e.to_string(),
        other => panic!("{other}"),
    })
}

#[test]
fn without_the_sections_there_is_no_endpoint_and_the_system_resolver() {
    let config = parse("").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.admin, None);
    assert!(config.dns.servers.is_empty());
    assert_eq!((config.dns.timeout, config.dns.attempts), (Duration::from_secs(2), 2));
}

#[test]
fn admin_and_dns_values_are_read() {
    let config = parse("[admin]\nlisten = \"127.0.0.1:8180\"\n[dns]\nservers = [\"127.0.0.1:5353\", \"[::1]:53\"]\ntimeout_ms = 500\nattempts = 1\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.admin.map(|a| a.listen), Some(SocketAddr::from(([127, 0, 0, 1], 8180))));
    assert_eq!(config.dns.servers, ["127.0.0.1:5353".parse::<SocketAddr>().unwrap_or_else(|e| panic!("{e}")), "[::1]:53".parse().unwrap_or_else(|e| panic!("{e}"))]);
    assert_eq!((config.dns.timeout, config.dns.attempts), (Duration::from_millis(500), 1));
}

#[test]
fn the_admin_endpoint_must_be_on_loopback() {
    assert_eq!(
        parse("[admin]\nlisten = \"0.0.0.0:8180\"\n").err().as_deref(),
        Some("t.toml:5:10: admin endpoint address `0.0.0.0:8180` is not a loopback address (127.0.0.0/8 or ::1)")
    );
}

#[test]
fn bad_addresses_and_ranges_are_placed() {
    let errors = parse("[admin]\nlisten = \"localhost\"\n[dns]\nservers = [\"ns1\"]\ntimeout_ms = 5\nattempts = 0\n").err().unwrap_or_default();
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(
        lines,
        [
            "t.toml:5:10: `listen` value `localhost` is not ip:port (e.g. 127.0.0.1:8180)",
            "t.toml:7:12: `servers` value `ns1` is not ip:port (e.g. 127.0.0.1:8180)",
            "t.toml:8:14: `timeout_ms` must be at least 100 (got 5)",
            "t.toml:9:12: `attempts` must be at least 1 (got 0)",
        ]
    );
}
