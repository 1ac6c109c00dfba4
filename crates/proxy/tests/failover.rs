//! Serial failover in simulated time: the next hop of a target after 503, a transport error or
//! a timeout (RFC 3263 §4.3), the next target group after 404/503 from a whole group (a search
//! rule's "continue"), and none after a busy callee, a 6xx or a CANCEL. Also the per-target
//! edits a locator may ask for: a lower Max-Forwards (a zone's hop count) and header fields left
//! out (RFC 3325 §5).

mod harness;

use std::net::SocketAddr;
use std::time::Duration;

use causeway_proxy::{LocateError, Locator, NextHop, RequestCtx, Target, TargetOptions, TransportFailure};
use causeway_sip::{HeaderName, Message, Method, StatusCode, Transport};
use harness::*;

/// A third callee address (the second group's).
const CAROL: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 30)), 5060);

fn udp(address: SocketAddr) -> NextHop {
    NextHop { transport: Transport::Udp, address, flow: None }
}

/// Bob's two devices as hops of one target (group 0), Carol as group 1.
struct Serial {
    max_forwards: Option<u8>,
}

impl Locator for Serial {
    fn locate(&self, request: &Message, _ctx: &RequestCtx<'_>) -> Result<Vec<Target>, LocateError> {
        let remove_fields = request.headers().filter(|h| h.name == HeaderName::PAssertedIdentity).map(|h| h.index()).collect();
        let first = TargetOptions { alternates: vec![udp(BOB2)], group: 0, max_forwards: self.max_forwards, remove_fields, ..TargetOptions::default() };
        let second = TargetOptions { group: 1, ..TargetOptions::default() };
        Ok(vec![
            Target { request_uri: None, next_hop: udp(BOB), options: first },
            Target { request_uri: Some("sip:carol@example.com".into()), next_hop: udp(CAROL), options: second },
        ])
    }
}

fn sim() -> Sim<Serial> {
    Sim::with(config(), Serial { max_forwards: None })
}

/// Sends the INVITE; returns the copy sent to Bob's first device.
fn start(sim: &mut Sim<Serial>, call: &str, extra: &str) -> Message {
    sim.udp(ALICE, &invite("sip:bob@example.com", call, &format!("z9hG4bK{call}"), extra));
    let out = sim.take_msgs();
    assert_eq!(out.len(), 2, "100 and one branch: {:?}", out.iter().map(|(d, m)| (d, summary(m))).collect::<Vec<_>>());
    assert_eq!(out[0].1.status(), Some(StatusCode::TRYING));
    let (dst, copy) = out.into_iter().nth(1).unwrap_or_else(|| panic!("no branch"));
    assert_eq!(dst, BOB, "only group 0, only its first hop");
    copy
}

/// The INVITE copy in `out` sent to `to`.
fn invite_to(out: &[(SocketAddr, Message)], to: SocketAddr) -> Option<Message> {
    out.iter().find(|(d, m)| *d == to && m.method() == Some(&Method::Invite)).map(|(_, m)| m.clone())
}

#[test]
fn rfc3263_4_3_a_503_moves_the_branch_to_the_next_hop() {
    let mut sim = sim();
    let first = start(&mut sim, "h1", "");
    sim.udp(BOB, &respond(&first, 503, "Service Unavailable", "b1", ""));
    let out = sim.take_msgs();
    let second = invite_to(&out, BOB2).unwrap_or_else(|| panic!("no INVITE to the next hop: {out:?}"));
    assert!(out.iter().all(|(d, _)| *d != ALICE), "nothing upstream yet");
    assert_ne!(branch(&first), branch(&second), "a new client transaction (§16.6 step 8)");
    sim.udp(BOB2, &respond(&second, 200, "OK", "b2", "Contact: <sip:bob@192.0.2.21>\n"));
    let (dst, ok) = sim.one();
    assert_eq!((dst, ok.status()), (ALICE, Some(StatusCode::OK)));
}

#[test]
fn rfc3263_4_3_a_transport_error_moves_at_once() {
    let mut sim = sim();
    start(&mut sim, "h2", "");
    sim.transport_error(TransportFailure { transport: Transport::Udp, destination: BOB, flow: None });
    let out = sim.take_msgs();
    assert!(invite_to(&out, BOB2).is_some(), "next hop after ICMP refused: {out:?}");
}

#[test]
fn rfc3263_4_3_timer_b_moves_to_the_next_hop_after_64_t1() {
    let mut sim = sim();
    start(&mut sim, "h3", "");
    sim.advance(Duration::from_millis(31_900));
    assert!(invite_to(&sim.take_msgs(), BOB2).is_none(), "not before Timer B");
    sim.advance(Duration::from_millis(200));
    assert!(invite_to(&sim.take_msgs(), BOB2).is_some(), "Timer B fired: the next hop is tried");
}

