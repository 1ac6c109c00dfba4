//! Kamailio as a neighbour zone: the edge keeps it under OPTIONS keepalive (Kamailio answers OPTIONS addressed to
//! itself) and routes a partner domain to it; Kamailio record-routes and relays to a SIPp UAS. The call completes
//! end to end (ACK and BYE back through both proxies) and the UAS sees Kamailio's Record-Route on the INVITE.
//! Kamailio's config is tests/interop/kamailio/neighbor.cfg.

mod edge_support;
mod support;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use edge_support::{invites_received, loopback, start_node};
use support::sipp::{Sipp, SippTransport};
use support::{free_port, port_taken_on, repo_root, temp_dir, wait_until, ChildGuard};

const LIMIT: Duration = Duration::from_secs(30);

/// Kamailio on `listen` relaying every initial request to `uas`.
fn kamailio(dir: &std::path::Path, listen: SocketAddr, uas: SocketAddr) -> ChildGuard {
    let run = dir.join("kamailio-run");
    std::fs::create_dir_all(&run).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let mut command = Command::new("kamailio");
    command
        .arg("-f")
        .arg(repo_root().join("tests/interop/kamailio/neighbor.cfg"))
        .args(["-DD", "-E", "-m", "64", "-M", "8", "-Y"])
        .arg(&run)
        .args(["-A", &format!("LISTEN_IP={}", listen.ip()), "-A", &format!("LISTEN_PORT={}", listen.port())])
        .args(["-A", &format!("UAS=\"{uas}\"")]);
    let mut process = ChildGuard::spawn_with("kamailio", &mut command, dir);
    let std::net::IpAddr::V4(ip) = listen.ip() else { panic!("IPv4 loopback expected") };
    let ready = wait_until(Duration::from_secs(15), || process.try_status().is_some() || port_taken_on(ip, listen.port(), false));
    if let Some(status) = process.try_status() {
        panic!("kamailio exited at start-up with {status}\n{}", process.log_tail());
    }
    assert!(ready, "kamailio did not bind {listen} within 15 s\n{}", process.log_tail());
    process
}

/// `text` without ANSI colour sequences (`ESC [ … m`), as the node's log writes them.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn kamailio_neighbour_is_kept_alive_and_carries_the_partner_domain() {
    let dir = temp_dir();
    let kamailio_addr = SocketAddr::from((loopback(4), free_port()));
    let uas_addr = SocketAddr::from((loopback(5), free_port()));
    let mut uas =
        Sipp::new("uas", dir.path(), "uas-answer.xml", SippTransport::Udp, uas_addr.port(), 1, LIMIT).on(loopback(5)).spawn_uas();
    let kamailio = kamailio(dir.path(), kamailio_addr, uas_addr);
    let routing = format!(
        r#"
[[zone]]
name = "partner"
kind = "neighbor"
keepalive = {{ interval_secs = 1, timeout_secs = 1, failures_before_down = 2, successes_before_up = 1 }}
[[zone.peer]]
address = "{kamailio_addr}"
transport = "udp"

[[search_rule]]
name = "to-partner"
pattern_type = "suffix"
pattern = "@partner.example.net"
on_match = "stop"
target = "partner"
"#
    );
    let mut node = start_node(dir.path(), free_port(), None, &routing);
    let up = wait_until(Duration::from_secs(10), || {
        let log = without_colours(&std::fs::read_to_string(&node.process.log).unwrap_or_default());
        log.lines().any(|l| l.contains("peer keepalive state") && l.contains(&kamailio_addr.to_string()) && l.contains("to=up"))
    });
    assert!(up, "Kamailio never answered the keepalive\n{}\n{}", node.process.log_tail(), kamailio.log_tail());
    let uac = Sipp::new("uac", dir.path(), "uac-dial.xml", SippTransport::Udp, free_port(), 1, LIMIT)
        .on(loopback(10))
        .arg("-key")
        .arg("to")
        .arg("carol@partner.example.net")
        .arg("-key")
        .arg("from")
        .arg("alice@ent-pa.com")
        .run_uac(node.addr(), LIMIT);
    if uac.status.and_then(|s| s.code()) != Some(0) {
        panic!("the call failed\n{}\n{}\n{}", uac.report, node.process.log_tail(), kamailio.log_tail());
    }
    uac.assert_all_succeeded(1);
    uas.finish(Duration::from_secs(10)).assert_all_succeeded(1);
    assert_eq!(invites_received(dir.path(), "uas"), ["sip:carol@partner.example.net"]);
    let trace = std::fs::read_to_string(dir.path().join("uas/messages.log")).unwrap_or_default();
    assert!(trace.contains(&format!("<sip:{kamailio_addr};lr>")), "Kamailio's Record-Route missing\n{trace}");
    node.assert_alive();
}
