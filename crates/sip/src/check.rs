//! The strict whole-message checker behind `causeway sip check`: parses a datagram and
//! validates every header it knows with the strict grammar, then says what a proxy would
//! do with a well-formed but semantically wrong message (RFC 4475 §3.3).
//!
//! The report is plain data (strings and a bool) so the CLI can print it or turn it into
//! JSON without this crate depending on serde.

use bytes::Bytes;

use crate::error::{HeaderFault, ParseError};
use crate::header::name::HeaderName;
use crate::header::simple::delta_seconds;
use crate::message::Message;
use crate::uri::Uri;
use crate::validate::{proxy_request_check, proxy_response_check, registrar_check};
use crate::Method;

/// The checker's verdict on one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// True if the message is well formed.
    pub valid: bool,
    /// For an invalid message: every fault found, `; `-joined.
    pub reason: Option<String>,
    /// For a valid message: what a proxy or registrar would do instead of forwarding
    /// (e.g. `proxy: 420 Bad Extension (Proxy-Require: foo)`).
    pub notes: Vec<String>,
}

impl Report {
    /// The one-line verdict: `FILE: valid`, `FILE: valid; proxy: ...` or
    /// `FILE: invalid: <reason>`.
    pub fn line(&self, file: &str) -> String {
        match (&self.reason, self.valid) {
            (Some(reason), false) => format!("{file}: invalid: {reason}"),
            _ if self.notes.is_empty() => format!("{file}: valid"),
            _ => format!("{file}: valid; {}", self.notes.join("; ")),
        }
    }
}

/// Check one message with datagram semantics (a file holds one datagram).
pub fn check(bytes: &[u8]) -> Report {
    let faults = faults(bytes);
    if !faults.is_empty() {
        return Report { valid: false, reason: Some(faults.join("; ")), notes: Vec::new() };
    }
    let notes = match Message::parse(Bytes::copy_from_slice(bytes)) {
        Ok(m) => notes(&m),
        Err(e) => return Report { valid: false, reason: Some(e.to_string()), notes: Vec::new() },
    };
    Report { valid: true, reason: None, notes }
}

fn faults(bytes: &[u8]) -> Vec<String> {
    let mut out = start_line_faults(bytes);
    match Message::parse(Bytes::copy_from_slice(bytes)) {
        Ok(m) => out.extend(header_faults(&m)),
        Err(ParseError::UnterminatedHeaders) if bytes.ends_with(b"\r\n") => {
            // Find what else is wrong as if the empty line were there (RFC 4475 baddn).
            let mut fixed = bytes.to_vec();
            fixed.extend_from_slice(b"\r\n");
            if let Ok(m) = Message::parse(Bytes::from(fixed)) {
                out.extend(header_faults(&m));
            }
            out.push(ParseError::UnterminatedHeaders.to_string());
        }
        Err(e) => out.push(e.to_string()),
    }
    out
}

/// Request-Line faults the liberal parser tolerates (RFC 3261 §7.1: single SP separators,
/// no LWS in the Request-URI, §19.1.1: no headers in a Request-URI).
fn start_line_faults(bytes: &[u8]) -> Vec<String> {
    let end = memchr::memmem::find(bytes, b"\r\n").unwrap_or(bytes.len());
    let line = String::from_utf8_lossy(bytes.get(..end).unwrap_or_default());
    let mut out = Vec::new();
    if line.len() >= 4 && line.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/")) {
        return out;
    }
    if line.trim_end_matches([' ', '\t']).contains("  ") {
        out.push("multiple SP in Request-Line".into());
    }
    if line.ends_with([' ', '\t']) {
        out.push("white space after SIP-Version in Request-Line".into());
    }
    if line.contains('\t') {
        out.push("HTAB in Request-Line".into());
    }
    let parts: Vec<&str> = line.split(' ').filter(|p| !p.is_empty()).collect();
    if let [_, uri, .., _] = parts.as_slice() {
        if uri.starts_with('<') {
            out.push("Request-URI enclosed in <>".into());
        } else if parts.len() > 3 {
            out.push("white space inside Request-URI".into());
        } else if let Ok(Uri::Sip(u)) = Uri::parse(uri) {
            if let Some(h) = u.headers() {
                out.push(format!("Request-URI contains escaped headers (?{h}), not allowed by RFC 3261 §19.1.1"));
            }
        }
    }
    out
}

