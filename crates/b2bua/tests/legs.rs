//! Legs through zones in simulated time, the way the proxy core sends to a zone: peers the
//! keepalive marks down are skipped, a leg that gets 503, a transport error or Timer B on one
//! peer tries the next (RFC 3263 §4.3) before the call hears of it, a route pattern's trunk does
//! the same with its number, and a DNS zone's hops come from SRV lookups the node answers.

mod common;

use std::sync::Arc;
use std::time::Duration;

use causeway_b2bua::Zones;
use causeway_routing::resolve::{AddressRecord, DnsAnswer, QueryKind, SrvRecord};
use causeway_routing::{HealthSnapshot, PeerState};
use causeway_sip::Transport;
use common::*;

/// Webex's second peer, and the trunk's.
const CLOUD_2: &str = "10.0.0.12:5060";
const PSTN_2: &str = "10.0.0.14:5060";

/// The zones of `common::ROUTING` with a second, lower-priority peer for webex and pstn-gw; the
/// webex peers are monitored by keepalive.
const TWO_PEERS: &str = r#"
[[zone]]
name = "webex"
kind = "neighbor"
peer = [{ address = "10.0.0.2:5060", transport = "udp", priority = 1 }, { address = "10.0.0.12:5060", transport = "udp", priority = 2 }]
keepalive = { enabled = true }
authentication = "treat-as-authenticated"

[[zone]]
name = "unity"
kind = "neighbor"
peer = [{ address = "10.0.0.3:5060", transport = "udp" }]
keepalive = { enabled = false }

[[zone]]
name = "pstn-gw"
kind = "neighbor"
peer = [{ address = "10.0.0.4:5060", transport = "udp", priority = 1 }, { address = "10.0.0.14:5060", transport = "udp", priority = 2 }]
keepalive = { enabled = false }

[[zone]]
name = "teams"
kind = "neighbor"
peer = [{ address = "10.0.0.5:5060", transport = "udp" }]
keepalive = { enabled = false }

[[search_rule]]
name = "to-webex"
priority = 50
source = "any-authenticated"
pattern_type = "regex"
pattern = '.*@ent-pa\.call\.webex\.com'
target = "webex"
"#;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn table(text: &str) -> Zones {
    let table = causeway_routing::config::load(text).unwrap_or_else(|e| panic!("{e:?}"));
    Zones::new(Some(Arc::new(table)))
}

/// A node on `routing` with T1 = 100 ms (Timer B 6.4 s, inside the cloud leg's 19 s answer-too-late)
/// and Bob's and Alice's desks registered.
fn node(routing: &str) -> Node {
    let mut node = Node::with(example(), table(routing), |c| c.timers.t1 = Duration::from_millis(100));
    register_desks(&mut node);
    node
}

/// Alice calls Bob; the desk rings; 4 s later the cloud leg's INVITE goes out: returned.
fn call_bob(node: &mut Node, call_id: &str) -> Vec<causeway_proxy::Transmit> {
    let mut alice = Ua::caller(ALICE_DESK, "\"Alice\" <sip:1001@ent-pa.com>", "sip:1002@127.0.0.1:5060", call_id);
    let out = node.udp(ALICE_DESK, &alice.request("INVITE", "", Some(&sdp("alice", 4000))));
    let desk = one(&out, BOB_DESK, "INVITE");
    node.udp(BOB_DESK, &reply(&desk, 180, "desk", BOB_DESK, None));
    node.advance(secs(4))
}

/// The second cloud peer answers; Alice gets the 200 and the desk its CANCEL.
fn second_peer_answers(node: &mut Node, out: &[causeway_proxy::Transmit]) {
    let invite = one(out, CLOUD_2, "INVITE sip:bob@ent-pa.call.webex.com");
    node.udp(CLOUD_2, &reply(&invite, 180, "c2", CLOUD_2, None));
    node.advance(secs(2));
    let out = node.udp(CLOUD_2, &reply(&invite, 200, "c2", CLOUD_2, Some(&sdp("cloud", 6000))));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 200"), "{}", dump(&out));
    assert!(sent(&out, BOB_DESK, "CANCEL"), "{}", dump(&out));
}

