//! Route headers and the gate (RFC 3261 §16.4, §16.12): our Record-Route entries carry a seal
//! (a keyed MAC over the dialog's Call-ID and flow token); only a request that brings it back
//! passes without authentication and call policy, and a preloaded Route is never a way around
//! the search rules and call policy.

mod harness;

use std::net::SocketAddr;
use std::sync::Arc;

use causeway_policy::PolicySet;
use causeway_sip::{HeaderName, Message};
use harness::gate::*;
use harness::*;

/// An INVITE from user 1000 through the challenge; the Record-Route value of the copy Bob got.
fn authenticated_dialog(sim: &mut Sim, call_id: &str) -> String {
    let uri = "sip:bob@192.0.2.20:5060";
    sim.udp(MALLORY, &crlf(&req("INVITE", uri, call_id, 1, MALLORY, "")));
    let (_, challenge) = sim.one();
    assert_eq!(status(&challenge), Some(407), "{}", summary(&challenge));
    let auth = credentials("1000", "1234", "INVITE", uri, &nonce(&values(&challenge, HeaderName::ProxyAuthenticate)[0]), 1);
    sim.udp(MALLORY, &crlf(&req("INVITE", uri, call_id, 2, MALLORY, &format!("Proxy-Authorization: {auth}\n"))));
    let sent = sim.take_msgs();
    let invite = sent.iter().find(|(to, m)| *to == BOB && m.method().is_some()).map(|(_, m)| m.clone());
    let invite = invite.unwrap_or_else(|| panic!("the INVITE was not forwarded"));
    values(&invite, HeaderName::RecordRoute).into_iter().next().unwrap_or_else(|| panic!("no Record-Route"))
}

/// The one request sent on (the 100 Trying to the caller left aside).
fn forwarded_one(sim: &mut Sim) -> (SocketAddr, Message) {
    let requests: Vec<_> = sim.take_msgs().into_iter().filter(|(_, m)| m.method().is_some()).collect();
    assert_eq!(requests.len(), 1, "{:?}", requests.iter().map(|(d, m)| (d, summary(m))).collect::<Vec<_>>());
    requests.into_iter().next().unwrap_or_else(|| panic!("nothing forwarded"))
}

/// A BYE in dialog `call_id` (To tag b1) with `extra` header lines.
fn bye(call_id: &str, cseq: u32, extra: &str) -> String {
    req("BYE", "sip:bob@192.0.2.20:5060", call_id, cseq, MALLORY, extra).replace("To: <sip:bob@192.0.2.20:5060>", "To: <sip:bob@example.com>;tag=b1")
}

#[test]
fn rfc3261_16_12_requests_that_follow_our_sealed_record_route_are_not_checked_again() {
    let mut sim = Sim::new().with_security(security(zones("check-credentials"), Arc::new(PolicySet::off()), generous()), EPOCH);
    let rr = authenticated_dialog(&mut sim, "d1");
    assert!(rr.starts_with("<sip:127.0.0.1:5060;transport=udp;cws=") && rr.ends_with(";lr>"), "sealed: {rr}");
    // The BYE that follows our Record-Route passes without credentials or policy.
    sim.udp(MALLORY, &crlf(&bye("d1", 3, &format!("Route: {rr}\n"))));
    assert_eq!(sim.one().0, BOB);
    // A strict router sends our Record-Route back as the Request-URI (§16.4): sealed, it passes too.
    let strict = bye("d1", 4, "Route: <sip:bob@192.0.2.20:5060>\n").replacen("BYE sip:bob@192.0.2.20:5060", &format!("BYE {}", rr.trim_matches(['<', '>'])), 1);
    sim.udp(MALLORY, &crlf(&strict));
    assert_eq!(sim.one().0, BOB);
    // Anyone can name us in a Route: without the seal, or with another dialog's, a request in a
    // "dialog" is checked like a new one (here: challenged).
    for forged in [
        bye("d2", 3, "Route: <sip:127.0.0.1:5060;transport=udp;lr>\n"),
        bye("d2", 4, &format!("Route: {rr}\n")),
        bye("d2", 5, &format!("Route: {}\n", rr.replace("cws=", "cws=0"))),
        bye("d2", 6, ""),
    ] {
        sim.udp(MALLORY, &crlf(&forged));
        assert_eq!(status_of_one(&mut sim), Some(407), "{forged}");
    }
}

#[test]
fn a_forged_in_dialog_request_meets_call_policy_and_its_preloaded_route_is_not_followed() {
    let mut sim = Sim::with(config(), everything_to_bob()).with_security(security(zones("do-not-check"), shared_edge(), generous()), EPOCH);
    // To tag and a Route naming us, then the "gateway": unsealed, so it is policed (the
    // destination is a dial string from the default zone) ...
    let route = "Route: <sip:127.0.0.1:5060;transport=udp;lr>, <sip:192.0.2.99;lr>\n";
    let fraud = internet_invite("sip:9011441234567@ent-pa.com", "x1", "sip:mallory@203.0.113.5", route).replace("To: <sip:9011441234567@ent-pa.com>", "To: <sip:9011441234567@ent-pa.com>;tag=forged");
    sim.udp(MALLORY, &crlf(&fraud));
    assert_eq!(status_of_one(&mut sim), Some(403));
    // ... and one call policy allows is routed by the search (here: to Bob), not to the Route.
    let allowed = internet_invite("sip:alice@ent-pa.com", "x2", "sip:mallory@partner.example", route).replace("To: <sip:alice@ent-pa.com>", "To: <sip:alice@ent-pa.com>;tag=forged");
    sim.udp(MALLORY, &crlf(&allowed));
    let (to, forwarded) = forwarded_one(&mut sim);
    assert_eq!(to, BOB, "not sent to the preloaded Route");
    assert!(values(&forwarded, HeaderName::Route).is_empty(), "preloaded Routes removed: {:?}", values(&forwarded, HeaderName::Route));
}

#[test]
fn a_preloaded_route_on_an_initial_request_from_a_zone_that_does_not_honour_it_is_removed() {
    let mut sim = Sim::with(config(), everything_to_bob()).with_security(security(zones("do-not-check"), shared_edge(), generous()), EPOCH);
    let route = "Route: <sip:127.0.0.1:5060;lr>, <sip:192.0.2.99;lr>\n";
    sim.udp(MALLORY, &crlf(&internet_invite("sip:alice@ent-pa.com", "p1", "sip:mallory@partner.example", route)));
    let (to, forwarded) = forwarded_one(&mut sim);
    assert_eq!(to, BOB, "routed by its Request-URI, not to the Route");
    assert!(values(&forwarded, HeaderName::Route).is_empty());
    // The same attack with a dial string: call policy sees the Request-URI and refuses.
    sim.udp(MALLORY, &crlf(&internet_invite("sip:9011441234567@ent-pa.com", "p2", "sip:mallory@203.0.113.5", route)));
    assert_eq!(status_of_one(&mut sim), Some(403));
}
