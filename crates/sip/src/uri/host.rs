//! Hosts in URIs and Via sent-by: hostname, IPv4 address or IPv6 reference
//! (RFC 3261 §25.1 `host`; RFC 5118 for the IPv6 forms).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::UriError;

/// A parsed host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// A DNS name, as written (compare case-insensitively).
    Name(&'a str),
    /// A dotted-quad IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 reference `[...]` (RFC 5118); the address inside.
    V6(Ipv6Addr),
}

impl<'a> Host<'a> {
    /// Parse `hostname / IPv4address / IPv6reference`.
    pub fn parse(s: &'a str) -> Result<Self, UriError> {
        let invalid = || UriError::InvalidHost { text: s.to_owned() };
        if s.is_empty() {
            return Err(UriError::MissingHost);
        }
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or_else(invalid)?;
            // RFC 5118 §4.3/§4.4: `IPv6address` grammar; std's parser rejects ":::" and
            // other malformed forms and accepts the embedded-IPv4 form.
            return inner.parse::<Ipv6Addr>().map(Host::V6).map_err(|_| invalid());
        }
        match classify(s.as_bytes()) {
            Shape::Dotted => s.parse::<Ipv4Addr>().map(Host::V4).map_err(|_| invalid()),
            Shape::Hostname => Ok(Host::Name(s)),
            Shape::Invalid => Err(invalid()),
        }
    }

    /// The address, for IP hosts.
    pub fn ip(&self) -> Option<IpAddr> {
        match *self {
            Host::V4(a) => Some(IpAddr::V4(a)),
            Host::V6(a) => Some(IpAddr::V6(a)),
            Host::Name(_) => None,
        }
    }

    /// The limited broadcast address 255.255.255.255 (RFC 4475 §3.3.10: a proxy must not
    /// send a response there).
    pub fn is_broadcast(&self) -> bool {
        matches!(self, Host::V4(a) if a.is_broadcast())
    }

    /// Host comparison of RFC 3261 §19.1.4: names case-insensitively, addresses by value.
    pub fn matches(&self, other: &Host<'_>) -> bool {
        match (self, other) {
            (Host::Name(a), Host::Name(b)) => a.trim_end_matches('.').eq_ignore_ascii_case(b.trim_end_matches('.')),
            (Host::V4(a), Host::V4(b)) => a == b,
            (Host::V6(a), Host::V6(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "[{a}]"),
        }
    }
}

/// What an unbracketed host looks like.
enum Shape {
    /// Only digits and dots: an IPv4 address or nothing.
    Dotted,
    /// `hostname = *( domainlabel "." ) toplabel [ "." ]` (RFC 3261 §25.1): labels of
    /// alphanumerics and inner hyphens, the last one starting with a letter.
    Hostname,
    /// Neither.
    Invalid,
}

const ALPHA: u8 = 1;
const DIGIT: u8 = 2;
const HYPHEN: u8 = 4;
const DOT: u8 = 8;

/// Host byte classes for [`classify`]; 0 is a byte no host has.
static HOST_BYTE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b.is_ascii_alphabetic() {
            ALPHA
        } else if b.is_ascii_digit() {
            DIGIT
        } else if b == b'-' {
            HYPHEN
        } else if b == b'.' {
            DOT
        } else {
            0
        };
        i += 1;
    }
    t
};

/// One table-driven pass: every host of every URI and Via a proxy reads comes through here.
fn classify(s: &[u8]) -> Shape {
    let body = s.strip_suffix(b".").unwrap_or(s);
    // The class of the byte before the current one; a dot before the first byte starts the
    // first label.
    let mut prev = DOT;
    let mut top_first = 0u8;
    let mut seen = 0u8;
    let mut bad_label = false;
    for &c in body {
        // A u8 always indexes the 256-entry table.
        let k = HOST_BYTE[usize::from(c)];
        if k == 0 {
            return Shape::Invalid;
        }
        if k == DOT {
            // A label is non-empty and ends with an alphanumeric.
            bad_label |= prev & (ALPHA | DIGIT) == 0;
        } else if prev == DOT {
            // A label starts with an alphanumeric.
            bad_label |= k == HYPHEN;
            top_first = k;
        }
        seen |= k;
        prev = k;
    }
    if seen & (ALPHA | HYPHEN) == 0 {
        Shape::Dotted
    } else if !bad_label && prev & (ALPHA | DIGIT) != 0 && top_first == ALPHA {
        Shape::Hostname
    } else {
        Shape::Invalid
    }
}

/// Split `host[:port]` where host may be an IPv6 reference. Returns host text and port text.
pub(crate) fn split_host_port(s: &str) -> (&str, Option<&str>) {
    let host_end = if s.starts_with('[') {
        crate::scan::find(s, b']').map_or(s.len(), |i| i + 1)
    } else {
        crate::scan::find(s, b':').unwrap_or(s.len())
    };
    let host = s.get(..host_end).unwrap_or(s);
    match s.get(host_end..) {
        Some(rest) if !rest.is_empty() => (host, Some(rest.strip_prefix(':').unwrap_or(rest))),
        _ => (host, None),
    }
}

/// A port: 1 to 5 digits, at most 65535.
pub(crate) fn parse_port(s: &str) -> Result<u16, UriError> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UriError::InvalidPort { text: s.to_owned() });
    }
    s.parse::<u16>().map_err(|_| UriError::InvalidPort { text: s.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5118_ipv6_references() {
        assert_eq!(Host::parse("[2001:db8::10]").ok().and_then(|h| h.ip()), "2001:db8::10".parse().ok());
        assert!(Host::parse("[2001:db8:::192.0.2.1]").is_err());
        assert!(Host::parse("[2001:db8::192.0.2.1]").is_ok());
        assert!(Host::parse("[::ffff:192.0.2.1]").is_ok());
        assert!(Host::parse("2001:db8::10").is_err());
        assert_eq!(split_host_port("[2001:db8::10]:5070"), ("[2001:db8::10]", Some("5070")));
        assert_eq!(split_host_port("[2001:db8::10:5070]"), ("[2001:db8::10:5070]", None));
        assert_eq!(split_host_port("host.example.com:5060"), ("host.example.com", Some("5060")));
    }

    #[test]
    fn hostnames_and_ipv4() {
        assert!(matches!(Host::parse("chair-dnrc.example.com"), Ok(Host::Name(_))));
        assert!(matches!(Host::parse("example.com."), Ok(Host::Name(_))));
        assert!(Host::parse("192.0.2.256").is_err());
        assert!(Host::parse("-bad.example.com").is_err());
        assert!(Host::parse("example.123").is_err());
        assert!(Host::parse("exa mple.com").is_err());
        for bad in ["a..example.com", "a-.example.com", "example.com..", ".example.com", "example.-com", "x_y.com", "1.2.3", ".", "192.0.2.1."] {
            assert!(Host::parse(bad).is_err(), "{bad}");
        }
        for good in ["a-b.c1.example", "x.y", "EXAMPLE", "1a.b2.c"] {
            assert!(matches!(Host::parse(good), Ok(Host::Name(_))), "{good}");
        }
        assert!(Host::parse("255.255.255.255").is_ok_and(|h| h.is_broadcast()));
        assert!(Host::parse("Example.COM").is_ok_and(|h| h.matches(&Host::Name("example.com"))));
        assert_eq!(parse_port("65536"), Err(UriError::InvalidPort { text: "65536".into() }));
        assert_eq!(parse_port("5060"), Ok(5060));
    }
}
