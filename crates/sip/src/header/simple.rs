//! Small headers: Call-ID, CSeq, Max-Forwards, Expires, Content-Type, option-tag lists,
//! Allow, Server/User-Agent, Date and Reason (RFC 3261 §20; RFC 3326).

use crate::error::{HeaderFault, ParseError};
use crate::header::name::HeaderName;
use crate::header::params::Params;
use crate::header::fault;
use crate::message::Message;
use crate::method::Method;
use crate::scan::{find, is_token, split_at_byte, parse_decimal, skip_lws, sub, trim, unquote};

/// CSeq: sequence number and method (RFC 3261 §20.16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number, below 2^31 when we generate it, up to 2^32-1 accepted.
    pub seq: u32,
    /// The method; must match the request's (RFC 3261 §8.2 / RFC 4475 §3.1.2.17).
    pub method: Method,
}

impl CSeq {
    /// Parse `1*DIGIT LWS Method`.
    pub fn parse(s: &str) -> Result<Self, HeaderFault> {
        let b = s.as_bytes();
        let digits_end = b.iter().position(|c| !c.is_ascii_digit()).unwrap_or(b.len());
        let num = sub(s, 0, digits_end);
        let seq = parse_decimal(num.as_bytes(), u32::MAX.into()).and_then(|v| u32::try_from(v).ok()).ok_or_else(|| {
            if num.is_empty() {
                HeaderFault::NotANumber { what: "sequence number", text: s.to_owned() }
            } else {
                HeaderFault::OutOfRange { what: "sequence number", text: num.to_owned(), max: u32::MAX.into() }
            }
        })?;
        let m = skip_lws(b, digits_end);
        if m == digits_end {
            return Err(HeaderFault::InvalidToken { what: "method" });
        }
        let method = Method::from_token(trim(sub(s, m, s.len()))).ok_or(HeaderFault::InvalidToken { what: "method" })?;
        Ok(Self { seq, method })
    }
}

/// `Content-Type` (RFC 3261 §20.15): `type/subtype *(;param)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// Top-level type, e.g. `application`.
    pub kind: &'a str,
    /// Subtype, e.g. `sdp`.
    pub subtype: &'a str,
    /// Parameters, e.g. `boundary=...`.
    pub params: Params<'a>,
}

impl<'a> MediaType<'a> {
    /// Parse a media type with LWS allowed around `/` and `;`.
    pub fn parse(s: &'a str) -> Result<Self, HeaderFault> {
        let (main, params) = match find(s, b';') {
            Some(i) => (sub(s, 0, i), Params::header(sub(s, i + 1, s.len()))?),
            None => (s, Params::default()),
        };
        let (kind, subtype) = split_at_byte(main, b'/').ok_or(HeaderFault::InvalidToken { what: "media type" })?;
        let (kind, subtype) = (trim(kind), trim(subtype));
        if kind.is_empty() || subtype.is_empty() || !kind.bytes().all(is_token) || !subtype.bytes().all(is_token) {
            return Err(HeaderFault::InvalidToken { what: "media type" });
        }
        Ok(Self { kind, subtype, params })
    }

    /// Case-insensitive match on `type/subtype`.
    pub fn is(&self, kind: &str, subtype: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind) && self.subtype.eq_ignore_ascii_case(subtype)
    }
}

/// One Reason value (RFC 3326 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason<'a> {
    /// `SIP`, `Q.850` or another token.
    pub protocol: &'a str,
    /// Parameters; see [`Reason::cause`] and [`Reason::text`].
    pub params: Params<'a>,
}

impl<'a> Reason<'a> {
    /// Parse `protocol *(SEMI reason-params)`.
    pub fn parse(s: &'a str) -> Result<Self, HeaderFault> {
        let (protocol, params) = match find(s, b';') {
            Some(i) => (trim(sub(s, 0, i)), Params::header(sub(s, i + 1, s.len()))?),
            None => (trim(s), Params::default()),
        };
        if protocol.is_empty() || !protocol.bytes().all(is_token) {
            return Err(HeaderFault::InvalidToken { what: "protocol" });
        }
        if let Some(c) = params.get("cause") {
            c.and_then(|c| parse_decimal(c.as_bytes(), u16::MAX.into())).ok_or(HeaderFault::InvalidToken { what: "cause" })?;
        }
        Ok(Self { protocol, params })
    }

    /// `cause=`.
    pub fn cause(&self) -> Option<u16> {
        self.params.value("cause").and_then(|c| c.parse().ok())
    }

    /// `text=`, unquoted.
    pub fn text(&self) -> Option<std::borrow::Cow<'a, str>> {
        self.params.value("text").map(unquote)
    }
}

/// RFC 3261 §25.1 `word` characters: token characters plus `( ) < > : \ " / [ ] ? { }`.
static WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = is_token(b)
            || matches!(b, b'(' | b')' | b'<' | b'>' | b':' | b'\\' | b'"' | b'/' | b'[' | b']' | b'?' | b'{' | b'}');
        i += 1;
    }
    t
};

/// `Call-ID = word [ "@" word ]` (RFC 3261 §20.8, §25.1 `word`).
fn check_call_id(s: &str) -> Result<(), HeaderFault> {
    // A u8 always indexes the 256-entry table.
    let word = |w: &str| !w.is_empty() && w.bytes().all(|c| WORD[usize::from(c)]);
    let ok = match split_at_byte(s, b'@') {
        Some((a, b)) => word(a) && word(b),
        None => word(s),
    };
    if ok {
        Ok(())
    } else if s.is_empty() {
        Err(HeaderFault::Empty)
    } else {
        Err(HeaderFault::InvalidToken { what: "Call-ID" })
    }
}

