//! Name-address headers: From, To, Contact, Route, Record-Route, P-Asserted-Identity,
//! P-Preferred-Identity, Reply-To (RFC 3261 §20.10, §20.20, §20.30, §20.34, §20.39; RFC 3325).

use std::borrow::Cow;

use crate::error::{HeaderFault, ParseError};
use crate::header::name::HeaderName;
use crate::header::params::Params;
use crate::header::{fault, ValueRef};
use crate::message::Message;
use crate::scan::{is_token, quoted_end, skip_lws, sub, trim, unquote};
use crate::uri::Uri;

/// `( name-addr / addr-spec ) *( SEMI param )`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    display: Option<&'a str>,
    uri: &'a str,
    bracketed: bool,
    params: Params<'a>,
}

impl<'a> NameAddr<'a> {
    /// Parse one value's structure: display name, `<>`, parameters. A URI with `,` or `?`
    /// must be in `<>` (RFC 3261 §20.10). The URI itself is decoded (and validated) only by
    /// [`NameAddr::uri`], so reading a tag costs no URI parse.
    pub fn parse(s: &'a str) -> Result<Self, HeaderFault> {
        let s = trim(s);
        let b = s.as_bytes();
        if b.is_empty() {
            return Err(HeaderFault::Empty);
        }
        let (display, lt) = if b.first() == Some(&b'"') {
            let end = quoted_end(b, 0).ok_or(HeaderFault::UnterminatedQuote)?;
            let lt = skip_lws(b, end);
            if b.get(lt) != Some(&b'<') {
                return Err(HeaderFault::Trailing { text: sub(s, end, s.len()).to_owned() });
            }
            (Some(sub(s, 0, end)), Some(lt))
        } else {
            match memchr::memchr2(b'<', b'"', b) {
                Some(i) if b.get(i) == Some(&b'<') => {
                    let d = trim(sub(s, 0, i));
                    if !d.is_empty() && !d.bytes().all(|c| is_token(c) || crate::scan::is_lws(c)) {
                        return Err(HeaderFault::InvalidDisplayName { text: d.to_owned() });
                    }
                    (Some(d).filter(|d| !d.is_empty()), Some(i))
                }
                Some(_) => return Err(HeaderFault::InvalidDisplayName { text: s.to_owned() }),
                None => (None, None),
            }
        };
        let (uri, rest_start, bracketed) = match lt {
            Some(lt) => {
                let gt = memchr::memchr(b'>', b.get(lt..).unwrap_or_default()).ok_or(HeaderFault::UnterminatedAngle)? + lt;
                (sub(s, lt + 1, gt), gt + 1, true)
            }
            None => {
                let end = memchr::memchr(b';', b).unwrap_or(b.len());
                let uri = trim(sub(s, 0, end));
                if let Some(ch) = uri.chars().find(|c| matches!(c, ',' | '?')) {
                    return Err(HeaderFault::NeedsAngleBrackets { ch });
                }
                (uri, end, false)
            }
        };
        let r = skip_lws(b, rest_start);
        let params = match b.get(r) {
            None => Params::default(),
            Some(b';') => Params::header(sub(s, r + 1, s.len()))?,
            Some(_) => return Err(HeaderFault::Trailing { text: sub(s, r, s.len()).to_owned() }),
        };
        if uri.is_empty() {
            return Err(HeaderFault::Uri(crate::error::UriError::Empty));
        }
        Ok(Self { display, uri, bracketed, params })
    }

