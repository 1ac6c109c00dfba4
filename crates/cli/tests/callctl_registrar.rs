//! L4 registrar of call control with real clients on loopback: SIPp phones registering with digest (RFC 3261
//! §10, RFC 7616 qop=auth), a refused Contact, the bindings kept across a restart of `causeway serve` (the
//! store), and baresip as Bob's registered desk phone answering a call to his DN.

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::json;
use support::callctl::*;
use support::sipp::{Sipp, SippTransport};
use support::{free_port, temp_dir, ChildGuard};

#[test]
fn a_contact_that_is_not_a_sip_uri_is_refused_with_400_and_the_reason() {
    let dir = temp_dir();
    let topo = Topology::new();
    let node = Node::start(dir.path(), "causeway", topo.node, &topo.config(dir.path(), &callctl_section()));
    let outcome = Sipp::new("refused", dir.path(), "callctl/register-refused.xml", SippTransport::Udp, free_port(), 1, LIMIT)
        .arg("-key")
        .arg("aor")
        .arg("1002")
        .arg("-au")
        .arg("bob-desk")
        .arg("-ap")
        .arg("bob-pw")
        .run_uac(topo.node_addr(), LIMIT);
    if outcome.status.and_then(|c| c.code()) != Some(0) {
        panic!("no 400\n{}\n{}", outcome.report, node.log());
    }
    assert!(messages(dir.path(), "refused").contains("SIP/2.0 400 Bad Request (Contact is not a SIP URI)"), "{}", outcome.report);
}

#[test]
fn registrations_survive_a_restart_of_the_node() {
    let dir = temp_dir();
    let topo = Topology::new();
    let config = topo.config(dir.path(), &callctl_section());
    let node = Node::start(dir.path(), "causeway", topo.node, &config);
    let (bob, alice) = (free_port(), free_port());
    register(dir.path(), &node, bob, "1002", "bob-desk", "bob-pw");
    register(dir.path(), &node, alice, "1001", "alice-desk", "alice-pw");
    drop(node);
    let node = Node::start(dir.path(), "restarted", topo.node, &config);
    let loaded = support::wait_until(Duration::from_secs(5), || {
        plain(&node.log()).contains("registrar bindings loaded from the store bindings=2")
    });
    assert!(loaded, "{}", node.log());
    // Neither phone registers again: Alice's call is still recognised as her desk's, Bob's desk still rings.
    let mut desk = callee(dir.path(), "desk", bob, 300);
    let outcome = call(dir.path(), &node, alice, "1001", "1002", 300);
    if outcome.status.and_then(|c| c.code()) != Some(0) {
        panic!("no call after the restart\n{}\n{}", outcome.report, node.log());
    }
    desk.finish(LIMIT).assert_all_succeeded(1);
    let cdr = cdrs(dir.path(), 1).remove(0);
    assert_eq!(cdr["calling"]["number"], json!("1001"));
    assert_eq!(cdr["legs"][0]["target"], json!(format!("sip:1002@127.0.0.1:{bob};transport=UDP")));
}

/// baresip registers as Bob's desk phone (digest) and answers automatically; Alice's SIPp desk calls 1002.
#[test]
fn baresip_registered_as_bobs_desk_answers_a_call_to_his_dn() {
    baresip_answers("");
}

/// The same over TCP: baresip registers on a connection, and the call reaches it over that connection
/// (RFC 5626 §5.3 flow reuse), not by a connection to the address in its Contact.
#[test]
fn baresip_registered_over_tcp_is_called_over_its_registration_connection() {
    let node_log = plain(&baresip_answers(";transport=tcp"));
    // The node's final transport counters: baresip's one connection came in, none was dialed out.
    assert!(node_log.contains("connections_accepted: 1,") && node_log.contains("connections_opened: 0,"), "{node_log}");
}

/// Runs the baresip call with `uri_params` on the account's URI; returns the node's whole log after it
/// stopped (its last line holds the transport counters).
fn baresip_answers(uri_params: &str) -> String {
    let dir = temp_dir();
    let topo = Topology::new();
    let node = Node::start(dir.path(), "causeway", topo.node, &topo.config(dir.path(), &callctl_section()));
    let alice = free_port();
    register(dir.path(), &node, alice, "1001", "alice-desk", "alice-pw");
    let config_dir = dir.path().join("baresip");
    std::fs::create_dir_all(&config_dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let config = format!(
        "poll_method epoll\nsip_listen 127.0.0.1:{}\naudio_player aubridge,loop\naudio_source aubridge,loop\n\
         audio_alert aubridge,loop\nmodule_path /usr/lib/baresip/modules\nmodule stdio.so\nmodule g711.so\n\
         module aubridge.so\nmodule_app account.so\nmodule_app menu.so\n",
        free_port()
    );
    std::fs::write(config_dir.join("config"), config).unwrap_or_else(|e| panic!("write: {e}"));
    let account = format!("<sip:1002@127.0.0.1:{}{uri_params}>;auth_user=bob-desk;auth_pass=bob-pw;answermode=auto;regint=600\n", topo.node);
    std::fs::write(config_dir.join("accounts"), account).unwrap_or_else(|e| panic!("write: {e}"));
    let mut baresip = ChildGuard::spawn_with("baresip", Command::new("baresip").arg("-f").arg(&config_dir).arg("-t").arg("20"), dir.path());
    let registered = support::wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&baresip.log).unwrap_or_default().contains("200 OK")
    });
    assert!(registered, "baresip did not register\n{}\n{}", baresip.log_tail(), node.log());
    let outcome = call(dir.path(), &node, alice, "1001", "1002", 1_000);
    if outcome.status.and_then(|c| c.code()) != Some(0) {
        panic!("Alice's call to baresip failed\n{}\n{}\n{}", outcome.report, baresip.log_tail(), node.log());
    }
    let output = std::fs::read_to_string(&baresip.log).unwrap_or_default();
    assert!(output.contains("Call established"), "baresip did not answer\n{output}");
    let cdr = cdrs(dir.path(), 1).remove(0);
    assert_eq!((&cdr["status"], &cdr["answered_leg"]), (&json!(200), &json!(0)));
    assert_eq!(cdr["legs"][0]["kind"], json!({ "kind": "device", "device": "SEP00AA00000002" }));
    let target = cdr["legs"][0]["target"].as_str().unwrap_or_default().to_ascii_lowercase();
    assert_eq!(target.contains("transport=tcp"), uri_params.contains("tcp"), "baresip's contact: {target}");
    let _ = baresip.wait_for(Duration::from_secs(1));
    let log = node.process.log.clone();
    drop(node);
    std::fs::read_to_string(log).unwrap_or_default()
}

/// A log line without its ANSI colour codes.
fn plain(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}
