//! One test per kind of configuration error, each checking the exact `file:line:col: reason` text.

mod support;

use std::path::Path;

use causeway_config::{Config, LoadError};

const LISTENER: &str = "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:5060\"\n";

/// The full error output for `source` read as `t.toml` from `dir`.
fn errors_in(dir: &Path, source: &str) -> String {
    match Config::parse(source, "t.toml", dir) {
        Ok(config) => panic!("expected errors, got {config:?}"),
        Err(e @ LoadError::Invalid(_)) => e.to_string(),
        Err(e) => panic!("expected LoadError::Invalid, got {e}"),
    }
}

fn errors(source: &str) -> String {
    errors_in(Path::new("/nonexistent"), source)
}

#[test]
fn unknown_key_is_rejected_at_its_line() {
    assert_eq!(
        errors("[node]\nnmae = \"x\"\n"),
        "t.toml:2:1: unknown field `nmae`, expected one of `name`, `advertised_host`, `server_header`"
    );
}

#[test]
fn unknown_section_is_rejected() {
    assert_eq!(
        errors(&format!("{LISTENER}[zones]\nname = \"x\"\n")),
        "t.toml:4:2: unknown field `zones`, expected one of `node`, `listener`, `outbound`, `transaction`, `limits`, \
         `log`, `route`, `zone`, `transform`, `search_rule`, `policy`, `security`, `credential`, `admin`, `dns`, `meetings`, \
         `callctl`, `store`, `registrar`"
    );
}

#[test]
fn unknown_transport_names_the_choices() {
    assert_eq!(
        errors("[[listener]]\ntransport = \"sctp\"\naddress = \"127.0.0.1:5060\"\n"),
        "t.toml:2:13: unknown variant `sctp`, expected one of `udp`, `tcp`, `tls`"
    );
}

#[test]
fn wrong_type_points_at_the_value() {
    assert_eq!(
        errors("[[listener]]\ntransport = \"udp\"\naddress = 5060\n"),
        "t.toml:3:11: invalid type: integer `5060`, expected a string"
    );
}

#[test]
fn toml_syntax_error_is_one_line() {
    assert_eq!(errors("[[listener]\n"), "t.toml:1:11: invalid table header; expected `.`, `]]`");
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(
        errors("[node]\nname = \"caf\u{e9}\" ; x\n"),
        "t.toml:2:15: expected newline, `#`"
    );
}

#[test]
fn missing_listener_is_reported() {
    assert_eq!(errors("[node]\nname = \"a\"\n"), "t.toml:1:1: no [[listener]] defined; a node needs at least one");
}

#[test]
fn bad_listener_address() {
    assert_eq!(
        errors("[[listener]]\ntransport = \"udp\"\naddress = \"localhost:5060\"\n"),
        "t.toml:3:11: listener address `localhost:5060` is not ip:port (e.g. 127.0.0.1:5060 or [::1]:5060)"
    );
}

#[test]
fn duplicate_listener_names_the_first() {
    let source = format!("{LISTENER}{LISTENER}[[listener]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:5060\"\n");
    assert_eq!(
        errors(&source),
        "t.toml:6:11: duplicate listener: 127.0.0.1:5060 over udp is already used by the listener at line 3"
    );
}

#[test]
fn tcp_and_tls_on_one_address_clash_but_port_zero_never_does() {
    let dir = support::temp_dir();
    support::write_cert(dir.path(), "server");
    let tls = "[[listener]]\ntransport = \"tls\"\naddress = \"127.0.0.1:5061\"\ncert = \"server.pem\"\nkey = \"server.key\"\n";
    let tcp = "[[listener]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:5061\"\n";
    assert_eq!(
        errors_in(dir.path(), &format!("{tls}{tcp}")),
        "t.toml:8:11: duplicate listener: 127.0.0.1:5061 over tcp is already used by the listener at line 3"
    );
    let zero = "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:0\"\n";
    let config = Config::parse(&format!("{zero}{zero}"), "t.toml", dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.listeners.len(), 2);
}

