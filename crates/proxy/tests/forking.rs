//! Forking and best-response selection (RFC 3261 §16.7), CANCEL of the other branches with
//! RFC 3326 Reason, challenge aggregation, and the "never leave a branch ringing" race.

mod harness;

use std::time::Duration;

use causeway_sip::{HeaderName, Message, Method, StatusCode};
use harness::*;

fn fork() -> Sim<Fork> {
    Sim::with(config(), Fork(vec![BOB, BOB2]))
}

/// Send the INVITE; returns the copies sent to Bob's two devices.
fn start(sim: &mut Sim<Fork>, call: &str) -> (Message, Message) {
    sim.udp(ALICE, &invite("sip:bob@example.com", call, &format!("z9hG4bK{call}"), ""));
    let mut out = sim.take_msgs();
    assert_eq!(out.len(), 3, "100 and two branches");
    assert_eq!(out[0].1.status(), Some(StatusCode::TRYING));
    let (d2, b2) = out.remove(2);
    let (d1, b1) = out.remove(1);
    assert_eq!((d1, d2), (BOB, BOB2));
    assert_ne!(branch(&b1), branch(&b2), "one branch per target (§16.6 step 8)");
    (b1, b2)
}

const COMPLETED_ELSEWHERE: &str = "SIP;cause=200;text=\"Call completed elsewhere\"";

#[test]
fn rfc3261_16_7_best_response_prefers_busy_over_not_found() {
    let mut sim = fork();
    let (b1, b2) = start(&mut sim, "f1");
    sim.udp(BOB, &respond(&b1, 404, "Not Found", "x1", ""));
    let (dst, ack) = sim.one();
    assert_eq!((dst, ack.method()), (BOB, Some(&Method::Ack)), "only the hop-by-hop ACK (§17.1.1.3) so far");
    sim.udp(BOB2, &respond(&b2, 486, "Busy Here", "x2", ""));
    let out = sim.take_msgs();
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].0, out[0].1.method()), (BOB2, Some(&Method::Ack)));
    assert_eq!((out[1].0, out[1].1.status()), (ALICE, Some(StatusCode::BUSY_HERE)));
    assert_eq!(values(&out[1].1, HeaderName::Via).len(), 1, "our Via removed");
    assert_eq!(sim.core.counters().contexts_alive, 0);
}

#[test]
fn rfc3261_16_7_2xx_is_relayed_at_once_and_other_branches_cancelled_with_reason() {
    let mut sim = fork();
    let (b1, b2) = start(&mut sim, "f2");
    sim.udp(BOB2, &respond(&b2, 180, "Ringing", "x2", ""));
    assert_eq!(sim.one().1.status(), Some(StatusCode::RINGING));
    sim.udp(BOB, &respond(&b1, 200, "OK", "x1", "Contact: <sip:bob@192.0.2.20>\n"));
    let out = sim.take_msgs();
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].0, out[0].1.status()), (ALICE, Some(StatusCode::OK)));
    let (dst, cancel) = &out[1];
    assert_eq!((*dst, cancel.method()), (BOB2, Some(&Method::Cancel)));
    // §9.1: the CANCEL matches the INVITE it cancels; RFC 3326 says why.
    assert_eq!(branch(cancel), branch(&b2));
    assert_eq!(cancel.request_uri_str(), b2.request_uri_str());
    assert_eq!(cancel.cseq().map(|c| c.seq).ok(), b2.cseq().map(|c| c.seq).ok());
    assert_eq!(values(cancel, HeaderName::Reason), [COMPLETED_ELSEWHERE]);
    // The cancelled branch ends with 487, which is ACKed and never relayed.
    sim.udp(BOB2, &respond(cancel, 200, "OK", "x2", ""));
    sim.udp(BOB2, &respond(&b2, 487, "Request Terminated", "x2", ""));
    let out = sim.take_msgs();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].0, out[0].1.method()), (BOB2, Some(&Method::Ack)));
    assert_eq!(sim.core.counters().contexts_alive, 0);
}

#[test]
fn kamailio_race_a_branch_that_rings_after_the_2xx_is_cancelled_at_once() {
    let mut sim = fork();
    // Bob answers before his second device has said anything: §9.1 forbids a CANCEL yet.
    let (b1, b2) = start(&mut sim, "f3");
    sim.udp(BOB, &respond(&b1, 200, "OK", "x1", ""));
    let out = sim.take_msgs();
    assert_eq!(out.len(), 1, "the 2xx only; no CANCEL before a provisional");
    // Timer A keeps retransmitting the INVITE to the silent device ...
    sim.advance(Duration::from_millis(500));
    let (dst, re) = sim.one();
    assert_eq!((dst, re.method()), (BOB2, Some(&Method::Invite)));
    // ... and the moment it rings, it is cancelled.
    sim.udp(BOB2, &respond(&b2, 180, "Ringing", "x2", ""));
    let (dst, cancel) = sim.one();
    assert_eq!((dst, cancel.method()), (BOB2, Some(&Method::Cancel)));
    assert_eq!(values(&cancel, HeaderName::Reason), [COMPLETED_ELSEWHERE]);
    assert_eq!(branch(&cancel), branch(&b2));
}

#[test]
fn kamailio_race_a_device_that_never_answers_is_given_up_after_timer_b() {
    let mut sim = fork();
    let (b1, _) = start(&mut sim, "f4");
    sim.udp(BOB, &respond(&b1, 200, "OK", "x1", ""));
    sim.take();
    sim.advance(Duration::from_secs(33));
    let out = sim.take_msgs();
    assert!(out.iter().all(|(d, m)| *d == BOB2 && m.method() == Some(&Method::Invite)), "only INVITE retransmissions");
    assert_eq!(sim.core.counters().contexts_alive, 0);
}

