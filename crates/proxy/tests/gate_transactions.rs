//! The gate and the transaction layer: a retransmission carries the credentials its original
//! carried, so it must be absorbed by the server transaction (RFC 3261 §17.2.3) before the gate
//! sees it; an ACK for a 2xx that does not follow our sealed Record-Route is dropped (§16.12).

mod harness;

use std::sync::Arc;
use std::time::Duration;

use causeway_policy::PolicySet;
use causeway_sip::HeaderName;
use harness::gate::*;
use harness::*;

#[test]
fn rfc3261_17_2_3_a_retransmitted_invite_with_credentials_is_absorbed_not_checked_again() {
    let mut sim = Sim::new().with_security(security(zones("check-credentials"), Arc::new(PolicySet::off()), generous()), EPOCH);
    let uri = "sip:bob@192.0.2.20:5060";
    sim.udp(MALLORY, &crlf(&req("INVITE", uri, "r1", 1, MALLORY, "")));
    let (_, challenge) = sim.one();
    assert_eq!(status(&challenge), Some(407));
    let auth = credentials("1000", "1234", "INVITE", uri, &nonce(&values(&challenge, HeaderName::ProxyAuthenticate)[0]), 1);
    let invite = crlf(&req("INVITE", uri, "r1", 2, MALLORY, &format!("Proxy-Authorization: {auth}\n")));
    sim.udp(MALLORY, &invite);
    let first = sim.take_msgs();
    assert!(first.iter().any(|(to, m)| *to == BOB && m.method().is_some()), "forwarded once");
    let authenticated = sim.core.counters().security.authenticated;
    // The caller did not hear the 100 Trying and sends the very same INVITE again (same branch,
    // same nc): the server transaction answers with its last response, the gate never sees it.
    sim.advance(Duration::from_millis(500));
    sim.take();
    sim.udp(MALLORY, &invite);
    let again = sim.take_msgs();
    let statuses: Vec<_> = again.iter().filter_map(|(_, m)| status(m)).collect();
    assert_eq!(statuses, vec![100], "only the last provisional response again: {:?}", again.iter().map(|(_, m)| summary(m)).collect::<Vec<_>>());
    assert!(again.iter().all(|(to, _)| *to == MALLORY), "nothing forwarded again");
    let counters = &sim.core.counters().security;
    assert_eq!((counters.authenticated, counters.challenges, counters.auth_failures), (authenticated, 1, 0));
}

/// An INVITE from user 1000 through the challenge, answered 200 by Bob; the sealed Record-Route
/// value of the dialog.
fn dialog_through_us(sim: &mut Sim, call_id: &str) -> String {
    let uri = "sip:bob@192.0.2.20:5060";
    sim.udp(MALLORY, &crlf(&req("INVITE", uri, call_id, 1, MALLORY, "")));
    let (_, challenge) = sim.one();
    let auth = credentials("1000", "1234", "INVITE", uri, &nonce(&values(&challenge, HeaderName::ProxyAuthenticate)[0]), 1);
    sim.udp(MALLORY, &crlf(&req("INVITE", uri, call_id, 2, MALLORY, &format!("Proxy-Authorization: {auth}\n"))));
    let sent = sim.take_msgs();
    let invite = sent.iter().find(|(to, m)| *to == BOB && m.method().is_some()).map(|(_, m)| m.clone());
    let invite = invite.unwrap_or_else(|| panic!("the INVITE was not forwarded"));
    sim.udp(BOB, &crlf(&respond(&invite, 200, "OK", "b1", "Contact: <sip:bob@192.0.2.20:5060>\n")));
    assert!(sim.take_msgs().iter().any(|(to, m)| *to == MALLORY && status(m) == Some(200)), "the 200 reached the caller");
    values(&invite, HeaderName::RecordRoute).into_iter().next().unwrap_or_else(|| panic!("no Record-Route"))
}

/// The ACK for the 2xx of dialog `call_id` (To tag b1, its own branch) with `extra` lines.
fn ack(call_id: &str, request_uri: &str, extra: &str) -> String {
    req("ACK", request_uri, call_id, 2, MALLORY, extra)
        .replace(&format!("To: <{request_uri}>"), "To: <sip:bob@192.0.2.20:5060>;tag=b1")
        .replace(&format!("branch=z9hG4bK-{call_id}-2"), &format!("branch=z9hG4bK-{call_id}-ack"))
}

#[test]
fn rfc3261_16_12_an_ack_for_a_2xx_without_our_seal_is_dropped_not_relayed() {
    let mut sim = Sim::new().with_security(security(zones("check-credentials"), Arc::new(PolicySet::off()), generous()), EPOCH);
    let rr = dialog_through_us(&mut sim, "a1");
    // The dialog's own ACK follows our sealed Record-Route: relayed to Bob.
    sim.udp(MALLORY, &crlf(&ack("a1", "sip:bob@192.0.2.20:5060", &format!("Route: {rr}\n"))));
    let relayed = sim.take_msgs();
    assert_eq!(relayed.len(), 1, "{:?}", relayed.iter().map(|(to, m)| (to, summary(m))).collect::<Vec<_>>());
    assert_eq!((relayed[0].0, relayed[0].1.method().map(|m| m.as_str().to_owned())), (BOB, Some("ACK".to_owned())));
    let dropped = sim.core.counters().dropped;
    // Forged ACKs: a Route naming us without a seal (then the gateway), another dialog's seal, a
    // broken seal, and no Route at all with an address as Request-URI. None is relayed anywhere.
    for forged in [
        ack("a2", "sip:9011441234567@192.0.2.99", "Route: <sip:127.0.0.1:5060;transport=udp;lr>, <sip:192.0.2.99;lr>\n"),
        ack("a2", "sip:bob@192.0.2.20:5060", &format!("Route: {rr}\n")),
        ack("a1", "sip:bob@192.0.2.20:5060", &format!("Route: {}\n", rr.replace("cws=", "cws=1"))),
        ack("a2", "sip:9011441234567@192.0.2.99", ""),
    ] {
        sim.udp(MALLORY, &crlf(&forged));
        let sent = sim.take_msgs();
        assert!(sent.is_empty(), "{forged}\nrelayed: {:?}", sent.iter().map(|(to, m)| (to, summary(m))).collect::<Vec<_>>());
    }
    assert_eq!(sim.core.counters().dropped, dropped + 4);
}
