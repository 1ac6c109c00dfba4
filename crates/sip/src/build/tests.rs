//! Builder tests against RFC 3261's rules.

use bytes::Bytes;

use super::*;

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds, SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1\r\n\
Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bKp2\r\n\
Max-Forwards: 70\r\n\
Route: <sip:p3.example.com;lr>\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
f: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
i: a84b4c76e66710\r\n\
CSeq: 314159 INVITE\r\n\
Timestamp: 54\r\n\
Content-Length: 0\r\n\r\n";

fn invite() -> Message {
    Message::parse(Bytes::from_static(INVITE)).expect("parses")
}

#[test]
fn rfc3261_8_2_6_response_copies_dialog_headers() {
    let req = invite();
    let resp = ResponseBuilder::new(&req, StatusCode::BUSY_HERE)
        .to_tag("as83kd")
        .header("Retry-After", "60")
        .build()
        .and_then(Built::into_message)
        .expect("response");
    assert_eq!(resp.status(), Some(StatusCode::BUSY_HERE));
    assert_eq!(resp.reason_phrase(), Some("Busy Here"));
    assert_eq!(resp.vias().count(), 3);
    assert_eq!(resp.to_tag(), Ok(Some("as83kd")));
    assert_eq!(resp.from_tag(), Ok(Some("1928301774")));
    assert_eq!(resp.call_id(), Ok("a84b4c76e66710"));
    assert_eq!(resp.cseq().map(|c| (c.seq, c.method)), Ok((314159, Method::Invite)));
    assert!(!resp.has_header(HeaderName::Timestamp));
    assert_eq!(resp.content_length(), Some(0));
    let trying = ResponseBuilder::new(&req, StatusCode::TRYING).build().and_then(Built::into_message).expect("100");
    assert!(trying.has_header(HeaderName::Timestamp));
    assert_eq!(trying.to_tag(), Ok(None));
}

#[test]
fn response_keeps_existing_to_tag_and_needs_headers() {
    let req = Message::parse(Bytes::from_static(
        b"BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>;tag=old\r\nFrom: <sip:c@d>;tag=f\r\nCall-ID: x\r\nCSeq: 2 BYE\r\n\r\n",
    ))
    .expect("parses");
    let ok = ResponseBuilder::new(&req, StatusCode::OK).to_tag("new").build().and_then(Built::into_message).expect("200");
    assert_eq!(ok.to_tag(), Ok(Some("old")));
    let insuf = Message::parse(Bytes::from_static(b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCSeq: 1 INVITE\r\n\r\n")).expect("parses");
    assert!(ResponseBuilder::new(&insuf, StatusCode::BAD_REQUEST).build().is_err());
}

#[test]
fn rfc3261_17_1_1_3_ack_for_non_2xx() {
    let req = invite();
    let resp = ResponseBuilder::new(&req, StatusCode::BUSY_HERE).to_tag("t9").build().and_then(Built::into_message).expect("486");
    let ack = ack_for_non_2xx(&req, &resp).and_then(Built::into_message).expect("ack");
    assert_eq!(ack.method(), Some(&Method::Ack));
    assert_eq!(ack.request_uri_str(), Some("sip:bob@biloxi.example.com"));
    let vias: Vec<_> = ack.vias().filter_map(Result::ok).map(|v| v.branch()).collect();
    assert_eq!(vias, [Some("z9hG4bK776asdhds")]);
    assert_eq!(ack.to_tag(), Ok(Some("t9")));
    assert_eq!(ack.cseq().map(|c| (c.seq, c.method)), Ok((314159, Method::Ack)));
    assert_eq!(ack.routes().count(), 1);
}

#[test]
fn rfc3261_9_1_cancel_with_rfc3326_reason() {
    let req = invite();
    let cancel = cancel_for(&req, Some("SIP;cause=200;text=\"Call completed elsewhere\""))
        .and_then(Built::into_message)
        .expect("cancel");
    assert_eq!(cancel.method(), Some(&Method::Cancel));
    assert_eq!(cancel.top_via().ok().and_then(|v| v.branch()), Some("z9hG4bK776asdhds"));
    assert_eq!(cancel.vias().count(), 1);
    assert_eq!(cancel.cseq().map(|c| (c.seq, c.method)), Ok((314159, Method::Cancel)));
    assert_eq!(cancel.to_tag(), Ok(None));
    assert_eq!(cancel.reasons().filter_map(Result::ok).map(|r| r.cause()).collect::<Vec<_>>(), [Some(200)]);
}

#[test]
fn plain_request_builder() {
    let opts = RequestBuilder::new(Method::Options, "sip:peer.example.com")
        .header("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKo1")
        .header("Max-Forwards", "70")
        .header("From", "<sip:ping@edge.example.com>;tag=1")
        .header("To", "<sip:peer.example.com>")
        .header("Call-ID", "ping1")
        .header("CSeq", "1 OPTIONS")
        .body("text/plain", b"hi")
        .build()
        .into_message()
        .expect("options");
    assert_eq!(opts.method(), Some(&Method::Options));
    assert_eq!(&opts.body()[..], b"hi");
    assert!(opts.content_type().is_ok_and(|c| c.is_some_and(|c| c.is("text", "plain"))));
}

#[test]
fn decimal_numbers_written_on_the_stack() {
    for (n, text) in [(0, "0"), (7, "7"), (200, "200"), (314_159, "314159"), (u64::MAX, "18446744073709551615")] {
        assert_eq!(Decimal::new(n).as_bytes(), text.as_bytes());
    }
    let ok = ResponseBuilder::new(&invite(), StatusCode::new(487).expect("487")).build().and_then(Built::into_message).expect("487");
    assert!(ok.as_bytes().starts_with(b"SIP/2.0 487 "), "{:?}", ok.as_bytes());
    assert_eq!(ok.content_length(), Some(0));
}
