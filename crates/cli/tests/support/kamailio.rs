//! `SIP_TEST_SUBJECT=kamailio`: the same UDP and TCP call tests against Kamailio as the proxy under test
//! (`../shared/bench/kamailio/kamailio.cfg`, a stateful record-routing relay), to show the tests themselves
//! are right (STYLE.md §2, §9). Tests that need causeway's own features (TLS listeners, extra routes,
//! OPTIONS answered by the node) fail under this subject rather than skip.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{port_taken, repo_root, wait_until, Causeway, ChildGuard, NodeSpec};

/// Whether the tests drive Kamailio instead of causeway.
pub(crate) fn selected() -> bool {
    std::env::var("SIP_TEST_SUBJECT").is_ok_and(|subject| subject == "kamailio")
}

/// Start Kamailio on UDP (and TCP) `port`, relaying every initial request to the next hop of `spec`.
pub(crate) fn start(dir: &Path, spec: &NodeSpec<'_>, port: u16) -> Causeway {
    assert!(
        spec.tls.is_none() && spec.extra.is_empty(),
        "this test needs causeway's TLS listener or extra routes, which the Kamailio subject does not have"
    );
    // `sip:127.0.0.1:PORT;transport=udp|tcp`, as the tests write it.
    let (uas_port, transport) = spec
        .next_hop
        .strip_prefix("sip:127.0.0.1:")
        .and_then(|rest| rest.split_once(";transport="))
        .unwrap_or_else(|| panic!("the Kamailio subject takes next hops sip:127.0.0.1:PORT;transport=T, not {}", spec.next_hop));
    let config = repo_root().join("../shared/bench/kamailio/kamailio.cfg");
    let run = dir.join("kamailio-run");
    std::fs::create_dir_all(&run).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let mut command = Command::new("kamailio");
    command
        .arg("-f")
        .arg(&config)
        .args(["-DD", "-E", "-m", "64", "-M", "8", "-Y"])
        .arg(&run)
        .args(["-A", &format!("LISTEN_PORT={port}"), "-A", &format!("UAS_A=\"127.0.0.1:{uas_port}\""), "-A", "UDP_CHILDREN=2"]);
    if transport == "tcp" {
        // The config then listens on TCP too and reaches the UAS over TCP.
        command.args(["-A", "WITH_TCP"]);
    }
    let mut process = ChildGuard::spawn_with("kamailio", &mut command, dir);
    let ready = wait_until(Duration::from_secs(15), || process.try_status().is_some() || port_taken(port, false));
    if let Some(status) = process.try_status() {
        panic!("kamailio exited at start-up with {status}\n{}", process.log_tail());
    }
    assert!(ready, "kamailio did not bind {port} within 15 s\n{}", process.log_tail());
    // The listening socket is bound before the workers are forked; give them a moment.
    std::thread::sleep(Duration::from_millis(500));
    Causeway { process, port, tls_port: None }
}