/// Strict typed parse of every header Causeway knows, plus the CSeq/method match.
fn header_faults(m: &Message) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in m.headers() {
        if has_bare_line_break(h.value) {
            let name = String::from_utf8_lossy(h.raw_name);
            out.push(format!("{name}: bare CR or LF inside the value"));
        }
    }
    let contacts: Vec<bool> = m.contacts().filter_map(Result::ok).map(|c| c.is_star()).collect();
    if contacts.len() > 1 && contacts.contains(&true) {
        out.push("Contact: * must be the only Contact value (RFC 3261 §10.2.2)".into());
    }
    let mut note = |r: Result<(), ParseError>| {
        if let Err(e) = r {
            let s = e.to_string();
            if !out.contains(&s) {
                out.push(s);
            }
        }
    };
    if let Some(uri) = m.request_uri_str() {
        if !uri.starts_with('<') && !uri.contains(' ') {
            note(Uri::parse(uri).map(drop).map_err(ParseError::InvalidRequestUri));
        }
    }
    m.vias().for_each(|v| note(v.map(drop)));
    if m.has_header(HeaderName::From) {
        note(m.from_header().and_then(|a| name_addr_check(HeaderName::From, &a)));
    }
    if m.has_header(HeaderName::To) {
        note(m.to_header().and_then(|a| name_addr_check(HeaderName::To, &a)));
    }
    if m.has_header(HeaderName::CallId) {
        note(m.call_id().map(drop));
    }
    note(m.max_forwards().map(drop));
    note(m.expires().map(drop));
    note(m.content_type().map(drop));
    note(m.date().map(drop));
    for name in [
        HeaderName::Contact,
        HeaderName::Route,
        HeaderName::RecordRoute,
        HeaderName::PAssertedIdentity,
        HeaderName::PPreferredIdentity,
        HeaderName::ReplyTo,
    ] {
        for v in m.name_addrs(name) {
            note(v.and_then(|a| name_addr_check(name, &a)));
        }
    }
    for name in [HeaderName::Supported, HeaderName::Require, HeaderName::ProxyRequire, HeaderName::Unsupported] {
        m.option_tags(name).for_each(|t| note(t.map(drop)));
    }
    m.allow().for_each(|a| note(a.map(drop)));
    for name in [HeaderName::Authorization, HeaderName::ProxyAuthorization, HeaderName::WwwAuthenticate, HeaderName::ProxyAuthenticate] {
        m.auth_values(name).for_each(|a| note(a.map(drop)));
    }
    m.reasons().for_each(|r| note(r.map(drop)));
    for v in m.values(HeaderName::RetryAfter) {
        note(v.and_then(|v| {
            let secs = v.text.split(['(', ';', ' ']).next().unwrap_or_default();
            delta_seconds(secs, "delay").map(drop).map_err(|f| ParseError::header("Retry-After", f))
        }));
    }
    for v in m.values(HeaderName::Warning) {
        note(v.and_then(|v| {
            let code = v.text.split(' ').next().unwrap_or_default();
            if code.len() == 3 && code.bytes().all(|c| c.is_ascii_digit()) {
                Ok(())
            } else {
                Err(ParseError::header("Warning", HeaderFault::InvalidToken { what: "warn-code (3 digits)" }))
            }
        }));
    }
    if m.has_header(HeaderName::CSeq) {
        match (m.cseq(), m.method()) {
            (Ok(c), Some(method)) if &c.method != method => {
                let fault = HeaderFault::MethodMismatch { cseq: c.method.to_string(), request: method.to_string() };
                note(Err(ParseError::header("CSeq", fault)));
            }
            (r, _) => note(r.map(drop)),
        }
    }
    out
}

/// A CR or LF that is not part of a line fold (CRLF followed by SP or HT, RFC 3261 §7.3.1).
fn has_bare_line_break(v: &[u8]) -> bool {
    v.iter().enumerate().any(|(i, &c)| match c {
        b'\r' => v.get(i + 1) != Some(&b'\n'),
        b'\n' => i == 0 || v.get(i - 1) != Some(&b'\r') || !matches!(v.get(i + 1), Some(b' ' | b'\t')),
        _ => false,
    })
}

/// The URI of a name-addr value (`*` only as a Contact), and Contact `expires` and `q`
/// ranges (RFC 3261 §20.10; RFC 4475 §3.1.2.4).
fn name_addr_check(name: HeaderName, a: &crate::header::addr::NameAddr<'_>) -> Result<(), ParseError> {
    let err = |f| ParseError::header(name.as_str(), f);
    if name != HeaderName::Contact || !a.is_star() {
        a.uri().map_err(err)?;
    }
    if name != HeaderName::Contact {
        return Ok(());
    }
    if let Some(e) = a.params().get("expires") {
        delta_seconds(e.unwrap_or_default(), "expires").map_err(err)?;
    }
    if a.params().contains("q") && a.q().is_none() {
        return Err(err(HeaderFault::InvalidToken { what: "q" }));
    }
    Ok(())
}

/// What a proxy (and a registrar, for REGISTER) would do with a well-formed message.
fn notes(m: &Message) -> Vec<String> {
    let mut out = Vec::new();
    if m.is_request() {
        if let Err(r) = proxy_request_check(m, &[]) {
            out.push(format!("proxy: {r}"));
        }
        if m.method() == Some(&Method::Register) {
            if let Err(r) = registrar_check(m) {
                out.push(format!("registrar: {r}"));
            }
        }
        if m.top_via().is_ok_and(|v| v.branch() == Some(crate::header::via::MAGIC_COOKIE)) {
            out.push("top Via branch is only the magic cookie: RFC 2543 transaction matching".into());
        }
    } else if let Err(d) = proxy_response_check(m) {
        out.push(format!("proxy: {d}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_the_cli_format() {
        let ok = check(b"OPTIONS sip:a@b.example SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b.example>\r\nFrom: <sip:c@d.example>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nl: 0\r\n\r\n");
        assert_eq!(ok.line("f.sip"), "f.sip: valid");
        let bad = check(b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: 4294967296 OPTIONS\r\n\r\n");
        assert_eq!(bad.line("g.sip"), "g.sip: invalid: CSeq: sequence number 4294967296 exceeds 4294967295");
        let semantic = check(b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n");
        assert_eq!(semantic.line("h.sip"), "h.sip: valid; proxy: 400 Bad Request (missing To, From, Call-ID, Via)");
        assert!(!check(b"").valid);
        let lf = check(b"OPTIONS sip:a@b SIP/2.0\r\nSubject: a\nb\r\n\r\n");
        assert_eq!(lf.reason.as_deref(), Some("Subject: bare CR or LF inside the value"));
        let folded = check(b"OPTIONS sip:a@b SIP/2.0\r\nSubject: a\r\n b\r\n\r\n");
        assert!(folded.valid);
        let star = check(b"REGISTER sip:a SIP/2.0\r\nContact: *\r\nContact: <sip:x@y>\r\n\r\n");
        assert!(star.reason.is_some_and(|r| r.contains("must be the only Contact")));
    }
}
