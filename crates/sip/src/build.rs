//! Builders for the messages a proxy and a transaction layer originate: a response to a
//! request (RFC 3261 §8.2.6), the ACK for a non-2xx final response (§17.1.1.3), a CANCEL
//! (§9.1, with RFC 3326 Reason) and a plain request (OPTIONS, future B2BUA legs).
//! Output is wire bytes; [`Built::into_message`] parses them back when a `Message` is needed.

use bytes::Bytes;

use crate::error::{HeaderFault, ParseError};
use crate::header::name::HeaderName;
use crate::message::Message;
use crate::method::Method;
use crate::status::StatusCode;

/// Bytes of a message we generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built(Bytes);

impl Built {
    /// The wire bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// Into the wire bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Parse the built bytes (they only fail to parse if a caller passed malformed values).
    pub fn into_message(self) -> Result<Message, ParseError> {
        Message::parse(self.0)
    }
}

/// Writes header lines and a body with the right Content-Length.
#[derive(Debug, Clone)]
struct Writer {
    out: Vec<u8>,
}

/// A builder's extra header fields. Inline up to 16: a call control request carries about a
/// dozen, and a growing `Vec` was reallocated two or three times per message built.
type Fields<'a> = smallvec::SmallVec<[(&'a str, &'a str); 16]>;

impl Writer {
    fn new(capacity: usize) -> Self {
        Self { out: Vec::with_capacity(capacity) }
    }

    fn line(&mut self, parts: &[&[u8]]) {
        for p in parts {
            self.out.extend_from_slice(p);
        }
        self.out.extend_from_slice(b"\r\n");
    }

    fn header(&mut self, name: &str, value: &[u8]) {
        self.line(&[name.as_bytes(), b": ", value]);
    }

    /// Copy every field named `name` from `msg`, under its canonical name.
    fn copy(&mut self, msg: &Message, name: HeaderName) {
        for h in msg.headers_named(name) {
            self.header(name.as_str(), h.value);
        }
    }

    /// Room for `Content-Type`, `Content-Length`, the blank line and the body that
    /// [`Self::finish`] writes, so a message is written into one allocation: a growing buffer
    /// reallocated and copied each INVITE with SDP two or three times (BENCHMARKS.md).
    fn tail_len(content_type: Option<&str>, body: &[u8]) -> usize {
        content_type.map_or(0, |ct| "Content-Type: \r\n".len() + ct.len()) + "Content-Length: \r\n\r\n".len() + 20 + body.len()
    }

    /// Room for `fields` written by [`Self::header`].
    fn fields_len(fields: &[(&str, &str)]) -> usize {
        fields.iter().map(|(name, value)| name.len() + ": \r\n".len() + value.len()).sum()
    }

    fn finish(mut self, content_type: Option<&str>, body: &[u8]) -> Built {
        if let Some(ct) = content_type {
            self.header("Content-Type", ct.as_bytes());
        }
        self.header("Content-Length", Decimal::new(u64::try_from(body.len()).unwrap_or(u64::MAX)).as_bytes());
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(body);
        Built(Bytes::from(self.out))
    }
}

/// A number written in decimal on the stack: `to_string` allocated a String for every status
/// line, Content-Length and CSeq written.
struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    fn new(mut n: u64) -> Self {
        let mut digits = [0; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                return Self { digits, start };
            }
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.digits[self.start..]
    }
}

/// A response to `request` (RFC 3261 §8.2.6): Via, From, To, Call-ID and CSeq copied;
/// a To tag added when given and the To has none; Timestamp echoed on 100 (§8.2.6.1).
#[derive(Debug, Clone)]
pub struct ResponseBuilder<'a> {
    request: &'a Message,
    status: StatusCode,
    reason: Option<&'a str>,
    to_tag: Option<&'a str>,
    headers: Fields<'a>,
    body: Option<(&'a str, &'a [u8])>,
}

impl<'a> ResponseBuilder<'a> {
    /// Start a response with the status's default reason phrase.
    pub fn new(request: &'a Message, status: StatusCode) -> Self {
        Self { request, status, reason: None, to_tag: None, headers: Fields::new(), body: None }
    }

    /// Use another reason phrase.
    pub fn reason(mut self, reason: &'a str) -> Self {
        self.reason = Some(reason);
        self
    }

    /// Add `;tag=` to To unless it already has one (RFC 3261 §8.2.6.2).
    pub fn to_tag(mut self, tag: &'a str) -> Self {
        self.to_tag = Some(tag);
        self
    }

    /// Add a header field (e.g. `Unsupported`, `Allow`, `Retry-After`, `Contact`).
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Set a body and its Content-Type.
    pub fn body(mut self, content_type: &'a str, body: &'a [u8]) -> Self {
        self.body = Some((content_type, body));
        self
    }

