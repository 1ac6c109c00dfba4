//! Fuzz the message layer: datagram parse, strict check, stream framing, typed accessors,
//! and the no-edit round trip, which must reproduce the parsed bytes exactly.
#![no_main]

use bytes::Bytes;
use causeway_sip::framing::{frame, Frame, FramingLimits};
use causeway_sip::{check, Edits, HeaderName, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = check::check(data);
    if let Ok(Frame::Message { len }) = frame(data, &FramingLimits::default()) {
        let framed = data.get(..len).unwrap_or_default();
        if let Ok(m) = Message::parse(Bytes::copy_from_slice(framed)) {
            assert_eq!(&m.as_bytes()[..], framed, "a framed message is parsed whole");
        }
    }
    let Ok(m) = Message::parse(Bytes::copy_from_slice(data)) else { return };
    let mut out = Vec::new();
    m.write_with(&Edits::new(), &mut out).expect("no edits cannot conflict");
    assert_eq!(out.as_slice(), &m.as_bytes()[..], "serialize without edits == input");
    let _ = (m.top_via(), m.from_header(), m.to_header(), m.call_id(), m.cseq(), m.max_forwards());
    for c in m.contacts().flatten() {
        let _ = (c.uri(), c.expires(), c.q(), c.sip_instance(), c.display_name());
    }
    for name in [HeaderName::Route, HeaderName::RecordRoute, HeaderName::PAssertedIdentity] {
        m.name_addrs(name).for_each(drop);
    }
    let _ = causeway_sip::validate::proxy_request_check(&m, &["timer"]);
    let _ = causeway_sip::validate::proxy_response_check(&m);
});