#[test]
fn rfc3263_4_3_a_503_from_the_first_peer_sends_the_leg_to_the_next() {
    let mut node = node(TWO_PEERS);
    let out = call_bob(&mut node, "fo-503");
    let first = one(&out, CLOUD, "INVITE sip:bob@ent-pa.call.webex.com");
    let out = node.udp(CLOUD, &reply(&first, 503, "c1", CLOUD, None));
    assert!(sent(&out, CLOUD, "ACK"), "the 503 is ACKed\n{}", dump(&out));
    let second = one(&out, CLOUD_2, "INVITE sip:bob@ent-pa.call.webex.com");
    assert_ne!(second.call_id().ok(), first.call_id().ok(), "a new attempt");
    assert!(to(&out, ALICE_DESK).is_empty(), "the caller hears nothing of the failed hop\n{}", dump(&out));
    second_peer_answers(&mut node, &out);
}

#[test]
fn rfc3263_4_3_a_transport_error_sends_the_leg_to_the_next_peer_at_once() {
    let mut node = node(TWO_PEERS);
    let out = call_bob(&mut node, "fo-icmp");
    one(&out, CLOUD, "INVITE");
    let out = node.transport_error(Transport::Udp, CLOUD);
    second_peer_answers(&mut node, &out);
}

#[test]
fn rfc3263_4_3_timer_b_on_a_silent_peer_sends_the_leg_to_the_next() {
    let mut node = node(TWO_PEERS);
    let out = call_bob(&mut node, "fo-timer-b");
    one(&out, CLOUD, "INVITE");
    // 64*T1 = 6.4 s of retransmissions to the silent peer, then the next one.
    let out = node.advance(Duration::from_millis(6300));
    assert!(to(&out, CLOUD_2).is_empty(), "{}", dump(&out));
    assert!(sent(&out, CLOUD, "INVITE"), "retransmissions\n{}", dump(&out));
    let out = node.advance(Duration::from_millis(100));
    second_peer_answers(&mut node, &out);
    let record = node.events.iter().find_map(|e| match e {
        causeway_b2bua::Event::CallRecord(r) => Some(r.clone()),
        _ => None,
    });
    assert!(record.is_none(), "the call goes on");
}

#[test]
fn a_peer_the_keepalive_marks_down_is_skipped() {
    let mut node = node(TWO_PEERS);
    let mut health = HealthSnapshot::default();
    health.set_state("webex", "10.0.0.2:5060", PeerState::Down);
    node.b2bua.set_health(health);
    let out = call_bob(&mut node, "fo-down");
    assert!(to(&out, CLOUD).is_empty(), "{}", dump(&out));
    second_peer_answers(&mut node, &out);
}

#[test]
fn when_every_peer_fails_the_leg_fails_with_the_last_status_and_the_desk_rings_on() {
    let mut node = node(TWO_PEERS);
    let out = call_bob(&mut node, "fo-all");
    let first = one(&out, CLOUD, "INVITE");
    let out = node.udp(CLOUD, &reply(&first, 503, "c1", CLOUD, None));
    let second = one(&out, CLOUD_2, "INVITE");
    let out = node.udp(CLOUD_2, &reply(&second, 503, "c2", CLOUD_2, None));
    assert!(to(&out, ALICE_DESK).is_empty(), "the desk still rings\n{}", dump(&out));
    assert!(to(&out, CLOUD).is_empty() && !sent(&out, CLOUD_2, "INVITE"), "no third attempt\n{}", dump(&out));
}

#[test]
fn a_final_other_than_408_or_503_is_not_failed_over() {
    let mut node = node(TWO_PEERS);
    let out = call_bob(&mut node, "fo-404");
    let first = one(&out, CLOUD, "INVITE");
    let out = node.udp(CLOUD, &reply(&first, 404, "c1", CLOUD, None));
    assert!(to(&out, CLOUD_2).is_empty(), "{}", dump(&out));
}

