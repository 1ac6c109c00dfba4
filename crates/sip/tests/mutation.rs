//! Robustness: every RFC 4475 message, truncated at each byte and with each byte replaced by
//! a set of troublesome values, goes through framing, parsing, every typed accessor, the
//! validators, the builders and the checker without a panic, and a parsed message always
//! writes back byte-exactly.

use std::path::PathBuf;

use bytes::Bytes;
use causeway_sip::build::{ack_for_non_2xx, cancel_for, ResponseBuilder};
use causeway_sip::framing::{frame, FramingLimits};
use causeway_sip::validate::{proxy_request_check, proxy_response_check, registrar_check};
use causeway_sip::{check, Edits, HeaderName, Message, StatusCode, Uri};

fn corpus() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/rfc4475");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dat"))
        .collect();
    files.sort();
    files.push(dir.join("extra/test.dat"));
    files.iter().map(|p| std::fs::read(p).expect("readable")).collect()
}

/// Touch everything a peer's bytes can reach. Returns how many typed values decoded, so the
/// work cannot be optimised away and the test can check it did something.
fn exercise(bytes: &[u8]) -> usize {
    let _ = frame(bytes, &FramingLimits::default());
    let _ = check::check(bytes);
    let Ok(m) = Message::parse(Bytes::copy_from_slice(bytes)) else { return 0 };
    let mut out = Vec::new();
    m.write_with(&Edits::new(), &mut out).expect("no-edit write");
    assert_eq!(out.as_slice(), &m.as_bytes()[..], "round trip");
    let mut n = 0;
    n += m.vias().filter(Result::is_ok).count();
    n += usize::from(m.from_header().is_ok()) + usize::from(m.to_header().is_ok());
    n += usize::from(m.call_id().is_ok()) + usize::from(m.cseq().is_ok()) + usize::from(m.max_forwards().is_ok());
    for name in [HeaderName::Contact, HeaderName::Route, HeaderName::RecordRoute, HeaderName::PAssertedIdentity] {
        for a in m.name_addrs(name).flatten() {
            n += usize::from(a.uri().is_ok());
            let _ = (a.display_name(), a.tag(), a.expires(), a.q(), a.sip_instance());
        }
    }
    for name in [HeaderName::Supported, HeaderName::Require, HeaderName::ProxyRequire] {
        n += m.option_tags(name).filter(Result::is_ok).count();
    }
    n += m.allow().filter(Result::is_ok).count() + m.reasons().filter(Result::is_ok).count();
    n += m.auth_values(HeaderName::Authorization).filter(Result::is_ok).count();
    let _ = (m.expires(), m.content_type(), m.date(), m.status(), m.reason_phrase(), m.body());
    if let Some(uri) = m.request_uri_str() {
        if let Ok(Uri::Sip(u)) = Uri::parse(uri) {
            n += usize::from(u.equivalent(&u));
            let _ = (u.user_unescaped(), u.transport(), u.ttl());
        }
        let _ = (proxy_request_check(&m, &["timer"]), registrar_check(&m), cancel_for(&m, None));
        if let Ok(resp) = ResponseBuilder::new(&m, StatusCode::BAD_REQUEST).to_tag("t").build() {
            if let Ok(r) = resp.into_message() {
                let _ = ack_for_non_2xx(&m, &r);
            }
        }
        if let Ok(v) = m.top_via_value() {
            let mut e = Edits::new();
            e.set_param(&m, &v, "received", Some("192.0.2.1")).expect("param");
            e.insert_header_top(&m, "Via", "SIP/2.0/UDP p;branch=z9hG4bKx").expect("via");
            out.clear();
            m.write_with(&e, &mut out).expect("edits apply");
        }
    } else {
        let _ = proxy_response_check(&m);
    }
    n
}

#[test]
fn truncated_and_mutated_messages_never_panic() {
    const SUBSTITUTES: &[u8] = &[0x00, b'\r', b'\n', b' ', b',', b';', b'"', b'<', b':', 0xFF];
    let mut decoded = 0;
    let mut runs = 0;
    for msg in corpus() {
        decoded += exercise(&msg);
        for cut in 0..msg.len() {
            exercise(msg.get(..cut).unwrap_or_default());
            runs += 1;
        }
        let mut m = msg.clone();
        // Two substitutes per position, rotating through the set, keep the debug-build run short.
        for i in 0..m.len() {
            let orig = m[i];
            for k in [i, i + SUBSTITUTES.len() / 2 + 1] {
                m[i] = SUBSTITUTES[k % SUBSTITUTES.len()];
                exercise(&m);
                runs += 1;
            }
            m[i] = orig;
        }
    }
    assert!(runs > 50_000, "mutation runs: {runs}");
    assert!(decoded > 300, "typed values decoded from the unmutated corpus: {decoded}");
}
