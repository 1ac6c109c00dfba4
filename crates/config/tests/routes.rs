//! The static route table's choice: domain, then longest prefix, then default.

use std::path::Path;

use causeway_config::{Config, Transport};

fn table() -> Config {
    let source = "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:5060\"\n\
                  [[route]]\ndefault = true\nnext_hop = \"sip:127.0.0.1:5080\"\n\
                  [[route]]\nprefix = \"9\"\nnext_hop = \"sip:127.0.0.1:5090;transport=tcp\"\n\
                  [[route]]\nprefix = \"901\"\nnext_hop = \"sip:127.0.0.1:5091\"\n\
                  [[route]]\ndomain = \"Partner.Example\"\nnext_hop = \"sips:[::1]:5071\"\n";
    Config::parse(source, "t.toml", Path::new("")).unwrap_or_else(|e| panic!("{e}"))
}

fn port(host: &str, user: Option<&str>) -> Option<u16> {
    table().routes.select(host, user).map(|hop| hop.address.port())
}

#[test]
fn domain_beats_prefix_and_compares_case_insensitively() {
    assert_eq!(port("partner.EXAMPLE", Some("9000")), Some(5071));
    let config = table();
    let hop = config.routes.select("partner.example", None).unwrap_or_else(|| panic!("no route"));
    assert_eq!(hop.transport, Transport::Tls);
}

#[test]
fn longest_prefix_wins() {
    assert_eq!(port("x.example", Some("9011234")), Some(5091));
    assert_eq!(port("x.example", Some("9021234")), Some(5090));
}

#[test]
fn default_takes_the_rest() {
    assert_eq!(port("x.example", Some("1000")), Some(5080));
    assert_eq!(port("x.example", None), Some(5080));
}

#[test]
fn no_default_means_no_route() {
    let source = "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:5060\"\n\
                  [[route]]\nprefix = \"9\"\nnext_hop = \"sip:127.0.0.1:5090\"\n";
    let config = Config::parse(source, "t.toml", Path::new("")).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.routes.select("x.example", Some("1000")).is_none());
}
