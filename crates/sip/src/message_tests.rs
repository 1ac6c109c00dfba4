//! Unit tests for [`crate::Message`] on recorded messages.

use bytes::Bytes;

use crate::{HeaderName, Message, Method, ParseError, StatusCode};

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

fn parse(b: &'static [u8]) -> Result<Message, ParseError> {
    Message::parse(Bytes::from_static(b))
}

#[test]
fn request_is_indexed_without_copying() {
    let m = parse(INVITE).expect("valid INVITE");
    assert_eq!(m.method(), Some(&Method::Invite));
    assert_eq!(m.request_uri_str(), Some("sip:bob@biloxi.example.com"));
    assert_eq!(m.headers().count(), 9);
    assert_eq!(m.header(HeaderName::CallId).map(|h| h.value), Some(&b"a84b4c76e66710@pc33.atlanta.example.com"[..]));
    assert_eq!(&m.body()[..], b"v=0\n");
    assert_eq!(m.content_length(), Some(4));
    assert_eq!(m.as_bytes().as_ptr(), INVITE.as_ptr());
}

#[test]
fn rfc3261_7_2_status_line() {
    let m = parse(b"SIP/2.0 100 \r\nl: 0\r\n\r\n").expect("empty reason is fine");
    assert_eq!(m.status(), Some(StatusCode::TRYING));
    assert_eq!(m.reason_phrase(), Some(""));
    let big = parse(b"SIP/2.0 4294967301 better not break the receiver\r\n\r\n");
    assert!(matches!(big, Err(ParseError::InvalidStatusCode { .. })));
    assert!(matches!(parse(b"SIP/2.0 099 x\r\n\r\n"), Err(ParseError::InvalidStatusCode { .. })));
}

#[test]
fn rfc3261_18_3_datagram_body_rules() {
    let short = parse(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nabc");
    assert_eq!(short.err(), Some(ParseError::BodyTooShort { declared: 10, available: 3 }));
    let extra = parse(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\n\r\nabc").expect("extra octets ignored");
    assert_eq!(&extra.body()[..], b"a");
    assert_eq!(extra.as_bytes().len(), 47);
    let none = parse(b"OPTIONS sip:a@b SIP/2.0\r\nTo: x\r\n\r\nabc").expect("rest of datagram");
    assert_eq!(&none.body()[..], b"abc");
    assert_eq!(none.content_length(), None);
}

#[test]
fn start_line_faults_are_typed() {
    let v = parse(b"OPTIONS sip:a@b SIP/7.0\r\n\r\n");
    assert_eq!(v.as_ref().err(), Some(&ParseError::UnsupportedVersion { version: "SIP/7.0".into() }));
    assert_eq!(v.as_ref().err().map(StatusCode::from), Some(StatusCode::VERSION_NOT_SUPPORTED));
    assert_eq!(parse(b"OPTIONS sip:a@b HTTP/1.1\r\n\r\n").err(), Some(ParseError::InvalidVersion));
    assert_eq!(parse(b"").err(), Some(ParseError::Empty));
    assert_eq!(parse(b"\r\n\r\n").err(), Some(ParseError::Empty));
    assert_eq!(parse(b"OPTIONS sip:a@b SIP/2.0\r\nTo: x\r\n").err(), Some(ParseError::UnterminatedHeaders));
    assert_eq!(parse(b"OPT IONS\r\n\r\n").err(), Some(ParseError::InvalidVersion));
    let m = parse(b"\r\nNEWMETHOD  sip:a@b  SIP/2.0 \r\n\r\n").expect("liberal start line");
    assert_eq!(m.method().map(Method::as_str), Some("NEWMETHOD"));
    assert_eq!(m.request_uri_str(), Some("sip:a@b"));
    assert_eq!(m.start_line_bytes(), b"NEWMETHOD  sip:a@b  SIP/2.0 ");
}

#[test]
fn limits_bound_memory() {
    let limits = crate::ParseLimits { max_message_bytes: 10, max_headers: 1 };
    let too_big = Message::parse_with(Bytes::from_static(INVITE), &limits);
    assert!(matches!(too_big, Err(ParseError::TooLarge { .. })));
    let limits = crate::ParseLimits { max_message_bytes: 1000, max_headers: 1 };
    let many = Message::parse_with(Bytes::from_static(b"OPTIONS sip:a SIP/2.0\r\nA: 1\r\nB: 2\r\n\r\n"), &limits);
    assert_eq!(many.err(), Some(ParseError::TooManyHeaders { max: 1 }));
}