/// `delta-seconds` up to 2^32-1 (RFC 3261 §20.19, RFC 4475 §3.1.2.4).
pub(crate) fn delta_seconds(s: &str, what: &'static str) -> Result<u32, HeaderFault> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(HeaderFault::NotANumber { what, text: s.to_owned() });
    }
    parse_decimal(s.as_bytes(), u32::MAX.into())
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| HeaderFault::OutOfRange { what, text: s.to_owned(), max: u32::MAX.into() })
}

/// RFC 1123 date in GMT, as RFC 3261 §20.17 requires: `Sat, 13 Nov 2010 23:29:00 GMT`.
pub fn check_date(s: &str) -> Result<(), HeaderFault> {
    let parts: Vec<&str> = s.split(' ').collect();
    let [wkday, day, month, year, time, zone] = parts.as_slice() else { return Err(HeaderFault::InvalidDate) };
    let wk_ok = ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"].contains(wkday);
    let mon_ok = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].contains(month);
    let num = |t: &str, n: usize, max: u64| t.len() == n && parse_decimal(t.as_bytes(), max).is_some();
    let t: Vec<&str> = time.split(':').collect();
    let time_ok = matches!(t.as_slice(), [h, m, s] if num(h, 2, 23) && num(m, 2, 59) && num(s, 2, 60));
    if !(wk_ok && mon_ok && num(day, 2, 31) && num(year, 4, 9999) && time_ok) {
        return Err(HeaderFault::InvalidDate);
    }
    if *zone != "GMT" {
        return Err(HeaderFault::DateNotGmt);
    }
    Ok(())
}

impl Message {
    /// Call-ID (RFC 3261 §20.8).
    pub fn call_id(&self) -> Result<&str, ParseError> {
        let v = self.single(HeaderName::CallId)?.ok_or_else(|| ParseError::header("Call-ID", HeaderFault::Missing))?;
        check_call_id(v.text).map_err(fault(HeaderName::CallId))?;
        Ok(v.text)
    }

    /// CSeq (RFC 3261 §20.16).
    pub fn cseq(&self) -> Result<CSeq, ParseError> {
        let v = self.single(HeaderName::CSeq)?.ok_or_else(|| ParseError::header("CSeq", HeaderFault::Missing))?;
        CSeq::parse(v.text).map_err(fault(HeaderName::CSeq))
    }

    /// Max-Forwards, 0-255 (RFC 3261 §20.22); `Ok(None)` if absent.
    pub fn max_forwards(&self) -> Result<Option<u8>, ParseError> {
        let Some(v) = self.single(HeaderName::MaxForwards)? else { return Ok(None) };
        let n = delta_seconds(v.text, "Max-Forwards").map_err(fault(HeaderName::MaxForwards))?;
        u8::try_from(n).map(Some).map_err(|_| {
            ParseError::header("Max-Forwards", HeaderFault::OutOfRange { what: "value", text: v.text.to_owned(), max: 255 })
        })
    }

    /// Expires in seconds (RFC 3261 §20.19).
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        let Some(v) = self.single(HeaderName::Expires)? else { return Ok(None) };
        delta_seconds(v.text, "value").map(Some).map_err(fault(HeaderName::Expires))
    }

    /// Content-Type (RFC 3261 §20.15).
    pub fn content_type(&self) -> Result<Option<MediaType<'_>>, ParseError> {
        let Some(v) = self.single(HeaderName::ContentType)? else { return Ok(None) };
        MediaType::parse(v.text).map(Some).map_err(fault(HeaderName::ContentType))
    }

    /// The option tags of Supported, Require, Proxy-Require or Unsupported (RFC 3261 §19.2).
    pub fn option_tags(&self, name: HeaderName) -> impl Iterator<Item = Result<&str, ParseError>> + '_ {
        self.values(name).map(move |v| {
            let v = v?;
            if v.text.is_empty() {
                Err(ParseError::header(name.as_str(), HeaderFault::EmptyElement { what: "option tag" }))
            } else if v.text.bytes().all(is_token) {
                Ok(v.text)
            } else {
                Err(ParseError::header(name.as_str(), HeaderFault::InvalidToken { what: "option tag" }))
            }
        })
    }

    /// The methods in Allow (RFC 3261 §20.5).
    pub fn allow(&self) -> impl Iterator<Item = Result<Method, ParseError>> + '_ {
        self.values(HeaderName::Allow).map(|v| {
            let v = v?;
            Method::from_token(v.text).ok_or_else(|| ParseError::header("Allow", HeaderFault::InvalidToken { what: "method" }))
        })
    }

    /// Server or User-Agent text (product tokens and comments, kept as written).
    pub fn product(&self, name: HeaderName) -> Option<&str> {
        self.header(name).and_then(|h| std::str::from_utf8(h.value).ok())
    }

    /// Date, checked to be RFC 1123 in GMT (RFC 3261 §20.17); returns the text.
    pub fn date(&self) -> Result<Option<&str>, ParseError> {
        let Some(v) = self.single(HeaderName::Date)? else { return Ok(None) };
        check_date(v.text).map_err(fault(HeaderName::Date))?;
        Ok(Some(v.text))
    }

    /// Reason values (RFC 3326).
    pub fn reasons(&self) -> impl Iterator<Item = Result<Reason<'_>, ParseError>> + '_ {
        self.values(HeaderName::Reason).map(|v| v.and_then(|v| Reason::parse(v.text).map_err(fault(HeaderName::Reason))))
    }
}
