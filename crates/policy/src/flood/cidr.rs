//! The allow-list: trusted zones and CIDR blocks whose traffic is never counted or banned
//! (the PBX trunk, the cloud provider's mutual-TLS zone, cluster peers).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address block such as `10.0.0.0/8` or `2001:db8::/32` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies in the block. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) count as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 → IPv4, so one rule covers both socket families.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let mut bits = usize::from(prefix);
    for (x, y) in a.iter().zip(b) {
        if bits == 0 {
            return true;
        }
        let take = bits.min(8);
        let mask = u8::MAX << (8 - take);
        if x & mask != y & mask {
            return false;
        }
        bits -= take;
    }
    true
}

/// A CIDR that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{text}\" is not an address block (expected e.g. 10.0.0.0/8 or 2001:db8::/32)")]
pub struct CidrError {
    /// As written.
    pub text: String,
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CidrError { text: s.to_owned() };
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network = canonical(addr.trim().parse::<IpAddr>().map_err(|_| err())?);
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(err)?,
            None => max,
        };
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Trusted zones and address blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    /// Address blocks.
    pub cidrs: Vec<Cidr>,
    /// Zone names (the zone a request was classified into).
    pub zones: Vec<String>,
}

impl AllowList {
    /// Whether traffic from `ip` in `zone` is trusted.
    pub fn trusts(&self, ip: IpAddr, zone: &str) -> bool {
        self.zones.iter().any(|z| z == zone) || self.cidrs.iter().any(|c| c.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn blocks_contain_their_addresses() {
        assert!(cidr("10.0.0.0/8").contains(ip("10.200.1.1")));
        assert!(!cidr("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(cidr("192.168.1.128/25").contains(ip("192.168.1.200")));
        assert!(!cidr("192.168.1.128/25").contains(ip("192.168.1.100")));
        assert!(cidr("2001:db8::/32").contains(ip("2001:db8:1::5")));
        assert!(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(cidr("127.0.0.1").contains(ip("::ffff:127.0.0.1")), "v4-mapped counts as v4");
        assert!(!cidr("127.0.0.1").contains(ip("127.0.0.2")));
    }

    #[test]
    fn bad_blocks_are_refused() {
        for bad in ["10.0.0.0/33", "10.0.0/8", "x/8", "::/129", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }
}