#[test]
fn tls_listener_needs_cert_and_key() {
    assert_eq!(
        errors("[[listener]]\ntransport = \"tls\"\naddress = \"127.0.0.1:5061\"\n"),
        "t.toml:1:1: a tls listener needs `cert` (a PEM file)\nt.toml:1:1: a tls listener needs `key` (a PEM file)"
    );
}

#[test]
fn tls_keys_on_a_udp_listener_are_misplaced() {
    assert_eq!(
        errors(&format!("{LISTENER}cert = \"a.pem\"\n")),
        "t.toml:4:8: `cert` is only allowed on a tls listener"
    );
}

#[test]
fn unknown_tls_file_is_reported_with_its_resolved_path() {
    let dir = support::temp_dir();
    support::write_cert(dir.path(), "server");
    let source = "[[listener]]\ntransport = \"tls\"\naddress = \"127.0.0.1:5061\"\ncert = \"missing.pem\"\n\
                  key = \"server.key\"\n";
    let missing = dir.path().join("missing.pem");
    assert_eq!(
        errors_in(dir.path(), source),
        format!(
            "t.toml:4:8: cannot read certificate chain `{}`: No such file or directory (os error 2)",
            missing.display()
        )
    );
}

#[test]
fn tls_file_without_the_right_pem_item() {
    let dir = support::temp_dir();
    support::write_cert(dir.path(), "server");
    // The certificate given as the key, and a mutual-TLS CA bundle that holds only a key.
    let source = "[[listener]]\ntransport = \"tls\"\naddress = \"127.0.0.1:5061\"\ncert = \"server.pem\"\n\
                  key = \"server.pem\"\nmutual_tls = { ca = \"server.key\" }\n";
    let pem = dir.path().join("server.pem");
    let key = dir.path().join("server.key");
    assert_eq!(
        errors_in(dir.path(), source),
        format!(
            "t.toml:5:7: private key `{}` holds no PEM PRIVATE KEY\nt.toml:6:21: CA bundle `{}` holds no PEM CERTIFICATE",
            pem.display(),
            key.display()
        )
    );
}

#[test]
fn outbound_client_cert_needs_both_halves() {
    let dir = support::temp_dir();
    support::write_cert(dir.path(), "client");
    assert_eq!(
        errors_in(dir.path(), &format!("{LISTENER}[outbound]\ntls_cert = \"client.pem\"\n")),
        "t.toml:5:12: `tls_cert` needs `tls_key` beside it"
    );
}

#[test]
fn route_needs_exactly_one_matcher() {
    let source = format!("{LISTENER}[[route]]\ndomain = \"a.example\"\nprefix = \"9\"\nnext_hop = \"sip:127.0.0.1\"\n");
    assert_eq!(
        errors(&source),
        "t.toml:4:1: a [[route]] needs exactly one of `domain`, `prefix` or `default = true` (found 2)"
    );
}

#[test]
fn default_false_is_rejected() {
    let source = format!("{LISTENER}[[route]]\ndefault = false\nnext_hop = \"sip:127.0.0.1\"\n");
    assert_eq!(
        errors(&source),
        "t.toml:5:11: `default = false` matches nothing; write `default = true` or remove the key"
    );
}

#[test]
fn bad_domain_and_prefix() {
    let source = format!(
        "{LISTENER}[[route]]\ndomain = \"a b.example\"\nnext_hop = \"sip:127.0.0.1\"\n\
         [[route]]\nprefix = \"9x\"\nnext_hop = \"sip:127.0.0.1\"\n"
    );
    assert_eq!(
        errors(&source),
        "t.toml:5:10: route domain `a b.example` is not a host name (letters, digits, `-` and `.`)\n\
         t.toml:8:10: route prefix `9x` must be one or more of 0-9 * # + (a dialled-number prefix)"
    );
}

