//! OPTIONS keepalive inside the core, in simulated time: probes leave through client
//! non-INVITE transactions, answers (or silence, or transport errors) move peers up and down
//! exactly as the zone's settings say, host names are looked up through `poll_resolve`.

mod harness;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use causeway_proxy::{Transmit, TransportFailure};
use causeway_routing::resolve::{AddressRecord, DnsAnswer, QueryKind};
use causeway_routing::{PeerState, RoutingTable};
use causeway_sip::{HeaderName, Message, Method, Transport};
use harness::{config, respond, value, Sim, BOB, BOB2};

const S: Duration = Duration::from_secs(1);

const ZONES: &str = r#"
[[zone]]
name = "cucm"
kind = "neighbor"
keepalive = { interval_secs = 10, timeout_secs = 2, failures_before_down = 2, successes_before_up = 1 }
[[zone.peer]]
address = "192.0.2.20:5060"
transport = "udp"
priority = 1
[[zone.peer]]
address = "192.0.2.21:5070"
transport = "udp"
priority = 2

[[zone]]
name = "teams"
kind = "trunk"
local_fqdn = "sbc.example.com"
keepalive = { interval_secs = 60, timeout_secs = 5, failures_before_down = 3, successes_before_up = 2 }
[[zone.peer]]
address = "sip.pstnhub.example.net:5061"
transport = "tls"
"#;

fn table() -> RoutingTable {
    causeway_routing::config::load(ZONES).unwrap_or_else(|e| panic!("{e:?}"))
}

/// A core monitoring [`ZONES`], with the first probes already due.
fn sim() -> Sim {
    let mut sim = Sim::with(config(), harness::routes());
    let now = sim.now;
    sim.core.monitor_peers(now, &table());
    sim.advance(Duration::ZERO);
    sim
}

/// OPTIONS sent since the last call (first sends only, not retransmissions), by destination.
fn options(sim: &mut Sim) -> Vec<(SocketAddr, Message)> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (to, m) in sim.take_msgs() {
        let branch = harness::branch(&m);
        if m.method() == Some(&Method::Options) && !seen.contains(&branch) {
            seen.push(branch);
            out.push((to, m));
        }
    }
    out
}

fn state(sim: &Sim, zone: &str, peer: &str) -> PeerState {
    sim.core.health().map_or(PeerState::Unknown, |h| h.state(zone, peer))
}

fn answer(sim: &mut Sim, from: SocketAddr, req: &Message, code: u16) {
    sim.udp(from, &respond(req, code, "Whatever", "peer", ""));
}

/// Everything sent since the last call, including what `handle_resolved` queued.
fn drain(sim: &mut Sim) -> Vec<Transmit> {
    let mut sent = sim.take();
    sent.extend(std::iter::from_fn(|| sim.core.poll_transmit()));
    sent
}

/// Answers a pending host-name lookup with `ip` (TTL `ttl` seconds).
fn resolve(sim: &mut Sim, name: &str, ip: [u8; 4], ttl: u32) {
    let lookup = sim.core.poll_resolve().unwrap_or_else(|| panic!("no lookup pending"));
    assert_eq!((lookup.query.name.as_str(), lookup.query.kind), (name, QueryKind::Address));
    let record = AddressRecord { address: IpAddr::from(ip), ttl };
    let now = sim.now;
    sim.core.handle_resolved(now, lookup.id, DnsAnswer::Addresses(vec![record]));
}

#[test]
fn probes_go_to_every_monitored_peer_at_once_and_every_interval() {
    let mut sim = sim();
    let sent = options(&mut sim);
    assert_eq!(sent.iter().map(|(to, _)| *to).collect::<Vec<_>>(), [BOB, BOB2]);
    for (to, m) in &sent {
        answer(&mut sim, *to, m, 200);
    }
    assert_eq!(state(&sim, "cucm", "192.0.2.20:5060"), PeerState::Up);
    sim.advance(9 * S);
    assert!(options(&mut sim).is_empty());
    sim.advance(S);
    assert_eq!(options(&mut sim).len(), 2, "the next round is due one interval after the first");
}

#[test]
fn silence_marks_a_peer_down_after_failures_before_down_and_answers_bring_it_back() {
    let mut sim = sim();
    for (to, m) in options(&mut sim) {
        answer(&mut sim, to, &m, 200);
    }
    // BOB stops answering: timeout 2 s, two failures before down.
    for round in 1..=2 {
        sim.advance(if round == 1 { 10 * S } else { 8 * S });
        for (to, m) in options(&mut sim) {
            if to == BOB2 {
                answer(&mut sim, to, &m, 200);
            }
        }
        sim.advance(2 * S);
        let expected = if round == 1 { PeerState::Up } else { PeerState::Down };
        assert_eq!(state(&sim, "cucm", "192.0.2.20:5060"), expected, "after {round} silent probes");
    }
    assert_eq!(state(&sim, "cucm", "192.0.2.21:5070"), PeerState::Up);
    let change = std::iter::from_fn(|| sim.core.poll_peer_change()).last();
    assert_eq!(change.map(|c| (c.peer, c.from, c.to)), Some(("192.0.2.20:5060".to_owned(), PeerState::Up, PeerState::Down)));
    // One answer (successes_before_up = 1) and it is up again.
    sim.advance(8 * S);
    for (to, m) in options(&mut sim) {
        answer(&mut sim, to, &m, 200);
    }
    assert_eq!(state(&sim, "cucm", "192.0.2.20:5060"), PeerState::Up);
    let status = sim.core.peer_status();
    let bob = status.iter().find(|p| p.peer == "192.0.2.20:5060").map(|p| (p.state, p.consecutive_successes, p.last_change.is_some()));
    assert_eq!(bob, Some((PeerState::Up, 1, true)));
}