    /// Write the response. Fails if the request lacks a header the response must copy.
    pub fn build(self) -> Result<Built, ParseError> {
        let req = self.request;
        if !req.is_request() {
            return Err(ParseError::InvalidStartLine);
        }
        for needed in [HeaderName::Via, HeaderName::From, HeaderName::To, HeaderName::CallId, HeaderName::CSeq] {
            if !req.has_header(needed) {
                return Err(ParseError::header(needed.as_str(), HeaderFault::Missing));
            }
        }
        let (ct, body) = self.body.map_or((None, &[][..]), |(ct, b)| (Some(ct), b));
        let reason = self.reason.unwrap_or(self.status.default_reason());
        // The copied fields are part of the request's head; the status line and To tag are short.
        let head = req.as_bytes().len() - req.body_len();
        let tag = self.to_tag.map_or(0, str::len);
        let mut w = Writer::new(head + 32 + reason.len() + tag + Writer::fields_len(&self.headers) + Writer::tail_len(ct, body));
        w.line(&[b"SIP/2.0 ", Decimal::new(u64::from(self.status.as_u16())).as_bytes(), b" ", reason.as_bytes()]);
        w.copy(req, HeaderName::Via);
        w.copy(req, HeaderName::From);
        let to = req.header(HeaderName::To).map(|h| h.value).unwrap_or_default();
        match self.to_tag {
            Some(tag) if req.to_tag().ok().flatten().is_none() => w.line(&[b"To: ", to, b";tag=", tag.as_bytes()]),
            _ => w.header("To", to),
        }
        w.copy(req, HeaderName::CallId);
        w.copy(req, HeaderName::CSeq);
        if self.status == StatusCode::TRYING {
            w.copy(req, HeaderName::Timestamp);
        }
        for (name, value) in &self.headers {
            w.header(name, value.as_bytes());
        }
        Ok(w.finish(ct, body))
    }
}

/// The ACK a client INVITE transaction sends for a non-2xx final response (RFC 3261
/// §17.1.1.3): Request-URI, Call-ID, From, CSeq number and Route from the INVITE, the
/// INVITE's top Via only, and To from the response (it carries the tag).
pub fn ack_for_non_2xx(invite: &Message, response: &Message) -> Result<Built, ParseError> {
    let uri = invite.request_uri_str().ok_or(ParseError::InvalidStartLine)?;
    let cseq = invite.cseq()?;
    let top_via = invite.top_via_value()?;
    let to = response.header(HeaderName::To).ok_or_else(|| ParseError::header("To", HeaderFault::Missing))?;
    let mut w = Writer::new(invite.as_bytes().len() / 2 + 64);
    w.line(&[b"ACK ", uri.as_bytes(), b" SIP/2.0"]);
    w.header("Via", top_via.text.as_bytes());
    w.header("Max-Forwards", b"70");
    w.copy(invite, HeaderName::Route);
    w.copy(invite, HeaderName::From);
    w.header("To", to.value);
    w.header("Call-ID", invite.call_id()?.as_bytes());
    w.line(&[b"CSeq: ", Decimal::new(u64::from(cseq.seq)).as_bytes(), b" ACK"]);
    Ok(w.finish(None, b""))
}

/// A CANCEL for `request` (RFC 3261 §9.1): same Request-URI, Call-ID, To, From, CSeq
/// number, top Via and Route; optional RFC 3326 Reason (e.g.
/// `SIP;cause=200;text="Call completed elsewhere"`).
pub fn cancel_for(request: &Message, reason: Option<&str>) -> Result<Built, ParseError> {
    let uri = request.request_uri_str().ok_or(ParseError::InvalidStartLine)?;
    let cseq = request.cseq()?;
    let top_via = request.top_via_value()?;
    let mut w = Writer::new(request.as_bytes().len() / 2 + 64);
    w.line(&[b"CANCEL ", uri.as_bytes(), b" SIP/2.0"]);
    w.header("Via", top_via.text.as_bytes());
    w.header("Max-Forwards", b"70");
    w.copy(request, HeaderName::Route);
    w.copy(request, HeaderName::From);
    w.copy(request, HeaderName::To);
    w.header("Call-ID", request.call_id()?.as_bytes());
    w.line(&[b"CSeq: ", Decimal::new(u64::from(cseq.seq)).as_bytes(), b" CANCEL"]);
    if let Some(r) = reason {
        w.header("Reason", r.as_bytes());
    }
    Ok(w.finish(None, b""))
}

/// A request from scratch: method, Request-URI, header fields in the order given, body.
/// Content-Length is always written; the caller supplies Via, From, To, Call-ID, CSeq and
/// Max-Forwards (RFC 3261 §8.1.1).
#[derive(Debug, Clone)]
pub struct RequestBuilder<'a> {
    method: Method,
    uri: &'a str,
    headers: Fields<'a>,
    body: Option<(&'a str, &'a [u8])>,
}

impl<'a> RequestBuilder<'a> {
    /// Start a request.
    pub fn new(method: Method, uri: &'a str) -> Self {
        Self { method, uri, headers: Fields::new(), body: None }
    }

    /// Add a header field.
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Set a body and its Content-Type.
    pub fn body(mut self, content_type: &'a str, body: &'a [u8]) -> Self {
        self.body = Some((content_type, body));
        self
    }

    /// Write the request.
    pub fn build(self) -> Built {
        let (ct, body) = self.body.map_or((None, &[][..]), |(ct, b)| (Some(ct), b));
        let start = self.method.as_str().len() + self.uri.len() + " SIP/2.0\r\n".len() + 1;
        let mut w = Writer::new(start + Writer::fields_len(&self.headers) + Writer::tail_len(ct, body));
        w.line(&[self.method.as_str().as_bytes(), b" ", self.uri.as_bytes(), b" SIP/2.0"]);
        for (name, value) in &self.headers {
            w.header(name, value.as_bytes());
        }
        w.finish(ct, body)
    }
}

#[cfg(test)]
mod tests;
