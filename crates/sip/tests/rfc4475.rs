//! RFC 4475 acceptance: every torture message against MANIFEST.tsv, plus the proxy handling
//! RFC 4475 §3.3 asks for. Mismatches are collected and printed by file name.

use std::path::PathBuf;

use bytes::Bytes;
use causeway_sip::check::check;
use causeway_sip::validate::{proxy_request_check, proxy_response_check, registrar_check, RejectKind};
use causeway_sip::{HeaderName, Message, StatusCode};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/rfc4475")
}

fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir().join("MANIFEST.tsv")).expect("MANIFEST.tsv readable");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[0].to_string(), cols[2].to_string())
        })
        .collect()
}

fn read(file: &str) -> Vec<u8> {
    std::fs::read(dir().join(file)).expect("message readable")
}

/// A word the reason for each invalid message must contain: the reason names the fault.
const REASON_NAMES: &[(&str, &str)] = &[
    ("badinv01.dat", "empty parameter"),
    ("clerr.dat", "Content-Length 9999 exceeds body length"),
    ("ncl.dat", "Content-Length \"-999\""),
    ("scalar02.dat", "CSeq: sequence number 36893488147419103232 exceeds 4294967295"),
    ("scalarlg.dat", "CSeq: sequence number"),
    ("quotbal.dat", "To: unterminated quoted string"),
    ("ltgtruri.dat", "Request-URI enclosed in <>"),
    ("lwsruri.dat", "white space inside Request-URI"),
    ("lwsstart.dat", "multiple SP in Request-Line"),
    ("trws.dat", "white space after SIP-Version"),
    ("escruri.dat", "Request-URI contains escaped headers"),
    ("baddate.dat", "Date: not in GMT"),
    ("regbadct.dat", "Contact: URI with '?' must be enclosed in <>"),
    ("badaspec.dat", "To: white space inside URI"),
    ("baddn.dat", "display name \"Bell, Alexander\""),
    ("badvers.dat", "unsupported protocol version SIP/7.0"),
    ("mismatch01.dat", "CSeq: method INVITE does not match request method OPTIONS"),
    ("mismatch02.dat", "CSeq: method INVITE does not match request method NEWMETHOD"),
    ("bigcode.dat", "status code 4294967301"),
    ("multi01.dat", "appears more than once"),
    ("mcl01.dat", "conflicting Content-Length values 13 and 5"),
];

#[test]
fn rfc4475_manifest_verdicts() {
    let mut mismatches = Vec::new();
    let entries = manifest();
    assert_eq!(entries.len(), 49, "manifest lists the 49 RFC 4475 messages");
    for (file, expected) in &entries {
        let report = check(&read(file));
        println!("{}", report.line(file));
        let ok = match expected.as_str() {
            "valid" | "valid-but-semantically-wrong" => report.valid,
            "invalid" => {
                let reason = report.reason.clone().unwrap_or_default();
                let named = REASON_NAMES.iter().find(|(f, _)| f == file).map(|(_, w)| *w);
                !report.valid && named.is_some_and(|w| reason.contains(w))
            }
            other => panic!("unknown verdict {other} for {file}"),
        };
        if !ok {
            mismatches.push(format!("{file}: expected {expected}, got {}", report.line(file)));
        }
    }
    assert!(mismatches.is_empty(), "RFC 4475 mismatches:\n{}", mismatches.join("\n"));
}

fn parse(file: &str) -> Message {
    Message::parse(Bytes::from(read(file))).unwrap_or_else(|e| panic!("{file} must parse: {e}"))
}

#[test]
fn rfc4475_3_3_proxy_handling() {
    let status = |file: &str| proxy_request_check(&parse(file), &[]).map_err(|r| r.status);
    assert_eq!(status("insuf.dat"), Err(StatusCode::BAD_REQUEST));
    assert_eq!(status("unkscm.dat"), Err(StatusCode::UNSUPPORTED_URI_SCHEME));
    assert_eq!(status("novelsc.dat"), Err(StatusCode::UNSUPPORTED_URI_SCHEME));
    let bext = proxy_request_check(&parse("bext01.dat"), &[]).expect_err("420");
    assert_eq!(bext.status, StatusCode::BAD_EXTENSION);
    assert_eq!(bext.extra_headers, vec![(HeaderName::Unsupported, "noProxiesSupportThis, norDoAnyProxiesSupportThis".to_string())]);
    let zeromf = proxy_request_check(&parse("zeromf.dat"), &[]).expect_err("483");
    assert_eq!((zeromf.status, zeromf.kind), (StatusCode::TOO_MANY_HOPS, RejectKind::TooManyHops));
    // Forwarded unchanged by a proxy (the endpoint answers 415/406/401 or accepts).
    for file in ["invut.dat", "sdp01.dat", "regaut01.dat", "badbranch.dat", "unksm2.dat", "inv2543.dat", "cparam01.dat", "cparam02.dat", "regescrt.dat"] {
        assert_eq!(status(file), Ok(()), "{file} is forwarded");
    }
    let unksm2 = registrar_check(&parse("unksm2.dat")).expect_err("registrar 400");
    assert_eq!((unksm2.status, unksm2.kind), (StatusCode::BAD_REQUEST, RejectKind::InvalidAddressOfRecord));
    assert!(proxy_response_check(&parse("bcast.dat")).is_err_and(|d| d.detail.contains("255.255.255.255")));
    assert_eq!(proxy_response_check(&parse("unreason.dat")), Ok(()));
}

#[test]
fn rfc4475_forwarding_is_byte_exact() {
    for (file, expected) in manifest() {
        let bytes = read(&file);
        let Ok(m) = Message::parse(Bytes::from(bytes.clone())) else {
            assert_eq!(expected, "invalid", "{file} must parse");
            continue;
        };
        let mut out = Vec::new();
        m.write_with(&causeway_sip::Edits::new(), &mut out).expect("no edits");
        let end = if file == "dblreq.dat" { m.as_bytes().len() } else { bytes.len() };
        assert_eq!(out.as_slice(), &bytes[..end], "{file} round trip");
    }
}
