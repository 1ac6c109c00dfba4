//! `tel:` URIs (RFC 3966 §3).

use crate::error::UriError;
use crate::header::params::Params;

/// A telephone number URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelUri<'a> {
    number: &'a str,
    params: Params<'a>,
}

impl<'a> TelUri<'a> {
    /// Parse the part after `tel:`: `global-number` (`+` digits) or `local-number` with a
    /// `phone-context` parameter (RFC 3966 §5.1.5).
    pub(crate) fn parse_rest(rest: &'a str) -> Result<Self, UriError> {
        let (number, params) = match crate::scan::split_at_byte(rest, b';') {
            Some((n, p)) => (n, Params::uri(p)?),
            None => (rest, Params::default()),
        };
        let visual = |c: u8| matches!(c, b'-' | b'.' | b'(' | b')');
        let ok = if let Some(global) = number.strip_prefix('+') {
            global.bytes().any(|c| c.is_ascii_digit()) && global.bytes().all(|c| c.is_ascii_digit() || visual(c))
        } else {
            number.bytes().any(|c| c.is_ascii_hexdigit() || c == b'*' || c == b'#')
                && number.bytes().all(|c| c.is_ascii_hexdigit() || c == b'*' || c == b'#' || visual(c))
                && params.contains("phone-context")
        };
        if !ok {
            return Err(UriError::InvalidTelNumber);
        }
        Ok(Self { number, params })
    }

    /// The number as written, visual separators included.
    pub fn number(&self) -> &'a str {
        self.number
    }

    /// The number with visual separators removed (RFC 3966 §5.1.1), e.g. for routing.
    pub fn digits(&self) -> String {
        self.number.chars().filter(|c| !matches!(c, '-' | '.' | '(' | ')')).collect()
    }

    /// True for a `+`-prefixed global number.
    pub fn is_global(&self) -> bool {
        self.number.starts_with('+')
    }

    /// The parameters (`phone-context`, `ext`, `isub`, ...).
    pub fn params(&self) -> Params<'a> {
        self.params
    }
}