#[test]
fn duplicate_route_names_the_first() {
    let route = "[[route]]\ndomain = \"A.example\"\nnext_hop = \"sip:127.0.0.1\"\n";
    let again = "[[route]]\ndomain = \"a.EXAMPLE\"\nnext_hop = \"sip:127.0.0.2\"\n";
    assert_eq!(
        errors(&format!("{LISTENER}{route}{again}")),
        "t.toml:8:10: duplicate route: domain a.example is already routed at line 5"
    );
}

#[test]
fn bad_next_hop_uri() {
    let source = format!("{LISTENER}[[route]]\ndefault = true\nnext_hop = \"sips:127.0.0.1;transport=udp\"\n");
    assert_eq!(errors(&source), "t.toml:6:12: bad next_hop `sips:127.0.0.1;transport=udp`: a sips URI needs transport=tls");
}

#[test]
fn unresolvable_route_target() {
    let source = format!("{LISTENER}[[route]]\ndefault = true\nnext_hop = \"sip:proxy.example.com:5060\"\n");
    assert_eq!(
        errors(&source),
        "t.toml:6:12: unresolvable route target `proxy.example.com`: the static route table needs an IP address, \
         not a host name"
    );
}

#[test]
fn timers_out_of_range() {
    let source = format!("{LISTENER}[transaction]\nt1_ms = 1000\nt2_ms = 500\nt4_ms = 0\ntimer_c_secs = 180\n");
    assert_eq!(
        errors(&source),
        "t.toml:6:9: `t2_ms` (500) must not be below `t1_ms` (1000) (RFC 3261 §17.1.2.2)\n\
         t.toml:7:9: `t4_ms` must be at least 1 (got 0)\n\
         t.toml:8:16: `timer_c_secs` must be more than 180 (RFC 3261 §16.6 step 11) (got 180)"
    );
}

#[test]
fn limits_out_of_range() {
    let source = format!("{LISTENER}[limits]\nmax_message_bytes = 100\nmax_connections = 0\n");
    assert_eq!(
        errors(&source),
        "t.toml:5:21: `max_message_bytes` must be at least 1024 (got 100)\n\
         t.toml:6:19: `max_connections` must be at least 1 (got 0)"
    );
}

#[test]
fn negative_number_is_a_type_error() {
    assert_eq!(errors("[transaction]\nt1_ms = -5\n"), "t.toml:2:9: invalid value: integer `-5`, expected u64");
}

#[test]
fn log_level_typo_and_bad_filter() {
    assert_eq!(
        errors(&format!("{LISTENER}[log]\nlevel = \"inof\"\n")),
        "t.toml:5:9: `inof` is not a log level (trace, debug, info, warn, error, off); for a target write `inof=info`"
    );
    let bad = errors(&format!("{LISTENER}[log]\nlevel = \"causeway=loud\"\n"));
    assert!(
        bad.starts_with("t.toml:5:9: log level `causeway=loud` is not a filter like `info`"),
        "{bad}"
    );
}

#[test]
fn server_header_must_be_header_safe() {
    assert_eq!(
        errors(&format!("{LISTENER}[node]\nserver_header = \"Causeway\\r\\nX: y\"\n")),
        "t.toml:5:17: `server_header` must be non-empty printable text without line breaks"
    );
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let source = "[log]\nlevel = \"inof\"\n[[listener]]\ntransport = \"udp\"\naddress = \"nowhere\"\n";
    assert_eq!(
        errors(source),
        "t.toml:2:9: `inof` is not a log level (trace, debug, info, warn, error, off); for a target write `inof=info`\n\
         t.toml:5:11: listener address `nowhere` is not ip:port (e.g. 127.0.0.1:5060 or [::1]:5060)"
    );
}

#[test]
fn unreadable_file_names_it() {
    let missing = Path::new("/nonexistent/causeway.toml");
    match Config::load(missing) {
        Err(e @ LoadError::Read { .. }) => {
            assert_eq!(e.to_string(), "/nonexistent/causeway.toml: cannot read: No such file or directory (os error 2)");
        }
        other => panic!("expected a read error, got {other:?}"),
    }
}
