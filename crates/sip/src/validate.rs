//! Request and response checks a proxy makes before forwarding (RFC 3261 §16.3, §16.7,
//! §8.2.2). Pure functions of the message: the proxy calls them on every request and
//! response and turns a [`Rejection`] into a response with [`crate::build::ResponseBuilder`].

use std::fmt;

use crate::header::name::HeaderName;
use crate::header::via::Via;
use crate::message::Message;
use crate::status::StatusCode;
use crate::uri::Uri;

/// Which check failed; lets the caller special-case one (the hook for a proxy that answers
/// an OPTIONS with Max-Forwards 0 addressed to itself, RFC 3261 §11 / §16.3 step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectKind {
    /// §16.3 step 1: missing or malformed header the proxy relies on.
    Malformed,
    /// §16.3 step 2: Request-URI scheme the proxy does not route (416).
    UnsupportedUriScheme,
    /// §16.3 step 3: Max-Forwards is 0 (483).
    TooManyHops,
    /// §16.3 step 5: Proxy-Require names option tags the proxy lacks (420).
    BadExtension,
    /// §10.3: a REGISTER whose To is not a SIP or SIPS URI (400).
    InvalidAddressOfRecord,
}

/// A request the element must answer itself instead of forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The status to answer with.
    pub status: StatusCode,
    /// Which check failed.
    pub kind: RejectKind,
    /// What is wrong, for the log and the checker.
    pub detail: String,
    /// Header fields the response must carry (`Unsupported` for 420, RFC 3261 §20.40).
    pub extra_headers: Vec<(HeaderName, String)>,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.status, self.status.default_reason(), self.detail)
    }
}

fn reject(status: StatusCode, kind: RejectKind, detail: String) -> Rejection {
    Rejection { status, kind, detail, extra_headers: Vec::new() }
}

/// RFC 3261 §16.3 steps 1, 2, 3 and 5 for a request the proxy would forward. Loop
/// detection (step 4) and Proxy-Authorization (step 6) need the proxy's own state.
/// `supported` lists the option tags this proxy implements (compared case-insensitively).
pub fn proxy_request_check(msg: &Message, supported: &[&str]) -> Result<(), Rejection> {
    proxy_request_fields(msg, supported).map(|_| ())
}

/// What [`proxy_request_fields`] decoded on the way: a proxy needs these next (§16.4 routing,
/// §16.6 Max-Forwards and Via), so they are not parsed twice.
#[derive(Debug, Clone)]
pub struct CheckedRequest<'m> {
    /// The topmost Via.
    pub top_via: Via<'m>,
    /// The Request-URI (a `sip`, `sips` or `tel` URI: step 2 refused the rest).
    pub request_uri: Uri<'m>,
    /// Max-Forwards, when present (at least 1: step 3 refused 0).
    pub max_forwards: Option<u8>,
}