#[test]
fn a_trunk_leg_fails_over_with_its_number_addressed_to_the_next_peer() {
    let mut node = node(TWO_PEERS);
    let mut alice = Ua::caller(ALICE_DESK, "\"Alice\" <sip:1001@ent-pa.com>", "sip:914155550123@127.0.0.1:5060", "fo-trunk");
    let out = node.udp(ALICE_DESK, &alice.request("INVITE", "", Some(&sdp("alice", 4000))));
    let first = one(&out, PSTN, "INVITE sip:");
    assert!(String::from_utf8_lossy(first.start_line_bytes()).contains("@10.0.0.4:5060"), "{}", dump(&out));
    let out = node.transport_error(Transport::Udp, PSTN);
    let second = one(&out, PSTN_2, "INVITE sip:");
    let line = String::from_utf8_lossy(second.start_line_bytes()).into_owned();
    assert!(line.contains("@10.0.0.14:5060"), "{line}");
    let out = node.udp(PSTN_2, &reply(&second, 200, "gw", PSTN_2, Some(&sdp("gw", 7000))));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 200"), "{}", dump(&out));
}

const DNS_ZONE: &str = concat!(r#"
[[zone]]
name = "webex"
kind = "dns"
transport = "udp"
authentication = "treat-as-authenticated"

"#,
    neighbour_zones!(),
    r#"[[search_rule]]
name = "to-webex"
priority = 50
pattern_type = "regex"
pattern = '.*@ent-pa\.call\.webex\.com'
target = "webex"
"#);

#[test]
fn rfc3263_a_dns_zone_leg_waits_for_srv_and_address_lookups_then_goes_to_the_target() {
    let mut node = node(DNS_ZONE);
    let out = call_bob(&mut node, "dns");
    assert!(!sent(&out, CLOUD, "INVITE"), "{}", dump(&out));
    let lookups = node.lookups();
    let [srv] = lookups.as_slice() else { panic!("{lookups:?}") };
    assert_eq!((srv.query.name.as_str(), srv.query.kind), ("_sip._udp.ent-pa.call.webex.com", QueryKind::Srv));
    let records = vec![
        SrvRecord { priority: 10, weight: 1, port: 5060, target: "sip1.webex.test.".into(), ttl: 60 },
        SrvRecord { priority: 20, weight: 1, port: 5060, target: "sip2.webex.test.".into(), ttl: 60 },
    ];
    let out = node.resolved(srv.id, DnsAnswer::Srv(records));
    assert!(out.is_empty(), "{}", dump(&out));
    let lookups = node.lookups();
    let [a] = lookups.as_slice() else { panic!("{lookups:?}") };
    assert_eq!((a.query.name.as_str(), a.query.kind), ("sip1.webex.test", QueryKind::Address));
    let out = node.resolved(a.id, DnsAnswer::Addresses(vec![AddressRecord { address: [10, 0, 0, 2].into(), ttl: 60 }]));
    assert!(out.is_empty(), "every SRV target is looked up first, as the proxy does\n{}", dump(&out));
    let lookups = node.lookups();
    let [a2] = lookups.as_slice() else { panic!("{lookups:?}") };
    assert_eq!(a2.query.name, "sip2.webex.test");
    let out = node.resolved(a2.id, DnsAnswer::Addresses(vec![AddressRecord { address: [10, 0, 0, 12].into(), ttl: 60 }]));
    let first = one(&out, CLOUD, "INVITE sip:bob@ent-pa.call.webex.com");
    // The first target answers 503: the second SRV target is tried.
    let out = node.udp(CLOUD, &reply(&first, 503, "c1", CLOUD, None));
    assert!(node.lookups().is_empty());
    second_peer_answers(&mut node, &out);
}

#[test]
fn a_leg_cancelled_while_it_waits_for_dns_ends_at_once_and_a_late_answer_is_ignored() {
    let mut node = node(DNS_ZONE);
    let mut alice = Ua::caller(ALICE_DESK, "\"Alice\" <sip:1001@ent-pa.com>", "sip:1002@127.0.0.1:5060", "dns-cancel");
    let out = node.udp(ALICE_DESK, &alice.request("INVITE", "", Some(&sdp("alice", 4000))));
    let desk = one(&out, BOB_DESK, "INVITE");
    node.udp(BOB_DESK, &reply(&desk, 180, "desk", BOB_DESK, None));
    node.advance(secs(4));
    let lookups = node.lookups();
    let [srv] = lookups.as_slice() else { panic!("{lookups:?}") };
    let out = node.udp(ALICE_DESK, &alice.request("CANCEL", "", None));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 487"), "{}", dump(&out));
    let out = node.udp(BOB_DESK, &reply(&desk, 487, "desk", BOB_DESK, None));
    assert!(sent(&out, BOB_DESK, "ACK"), "{}", dump(&out));
    assert_eq!(node.b2bua.calls(), 0, "nothing waits for the lookup");
    let out = node.resolved(srv.id, DnsAnswer::NoRecords);
    assert!(out.is_empty(), "{}", dump(&out));
}

#[test]
fn a_dns_zone_without_records_fails_the_leg_and_the_call_goes_on() {
    let mut node = node(DNS_ZONE);
    let out = call_bob(&mut node, "dns-none");
    assert!(out.iter().all(|t| t.destination != common::addr(CLOUD)));
    let lookups = node.lookups();
    let [srv] = lookups.as_slice() else { panic!("{lookups:?}") };
    let out = node.resolved(srv.id, DnsAnswer::NoRecords);
    assert!(to(&out, ALICE_DESK).is_empty(), "the desk rings on\n{}", dump(&out));
    assert!(node.lookups().is_empty());
}

#[test]
fn rfc5922_4_answers_are_held_for_their_ttl_and_name_the_domain_a_leg_was_found_under() {
    let mut node = node(DNS_ZONE);
    call_bob(&mut node, "held-1");
    let lookups = node.lookups();
    let [srv] = lookups.as_slice() else { panic!("{lookups:?}") };
    let records = vec![SrvRecord { priority: 10, weight: 1, port: 5060, target: "sip1.webex.test.".into(), ttl: 60 }];
    node.resolved(srv.id, DnsAnswer::Srv(records));
    let lookups = node.lookups();
    let [a] = lookups.as_slice() else { panic!("{lookups:?}") };
    let out = node.resolved(a.id, DnsAnswer::Addresses(vec![AddressRecord { address: [10, 0, 0, 2].into(), ttl: 60 }]));
    let first = one(&out, CLOUD, "INVITE sip:bob@ent-pa.call.webex.com");
    node.udp(CLOUD, &reply(&first, 180, "c1", CLOUD, None));
    // RFC 5922 §4.1: the TLS server name of an SRV target is the domain looked up, not the target.
    let domain = Some("ent-pa.call.webex.com");
    assert_eq!(node.b2bua.health().host_of(addr(CLOUD)), domain);
    // The core's next snapshot does not make call control forget its own answers.
    node.b2bua.set_health(HealthSnapshot::default());
    assert_eq!(node.b2bua.health().host_of(addr(CLOUD)), domain);
    // Within their TTL the next call's leg needs no lookup.
    let out = call_bob(&mut node, "held-two");
    assert!(node.lookups().is_empty());
    one(&out, CLOUD, "INVITE sip:bob@ent-pa.call.webex.com");
    // Past it they are gone, and asked for again.
    node.advance(secs(60));
    assert_eq!(node.b2bua.health().host_of(addr(CLOUD)), None);
    call_bob(&mut node, "held-three");
    let lookups = node.lookups();
    assert_eq!(lookups.iter().map(|l| l.query.kind).collect::<Vec<_>>(), [QueryKind::Srv], "{lookups:?}");
}
