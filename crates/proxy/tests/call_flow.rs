//! A whole call through the proxy in simulated time (RFC 3261 §16, §24.2 flow): INVITE,
//! 100, 180, 200, ACK, BYE, 200, with the exact bytes of every forwarded message.

mod harness;

use std::time::Duration;

use bytes::Bytes;
use causeway_proxy::FlowId;
use causeway_sip::{HeaderName, Message, Method, StatusCode, Transport};
use harness::*;

const RR_UDP: &str = "<sip:127.0.0.1:5060;transport=udp;lr>";

/// Insert `lines` (each ending in CRLF) before the first line starting with `before`.
fn insert_before(text: &str, before: &str, lines: &str) -> String {
    let at = text.find(&format!("\r\n{before}")).map_or(0, |i| i + 2);
    format!("{}{lines}{}", &text[..at], &text[at..])
}

#[test]
fn rfc3261_16_basic_call_through_a_record_routing_proxy() {
    let mut sim = Sim::new();
    let inv = crlf(&invite("sip:bob@example.com", "c1", "z9hG4bKa1", ""));
    sim.udp(ALICE, &inv);
    let mut out = sim.take_msgs();
    assert_eq!(out.len(), 2, "100 Trying and the INVITE");
    let (to_bob, fwd) = out.remove(1);
    let (to_alice, trying) = out.remove(0);

    // §16.2/§17.2.1: 100 Trying at once, back to the source, To without a tag.
    assert_eq!((to_alice, trying.status()), (ALICE, Some(StatusCode::TRYING)));
    assert_eq!(trying.to_tag().ok().flatten(), None);
    assert_eq!(values(&trying, HeaderName::Via), ["SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa1"]);

    // §16.6: exactly three edits to the received bytes — our Via on top (step 8), our
    // Record-Route (step 4), Max-Forwards 70 → 69 (step 3); nothing else changes.
    assert_eq!(to_bob, BOB);
    let b = branch(&fwd);
    assert!(b.starts_with("z9hG4bK") && b.len() > 7);
    let expected = insert_before(&inv, "Via:", &format!("Via: SIP/2.0/UDP 127.0.0.1:5060;branch={b}\r\nRecord-Route: {RR_UDP}\r\n"))
        .replace("Max-Forwards: 70", "Max-Forwards: 69");
    assert_eq!(String::from_utf8_lossy(fwd.as_bytes()), expected);

    // §16.7: 180 relayed with our Via removed, byte for byte otherwise.
    let ringing = crlf(&respond(&fwd, 180, "Ringing", "b1", "Contact: <sip:bob@192.0.2.20:5060>\n"));
    sim.udp(BOB, &ringing);
    let (dst, relayed) = sim.one();
    assert_eq!(dst, ALICE);
    let our_via = format!("Via: SIP/2.0/UDP 127.0.0.1:5060;branch={b}\r\n");
    assert_eq!(String::from_utf8_lossy(relayed.as_bytes()), ringing.replace(&our_via, ""));
    assert_eq!(values(&relayed, HeaderName::RecordRoute), [RR_UDP]);

    // 2xx relayed at once.
    let ok = crlf(&respond(&fwd, 200, "OK", "b1", "Contact: <sip:bob@192.0.2.20:5060>\n"));
    sim.udp(BOB, &ok);
    let (dst, relayed) = sim.one();
    assert_eq!((dst, relayed.status()), (ALICE, Some(StatusCode::OK)));
    assert_eq!(String::from_utf8_lossy(relayed.as_bytes()), ok.replace(&our_via, ""));

    // §16.11 / §16.4: the 2xx ACK along the route set: our Route removed, our Via added,
    // Max-Forwards decremented, no Record-Route, sent to the Request-URI (Bob's contact).
    let ack = crlf(
        "ACK sip:bob@192.0.2.20:5060 SIP/2.0\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa2\n\
         Route: <sip:127.0.0.1:5060;transport=udp;lr>\n\
         Max-Forwards: 70\n\
         From: \"Alice\" <sip:alice@example.org>;tag=a-c1\n\
         To: <sip:bob@example.com>;tag=b1\n\
         Call-ID: c1\n\
         CSeq: 1 ACK\n\
         Content-Length: 0\n\n",
    );
    sim.udp(ALICE, &ack);
    let (dst, fwd_ack) = sim.one();
    assert_eq!(dst, BOB);
    let ack_branch = branch(&fwd_ack);
    let expected = insert_before(&ack, "Via:", &format!("Via: SIP/2.0/UDP 127.0.0.1:5060;branch={ack_branch}\r\n"))
        .replace("Route: <sip:127.0.0.1:5060;transport=udp;lr>\r\n", "")
        .replace("Max-Forwards: 70", "Max-Forwards: 69");
    assert_eq!(String::from_utf8_lossy(fwd_ack.as_bytes()), expected);
    // A retransmitted ACK gets the same branch (§16.11 stateless branch).
    sim.udp(ALICE, &ack);
    assert_eq!(branch(&sim.one().1), ack_branch);

    // BYE along the route set, then its 200 back.
    let bye = ack.replace("ACK", "BYE").replace("z9hG4bKa2", "z9hG4bKa3").replace("CSeq: 1 BYE", "CSeq: 2 BYE");
    sim.udp(ALICE, &bye);
    let (dst, fwd_bye) = sim.one();
    assert_eq!((dst, fwd_bye.method()), (BOB, Some(&Method::Bye)));
    assert_eq!(values(&fwd_bye, HeaderName::Route), Vec::<String>::new());
    assert_eq!(fwd_bye.max_forwards().ok().flatten(), Some(69));
    sim.udp(BOB, &crlf(&respond(&fwd_bye, 200, "OK", "", "")));
    let (dst, bye_ok) = sim.one();
    assert_eq!((dst, bye_ok.status()), (ALICE, Some(StatusCode::OK)));
    assert_eq!(values(&bye_ok, HeaderName::Via), ["SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa3"]);

    let c = sim.core.counters();
    assert_eq!((c.requests_received.get(&Method::Invite), c.requests_received.get(&Method::Ack), c.requests_received.get(&Method::Bye)), (1, 2, 1));
    assert_eq!(c.requests_sent.get(&Method::Invite), 1);
    assert_eq!((c.responses_sent.get(StatusCode::TRYING), c.responses_sent.get(StatusCode::RINGING), c.responses_sent.get(StatusCode::OK)), (1, 1, 2));
    assert_eq!(c.contexts_alive, 0, "both contexts ended with their final responses");
    assert_eq!(c.stateless_forwarded, 2);

    // RFC 6026 Timer L/M and non-INVITE linger timers: everything is gone after 64*T1.
    sim.advance(Duration::from_secs(33));
    assert_eq!(sim.core.counters().transactions_alive, 0);
    assert!(sim.take().is_empty(), "nothing retransmitted once the call is up");
}

