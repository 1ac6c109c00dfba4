//! A traversal zone with two causeway processes: the internal node dials out to the edge over
//! mutual TLS and keeps the connection (CRLF keep-alives, reconnects), the edge learns it from the
//! internal node's certificate and sends the zone's calls down it. SIPp UAC → edge → traversal
//! connection → internal node → SIPp UAS, and back.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::sipp::{Sipp, SippTransport};
use support::tls::make_pki_for;
use support::{causeway_bin, free_port, temp_dir, wait_until, Causeway};

const LIMIT: Duration = Duration::from_secs(30);
/// The callee behind the internal node, on its own loopback address.
const UAS: std::net::Ipv4Addr = std::net::Ipv4Addr::new(127, 0, 0, 41);

/// A zone of a node's `causeway status` report.
fn zone(admin: &str, name: &str) -> Option<serde_json::Value> {
    let out = Command::new(causeway_bin()).args(["status", "--admin", admin, "--json"]).output().ok()?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    report["zones"].as_array()?.iter().find(|z| z["name"] == name).cloned()
}

/// The internal node's peer state toward the edge, from its `causeway status`.
fn edge_state(admin: &str) -> Option<String> {
    zone(admin, "edge")?["peers"].as_array()?.first()?["state"].as_str().map(str::to_owned)
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn the_edge_reaches_the_internal_node_down_the_connection_the_internal_node_keeps() {
    let dir = temp_dir();
    let edge_dir = dir.path().join("edge");
    let internal_dir = dir.path().join("internal");
    for d in [&edge_dir, &internal_dir] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
    }
    let (ca, leaves) = make_pki_for(dir.path(), &[("edge", &["edge.example.com"]), ("internal", &["internal.example.com"])]);
    let [(edge_cert, edge_key), (internal_cert, internal_key)] = leaves.as_slice() else { panic!("two leaves") };
    // The internal node's own TLS listener admits only clients of another CA: the edge cannot
    // connect to it, so whatever reaches the internal node came down the connection it opened.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap_or_else(|e| panic!("{e}"));
    let (other_ca, _) = make_pki_for(&other, &[]);
    let (edge_port, edge_tls, internal_port, internal_tls, uas_port, admin_port, edge_admin_port) =
        (free_port(), free_port(), free_port(), free_port(), free_port(), free_port(), free_port());

    let mut uas = Sipp::new("uas", dir.path(), "uas-answer.xml", SippTransport::Udp, uas_port, 1, LIMIT).on(UAS).spawn_uas();
    // The edge: only a certificate for internal.example.com puts a connection in the traversal zone.
    let edge_config = format!(
        "[node]\nname = \"edge\"\n\n\
         [[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{edge_port}\"\n\n\
         [[listener]]\ntransport = \"tls\"\naddress = \"127.0.0.1:{edge_tls}\"\ncert = \"{}\"\nkey = \"{}\"\n\
         mutual_tls = {{ ca = \"{}\", required = true }}\n\n\
         [outbound]\ntls_roots = [\"{}\"]\n\n\
         [admin]\nlisten = \"127.0.0.1:{edge_admin_port}\"\n\n\
         [security.flood]\ntrusted_cidrs = [\"127.0.0.1/32\"]\n\n\
         [[zone]]\nname = \"internal\"\nkind = \"traversal\"\nrole = \"server\"\nauthentication = \"treat-as-authenticated\"\n\
         tls_verify_subject = [\"internal.example.com\"]\n\n\
         [[search_rule]]\nname = \"to-internal\"\npattern_type = \"suffix\"\npattern = \"@internal.example.com\"\ntarget = \"internal\"\n",
        path(edge_cert),
        path(edge_key),
        path(&ca),
        path(&ca)
    );
    let mut edge = Causeway::start_with(&edge_dir, edge_port, &edge_config);
    // The internal node: dials the edge (its only way to be reached), sends calls from the edge to the UAS.
    let internal_config = format!(
        "[node]\nname = \"internal\"\n\n\
         [[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{internal_port}\"\n\n\
         [[listener]]\ntransport = \"tls\"\naddress = \"127.0.0.1:{internal_tls}\"\ncert = \"{}\"\nkey = \"{}\"\n\
         mutual_tls = {{ ca = \"{}\", required = true }}\n\n\
         [outbound]\ntls_roots = [\"{}\"]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n\n\
         [admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\n\
         [security.flood]\ntrusted_cidrs = [\"127.0.0.1/32\"]\n\n\
         [[zone]]\nname = \"edge\"\nkind = \"traversal\"\nrole = \"client\"\nauthentication = \"treat-as-authenticated\"\n\
         keepalive = {{ interval_secs = 1, timeout_secs = 1, failures_before_down = 2, successes_before_up = 1 }}\n\
         [[zone.peer]]\naddress = \"127.0.0.1:{edge_tls}\"\ntransport = \"tls\"\n\n\
         [[zone]]\nname = \"uas\"\nkind = \"neighbor\"\nkeepalive = {{ enabled = false }}\n\
         [[zone.peer]]\naddress = \"{UAS}:{uas_port}\"\ntransport = \"udp\"\n\n\
         [[search_rule]]\nname = \"from-edge\"\nsource = \"edge\"\npattern_type = \"regex\"\npattern = \".*\"\ntarget = \"uas\"\n",
        path(internal_cert),
        path(internal_key),
        path(&other_ca),
        path(&ca),
        path(internal_cert),
        path(internal_key)
    );
    let mut internal = Causeway::start_with(&internal_dir, internal_port, &internal_config);
    let admin = format!("http://127.0.0.1:{admin_port}");
    let up = wait_until(Duration::from_secs(10), || edge_state(&admin).as_deref() == Some("up"));
    assert!(up, "the internal node's keepalive to the edge is not answered\n{}\n{}", internal.process.log_tail(), edge.process.log_tail());

    let uac = Sipp::new("uac", dir.path(), "uac-dial.xml", SippTransport::Udp, free_port(), 1, LIMIT)
        .arg("-key")
        .arg("to")
        .arg("bob@internal.example.com")
        .arg("-key")
        .arg("from")
        .arg("alice@partner.example");
    let outcome = uac.run_uac(edge.addr(), LIMIT);
    outcome.assert_all_succeeded(1);
    uas.finish(LIMIT).assert_all_succeeded(1);
    // The edge's status shows the connection the internal node keeps.
    let internal_zone = zone(&format!("http://127.0.0.1:{edge_admin_port}"), "internal").unwrap_or_default();
    assert_eq!(internal_zone["connection"]["transport"], "tls", "{internal_zone}");
    edge.assert_alive();
    internal.assert_alive();
}
