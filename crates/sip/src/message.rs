//! The message model: the original bytes plus a one-pass header index (Kamailio's
//! `parse_headers` idea). Typed values are decoded on demand by the `header` modules, on
//! every call (nothing is cached, so a `Message` stays `Send + Sync` and cheap to clone).
//!
//! Speed (crates/sip/benches/parse.rs, 952-byte INVITE with 2 Via, RFC 5626 Contact and an
//! 8-line SDP): indexing takes about 5,760 instructions, indexing plus the look-ups the proxy
//! core makes per initial INVITE about 21,500 (callgrind); criterion measured 0.42 µs and
//! 1.97 µs at best on the loaded shared machine.
//! See crates/sip/BENCHMARK.md.

use bytes::Bytes;
use smallvec::SmallVec;

use crate::error::ParseError;
use crate::head::{find_crlf, ContentLength, Fields, Span};
use crate::header::name::HeaderName;
use crate::method::Method;
use crate::scan::parse_decimal;
use crate::status::StatusCode;

/// Limits applied by [`Message::parse_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Largest accepted message, in bytes.
    pub max_message_bytes: usize,
    /// Most header fields accepted.
    pub max_headers: usize,
}

impl Default for ParseLimits {
    /// 128 KiB (above any UDP datagram) and 256 header fields.
    fn default() -> Self {
        Self { max_message_bytes: 128 * 1024, max_headers: 256 }
    }
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `Method SP Request-URI SP SIP-Version` (RFC 3261 §7.1).
    Request {
        /// The method.
        method: Method,
        /// Where the Request-URI text lies.
        uri: UriSpan,
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase` (RFC 3261 §7.2).
    Response {
        /// The status code.
        status: StatusCode,
    },
}

/// Opaque position of the Request-URI in the message buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UriSpan(pub(crate) Span);

/// One entry of the header index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) name: HeaderName,
    pub(crate) raw: crate::head::RawField,
}

/// A parsed SIP message. Cheap to clone (the buffer is reference-counted); header values
/// and the body are slices of the original bytes, never copies.
#[derive(Debug, Clone)]
pub struct Message {
    pub(crate) buf: Bytes,
    pub(crate) start: StartLine,
    /// Reason phrase span (responses) or empty.
    pub(crate) reason: Span,
    /// End of the start line, CRLF excluded.
    pub(crate) start_end: u32,
    pub(crate) headers: SmallVec<[Entry; 24]>,
    pub(crate) body_start: u32,
    pub(crate) content_length: Option<u32>,
}

/// A header field of a message: its name and raw value (folds included, as received).
#[derive(Debug, Clone, Copy)]
pub struct HeaderField<'a> {
    /// Recognised name ([`HeaderName::Other`] for extensions).
    pub name: HeaderName,
    /// The name as spelled in the message.
    pub raw_name: &'a [u8],
    /// The value without surrounding white space.
    pub value: &'a [u8],
    pub(crate) index: usize,
}

impl HeaderField<'_> {
    /// Position of this field in the message's header list (stable for the message's life;
    /// used to address edits).
    pub fn index(&self) -> usize {
        self.index
    }
}

impl Message {
    /// Parse one message with datagram semantics (RFC 3261 §18.3): the body is
    /// Content-Length octets (a larger value is an error, extra octets are ignored), or the
    /// rest of the datagram when Content-Length is absent. Stream messages come here after
    /// [`crate::framing::frame`] has cut exactly one message.
    pub fn parse(bytes: Bytes) -> Result<Self, ParseError> {
        Self::parse_with(bytes, &ParseLimits::default())
    }

    /// [`Message::parse`] with explicit limits.
    pub fn parse_with(mut bytes: Bytes, limits: &ParseLimits) -> Result<Self, ParseError> {
        let max = limits.max_message_bytes.min(u32::MAX as usize);
        if bytes.len() > max {
            return Err(ParseError::TooLarge { len: bytes.len(), max });
        }
        // RFC 3261 §7.5: CRLFs before the start line are ignored.
        let lead = bytes.chunks_exact(2).take_while(|c| *c == b"\r\n").count() * 2;
        if lead > 0 {
            let _ = bytes.split_to(lead);
        }
        if bytes.is_empty() {
            return Err(ParseError::Empty);
        }
        let buf: &[u8] = &bytes;
        let Some(line_end) = find_crlf(buf, 0) else { return Err(ParseError::UnterminatedHeaders) };
        let (start, reason) = parse_start_line(buf, line_end)?;
        let mut fields = Fields::new(buf, line_end + 2);
        let mut headers: SmallVec<[Entry; 24]> = SmallVec::new();
        let mut cl = ContentLength::default();
        while let Some(raw) = fields.next_field()? {
            if headers.len() >= limits.max_headers {
                return Err(ParseError::TooManyHeaders { max: limits.max_headers });
            }
            let name = HeaderName::from_buf(buf, raw.line.start as usize, usize::from(raw.name_len));
            if name == HeaderName::ContentLength {
                cl.add(raw.value.of(buf))?;
            }
            headers.push(Entry { name, raw });
        }
        let Some(body_start) = fields.body_start else { return Err(ParseError::UnterminatedHeaders) };
        let available = buf.len().saturating_sub(body_start);
        if let Some(declared) = cl.value {
            if declared > available {
                return Err(ParseError::BodyTooShort { declared, available });
            }
            // Octets after Content-Length are not part of this message (RFC 4475 §3.1.1.8).
            bytes.truncate(body_start + declared);
        }
        Ok(Self {
            buf: bytes,
            start,
            reason,
            start_end: Span::new(line_end, line_end).start,
            headers,
            body_start: Span::new(body_start, body_start).start,
            content_length: cl.value.and_then(|v| u32::try_from(v).ok()),
        })
    }

    /// The message bytes (start line to end of body), exactly as received.
    pub fn as_bytes(&self) -> &Bytes {
        &self.buf
    }

    /// The start line.
    pub fn start_line(&self) -> &StartLine {
        &self.start
    }

    /// True for requests.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The method of a request.
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI text of a request, as received.
    pub fn request_uri_str(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => std::str::from_utf8(uri.0.of(&self.buf)).ok(),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self.start {
            StartLine::Response { status } => Some(status),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase of a response (may be empty, RFC 4475 §3.1.1.13).
    pub fn reason_phrase(&self) -> Option<&str> {
        match self.start {
            StartLine::Response { .. } => std::str::from_utf8(self.reason.of(&self.buf)).ok(),
            StartLine::Request { .. } => None,
        }
    }

    /// The start line bytes without CRLF.
    pub fn start_line_bytes(&self) -> &[u8] {
        self.buf.get(..self.start_end as usize).unwrap_or_default()
    }

    /// All header fields in order.
    pub fn headers(&self) -> impl Iterator<Item = HeaderField<'_>> + '_ {
        self.headers.iter().enumerate().map(move |(index, e)| self.field(index, e))
    }

    /// The fields with this name, in order (compact and long forms alike).
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = HeaderField<'_>> + '_ {
        self.headers().filter(move |h| h.name == name)
    }

    /// Extension header fields whose raw name matches `name`, case-insensitively.
    pub fn headers_raw<'a>(&'a self, name: &'a str) -> impl Iterator<Item = HeaderField<'a>> + 'a {
        self.headers().filter(move |h| h.raw_name.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// The first field with this name.
    pub fn header(&self, name: HeaderName) -> Option<HeaderField<'_>> {
        self.headers_named(name).next()
    }

    /// True if a field with this name is present.
    pub fn has_header(&self, name: HeaderName) -> bool {
        self.headers.iter().any(|e| e.name == name)
    }

    /// The body: Content-Length octets, or the rest of the datagram without Content-Length.
    pub fn body(&self) -> Bytes {
        self.buf.slice(self.body_start as usize..)
    }

    /// Body length in bytes.
    pub fn body_len(&self) -> usize {
        self.buf.len().saturating_sub(self.body_start as usize)
    }

    /// The Content-Length value, if the header was present (all copies agree; see
    /// [`ParseError::ConflictingContentLength`]).
    pub fn content_length(&self) -> Option<usize> {
        self.content_length.map(|v| v as usize)
    }

    pub(crate) fn field<'a>(&'a self, index: usize, e: &Entry) -> HeaderField<'a> {
        HeaderField { name: e.name, raw_name: e.raw.name(&self.buf), value: e.raw.value.of(&self.buf), index }
    }
}

/// Parse the start line `buf[..end]`, liberally: runs of SP between elements and trailing
/// white space are tolerated here (the checker reports them; RFC 4475 §3.1.2.9, §3.1.2.10).
fn parse_start_line(buf: &[u8], end: usize) -> Result<(StartLine, Span), ParseError> {
    let line = buf.get(..end).unwrap_or_default();
    if line.len() >= 4 && line.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/")) {
        // Status-Line.
        let sp = memchr::memchr(b' ', line).ok_or(ParseError::InvalidStartLine)?;
        check_version(line.get(..sp).unwrap_or_default())?;
        let rest_start = skip_sp(line, sp);
        let code_end = memchr::memchr(b' ', line.get(rest_start..).unwrap_or_default()).map_or(end, |i| i + rest_start);
        let code_text = line.get(rest_start..code_end).unwrap_or_default();
        let status = (code_text.len() == 3)
            .then(|| parse_decimal(code_text, 699))
            .flatten()
            .and_then(|c| u16::try_from(c).ok())
            .and_then(StatusCode::new)
            .ok_or_else(|| ParseError::InvalidStatusCode { text: String::from_utf8_lossy(code_text).into_owned() })?;
        let reason_start = (code_end + 1).min(end);
        if std::str::from_utf8(line.get(reason_start..).unwrap_or_default()).is_err() {
            return Err(ParseError::InvalidStartLine);
        }
        return Ok((StartLine::Response { status }, Span::new(reason_start, end)));
    }
    let sp = memchr::memchr(b' ', line).ok_or(ParseError::InvalidStartLine)?;
    let method = std::str::from_utf8(line.get(..sp).unwrap_or_default())
        .ok()
        .and_then(Method::from_token)
        .ok_or(ParseError::InvalidMethod)?;
    let trimmed_end = line.iter().rposition(|b| !matches!(b, b' ' | b'\t')).map_or(0, |i| i + 1);
    let vsp = memchr::memrchr(b' ', line.get(..trimmed_end).unwrap_or_default()).ok_or(ParseError::InvalidStartLine)?;
    check_version(line.get(vsp + 1..trimmed_end).unwrap_or_default())?;
    let uri_start = skip_sp(line, sp);
    let mut uri_end = vsp;
    while uri_end > uri_start && line.get(uri_end - 1) == Some(&b' ') {
        uri_end -= 1;
    }
    if uri_end <= uri_start {
        return Err(ParseError::InvalidRequestUri(crate::error::UriError::Empty));
    }
    if std::str::from_utf8(line.get(uri_start..uri_end).unwrap_or_default()).is_err() {
        return Err(ParseError::InvalidStartLine);
    }
    Ok((StartLine::Request { method, uri: UriSpan(Span::new(uri_start, uri_end)) }, Span::default()))
}

fn skip_sp(line: &[u8], mut i: usize) -> usize {
    while line.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// `SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT` (RFC 3261 §25.1); only 2.0 is supported.
pub(crate) fn check_version(v: &[u8]) -> Result<(), ParseError> {
    if v.eq_ignore_ascii_case(b"SIP/2.0") {
        return Ok(());
    }
    let digits = v.get(4..).unwrap_or_default();
    let well_formed = v.len() > 4
        && v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
        && digits.split(|&b| b == b'.').count() == 2
        && digits.split(|&b| b == b'.').all(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit));
    if well_formed {
        Err(ParseError::UnsupportedVersion { version: String::from_utf8_lossy(v).into_owned() })
    } else {
        Err(ParseError::InvalidVersion)
    }
}
