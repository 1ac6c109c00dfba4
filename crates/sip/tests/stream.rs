//! Stream framing on the RFC 4475 corpus: what a TCP/TLS connection does with each message
//! (RFC 3261 §18.3), byte by byte and pipelined.

use std::path::PathBuf;

use bytes::Bytes;
use causeway_sip::framing::{frame, Frame, FramingError, FramingLimits};
use causeway_sip::{Message, ParseError};

fn read(file: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/rfc4475").join(file)).expect("readable")
}

fn limits() -> FramingLimits {
    FramingLimits::default()
}

#[test]
fn rfc4475_framing_faults_on_a_stream() {
    // clerr: the rest of the body has not arrived; the connection waits (and its idle timer
    // or the size limit ends it), it never delivers a truncated message.
    assert_eq!(frame(&read("clerr.dat"), &limits()), Ok(Frame::NeedMore));
    let small = FramingLimits { max_head_bytes: 4096, max_message_bytes: 4096 };
    assert!(matches!(frame(&read("clerr.dat"), &small), Err(FramingError::MessageTooLarge { .. })));
    assert!(matches!(
        frame(&read("ncl.dat"), &limits()),
        Err(FramingError::ContentLength(ParseError::InvalidContentLength { .. }))
    ));
    assert_eq!(
        frame(&read("mcl01.dat"), &limits()),
        Err(FramingError::ContentLength(ParseError::ConflictingContentLength { first: 13, second: 5 }))
    );
    assert_eq!(frame(&read("inv2543.dat"), &limits()), Err(FramingError::MissingContentLength));
}

#[test]
fn every_framed_message_parses_and_partial_reads_wait() {
    for file in ["wsinv.dat", "mpart01.dat", "esc01.dat", "longreq.dat", "unreason.dat", "intmeth.dat"] {
        let bytes = read(file);
        assert_eq!(frame(&bytes, &limits()), Ok(Frame::Message { len: bytes.len() }), "{file}");
        for cut in 0..bytes.len() {
            assert_eq!(frame(&bytes[..cut], &limits()), Ok(Frame::NeedMore), "{file} cut at {cut}");
        }
        assert!(Message::parse(Bytes::from(bytes)).is_ok(), "{file}");
    }
}

#[test]
fn pipelined_stream_with_keepalives_splits_into_messages() {
    let files = ["esc01.dat", "mpart01.dat", "noreason.dat", "wsinv.dat"];
    let mut stream = Vec::new();
    for f in files {
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(&read(f));
    }
    let mut pos = 0;
    let mut messages = 0;
    let mut pings = 0;
    while pos < stream.len() {
        match frame(&stream[pos..], &limits()) {
            Ok(Frame::Message { len }) => {
                let m = Message::parse(Bytes::copy_from_slice(&stream[pos..pos + len])).expect("framed message parses");
                assert_eq!(m.as_bytes().len(), len);
                messages += 1;
                pos += len;
            }
            Ok(Frame::KeepAlive { len, ping }) => {
                pings += usize::from(ping);
                pos += len;
            }
            other => panic!("unexpected {other:?} at {pos}"),
        }
    }
    assert_eq!((messages, pings), (files.len(), files.len()));
}

#[test]
fn rfc4475_dblreq_on_a_stream_is_two_messages() {
    let bytes = read("dblreq.dat");
    let Ok(Frame::Message { len }) = frame(&bytes, &limits()) else { panic!("first message frames") };
    let first = Message::parse(Bytes::copy_from_slice(&bytes[..len])).expect("REGISTER");
    assert_eq!(first.method().map(|m| m.as_str()), Some("REGISTER"));
    let rest = &bytes[len..];
    let Ok(Frame::KeepAlive { len: ka, .. }) = frame(rest, &limits()) else { panic!("blank line between") };
    let invite = &rest[ka..];
    let head = invite.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    assert_eq!(frame(invite, &limits()), Ok(Frame::Message { len: head + 150 }));
    let second = Message::parse(Bytes::copy_from_slice(&invite[..head + 150])).expect("INVITE");
    assert_eq!(second.method().map(|m| m.as_str()), Some("INVITE"));
}