#[test]
fn rfc3261_16_7_every_2xx_is_relayed() {
    let mut sim = fork();
    let (b1, b2) = start(&mut sim, "f5");
    sim.udp(BOB, &respond(&b1, 200, "OK", "x1", ""));
    sim.take();
    sim.udp(BOB2, &respond(&b2, 200, "OK", "x2", ""));
    let (dst, second) = sim.one();
    assert_eq!((dst, second.status()), (ALICE, Some(StatusCode::OK)));
    assert_eq!(second.to_tag().ok().flatten(), Some("x2"));
}

#[test]
fn rfc3261_16_7_6xx_cancels_the_other_branches_and_wins() {
    let mut sim = fork();
    let (b1, b2) = start(&mut sim, "f6");
    sim.udp(BOB2, &respond(&b2, 183, "Session Progress", "x2", ""));
    sim.take();
    sim.udp(BOB, &respond(&b1, 603, "Decline", "x1", ""));
    let out = sim.take_msgs();
    assert_eq!(out.len(), 2, "ACK for the 603 and CANCEL to the other branch; the 603 waits");
    let cancel = &out[1].1;
    assert_eq!(cancel.method(), Some(&Method::Cancel));
    assert_eq!(values(cancel, HeaderName::Reason), ["SIP;cause=603;text=\"Decline\""]);
    sim.udp(BOB2, &respond(&b2, 487, "Request Terminated", "x2", ""));
    let out = sim.take_msgs();
    let finals: Vec<_> = out.iter().filter(|(d, _)| *d == ALICE).map(|(_, m)| m.status()).collect();
    assert_eq!(finals, [Some(StatusCode::DECLINE)]);
}

#[test]
fn rfc3261_16_7_challenges_from_all_branches_are_merged() {
    let mut sim = fork();
    let (b1, b2) = start(&mut sim, "f7");
    sim.udp(BOB, &respond(&b1, 407, "Proxy Authentication Required", "x1", "Proxy-Authenticate: Digest realm=\"one\", nonce=\"1\"\n"));
    sim.udp(BOB2, &respond(&b2, 401, "Unauthorized", "x2", "WWW-Authenticate: Digest realm=\"two\", nonce=\"2\"\n"));
    let out = sim.take_msgs();
    let (_, last) = out.iter().find(|(d, _)| *d == ALICE).cloned().unwrap_or_else(|| panic!("a final to Alice"));
    assert_eq!(last.status(), Some(StatusCode::PROXY_AUTHENTICATION_REQUIRED));
    let proxy_auth: Vec<_> = last.headers_named(HeaderName::ProxyAuthenticate).map(|h| String::from_utf8_lossy(h.value).into_owned()).collect();
    let www_auth: Vec<_> = last.headers_named(HeaderName::WwwAuthenticate).map(|h| String::from_utf8_lossy(h.value).into_owned()).collect();
    assert_eq!(proxy_auth, ["Digest realm=\"one\", nonce=\"1\""]);
    assert_eq!(www_auth, ["Digest realm=\"two\", nonce=\"2\""]);
}

#[test]
fn rfc3261_16_10_cancel_from_upstream_gets_200_and_the_branches_487() {
    let mut sim = fork();
    let (b1, b2) = start(&mut sim, "f8");
    sim.udp(BOB, &respond(&b1, 180, "Ringing", "x1", ""));
    sim.take();
    let cancel = request("CANCEL", "sip:bob@example.com", "f8", "z9hG4bKf8", "Reason: Q.850;cause=16\n");
    sim.udp(ALICE, &cancel);
    let out = sim.take_msgs();
    assert_eq!((out[0].0, out[0].1.status(), out[0].1.cseq().map(|c| c.method).ok()), (ALICE, Some(StatusCode::OK), Some(Method::Cancel)));
    // Bob's ringing device is cancelled now, with the caller's Reason; the silent one is not (§9.1).
    assert_eq!(out.len(), 2);
    assert_eq!((out[1].0, out[1].1.method()), (BOB, Some(&Method::Cancel)));
    assert_eq!(values(&out[1].1, HeaderName::Reason), ["Q.850;cause=16"]);
    sim.udp(BOB, &respond(&b1, 487, "Request Terminated", "x1", ""));
    assert!(sim.take_msgs().iter().all(|(d, _)| *d == BOB), "only the ACK while the other branch is out");
    sim.udp(BOB2, &respond(&b2, 180, "Ringing", "x2", ""));
    let out = sim.take_msgs();
    assert_eq!((out[0].0, out[0].1.method()), (BOB2, Some(&Method::Cancel)), "cancelled as soon as it rings");
    // §16.7 step 5: until the final response, provisionals are still relayed.
    assert_eq!((out[1].0, out[1].1.status()), (ALICE, Some(StatusCode::RINGING)));
    sim.udp(BOB2, &respond(&b2, 487, "Request Terminated", "x2", ""));
    let finals: Vec<_> = sim.take_msgs().into_iter().filter(|(d, _)| *d == ALICE).map(|(_, m)| m.status()).collect();
    assert_eq!(finals, [Some(StatusCode::REQUEST_TERMINATED)]);
}

#[test]
fn rfc3261_16_10_cancel_for_an_unknown_invite_gets_481() {
    let mut sim = Sim::new();
    sim.udp(ALICE, &request("CANCEL", "sip:bob@example.com", "f9", "z9hG4bKnone", ""));
    let (dst, r) = sim.one();
    assert_eq!((dst, r.status()), (ALICE, Some(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST)));
}
