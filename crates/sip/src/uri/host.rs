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
        if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return s.parse::<Ipv4Addr>().map(Host::V4).map_err(|_| invalid());
        }
        if is_hostname(s) {
            Ok(Host::Name(s))
        } else {
            Err(invalid())
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

/// `hostname = *( domainlabel "." ) toplabel [ "." ]` (RFC 3261 §25.1): labels of
/// alphanumerics and inner hyphens, the last one starting with a letter.
fn is_hostname(s: &str) -> bool {
    let b = s.as_bytes();
    let body = b.strip_suffix(b".").unwrap_or(b);
    let mut label_start = 0;
    for (i, &c) in body.iter().enumerate() {
        if c == b'.' {
            if !label_ok(body.get(label_start..i).unwrap_or_default()) {
                return false;
            }
            label_start = i + 1;
        } else if !(c.is_ascii_alphanumeric() || c == b'-') {
            return false;
        }
    }
    let top = body.get(label_start..).unwrap_or_default();
    label_ok(top) && top.first().is_some_and(u8::is_ascii_alphabetic)
}

fn label_ok(label: &[u8]) -> bool {
    matches!((label.first(), label.last()), (Some(f), Some(l)) if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric())
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
        assert!(Host::parse("255.255.255.255").is_ok_and(|h| h.is_broadcast()));
        assert!(Host::parse("Example.COM").is_ok_and(|h| h.matches(&Host::Name("example.com"))));
        assert_eq!(parse_port("65536"), Err(UriError::InvalidPort { text: "65536".into() }));
        assert_eq!(parse_port("5060"), Ok(5060));
    }
}