#[test]
fn rfc3261_17_2_1_retransmitted_invite_is_absorbed_and_answered_with_100() {
    let mut sim = Sim::new();
    let inv = invite("sip:bob@example.com", "c2", "z9hG4bKr1", "");
    sim.udp(ALICE, &inv);
    assert_eq!(sim.take().len(), 2);
    sim.udp(ALICE, &inv);
    let (dst, again) = sim.one();
    assert_eq!((dst, again.status()), (ALICE, Some(StatusCode::TRYING)));
    assert_eq!(sim.core.counters().requests_sent.get(&Method::Invite), 1);
}

#[test]
fn rfc3261_17_1_1_2_invite_is_retransmitted_downstream_over_udp_until_a_response() {
    let mut sim = Sim::new();
    sim.udp(ALICE, &invite("sip:bob@example.com", "c3", "z9hG4bKr2", ""));
    let fwd = sim.take_msgs().remove(1).1;
    sim.advance(Duration::from_millis(500));
    let (dst, re) = sim.one();
    assert_eq!((dst, re.as_bytes()), (BOB, fwd.as_bytes()), "Timer A: same bytes at T1");
    sim.udp(BOB, &respond(&fwd, 180, "Ringing", "b1", ""));
    sim.take();
    sim.advance(Duration::from_secs(10));
    assert!(sim.take().is_empty(), "no retransmission after a provisional");
}

