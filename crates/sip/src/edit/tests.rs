//! Edit-list tests: each edit a proxy makes, and byte-exact output for untouched parts.

use bytes::Bytes;

use super::{EditError, Edits};
use crate::{HeaderName, Message};

const REQ: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n\
Via: SIP/2.0/UDP c.example.com;branch=z9hG4bK3\r\n\
Route: <sip:p1.example.com;lr>\r\n\
Route: <sip:p2.example.com;lr>, <sip:p3.example.com;lr>\r\n\
Max-Forwards: 70\r\n\
Content-Length: 3\r\n\
\r\n\
abc";

fn msg(b: &'static [u8]) -> Message {
    Message::parse(Bytes::from_static(b)).expect("parses")
}

fn write(m: &Message, e: &Edits) -> String {
    let mut out = Vec::new();
    m.write_with(e, &mut out).expect("edits apply");
    String::from_utf8(out).expect("utf8")
}

#[test]
fn no_edits_is_byte_exact() {
    let m = msg(REQ);
    assert_eq!(write(&m, &Edits::new()).as_bytes(), REQ);
}

#[test]
fn rfc3261_16_6_forwarding_edits() {
    let m = msg(REQ);
    let mut e = Edits::new();
    e.insert_header_top(&m, "Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp").expect("via");
    e.insert_header_top(&m, "Record-Route", "<sip:proxy.example.com;lr>").expect("rr");
    let mf = m.values(HeaderName::MaxForwards).next().and_then(Result::ok).expect("mf");
    e.replace_value(&m, &mf, "69").expect("mf");
    let (_, top_route) = m.top_route().ok().flatten().expect("route");
    e.remove_value(&m, &top_route).expect("route");
    e.replace_request_uri(&m, "sip:bob@192.0.2.4").expect("ruri");
    let out = write(&m, &e);
    let expected = "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n\
Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp\r\n\
Record-Route: <sip:proxy.example.com;lr>\r\n\
Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n\
Via: SIP/2.0/UDP c.example.com;branch=z9hG4bK3\r\n\
Route: <sip:p2.example.com;lr>, <sip:p3.example.com;lr>\r\n\
Max-Forwards: 69\r\n\
Content-Length: 3\r\n\
\r\n\
abc";
    assert_eq!(out, expected);
    let reparsed = Message::parse(Bytes::from(out)).expect("still parses");
    assert_eq!(reparsed.top_via().ok().and_then(|v| v.branch()), Some("z9hG4bKp"));
}

#[test]
fn remove_values_inside_comma_lists() {
    let m = msg(REQ);
    let vias: Vec<_> = m.via_values().filter_map(Result::ok).collect();
    let mut first = Edits::new();
    first.remove_value(&m, &vias[0]).expect("top via");
    assert!(write(&m, &first).contains("Via: SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\nVia: SIP/2.0/UDP c"));
    let mut second = Edits::new();
    second.remove_value(&m, &vias[1]).expect("second via");
    assert!(write(&m, &second).contains("Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP c"));
    let routes: Vec<_> = m.values(HeaderName::Route).filter_map(Result::ok).collect();
    let mut last = Edits::new();
    last.remove_value(&m, &routes[2]).expect("last route");
    assert!(write(&m, &last).contains("Route: <sip:p2.example.com;lr>\r\nMax-Forwards"));
}

#[test]
fn rfc3581_received_and_rport_params() {
    let m = msg(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKx\r\nl: 0\r\n\r\n");
    let top = m.top_via_value().expect("via");
    let mut e = Edits::new();
    e.set_param(&m, &top, "rport", Some("40000")).expect("rport");
    e.set_param(&m, &top, "received", Some("203.0.113.9")).expect("received");
    let out = write(&m, &e);
    assert!(out.contains("Via: SIP/2.0/UDP 10.0.0.1:5060;rport=40000;branch=z9hG4bKx;received=203.0.113.9\r\n"), "{out}");
}

#[test]
fn content_length_stays_right() {
    let m = msg(b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nv=0\r\n");
    let mut e = Edits::new();
    e.ensure_content_length(&m).expect("cl");
    let out = write(&m, &e);
    assert!(out.ends_with("Content-Length: 5\r\n\r\nv=0\r\n"), "{out}");
    let m = msg(REQ);
    let mut e = Edits::new();
    e.replace_body(&m, b"hello world").expect("body");
    let out = write(&m, &e);
    assert!(out.ends_with("Content-Length: 11\r\n\r\nhello world"), "{out}");
    assert!(Message::parse(Bytes::from(out)).is_ok_and(|m| m.body_len() == 11));
}

#[test]
fn conflicting_or_foreign_edits_are_refused() {
    let m = msg(REQ);
    let other = msg(b"OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n");
    let mut e = Edits::new();
    let mf = m.values(HeaderName::MaxForwards).next().and_then(Result::ok).expect("mf");
    e.replace_value(&m, &mf, "1").expect("first");
    e.replace_value(&m, &mf, "2").expect("recorded");
    let mut out = Vec::new();
    assert!(matches!(m.write_with(&e, &mut out), Err(EditError::Overlap { .. })));
    assert_eq!(e.replace_request_uri(&other, "sip:x@y"), Err(EditError::WrongMessage));
    let resp = msg(b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n");
    assert_eq!(Edits::new().replace_request_uri(&resp, "sip:x"), Err(EditError::Missing { what: "Request-URI" }));
}

#[test]
fn params_of_name_addr_values_are_found_after_the_uri() {
    let m = msg(b"INVITE sip:a@b SIP/2.0\r\nRoute: <sip:p.example.com;lr>;x=1\r\nl: 0\r\n\r\n");
    let route = m.values(HeaderName::Route).next().and_then(Result::ok).expect("route");
    let mut e = Edits::new();
    e.set_param(&m, &route, "x", Some("2")).expect("x");
    e.set_param(&m, &route, "lr", None).expect("lr");
    let out = write(&m, &e);
    assert!(out.contains("Route: <sip:p.example.com;lr>;x=2;lr\r\n"), "{out}");
}

#[test]
fn rfc3325_5_remove_field_drops_every_value_of_one_line() {
    let m = msg(b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nP-Asserted-Identity: <sip:a@h>, <tel:+1555>\r\nMax-Forwards: 70\r\nl: 0\r\n\r\n");
    let field = m.headers().find(|h| h.name == HeaderName::PAssertedIdentity).map(|h| h.index()).expect("pai");
    let mut e = Edits::new();
    e.remove_field(&m, field).expect("remove");
    assert_eq!(write(&m, &e), "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nMax-Forwards: 70\r\nl: 0\r\n\r\n");
    assert_eq!(Edits::new().remove_field(&m, 99), Err(EditError::Missing { what: "header field" }));
}
