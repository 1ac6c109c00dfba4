//! RFC 3261 §16.3 request validation, loop detection, OPTIONS to this node, and malformed
//! input, through `handle_inbound` in simulated time.

mod harness;

use bytes::Bytes;
use causeway_sip::{HeaderName, Method, StatusCode, Transport};
use harness::*;

fn answer(sim: &mut Sim, text: &str) -> (std::net::SocketAddr, causeway_sip::Message) {
    sim.udp(ALICE, text);
    sim.one()
}

#[test]
fn rfc3261_16_3_max_forwards_zero_gives_483() {
    let mut sim = Sim::new();
    let (dst, r) = answer(&mut sim, &invite("sip:bob@example.com", "v1", "z9hG4bKv1", "").replace("Max-Forwards: 70", "Max-Forwards: 0"));
    assert_eq!((dst, r.status()), (ALICE, Some(StatusCode::TOO_MANY_HOPS)));
    assert_eq!(r.reason_phrase(), Some("Too Many Hops (Max-Forwards 0)"));
    assert!(r.to_tag().ok().flatten().is_some_and(|t| t.starts_with("cw")));
    assert_eq!(sim.core.counters().requests_sent.total(), 0);
    // The ACK for this stateless 483 carries our To tag and ends here.
    let tag = r.to_tag().ok().flatten().unwrap_or_default().to_owned();
    let ack = request("ACK", "sip:bob@example.com", "v1", "z9hG4bKv1", "").replace("To: <sip:bob@example.com>", &format!("To: <sip:bob@example.com>;tag={tag}"));
    sim.udp(ALICE, &ack);
    assert!(sim.take().is_empty());
    assert_eq!(sim.core.counters().transactions_alive, 0, "stateless answers keep no state");
}

#[test]
fn rfc3261_11_options_to_this_node_gets_200_with_capabilities() {
    let mut sim = Sim::new();
    for uri in ["sip:proxy.example.net", "sip:127.0.0.1:5060", "sip:127.0.0.1;transport=tcp"] {
        let (dst, r) = answer(&mut sim, &request("OPTIONS", uri, "o1", "z9hG4bKo1", ""));
        assert_eq!((dst, r.status()), (ALICE, Some(StatusCode::OK)), "{uri}");
        assert!(value(&r, HeaderName::Allow).is_some_and(|a| a.contains("INVITE")), "{uri}");
        assert_eq!(value(&r, HeaderName::Accept).as_deref(), Some("application/sdp"));
        assert!(r.has_header(HeaderName::Supported));
        assert_eq!(r.product(HeaderName::Server), Some("Causeway"), "no version in Server");
    }
    // §16.3 step 3: Max-Forwards 0 aimed at us is answered, not refused.
    let (_, r) = answer(&mut sim, &request("OPTIONS", "sip:127.0.0.1:5060", "o2", "z9hG4bKo2", "").replace("Max-Forwards: 70", "Max-Forwards: 0"));
    assert_eq!(r.status(), Some(StatusCode::OK));
    // With a user part, or aimed elsewhere, it is a request to route, not a keepalive.
    let (_, r) = answer(&mut sim, &request("OPTIONS", "sip:carol@proxy.example.net", "o3", "z9hG4bKo3", ""));
    assert_eq!(r.status(), Some(StatusCode::NOT_FOUND));
    let (dst, r) = answer(&mut sim, &request("OPTIONS", "sip:bob@example.com", "o4", "z9hG4bKo4", ""));
    assert_eq!((dst, r.method()), (BOB, Some(&Method::Options)));
}

#[test]
fn rfc3261_16_3_proxy_require_gives_420_with_unsupported() {
    let mut sim = Sim::new();
    let (_, r) = answer(&mut sim, &invite("sip:bob@example.com", "v2", "z9hG4bKv2", "Proxy-Require: foo, bar\nRequire: baz\n"));
    assert_eq!(r.status(), Some(StatusCode::BAD_EXTENSION));
    assert_eq!(values(&r, HeaderName::Unsupported), ["foo", "bar"]);
}

