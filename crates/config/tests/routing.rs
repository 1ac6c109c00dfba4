//! `[[zone]]`, `[[transform]]` and `[[search_rule]]` in the main config: the shipped Expressway
//! example loads as a whole node config, routing errors keep `file:line:col`, call policy sees
//! the zones, and the simple `[[route]]` form becomes zones and search rules of the same engine.

mod support;

use std::path::{Path, PathBuf};

use causeway_config::{Config, LoadError};
use causeway_routing::{OnMatch, ZoneKind};

const LISTENER: &str = "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:5060\"\n";

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn parse(source: &str) -> Result<Config, String> {
    Config::parse(source, "t.toml", Path::new("/nonexistent")).map_err(|e| match e {
        e @ LoadError::Invalid(_) => e.to_string(),
        e => panic!("expected LoadError::Invalid, got {e}"),
    })
}

fn errors(source: &str) -> String {
    match parse(source) {
        Ok(config) => panic!("expected errors, got {config:?}"),
        Err(e) => e,
    }
}

#[test]
fn the_expressway_example_is_a_whole_node_config() {
    let dir = support::temp_dir();
    let tls = dir.path().join("tls");
    support::write_cert(&tls, "edge");
    std::fs::copy(tls.join("edge.pem"), tls.join("ca.pem")).unwrap_or_else(|e| panic!("copy: {e}"));
    let target = dir.path().join("expressway.toml");
    std::fs::copy(examples_dir().join("routing/expressway.toml"), &target).unwrap_or_else(|e| panic!("copy: {e}"));
    let config = Config::load(&target).unwrap_or_else(|e| panic!("expressway.toml does not load:\n{e}"));
    let table = config.routing.table();
    assert_eq!(table.zone_names(), ["webex", "cucm-us", "cucm-emea", "teams", "internet", "default"]);
    assert_eq!(table.search_rules().len(), 7);
    assert!(config.routes.routes.is_empty());
}

#[test]
fn routing_errors_keep_their_place_in_the_file() {
    let source = format!(
        "{LISTENER}\n[[zone]]\nname = \"cucm\"\nkind = \"neighbor\"\n[[zone.peer]]\naddress = \"10.0.0.1\"\n\n\
         [[search_rule]]\nname = \"a\"\npattern_type = \"regex\"\npattern = '(unclosed'\ntarget = \"cucm\"\n\n\
         [[search_rule]]\nname = \"b\"\npattern_type = \"exact\"\npattern = \"x\"\ntarget = \"cucm-apac\"\n"
    );
    let text = errors(&source);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("t.toml:14:11: invalid regex"), "{text}");
    assert_eq!(lines[1], "t.toml:21:10: unknown zone `cucm-apac`", "{text}");
}

#[test]
fn call_policy_may_name_the_configured_zones_only() {
    let zone = "[[zone]]\nname = \"webex\"\nkind = \"neighbor\"\n[[zone.peer]]\naddress = \"10.0.0.1\"\n";
    let rule = |zone: &str| {
        format!("[[policy.rule]]\nname = \"r\"\nsource_zone = \"{zone}\"\ndestination = '.*'\naction = \"reject\"\n")
    };
    let ok = format!("{LISTENER}{zone}[policy]\ndefault = {{ action = \"allow\" }}\n{}", rule("webex"));
    assert!(parse(&ok).is_ok(), "{:?}", parse(&ok).err());
    let bad = format!("{LISTENER}{zone}[policy]\ndefault = {{ action = \"allow\" }}\n{}", rule("dmz"));
    assert!(errors(&bad).contains("unknown zone \"dmz\""));
}

#[test]
fn routes_become_zones_and_stop_rules_default_last() {
    let source = format!(
        "{LISTENER}[[route]]\ndefault = true\nnext_hop = \"sip:127.0.0.1:5080\"\n\
         [[route]]\ndomain = \"partner.example.net\"\nnext_hop = \"sips:192.0.2.10:5061\"\n\
         [[route]]\nprefix = \"9\"\nnext_hop = \"sip:192.0.2.20;transport=tcp\"\n"
    );
    let config = parse(&source).unwrap_or_else(|e| panic!("{e}"));
    let table = config.routing.table();
    let rules: Vec<_> = table.search_rules().iter().map(|r| (r.name.as_str(), r.priority, r.on_match, r.target.as_str())).collect();
    assert_eq!(
        rules,
        [
            ("route-domain-partner.example.net", 1, OnMatch::Stop, "route-domain-partner.example.net"),
            ("route-prefix-9", 2, OnMatch::Stop, "route-prefix-9"),
            ("route-default", 65534, OnMatch::Stop, "route-default"),
        ]
    );
    let zone = table.zone("route-domain-partner.example.net").unwrap_or_else(|| panic!("zone"));
    assert_eq!(zone.kind, ZoneKind::Neighbor);
    assert_eq!(zone.keepalive, None, "a route's next hop is not monitored");
    let peers: Vec<_> = zone.peers.iter().map(|p| (p.key(), p.transport)).collect();
    assert_eq!(peers, [("192.0.2.10:5061", causeway_config::Transport::Tls)]);
    assert!(table.search_rules().iter().all(|r| r.allow_source_zone));
}

#[test]
fn routes_do_not_mix_with_zones() {
    let source = format!(
        "{LISTENER}[[route]]\ndefault = true\nnext_hop = \"sip:127.0.0.1:5080\"\n\
         [[zone]]\nname = \"cucm\"\nkind = \"neighbor\"\n[[zone.peer]]\naddress = \"10.0.0.1\"\n"
    );
    assert_eq!(
        errors(&source),
        "t.toml:4:1: [[route]] is the simple form of routing; beside [[zone]] and [[search_rule]] write it as a search rule"
    );
}

#[test]
fn meetings_names_a_readable_file_beside_the_config() {
    let dir = support::temp_dir();
    support::write(&dir.path().join("meetings.toml"), "[meetings]\n");
    let source = format!("{LISTENER}[meetings]\nconfig = \"meetings.toml\"\n");
    let config = Config::parse(&source, "t.toml", dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.meetings.map(|m| m.config), Some(dir.path().join("meetings.toml")));
    let missing = format!("{LISTENER}[meetings]\nconfig = \"nowhere.toml\"\n");
    let text = Config::parse(&missing, "t.toml", dir.path()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(text.starts_with("t.toml:5:10: cannot read the meetings config"), "{text}");
}
