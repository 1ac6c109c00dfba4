//! Timeouts and failures in simulated time: Timer B/F give 408 upstream, Timer C cancels a
//! branch that rings too long, a 503 goes upstream as 500, a transport error counts as 503,
//! and responses no transaction claims take the stateless path (RFC 3261 §16.7, §16.9,
//! §16.11, §17).

mod harness;

use std::time::Duration;

use causeway_proxy::TransportFailure;
use causeway_sip::{Method, StatusCode, Transport};
use harness::*;

#[test]
fn timer_b_fires_408_upstream_after_64_t1() {
    let mut sim = Sim::new();
    sim.udp(ALICE, &invite("sip:bob@example.com", "t1", "z9hG4bKt1", ""));
    assert_eq!(sim.take().len(), 2);
    sim.advance(Duration::from_millis(31_999));
    let retransmits = sim.take_msgs();
    // Timer A: T1, 2T1, 4T1, 8T1, 16T1 after each other: at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s.
    assert_eq!(retransmits.len(), 6);
    assert!(retransmits.iter().all(|(d, m)| *d == BOB && m.method() == Some(&Method::Invite)));
    sim.advance(Duration::from_millis(1));
    let (dst, r) = sim.one();
    assert_eq!((dst, r.status()), (ALICE, Some(StatusCode::REQUEST_TIMEOUT)));
    assert!(r.to_tag().ok().flatten().is_some(), "a final response we generate has our To tag");
    assert_eq!(sim.core.counters().contexts_alive, 0);
}

#[test]
fn timer_f_fires_408_for_a_non_invite() {
    let mut sim = Sim::new();
    sim.udp(ALICE, &request("MESSAGE", "sip:bob@example.com", "t2", "z9hG4bKt2", ""));
    sim.take();
    sim.advance(Duration::from_secs(32));
    let finals: Vec<_> = sim.take_msgs().into_iter().filter(|(d, _)| *d == ALICE).map(|(_, m)| m.status()).collect();
    assert_eq!(finals, [Some(StatusCode::REQUEST_TIMEOUT)]);
}

#[test]
fn rfc3261_16_6_timer_c_cancels_a_branch_that_rings_too_long() {
    let mut sim = Sim::new();
    sim.udp(ALICE, &invite("sip:bob@example.com", "t3", "z9hG4bKt3", ""));
    let fwd = sim.take_msgs().remove(1).1;
    sim.advance(Duration::from_secs(10));
    sim.udp(BOB, &respond(&fwd, 180, "Ringing", "b3", ""));
    sim.take();
    // A provisional restarts Timer C (§16.7 step 2): 3 minutes from the 180.
    sim.advance(Duration::from_secs(179));
    assert!(sim.take().is_empty());
    sim.advance(Duration::from_secs(1));
    let (dst, cancel) = sim.one();
    assert_eq!((dst, cancel.method()), (BOB, Some(&Method::Cancel)));
    assert_eq!(branch(&cancel), branch(&fwd));
    sim.udp(BOB, &respond(&fwd, 487, "Request Terminated", "b3", ""));
    let finals: Vec<_> = sim.take_msgs().into_iter().filter(|(d, _)| *d == ALICE).map(|(_, m)| m.status()).collect();
    assert_eq!(finals, [Some(StatusCode::REQUEST_TERMINATED)]);
}

#[test]
fn rfc3261_9_1_a_cancelled_branch_that_never_ends_is_given_up_after_64_t1() {
    let mut sim = Sim::new();
    sim.udp(ALICE, &invite("sip:bob@example.com", "t4", "z9hG4bKt4", ""));
    let fwd = sim.take_msgs().remove(1).1;
    sim.udp(BOB, &respond(&fwd, 180, "Ringing", "b4", ""));
    sim.take();
    sim.advance(Duration::from_secs(180));
    let (_, cancel) = sim.one();
    assert_eq!(cancel.method(), Some(&Method::Cancel));
    // Bob's device is dead: the CANCEL times out (Timer F) and the INVITE never ends.
    sim.advance(Duration::from_secs(32));
    let finals: Vec<_> = sim.take_msgs().into_iter().filter(|(d, _)| *d == ALICE).map(|(_, m)| m.status()).collect();
    assert_eq!(finals, [Some(StatusCode::REQUEST_TIMEOUT)]);
    sim.advance(Duration::from_secs(40));
    let c = sim.core.counters();
    assert_eq!((c.contexts_alive, c.transactions_alive), (0, 0), "nothing leaks");
}

#[test]
fn rfc3261_16_7_a_503_goes_upstream_as_500() {
    let mut sim = Sim::new();
    sim.udp(ALICE, &invite("sip:bob@example.com", "t5", "z9hG4bKt5", ""));
    let fwd = sim.take_msgs().remove(1).1;
    sim.udp(BOB, &respond(&fwd, 503, "Service Unavailable", "b5", "Retry-After: 30\n"));
    let finals: Vec<_> = sim.take_msgs().into_iter().filter(|(d, _)| *d == ALICE).map(|(_, m)| m.status()).collect();
    assert_eq!(finals, [Some(StatusCode::SERVER_INTERNAL_ERROR)]);
}

#[test]
fn rfc3261_16_9_a_transport_error_counts_as_503_and_goes_up_as_500() {
    let mut sim = Sim::new();
    sim.udp(ALICE, &invite("sip:bob@example.com", "t6", "z9hG4bKt6", ""));
    sim.take();
    sim.transport_error(TransportFailure { transport: Transport::Udp, destination: BOB, flow: None });
    let (dst, r) = sim.one();
    assert_eq!((dst, r.status()), (ALICE, Some(StatusCode::SERVER_INTERNAL_ERROR)));
    assert_eq!(sim.core.counters().transport_errors, 1);
}

#[test]
fn rfc6026_8_9_a_stray_response_is_discarded() {
    let mut sim = Sim::new();
    let stray = "SIP/2.0 200 OK\n\
                 Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcwgone\n\
                 Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKuac;received=192.0.2.10;rport=5999\n\
                 From: <sip:alice@example.org>;tag=a\n\
                 To: <sip:bob@example.com>;tag=b\n\
                 Call-ID: stray\n\
                 CSeq: 1 INVITE\n\
                 Content-Length: 0\n\n";
    // Our Via on top but no client transaction: not forwarded along the next Via, whatever
    // its status (RFC 3261 §16.7's stateless forwarding is replaced by RFC 6026 §8.9).
    sim.udp(BOB, stray);
    sim.udp(BOB, &stray.replace("200 OK", "486 Busy Here"));
    sim.udp(BOB, &stray.replace("200 OK", "180 Ringing"));
    assert!(sim.take().is_empty());
    let c = sim.core.counters();
    assert_eq!((c.stateless_forwarded, c.dropped), (0, 3));
}

#[test]
fn rfc6026_a_late_2xx_retransmission_still_reaches_the_caller() {
    let mut sim = Sim::new();
    sim.udp(ALICE, &invite("sip:bob@example.com", "t7", "z9hG4bKt7", ""));
    let fwd = sim.take_msgs().remove(1).1;
    let ok = respond(&fwd, 200, "OK", "b7", "");
    sim.udp(BOB, &ok);
    assert_eq!(sim.one().1.status(), Some(StatusCode::OK));
    // The 2xx is retransmitted (the ACK was lost): relayed again (the INVITE client
    // transaction is Accepted, the context already gone).
    sim.advance(Duration::from_secs(1));
    sim.udp(BOB, &ok);
    let (dst, again) = sim.one();
    assert_eq!((dst, again.status()), (ALICE, Some(StatusCode::OK)));
}