#[test]
fn an_unanswered_probe_is_given_up_at_the_keepalive_timeout_and_a_late_answer_is_ignored() {
    let mut sim = sim();
    let sent = options(&mut sim);
    let Some((to, late)) = sent.into_iter().find(|(to, _)| *to == BOB) else { panic!("no probe to BOB") };
    sim.advance(2 * S);
    // Timer E retransmitted until the timeout, and not after it.
    sim.take();
    sim.advance(5 * S);
    assert!(sim.take().iter().all(|t| t.destination != BOB), "a given-up probe is not retransmitted");
    answer(&mut sim, to, &late, 200);
    assert_eq!(state(&sim, "cucm", "192.0.2.20:5060"), PeerState::Unknown, "one failure, then a late answer: still unknown");
}

#[test]
fn rfc3261_8_1_3_1_a_transport_error_and_a_503_are_failures() {
    let mut sim = sim();
    for (to, m) in options(&mut sim) {
        if to == BOB {
            sim.transport_error(TransportFailure { transport: Transport::Udp, destination: to, flow: None });
        } else {
            answer(&mut sim, to, &m, 503);
        }
    }
    sim.advance(10 * S);
    for (to, m) in options(&mut sim) {
        if to == BOB {
            sim.transport_error(TransportFailure { transport: Transport::Udp, destination: to, flow: None });
        } else {
            answer(&mut sim, to, &m, 503);
        }
    }
    assert_eq!(state(&sim, "cucm", "192.0.2.20:5060"), PeerState::Down);
    assert_eq!(state(&sim, "cucm", "192.0.2.21:5070"), PeerState::Down);
}

#[test]
fn trunk_peer_is_looked_up_and_probed_with_the_fqdn_and_is_up_only_after_answers() {
    let mut sim = sim();
    options(&mut sim);
    resolve(&mut sim, "sip.pstnhub.example.net", [192, 0, 2, 52], 300);
    let sent = drain(&mut sim);
    let Some(probe) = sent.iter().find(|t| t.destination == SocketAddr::from(([192, 0, 2, 52], 5061))) else {
        panic!("no OPTIONS to the trunk's address")
    };
    assert_eq!(probe.transport, Transport::Tls);
    let m = Message::parse(probe.bytes.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.request_uri_str(), Some("sip:sip.pstnhub.example.net:5061;transport=tls"));
    assert_eq!(value(&m, HeaderName::Contact).as_deref(), Some("<sip:sbc.example.com:5061;transport=tls>"));
    assert_eq!(value(&m, HeaderName::RecordRoute).as_deref(), Some("<sip:sbc.example.com:5061;transport=tls;lr>"));
    assert!(m.header(HeaderName::Allow).is_some_and(|a| String::from_utf8_lossy(a.value).contains("REFER")));
    let peer = "sip.pstnhub.example.net:5061";
    let health = sim.core.health().cloned().unwrap_or_default();
    assert_eq!(health.peer("teams", peer).map(|p| p.addresses.clone()), Some(vec![IpAddr::from([192, 0, 2, 52])]));
    // successes_before_up = 2: one answer is not enough for a trunk.
    let from = probe.destination;
    sim.deliver(Transport::Tls, harness::PROXY_TLS, from, None, harness::crlf(&respond(&m, 200, "OK", "ms", "")).into_bytes().into());
    assert_eq!(state(&sim, "teams", peer), PeerState::Unknown);
    let table = table();
    let teams = table.zone("teams").unwrap_or_else(|| panic!("zone"));
    let trunk_peer = teams.peers.first().unwrap_or_else(|| panic!("peer"));
    assert!(!health.peer_usable(teams, trunk_peer), "a trunk peer that has not answered is not usable");
    // Within the TTL the address is reused: no new lookup.
    sim.advance(60 * S);
    assert!(sim.core.poll_resolve().is_none());
    let second = sim.take().into_iter().find(|t| t.destination == from).map(|t| Message::parse(t.bytes));
    let Some(Ok(second)) = second else { panic!("no second probe") };
    sim.deliver(Transport::Tls, harness::PROXY_TLS, from, None, harness::crlf(&respond(&second, 200, "OK", "ms", "")).into_bytes().into());
    assert_eq!(state(&sim, "teams", peer), PeerState::Up, "{:?}", sim.core.peer_status());
}

#[test]
fn an_expired_address_is_looked_up_again_and_a_failed_lookup_is_a_failure() {
    let mut sim = sim();
    resolve(&mut sim, "sip.pstnhub.example.net", [192, 0, 2, 52], 30);
    sim.advance(60 * S);
    let lookup = sim.core.poll_resolve().unwrap_or_else(|| panic!("TTL 30 s: the name is looked up again"));
    let now = sim.now;
    sim.core.handle_resolved(now, lookup.id, DnsAnswer::NoRecords);
    let status = sim.core.peer_status();
    let trunk = status.iter().find(|p| p.zone == "teams").map(|p| (p.consecutive_failures, p.state));
    // The first probe timed out unanswered, the second failed on the lookup.
    assert_eq!(trunk, Some((2, PeerState::Unknown)));
}