    /// The display name as written (quoted strings keep their quotes).
    pub fn display_name_raw(&self) -> Option<&'a str> {
        self.display
    }

    /// The display name with quotes and escapes removed.
    pub fn display_name(&self) -> Option<Cow<'a, str>> {
        self.display.map(unquote)
    }

    /// The URI text.
    pub fn uri_str(&self) -> &'a str {
        self.uri
    }

    /// The URI, parsed now. `Contact: *` has none.
    pub fn uri(&self) -> Result<Uri<'a>, HeaderFault> {
        Uri::parse(self.uri).map_err(HeaderFault::Uri)
    }

    /// True if the URI was in `<>`.
    pub fn is_bracketed(&self) -> bool {
        self.bracketed
    }

    /// Header parameters (after the URI).
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// `tag=` (RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&'a str> {
        self.params.value("tag")
    }

    /// True for the `Contact: *` wildcard (RFC 3261 §10.2.2).
    pub fn is_star(&self) -> bool {
        !self.bracketed && self.uri == "*"
    }

    /// Contact `expires=` in seconds (range-checked to 2^32-1).
    pub fn expires(&self) -> Option<u32> {
        self.params.value("expires").and_then(|v| crate::scan::parse_decimal(v.as_bytes(), u32::MAX.into())).and_then(|v| u32::try_from(v).ok())
    }

    /// Contact `q=` as thousandths (0..=1000), RFC 3261 §20.10 `qvalue`.
    pub fn q(&self) -> Option<u16> {
        let v = self.params.value("q")?;
        let (int, frac) = v.split_once('.').unwrap_or((v, ""));
        if frac.len() > 3 || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut thousandths: u16 = frac.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0, |a, c| a * 10 + u16::from(c - b'0'));
        match int {
            "0" => {}
            "1" if thousandths == 0 => thousandths = 1000,
            _ => return None,
        }
        Some(thousandths)
    }

    /// RFC 5626 `+sip.instance`, unquoted (e.g. `<urn:uuid:...>`).
    pub fn sip_instance(&self) -> Option<Cow<'a, str>> {
        self.params.iter().find(|p| p.name.eq_ignore_ascii_case("+sip.instance")).and_then(|p| p.value.map(unquote))
    }
}

fn parse_one(name: HeaderName, v: Result<Option<ValueRef<'_>>, ParseError>) -> Result<NameAddr<'_>, ParseError> {
    let v = v?.ok_or_else(|| ParseError::header(name.as_str(), HeaderFault::Missing))?;
    NameAddr::parse(v.text).map_err(fault(name))
}

impl Message {
    /// From (RFC 3261 §20.20); exactly one is required.
    pub fn from_header(&self) -> Result<NameAddr<'_>, ParseError> {
        parse_one(HeaderName::From, self.single(HeaderName::From))
    }

    /// To (RFC 3261 §20.39).
    pub fn to_header(&self) -> Result<NameAddr<'_>, ParseError> {
        parse_one(HeaderName::To, self.single(HeaderName::To))
    }

    /// The From tag.
    pub fn from_tag(&self) -> Result<Option<&str>, ParseError> {
        self.from_header().map(|f| f.tag())
    }

    /// The To tag.
    pub fn to_tag(&self) -> Result<Option<&str>, ParseError> {
        self.to_header().map(|t| t.tag())
    }

    /// Every value of a name-addr list header (Contact, Route, Record-Route,
    /// P-Asserted-Identity, ...), in order.
    pub fn name_addrs(&self, name: HeaderName) -> impl Iterator<Item = Result<NameAddr<'_>, ParseError>> + '_ {
        self.values(name).map(move |v| v.and_then(|v| NameAddr::parse(v.text).map_err(fault(name))))
    }

    /// Contact values (RFC 3261 §20.10), `*` included.
    pub fn contacts(&self) -> impl Iterator<Item = Result<NameAddr<'_>, ParseError>> + '_ {
        self.name_addrs(HeaderName::Contact)
    }

    /// Route values, top first (RFC 3261 §20.34).
    pub fn routes(&self) -> impl Iterator<Item = Result<NameAddr<'_>, ParseError>> + '_ {
        self.name_addrs(HeaderName::Route)
    }

    /// Record-Route values, top first (RFC 3261 §20.30).
    pub fn record_routes(&self) -> impl Iterator<Item = Result<NameAddr<'_>, ParseError>> + '_ {
        self.name_addrs(HeaderName::RecordRoute)
    }

    /// The top Route value and its position (to remove it, RFC 3261 §16.4).
    pub fn top_route(&self) -> Result<Option<(NameAddr<'_>, ValueRef<'_>)>, ParseError> {
        match self.values(HeaderName::Route).next() {
            None => Ok(None),
            Some(v) => {
                let v = v?;
                Ok(Some((NameAddr::parse(v.text).map_err(fault(HeaderName::Route))?, v)))
            }
        }
    }

    /// P-Asserted-Identity values (RFC 3325 §9.1).
    pub fn p_asserted_identities(&self) -> impl Iterator<Item = Result<NameAddr<'_>, ParseError>> + '_ {
        self.name_addrs(HeaderName::PAssertedIdentity)
    }

    /// P-Preferred-Identity values (RFC 3325 §9.2).
    pub fn p_preferred_identities(&self) -> impl Iterator<Item = Result<NameAddr<'_>, ParseError>> + '_ {
        self.name_addrs(HeaderName::PPreferredIdentity)
    }
}
