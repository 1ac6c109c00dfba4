//! Failover with real peers (RFC 3263 §4.3 and the search rule's `continue`). The US zone has two peers: the
//! first is down (TCP, connection refused), the second is up but answers 503; each makes the node try the next
//! hop, and when the zone has none left the rule's `continue` hands the call to the EMEA zone, whose SIPp UAS
//! answers. A second test loses the first peer silently (a UDP socket that never reads): the node moves on when
//! Timer B fires (64·T1, with T1 = 50 ms here). A third sends the first try to a closed UDP port: the ICMP port
//! unreachable moves the call on at once, long before Timer B (RFC 3261 §18.4).

mod edge_support;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use edge_support::{invites_received, loopback, start_node};
use support::sipp::{Sipp, SippTransport};
use support::{free_port, temp_dir};

const LIMIT: Duration = Duration::from_secs(30);

fn dial(dir: &std::path::Path, node: SocketAddr) -> support::sipp::Outcome {
    Sipp::new("uac", dir, "uac-dial.xml", SippTransport::Udp, free_port(), 1, LIMIT)
        .on(loopback(10))
        .arg("-key")
        .arg("to")
        .arg("bob@ent-pa.com")
        .arg("-key")
        .arg("from")
        .arg("alice@partner.example.net")
        .run_uac(node, LIMIT)
}

#[test]
fn rfc3263_4_3_down_then_unavailable_then_the_next_zone() {
    let dir = temp_dir();
    let (down, unavailable, emea) = (free_port(), free_port(), free_port());
    let mut busy = Sipp::new("uas-503", dir.path(), "uas-unavailable.xml", SippTransport::Udp, unavailable, 1, LIMIT)
        .on(loopback(3))
        .spawn_uas();
    let mut answer =
        Sipp::new("uas-emea", dir.path(), "uas-answer.xml", SippTransport::Udp, emea, 1, LIMIT).on(loopback(4)).spawn_uas();
    let routing = format!(
        r#"
[[zone]]
name = "cucm-us"
kind = "neighbor"
keepalive = {{ enabled = false }}
# Nobody listens here: the TCP connection is refused.
[[zone.peer]]
address = "127.0.0.2:{down}"
transport = "tcp"
priority = 1
[[zone.peer]]
address = "127.0.0.3:{unavailable}"
transport = "udp"
priority = 2

[[zone]]
name = "cucm-emea"
kind = "neighbor"
keepalive = {{ enabled = false }}
[[zone.peer]]
address = "127.0.0.4:{emea}"
transport = "udp"

[[search_rule]]
name = "enterprise-us"
priority = 100
pattern_type = "suffix"
pattern = "@ent-pa.com"
on_match = "continue"
target = "cucm-us"

[[search_rule]]
name = "enterprise-emea"
priority = 110
pattern_type = "suffix"
pattern = "@ent-pa.com"
on_match = "stop"
target = "cucm-emea"
"#
    );
    let mut node = start_node(dir.path(), free_port(), None, &routing);
    let uac = dial(dir.path(), node.addr());
    if uac.status.and_then(|s| s.code()) != Some(0) {
        panic!("the call did not get through\n{}\n{}", uac.report, node.process.log_tail());
    }
    uac.assert_all_succeeded(1);
    busy.finish(Duration::from_secs(10)).assert_all_succeeded(1);
    answer.finish(Duration::from_secs(10)).assert_all_succeeded(1);
    assert_eq!(invites_received(dir.path(), "uas-503"), ["sip:bob@ent-pa.com"]);
    assert_eq!(invites_received(dir.path(), "uas-emea"), ["sip:bob@ent-pa.com"]);
    node.assert_alive();
}

#[test]
fn rfc3263_4_3_a_silent_peer_is_left_when_timer_b_fires() {
    let dir = temp_dir();
    let (silent, second) = (free_port(), free_port());
    // Bound but never read: no ICMP comes back, the INVITE just goes unanswered.
    let _silent = std::net::UdpSocket::bind(("127.0.0.5", silent)).unwrap_or_else(|e| panic!("bind the silent peer: {e}"));
    let mut answer =
        Sipp::new("uas-second", dir.path(), "uas-answer.xml", SippTransport::Udp, second, 1, LIMIT).on(loopback(6)).spawn_uas();
    let routing = format!(
        "[transaction]\nt1_ms = 50\nt2_ms = 400\n{}",
        cucm_with_two_peers(&format!("127.0.0.5:{silent}"), &format!("127.0.0.6:{second}"))
    );
    let mut node = start_node(dir.path(), free_port(), None, &routing);
    let started = std::time::Instant::now();
    let uac = dial(dir.path(), node.addr());
    if uac.status.and_then(|s| s.code()) != Some(0) {
        panic!("the call did not get through\n{}\n{}", uac.report, node.process.log_tail());
    }
    uac.assert_all_succeeded(1);
    // Timer B is 64·T1 = 3.2 s: the second peer is reached only after it.
    assert!(started.elapsed() >= Duration::from_millis(3200), "reached the second peer after {:?}", started.elapsed());
    answer.finish(Duration::from_secs(10)).assert_all_succeeded(1);
    node.assert_alive();
}

#[test]
fn rfc3261_18_4_a_closed_udp_port_fails_over_on_the_icmp_error_not_timer_b() {
    let dir = temp_dir();
    let (closed, second) = (free_port(), free_port());
    let mut answer =
        Sipp::new("uas-second", dir.path(), "uas-answer.xml", SippTransport::Udp, second, 1, LIMIT).on(loopback(8)).spawn_uas();
    // Default timers: Timer B is 64·T1 = 32 s.
    // Nothing is bound at the first peer: the kernel answers the INVITE with ICMP port unreachable.
    let routing = cucm_with_two_peers(&format!("127.0.0.7:{closed}"), &format!("127.0.0.8:{second}"));
    let mut node = start_node(dir.path(), free_port(), None, &routing);
    let started = std::time::Instant::now();
    let uac = dial(dir.path(), node.addr());
    let elapsed = started.elapsed();
    if uac.status.and_then(|s| s.code()) != Some(0) {
        panic!("the call did not get through\n{}\n{}", uac.report, node.process.log_tail());
    }
    uac.assert_all_succeeded(1);
    // A generous bound, not a benchmark: the whole call (SIPp's default 0 s pause) well inside Timer B's 32 s.
    assert!(elapsed < Duration::from_secs(8), "the call took {elapsed:?}: failover waited for a timer\n{}", node.process.log_tail());
    assert_eq!(invites_received(dir.path(), "uas-second"), ["sip:bob@ent-pa.com"], "the second peer got the call once");
    answer.finish(Duration::from_secs(10)).assert_all_succeeded(1);
    node.assert_alive();
}

/// A neighbour zone `cucm` with two UDP peers in priority order, and the search rule that sends
/// `@ent-pa.com` to it.
fn cucm_with_two_peers(first: &str, second: &str) -> String {
    format!(
        r#"
[[zone]]
name = "cucm"
kind = "neighbor"
keepalive = {{ enabled = false }}
[[zone.peer]]
address = "{first}"
transport = "udp"
priority = 1
[[zone.peer]]
address = "{second}"
transport = "udp"
priority = 2

[[search_rule]]
name = "enterprise"
pattern_type = "suffix"
pattern = "@ent-pa.com"
on_match = "stop"
target = "cucm"
"#
    )
}