#[test]
fn rfc3261_16_3_unknown_uri_scheme_gives_416() {
    let mut sim = Sim::new();
    let (_, r) = answer(&mut sim, &request("MESSAGE", "mailto:bob@example.com", "v3", "z9hG4bKv3", ""));
    assert_eq!(r.status(), Some(StatusCode::UNSUPPORTED_URI_SCHEME));
}

#[test]
fn rfc3261_16_3_missing_headers_give_400_naming_them() {
    let mut sim = Sim::new();
    let text = request("MESSAGE", "sip:bob@example.com", "v4", "z9hG4bKv4", "").replace("CSeq: 1 MESSAGE", "CSeq: 1 INVITE");
    let (_, r) = answer(&mut sim, &text);
    assert_eq!(r.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(r.reason_phrase(), Some("Bad Request (CSeq method INVITE does not match request method MESSAGE)"));
}

#[test]
fn rfc3261_16_5_unroutable_request_gives_404() {
    let mut sim = Sim::new();
    let (_, r) = answer(&mut sim, &request("MESSAGE", "sip:bob@nowhere.example.org", "v5", "z9hG4bKv5", ""));
    assert_eq!(r.status(), Some(StatusCode::NOT_FOUND));
}

#[test]
fn rfc3261_16_3_a_request_that_comes_back_unchanged_is_a_loop_482() {
    let mut sim = Sim::new();
    sim.udp(ALICE, &invite("sip:bob@example.com", "l1", "z9hG4bKl1", ""));
    let fwd = sim.take_msgs().remove(1).1;
    // A misconfigured next hop sends it straight back, adding only its Via.
    let text = String::from_utf8_lossy(fwd.as_bytes()).replacen("Via: ", "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKbob1\r\nVia: ", 1);
    sim.udp(BOB, &text);
    let (dst, r) = sim.one();
    assert_eq!((dst, r.status()), (BOB, Some(StatusCode::LOOP_DETECTED)));
    // A spiral — the next hop changed the Request-URI — is forwarded again.
    let spiral = text.replace("INVITE sip:bob@example.com", "INVITE sip:bob2@example.com").replace("z9hG4bKbob1", "z9hG4bKbob2");
    sim.udp(BOB, &spiral);
    let out = sim.take_msgs();
    assert_eq!(out.len(), 2, "100 and the INVITE");
    assert_eq!((out[1].0, out[1].1.method()), (BOB, Some(&Method::Invite)));
}

#[test]
fn malformed_datagram_gets_400_naming_the_fault_and_is_counted() {
    let mut sim = Sim::new();
    let text = crlf(&request("MESSAGE", "sip:bob@example.com", "m1", "z9hG4bKm1", "")).replace("Content-Length: 0", "Content-Length: 99");
    sim.deliver(Transport::Udp, PROXY, ALICE, None, Bytes::from(text));
    let (dst, r) = sim.one();
    assert_eq!((dst, r.status()), (ALICE, Some(StatusCode::BAD_REQUEST)));
    assert_eq!(r.reason_phrase(), Some("Bad Request (Content-Length 99 exceeds body length 0)"));
    assert_eq!(value(&r, HeaderName::CallId).as_deref(), Some("m1"));
    // Garbage and broken responses are dropped, never answered; all are counted.
    sim.deliver(Transport::Udp, PROXY, ALICE, None, Bytes::from_static(b"\x16\x03\x01 hello"));
    sim.deliver(Transport::Udp, PROXY, ALICE, None, Bytes::from_static(b"SIP/2.0 999 Odd\r\nVia: x\r\n\r\n"));
    sim.deliver(Transport::Udp, PROXY, ALICE, None, Bytes::from_static(b"\r\n\r\n"));
    assert!(sim.take().is_empty());
    let c = sim.core.counters();
    assert_eq!((c.malformed_answered, c.malformed_dropped), (1, 3));
}

#[test]
fn oversized_message_gets_513() {
    let mut config = config();
    config.max_message_bytes = 300;
    let mut sim = Sim::with(config, routes());
    let big = format!("{}\n", invite("sip:bob@example.com", "m2", "z9hG4bKm2", &"X-Pad: 0123456789\n".repeat(20)));
    sim.udp(ALICE, &big);
    let (_, r) = sim.one();
    assert_eq!(r.status(), Some(StatusCode::MESSAGE_TOO_LARGE));
}
