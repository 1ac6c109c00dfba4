//! Every shipped example config must load (hickory `bin/src/config/tests.rs`): an example that rots
//! fails here, not in a newcomer's terminal.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use causeway_config::{Config, LogFormat, RouteMatch, Transport, BUILTIN_EXAMPLE};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Copy an example into a temp dir beside the TLS files its comments tell the user to make, and load it.
fn load_example(name: &str) -> Config {
    let dir = support::temp_dir();
    let tls = dir.path().join("tls");
    support::write_cert(&tls, "edge");
    std::fs::copy(tls.join("edge.pem"), tls.join("ca.pem")).unwrap_or_else(|e| panic!("copy: {e}"));
    let target = dir.path().join(name);
    std::fs::copy(examples_dir().join(name), &target).unwrap_or_else(|e| panic!("copy {name}: {e}"));
    Config::load(&target).unwrap_or_else(|e| panic!("{name} does not load:\n{e}"))
}

#[test]
fn every_example_loads() {
    let mut names: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap_or_else(|e| panic!("examples/: {e}"))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    names.sort();
    assert!(names.contains(&"causeway.toml".to_owned()), "examples/causeway.toml is the built-in example: {names:?}");
    for name in &names {
        load_example(name);
    }
}

#[test]
fn builtin_example_listens_on_loopback_and_routes_everything_to_5080() {
    let config = Config::builtin().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config, load_example("causeway.toml"), "the built-in example is examples/causeway.toml");
    assert!(BUILTIN_EXAMPLE.contains("sipp -sn uas -p 5080"), "the example says how to run the callee");
    let listeners: Vec<_> = config.listeners.iter().map(|l| (l.transport, l.address)).collect();
    assert_eq!(
        listeners,
        [(Transport::Udp, addr("127.0.0.1:5060")), (Transport::Tcp, addr("127.0.0.1:5060"))]
    );
    let [route] = config.routes.routes.as_slice() else { panic!("one route expected: {:?}", config.routes) };
    assert_eq!(route.matcher, RouteMatch::Default);
    assert_eq!((route.next_hop.address, route.next_hop.transport), (addr("127.0.0.1:5080"), Transport::Udp));
    assert_eq!(config.node.server_header, "Causeway");
}

#[test]
fn edge_example_sets_every_section() {
    let config = load_example("edge.toml");
    assert_eq!(config.node.name, "edge-1");
    assert_eq!(config.node.advertised_host.as_deref(), Some("edge.example.com"));
    let tls = config.listeners.iter().find_map(|l| l.tls.as_ref()).unwrap_or_else(|| panic!("no TLS listener"));
    assert!(tls.cert.ends_with("tls/edge.pem") && tls.cert.is_absolute());
    let mutual = tls.mutual_tls.as_ref().unwrap_or_else(|| panic!("no mutual TLS"));
    assert!(mutual.required && mutual.ca.ends_with("tls/ca.pem"));
    assert_eq!(config.outbound.tls_roots.len(), 1);
    assert!(config.outbound.client_cert.is_some());
    assert_eq!(config.timers.timer_c, Duration::from_secs(200));
    assert_eq!(config.limits.max_connections_per_ip, 100);
    assert_eq!(config.log.format, LogFormat::Json);
    let matchers: Vec<_> = config.routes.routes.iter().map(|r| r.matcher.clone()).collect();
    assert_eq!(
        matchers,
        [RouteMatch::Domain("partner.example.net".into()), RouteMatch::Prefix("9".into()), RouteMatch::Default]
    );
}