#[test]
fn rfc5658_two_record_routes_when_the_transport_changes_and_in_dialog_requests_return_right() {
    let mut sim = Sim::new();
    // Alice calls over TCP (connection 7); example.com is reached over UDP, tls.example.com over TLS.
    let inv = invite("sip:bob@tls.example.com", "c4", "z9hG4bKt1", "").replace("SIP/2.0/UDP 192.0.2.10:5060", "SIP/2.0/TCP 192.0.2.10:5060");
    sim.deliver(Transport::Tcp, PROXY, ALICE, Some(FlowId(7)), Bytes::from(crlf(&inv)));
    let out = sim.take();
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].transport, out[0].flow, out[0].destination), (Transport::Tcp, Some(FlowId(7)), ALICE), "100 back on the connection");
    assert_eq!((out[1].transport, out[1].local, out[1].destination), (Transport::Tls, PROXY_TLS, BOB));
    let fwd = Message::parse(out[1].bytes.clone()).unwrap_or_else(|e| panic!("{e}"));
    // Facing Bob: the TLS listener; facing Alice: TCP with her connection as flow token.
    assert_eq!(
        values(&fwd, HeaderName::RecordRoute),
        ["<sip:127.0.0.1:5061;transport=tls;lr>", "<sip:cwf-0000000000000007@127.0.0.1:5060;transport=tcp;lr>"]
    );
    assert!(value(&fwd, HeaderName::Via).is_some_and(|v| v.starts_with("SIP/2.0/TLS 127.0.0.1:5061;branch=")));

    // Bob (over TLS, his own connection 9) hangs up: Route = his route set = the RR list.
    let bye = crlf(
        "BYE sip:alice@192.0.2.10:5060 SIP/2.0\n\
         Via: SIP/2.0/TLS 192.0.2.20:5061;branch=z9hG4bKb9\n\
         Route: <sip:127.0.0.1:5061;transport=tls;lr>, <sip:cwf-0000000000000007@127.0.0.1:5060;transport=tcp;lr>\n\
         Max-Forwards: 70\n\
         From: <sip:bob@tls.example.com>;tag=b4\n\
         To: \"Alice\" <sip:alice@example.org>;tag=a-c4\n\
         Call-ID: c4\n\
         CSeq: 9 BYE\n\
         Content-Length: 0\n\n",
    );
    sim.deliver(Transport::Tls, PROXY_TLS, SocketAddrExt::with_port(BOB, 40001), Some(FlowId(9)), Bytes::from(bye));
    let out = sim.take();
    assert_eq!(out.len(), 1);
    // Both our Routes popped; out of the TCP listener, on Alice's connection, to her contact.
    assert_eq!((out[0].transport, out[0].local, out[0].flow, out[0].destination), (Transport::Tcp, PROXY, Some(FlowId(7)), ALICE));
    let fwd_bye = Message::parse(out[0].bytes.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(values(&fwd_bye, HeaderName::Route), Vec::<String>::new());
    assert!(value(&fwd_bye, HeaderName::Via).is_some_and(|v| v.starts_with("SIP/2.0/TCP 127.0.0.1:5060;branch=")));
}

#[test]
fn rfc3261_18_3_content_length_is_added_when_a_datagram_without_one_goes_out_over_a_stream() {
    let mut sim = Sim::new();
    let text = request("MESSAGE", "sip:bob@tls.example.com", "c5", "z9hG4bKm1", "").replace("Content-Length: 0\n", "");
    sim.udp(ALICE, &text);
    let (dst, fwd) = sim.one();
    assert_eq!(dst, BOB);
    assert_eq!(fwd.content_length(), Some(0));
}

#[test]
fn rfc3261_16_4_a_request_from_a_strict_router_gets_its_request_uri_back() {
    let mut sim = Sim::new();
    // A strict router put our Record-Route URI in the Request-URI and the target last in Route.
    let bye = "BYE sip:127.0.0.1:5060;transport=udp;lr SIP/2.0\n\
               Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKs1\n\
               Route: <sip:bob@192.0.2.20:5060>\n\
               Max-Forwards: 70\n\
               From: <sip:alice@example.org>;tag=a\n\
               To: <sip:bob@example.com>;tag=b\n\
               Call-ID: strict\n\
               CSeq: 2 BYE\n\
               Content-Length: 0\n\n";
    sim.udp(ALICE, bye);
    let (dst, fwd) = sim.one();
    assert_eq!(dst, BOB);
    assert_eq!(fwd.request_uri_str(), Some("sip:bob@192.0.2.20:5060"));
    assert_eq!(values(&fwd, HeaderName::Route), Vec::<String>::new());
}

/// `SocketAddr` with another port.
trait SocketAddrExt {
    fn with_port(self, port: u16) -> std::net::SocketAddr;
}

impl SocketAddrExt for std::net::SocketAddr {
    fn with_port(mut self, port: u16) -> std::net::SocketAddr {
        self.set_port(port);
        self
    }
}