/// [`proxy_request_check`], returning the fields it decoded.
pub fn proxy_request_fields<'m>(msg: &'m Message, supported: &[&str]) -> Result<CheckedRequest<'m>, Rejection> {
    let malformed = |detail: String| reject(StatusCode::BAD_REQUEST, RejectKind::Malformed, detail);
    let Some(method) = msg.method() else { return Err(malformed("not a request".into())) };
    // Step 1: reasonable syntax (§8.1.1 mandatory headers; Max-Forwards may be absent in
    // RFC 2543 requests, RFC 4475 §3.4.1).
    let missing: Vec<&str> = [HeaderName::To, HeaderName::From, HeaderName::CallId, HeaderName::CSeq, HeaderName::Via]
        .into_iter()
        .filter(|h| !msg.has_header(*h))
        .map(HeaderName::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(malformed(format!("missing {}", missing.join(", "))));
    }
    let top_via = msg.top_via().map_err(|e| malformed(e.to_string()))?;
    for (name, addr) in [(HeaderName::From, msg.from_header()), (HeaderName::To, msg.to_header())] {
        let addr = addr.map_err(|e| malformed(e.to_string()))?;
        addr.uri().map_err(|e| malformed(format!("{name}: {e}")))?;
    }
    msg.call_id().map_err(|e| malformed(e.to_string()))?;
    let cseq = msg.cseq().map_err(|e| malformed(e.to_string()))?;
    if &cseq.method != method {
        return Err(malformed(format!("CSeq method {} does not match request method {method}", cseq.method)));
    }
    let max_forwards = msg.max_forwards().map_err(|e| malformed(e.to_string()))?;
    // Step 2: URI scheme (§8.2.2.1, RFC 4475 §3.3.2).
    let uri_text = msg.request_uri_str().unwrap_or_default();
    let request_uri = match Uri::parse(uri_text) {
        Ok(Uri::Other { scheme, .. }) => {
            return Err(reject(
                StatusCode::UNSUPPORTED_URI_SCHEME,
                RejectKind::UnsupportedUriScheme,
                format!("Request-URI scheme {scheme}"),
            ))
        }
        Ok(uri) => uri,
        Err(e) => return Err(malformed(format!("Request-URI: {e}"))),
    };
    // Step 3: Max-Forwards.
    if max_forwards == Some(0) {
        return Err(reject(StatusCode::TOO_MANY_HOPS, RejectKind::TooManyHops, "Max-Forwards 0".into()));
    }
    // Step 5: Proxy-Require (§20.29); Require is for the UAS and is ignored here.
    let mut unknown = Vec::new();
    for tag in msg.option_tags(HeaderName::ProxyRequire) {
        let tag = tag.map_err(|e| malformed(e.to_string()))?;
        if !supported.iter().any(|s| s.eq_ignore_ascii_case(tag)) {
            unknown.push(tag);
        }
    }
    if !unknown.is_empty() {
        let list = unknown.join(", ");
        let mut r = reject(StatusCode::BAD_EXTENSION, RejectKind::BadExtension, format!("Proxy-Require: {list}"));
        r.extra_headers.push((HeaderName::Unsupported, list));
        return Err(r);
    }
    Ok(CheckedRequest { top_via, request_uri, max_forwards })
}

/// A registrar's check of the address of record (RFC 3261 §10.3 step 3/5; RFC 4475
/// §3.3.4): the To of a REGISTER must be a SIP or SIPS URI.
pub fn registrar_check(msg: &Message) -> Result<(), Rejection> {
    let to = msg.to_header().map_err(|e| reject(StatusCode::BAD_REQUEST, RejectKind::Malformed, e.to_string()))?;
    let uri = to.uri().map_err(|e| reject(StatusCode::BAD_REQUEST, RejectKind::Malformed, format!("To: {e}")))?;
    if uri.as_sip().is_none() {
        return Err(reject(
            StatusCode::BAD_REQUEST,
            RejectKind::InvalidAddressOfRecord,
            format!("To URI scheme {} is not sip or sips", uri.scheme()),
        ));
    }
    Ok(())
}

/// Why a response must be dropped rather than forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseDrop {
    /// What is wrong.
    pub detail: String,
}

impl fmt::Display for ResponseDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "drop ({})", self.detail)
    }
}

