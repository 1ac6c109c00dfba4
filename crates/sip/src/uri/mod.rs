//! URIs: `sip`/`sips` (RFC 3261 §19.1), `tel` (RFC 3966), and any other absolute URI kept
//! opaque so the element can still answer 416 (RFC 3261 §8.2.2.1, RFC 4475 §3.3.2-§3.3.3).

pub mod escape;
pub mod host;
mod sip;
mod tel;

use std::fmt;

pub use host::Host;
pub use sip::SipUri;
pub use tel::TelUri;

use crate::error::UriError;

/// A parsed URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uri<'a> {
    /// `sip:` or `sips:`.
    Sip(SipUri<'a>),
    /// `tel:`.
    Tel(TelUri<'a>),
    /// Any other `scheme:rest`, syntactically an absolute URI.
    Other {
        /// The scheme as written.
        scheme: &'a str,
        /// Everything after the colon.
        rest: &'a str,
    },
}

impl<'a> Uri<'a> {
    /// Parse a URI as it appears in a Request-URI or between `<>`.
    pub fn parse(s: &'a str) -> Result<Self, UriError> {
        if s.is_empty() {
            return Err(UriError::Empty);
        }
        if s.starts_with('<') {
            return Err(UriError::AngleBrackets);
        }
        if s.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(UriError::Whitespace);
        }
        let (scheme, rest) = crate::scan::split_at_byte(s, b':').ok_or(UriError::InvalidScheme)?;
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3261 §25.1, RFC 3986 §3.1)
        let scheme_ok = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !scheme_ok {
            return Err(UriError::InvalidScheme);
        }
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_rest(false, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_rest(true, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_rest(rest).map(Uri::Tel)
        } else if rest.is_empty() || rest.bytes().any(|b| b.is_ascii_control() || matches!(b, b'<' | b'>' | b'"')) {
            Err(UriError::InvalidChar { ch: rest.chars().find(|c| c.is_ascii_control() || "<>\"".contains(*c)).unwrap_or(':'), part: "URI" })
        } else {
            Ok(Uri::Other { scheme, rest })
        }
    }

    /// The scheme, as written.
    pub fn scheme(&self) -> &'a str {
        match self {
            Uri::Sip(u) if u.is_sips() => "sips",
            Uri::Sip(_) => "sip",
            Uri::Tel(_) => "tel",
            Uri::Other { scheme, .. } => scheme,
        }
    }

    /// The SIP URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// True for `sip`, `sips` and `tel`, the schemes Causeway routes.
    pub fn is_supported_scheme(&self) -> bool {
        !matches!(self, Uri::Other { .. })
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => write!(f, "{u}"),
            Uri::Tel(t) => {
                write!(f, "tel:{}", t.number())?;
                if !t.params().is_empty() {
                    write!(f, ";{}", t.params().as_str())?;
                }
                Ok(())
            }
            Uri::Other { scheme, rest } => write!(f, "{scheme}:{rest}"),
        }
    }
}

#[cfg(test)]
mod tests;
