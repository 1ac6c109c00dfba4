//! DNS questions and answers as plain data: the caller (hickory in the node, the test's fake in
//! tests) turns a [`DnsQuery`] into a [`DnsAnswer`].

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use causeway_sip::Transport;
use serde::Serialize;

/// A lookup the caller must perform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsQuery {
    /// Owner name (`_sips._tcp.callservice.webex.com`, `cucm.ent-pa.com`).
    pub name: String,
    /// Record type.
    pub kind: QueryKind,
}

/// Record types RFC 3263 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryKind {
    /// NAPTR (RFC 3403), for transport selection.
    Naptr,
    /// SRV (RFC 2782).
    Srv,
    /// A and AAAA together.
    Address,
}

impl fmt::Display for DnsQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            QueryKind::Naptr => "NAPTR",
            QueryKind::Srv => "SRV",
            QueryKind::Address => "A/AAAA",
        };
        write!(f, "{kind} {}", self.name)
    }
}

/// A NAPTR record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NaptrRecord {
    /// Lower first.
    pub order: u16,
    /// Lower first within an order.
    pub preference: u16,
    /// `s` for records that lead to SRV.
    pub flags: String,
    /// `SIP+D2U`, `SIP+D2T`, `SIPS+D2T`.
    pub service: String,
    /// The SRV owner name.
    pub replacement: String,
    /// Seconds.
    pub ttl: u32,
}

/// An SRV record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SrvRecord {
    /// Lower first.
    pub priority: u16,
    /// Share within a priority.
    pub weight: u16,
    /// Port.
    pub port: u16,
    /// Target host (`.` means the service is not offered).
    pub target: String,
    /// Seconds.
    pub ttl: u32,
}

/// An A or AAAA record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AddressRecord {
    /// The address.
    pub address: IpAddr,
    /// Seconds.
    pub ttl: u32,
}

/// What a lookup returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsAnswer {
    /// NAPTR records.
    Naptr(Vec<NaptrRecord>),
    /// SRV records.
    Srv(Vec<SrvRecord>),
    /// A/AAAA records.
    Addresses(Vec<AddressRecord>),
    /// NXDOMAIN or no records of that type.
    NoRecords,
    /// The lookup itself failed.
    Failed(DnsFailure),
}

/// Why a lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnsFailure {
    /// No answer in time.
    Timeout,
    /// SERVFAIL, REFUSED or a malformed answer.
    ServerFailure,
}

/// One lookup and a one-line summary of its answer, for the trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LookupRecord {
    /// The question.
    pub query: DnsQuery,
    /// The answer.
    pub answer: String,
}

impl fmt::Display for LookupRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.query, self.answer)
    }
}

impl DnsAnswer {
    pub(crate) fn summary(&self) -> String {
        let join = |items: Vec<String>| items.join(", ");
        match self {
            Self::Naptr(r) => join(
                r.iter().map(|n| format!("{} {} \"{}\" {} {} (ttl {})", n.order, n.preference, n.flags, n.service, n.replacement, n.ttl)).collect(),
            ),
            Self::Srv(r) => {
                join(r.iter().map(|s| format!("{} {} {} {} (ttl {})", s.priority, s.weight, s.port, s.target, s.ttl)).collect())
            }
            Self::Addresses(r) => join(r.iter().map(|a| format!("{} (ttl {})", a.address, a.ttl)).collect()),
            Self::NoRecords => "no records".to_owned(),
            Self::Failed(DnsFailure::Timeout) => "timed out".to_owned(),
            Self::Failed(DnsFailure::ServerFailure) => "server failure".to_owned(),
        }
    }
}

/// A resolved next hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextHop {
    /// Transport.
    #[serde(serialize_with = "crate::serialize_transport")]
    pub transport: Transport,
    /// Address and port.
    pub address: SocketAddr,
    /// The host name the hop was found under: the TLS server name to verify (RFC 5922 §4).
    pub host: String,
    /// Seconds the hop may be cached (the smallest TTL on the way); `None` for configured
    /// addresses.
    pub ttl: Option<u32>,
    /// The configured peer (`host:port`) it belongs to, for keepalive state and failover.
    pub peer: Option<String>,
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.transport, self.address)?;
        if self.address.ip().to_string() != self.host {
            write!(f, " ({})", self.host)?;
        }
        if let Some(ttl) = self.ttl {
            write!(f, " ttl {ttl}")?;
        }
        Ok(())
    }
}