/// Checks on a response before the proxy forwards it upstream (RFC 3261 §16.7 step 3,
/// §18.2.2): the Via values must parse and the next hop (the second Via's `received` or
/// sent-by) must not be a broadcast address (RFC 4475 §3.3.10).
pub fn proxy_response_check(msg: &Message) -> Result<(), ResponseDrop> {
    let mut vias = msg.vias();
    match vias.next() {
        None => return Err(ResponseDrop { detail: "no Via".into() }),
        Some(Err(e)) => return Err(ResponseDrop { detail: e.to_string() }),
        Some(Ok(_)) => {}
    }
    match vias.next() {
        Some(Ok(next)) => {
            let received_bcast = next.received().is_some_and(|ip| matches!(ip, std::net::IpAddr::V4(a) if a.is_broadcast()));
            if next.host().is_broadcast() || received_bcast {
                return Err(ResponseDrop { detail: format!("Via sent-by {} is a broadcast address", next.host()) });
            }
            Ok(())
        }
        Some(Err(e)) => Err(ResponseDrop { detail: e.to_string() }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn msg(b: &'static [u8]) -> Message {
        Message::parse(Bytes::from_static(b)).expect("parses")
    }

    const BASE: &str = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:b@c>\r\nFrom: <sip:a@c>;tag=1\r\nCall-ID: x\r\n";

    fn req(start: &str, extra: &str) -> Message {
        let s = format!("{start}\r\n{BASE}{extra}\r\n");
        Message::parse(Bytes::from(s)).expect("parses")
    }

    #[test]
    fn rfc3261_16_3_max_forwards_zero_gives_483() {
        let m = req("OPTIONS sip:b@c SIP/2.0", "CSeq: 1 OPTIONS\r\nMax-Forwards: 0\r\n");
        let r = proxy_request_check(&m, &[]).expect_err("483");
        assert_eq!((r.status, r.kind), (StatusCode::TOO_MANY_HOPS, RejectKind::TooManyHops));
        let ok = req("OPTIONS sip:b@c SIP/2.0", "CSeq: 1 OPTIONS\r\nMax-Forwards: 1\r\n");
        assert_eq!(proxy_request_check(&ok, &[]), Ok(()));
        let fields = proxy_request_fields(&ok, &[]).expect("valid");
        assert_eq!((fields.max_forwards, fields.top_via.branch(), fields.request_uri.to_string()), (Some(1), Some("z9hG4bK1"), "sip:b@c".to_owned()));
    }

    #[test]
    fn rfc3261_16_3_proxy_require_gives_420_with_unsupported() {
        let m = req("OPTIONS sip:b@c SIP/2.0", "CSeq: 1 OPTIONS\r\nProxy-Require: foo, sec-agree\r\nRequire: bar\r\n");
        let r = proxy_request_check(&m, &["SEC-AGREE"]).expect_err("420");
        assert_eq!(r.status, StatusCode::BAD_EXTENSION);
        assert_eq!(r.extra_headers, vec![(HeaderName::Unsupported, "foo".to_string())]);
        assert_eq!(r.to_string(), "420 Bad Extension (Proxy-Require: foo)");
    }

    #[test]
    fn rfc3261_16_3_scheme_and_syntax() {
        let m = req("OPTIONS mailto:x@y SIP/2.0", "CSeq: 1 OPTIONS\r\n");
        assert_eq!(proxy_request_check(&m, &[]).map_err(|r| r.status), Err(StatusCode::UNSUPPORTED_URI_SCHEME));
        let m = req("OPTIONS sip:b@c SIP/2.0", "CSeq: 1 INVITE\r\n");
        assert_eq!(proxy_request_check(&m, &[]).map_err(|r| r.status), Err(StatusCode::BAD_REQUEST));
        let m = msg(b"INVITE sip:b@c SIP/2.0\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP h\r\n\r\n");
        let r = proxy_request_check(&m, &[]).expect_err("400");
        assert_eq!(r.detail, "missing To, From, Call-ID");
        let tel = req("INVITE tel:+15551234 SIP/2.0", "CSeq: 1 INVITE\r\n");
        assert_eq!(proxy_request_check(&tel, &[]), Ok(()));
    }

    #[test]
    fn registrar_needs_sip_aor() {
        let m = msg(b"REGISTER sip:example.com SIP/2.0\r\nTo: isbn:2983792873\r\n\r\n");
        assert_eq!(registrar_check(&m).map_err(|r| r.kind), Err(RejectKind::InvalidAddressOfRecord));
        let ok = msg(b"REGISTER sip:example.com SIP/2.0\r\nTo: <sip:a@example.com>\r\n\r\n");
        assert_eq!(registrar_check(&ok), Ok(()));
    }

    #[test]
    fn rfc4475_bcast_response_is_dropped() {
        let m = msg(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK2\r\n\r\n");
        assert!(proxy_response_check(&m).is_err_and(|d| d.detail.contains("255.255.255.255")));
        let ok = msg(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2\r\n\r\n");
        assert_eq!(proxy_response_check(&ok), Ok(()));
        let rx = msg(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP b;received=255.255.255.255\r\n\r\n");
        assert!(proxy_response_check(&rx).is_err());
        assert!(proxy_response_check(&msg(b"SIP/2.0 200 OK\r\n\r\n")).is_err());
    }
}