#[test]
fn continue_a_404_from_every_hop_starts_the_next_group_with_its_request_uri() {
    let mut sim = sim();
    let first = start(&mut sim, "g1", "");
    sim.udp(BOB, &respond(&first, 404, "Not Found", "b1", ""));
    let out = sim.take_msgs();
    assert!(invite_to(&out, BOB2).is_none(), "a 404 is not a reason to try another hop of the same zone");
    let carol = invite_to(&out, CAROL).unwrap_or_else(|| panic!("group 1 not started: {out:?}"));
    assert_eq!(carol.request_uri_str(), Some("sip:carol@example.com"));
    sim.udp(CAROL, &respond(&carol, 486, "Busy Here", "c1", ""));
    let statuses: Vec<_> = sim.take_msgs().into_iter().filter(|(d, _)| *d == ALICE).filter_map(|(_, m)| m.status()).collect();
    assert_eq!(statuses, [StatusCode::BUSY_HERE], "the best of 404 and 486 (§16.7 step 6)");
    assert_eq!(sim.core.counters().contexts_alive, 0);
}

#[test]
fn every_hop_and_group_unavailable_gives_one_final_answer() {
    let mut sim = sim();
    let first = start(&mut sim, "g2", "");
    sim.udp(BOB, &respond(&first, 503, "Service Unavailable", "b1", ""));
    let second = invite_to(&sim.take_msgs(), BOB2).unwrap_or_else(|| panic!("no second hop"));
    sim.udp(BOB2, &respond(&second, 503, "Service Unavailable", "b2", ""));
    let carol = invite_to(&sim.take_msgs(), CAROL).unwrap_or_else(|| panic!("no group 1"));
    sim.udp(CAROL, &respond(&carol, 503, "Service Unavailable", "c1", ""));
    let finals: Vec<_> = sim.take_msgs().into_iter().filter(|(d, _)| *d == ALICE).filter_map(|(_, m)| m.status()).collect();
    // §16.7 step 6: a 503 chosen as the best response goes upstream as 500.
    assert_eq!(finals, [StatusCode::SERVER_INTERNAL_ERROR]);
    assert_eq!(sim.core.counters().contexts_alive, 0);
}

#[test]
fn a_busy_callee_ends_the_search() {
    let mut sim = sim();
    let first = start(&mut sim, "n1", "");
    sim.udp(BOB, &respond(&first, 486, "Busy Here", "b1", ""));
    let out = sim.take_msgs();
    assert!(invite_to(&out, BOB2).is_none() && invite_to(&out, CAROL).is_none(), "{out:?}");
    assert!(out.iter().any(|(d, m)| *d == ALICE && m.status() == Some(StatusCode::BUSY_HERE)));
}

#[test]
fn rfc3261_16_10_no_failover_after_the_caller_cancelled() {
    let mut sim = sim();
    let first = start(&mut sim, "n2", "");
    sim.udp(BOB, &respond(&first, 180, "Ringing", "b1", ""));
    sim.take();
    let cancel = "CANCEL sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKn2\nMax-Forwards: 70\n\
                  From: \"Alice\" <sip:alice@example.org>;tag=a-n2\nTo: <sip:bob@example.com>\nCall-ID: n2\nCSeq: 1 CANCEL\nContent-Length: 0\n\n";
    sim.udp(ALICE, cancel);
    let out = sim.take_msgs();
    let to_bob = out.iter().find(|(d, m)| *d == BOB && m.method() == Some(&Method::Cancel)).map(|(_, m)| m.clone());
    let to_bob = to_bob.unwrap_or_else(|| panic!("branch not cancelled: {out:?}"));
    sim.udp(BOB, &respond(&to_bob, 200, "OK", "b1", ""));
    sim.udp(BOB, &respond(&first, 503, "Service Unavailable", "b1", ""));
    let out = sim.take_msgs();
    assert!(invite_to(&out, BOB2).is_none() && invite_to(&out, CAROL).is_none(), "{out:?}");
}

#[test]
fn a_target_may_lower_max_forwards_and_leave_identity_headers_out() {
    let mut sim = Sim::with(config(), Serial { max_forwards: Some(15) });
    let copy = start(&mut sim, "e1", "P-Asserted-Identity: <sip:mallory@example.org>\n");
    assert_eq!(copy.max_forwards().ok().flatten(), Some(15), "hop count, not 69");
    assert!(copy.header(HeaderName::PAssertedIdentity).is_none(), "RFC 3325 §5: stripped");
    assert!(copy.header(HeaderName::Contact).is_some());
}
