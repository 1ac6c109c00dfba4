//! Next hops of one [`ZoneTarget`], as a sans-IO state machine: [`Resolution::poll`] says which
//! DNS lookup to do next (or that it is done), [`Resolution::handle_answer`] takes the answer.
//!
//! - Neighbor, trunk and traversal-client zones: the usable peers (keepalive state from the
//!   [`HealthSnapshot`]) in RFC 2782 order of their priority and weight; host names are looked
//!   up (A/AAAA).
//! - DNS zones: RFC 3263 §4 from the destination's domain, or from the zone's `search_domain`
//!   ("modify DNS request": the Request-URI is not changed). A numeric host is used as is; an
//!   explicit port means A/AAAA only; a known transport (the zone's `transport`, the URI's
//!   `transport=`, TLS for `sips`) means SRV for it directly; otherwise NAPTR, then SRV
//!   (`_sips._tcp`, `_sip._tcp`, `_sip._udp` when there is no usable NAPTR). SRV targets are
//!   ordered by RFC 2782 with the injected random source and looked up. Without SRV records,
//!   A/AAAA of the domain only with `include_address_record` (Expressway's default is off).
//! - Traversal-server zones: no lookup; the request goes down the zone's connection.
//!
//! The result is the ordered hop list the proxy fails over along (RFC 3263 §4.3), each with the
//! smallest TTL on its way for the caller's cache. Work is bounded: at most [`MAX_QUERIES`]
//! lookups and [`MAX_HOPS`] hops, whatever the answers hold.

mod records;
mod srv;

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

use causeway_sip::uri::Uri;
use causeway_sip::Transport;
use rand::RngCore;
use serde::Serialize;

pub use records::{AddressRecord, DnsAnswer, DnsFailure, DnsQuery, LookupRecord, NaptrRecord, NextHop, QueryKind, SrvRecord};

use crate::decision::ZoneTarget;
use crate::health::HealthSnapshot;
use crate::table::{RoutingTable, Zone, ZoneKind};

/// Lookups one resolution may ask for.
pub const MAX_QUERIES: usize = 24;
/// Hops one resolution may produce.
pub const MAX_HOPS: usize = 16;

/// What to do next.
#[derive(Debug, PartialEq, Eq)]
pub enum ResolveStep<'a> {
    /// Perform this lookup and call [`Resolution::handle_answer`].
    Query(&'a DnsQuery),
    /// Try these hops in order.
    Done(&'a [NextHop]),
    /// Send down the connection the traversal client keeps up for this zone.
    TraversalFlow,
    /// No hop: the target cannot route the request.
    Failed(ResolveError),
}

/// Why a target has no next hop; [`ResolveError::status`] is the response when it was the
/// last target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum ResolveError {
    /// No peer of the zone is usable (keepalive down, or not yet up on a trunk).
    #[error("no peer is up")]
    NoPeerUp,
    /// DNS has no usable record (or the lookup budget ran out).
    #[error("DNS has no usable record")]
    NotFound,
    /// A DNS lookup timed out and nothing else was found.
    #[error("DNS lookup timed out")]
    Timeout,
    /// A DNS server failed and nothing else was found.
    #[error("DNS server failure")]
    ServerFailure,
    /// The target's destination is not a SIP or tel URI with a host.
    #[error("the destination has no host to look up")]
    NoHost,
}

impl ResolveError {
    /// RFC 3261 §21: 503 when no server can be contacted (RFC 3263 §4.3), 504 when the DNS
    /// did not answer in time, 404 when the destination does not exist, 400 when it is unusable.
    pub fn status(self) -> u16 {
        match self {
            Self::NoPeerUp | Self::ServerFailure => 503,
            Self::NotFound => 404,
            Self::Timeout => 504,
            Self::NoHost => 400,
        }
    }
}

/// A unit of work: what to look up next.
#[derive(Debug, Clone)]
enum Work {
    Naptr { name: String, sips: bool, address_fallback: bool },
    Srv { candidates: VecDeque<(String, Transport)>, fallback: Option<Fallback>, ttl: Option<u32> },
    Address { host: String, port: u16, transport: Transport, ttl: Option<u32>, peer: Option<String> },
}

/// A/AAAA of the domain when no SRV record exists (RFC 3263 §4.2).
#[derive(Debug, Clone)]
struct Fallback {
    host: String,
    transport: Transport,
}

/// The resolution of one target.
#[derive(Debug)]
pub struct Resolution {
    work: VecDeque<Work>,
    in_flight: Option<(DnsQuery, Work)>,
    hops: Vec<NextHop>,
    lookups: Vec<LookupRecord>,
    failure: Option<ResolveError>,
    traversal: bool,
}

impl Resolution {
    /// Starts resolving `target`. `rng` orders equal-priority peers.
    pub fn new(table: &RoutingTable, target: &ZoneTarget, health: &HealthSnapshot, rng: &mut dyn RngCore) -> Self {
        let mut r = Self { work: VecDeque::new(), in_flight: None, hops: Vec::new(), lookups: Vec::new(), failure: None, traversal: false };
        match table.zone(&target.zone) {
            Some(zone) => match zone.kind {
                ZoneKind::Neighbor | ZoneKind::Trunk | ZoneKind::TraversalClient => r.start_peers(zone, health, rng),
                ZoneKind::Dns => r.start_dns(zone, target),
                ZoneKind::TraversalServer => r.traversal = true,
                ZoneKind::Default => r.failure = Some(ResolveError::NoPeerUp),
            },
            None => r.failure = Some(ResolveError::NoPeerUp),
        }
        r
    }

    fn start_peers(&mut self, zone: &Zone, health: &HealthSnapshot, rng: &mut dyn RngCore) {
        let usable: Vec<_> = zone.peers.iter().filter(|p| health.peer_usable(zone, p)).collect();
        if usable.is_empty() {
            self.failure = Some(ResolveError::NoPeerUp);
        }
        for peer in srv::order(usable, |p| (p.priority, p.weight), rng) {
            let host = peer.host.clone();
            self.work.push_back(Work::Address { host, port: peer.port, transport: peer.transport, ttl: None, peer: Some(peer.key().to_owned()) });
        }
    }

    fn start_dns(&mut self, zone: &Zone, target: &ZoneTarget) {
        let dns = zone.dns.clone().unwrap_or(crate::table::DnsSettings { search_domain: None, transport: None, include_address_record: false });
        let destination = target.request_uri.clone().unwrap_or_else(|| format!("sip:{}", target.alias));
        let Ok(Uri::Sip(uri)) = Uri::parse(&destination) else {
            self.failure = Some(ResolveError::NoHost);
            return;
        };
        let sips = uri.is_sips();
        // RFC 3263 §4.1: a SIPS URI runs over TLS whatever transport it names.
        let transport = dns.transport.or(uri.transport()).map(|t| if sips { Transport::Tls } else { t });
        let fallback_transport = transport.unwrap_or(if sips { Transport::Tls } else { Transport::Udp });
        let host = dns.search_domain.clone().unwrap_or_else(|| uri.host_str().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase());
        let explicit_port = uri.port().filter(|_| dns.search_domain.is_none());
        if host.parse::<IpAddr>().is_ok() || explicit_port.is_some() {
            let port = explicit_port.unwrap_or(fallback_transport.default_port());
            self.work.push_back(Work::Address { host, port, transport: fallback_transport, ttl: None, peer: None });
            return;
        }
        let fallback = dns.include_address_record.then(|| Fallback { host: host.clone(), transport: fallback_transport });
        match transport {
            Some(t) => {
                let candidates = VecDeque::from([(srv_name(t, &host), t)]);
                self.work.push_back(Work::Srv { candidates, fallback, ttl: None });
            }
            None => self.work.push_back(Work::Naptr { name: host, sips, address_fallback: dns.include_address_record }),
        }
    }

    /// The next thing to do. Call again after each [`Resolution::handle_answer`].
    pub fn poll(&mut self) -> ResolveStep<'_> {
        if self.traversal {
            return ResolveStep::TraversalFlow;
        }
        while self.in_flight.is_none() {
            let Some(work) = self.work.pop_front() else { break };
            if self.lookups.len() >= MAX_QUERIES || self.hops.len() >= MAX_HOPS {
                self.work.clear();
                break;
            }
            let query = match &work {
                Work::Naptr { name, .. } => DnsQuery { name: name.clone(), kind: QueryKind::Naptr },
                Work::Srv { candidates, .. } => match candidates.front() {
                    Some((name, _)) => DnsQuery { name: name.clone(), kind: QueryKind::Srv },
                    None => continue,
                },
                Work::Address { host, port, transport, ttl, peer } => match host.parse::<IpAddr>() {
                    Ok(ip) => {
                        let hop = NextHop { transport: *transport, address: SocketAddr::new(ip, *port), host: host.clone(), ttl: *ttl, peer: peer.clone() };
                        self.hops.push(hop);
                        continue;
                    }
                    Err(_) => DnsQuery { name: host.clone(), kind: QueryKind::Address },
                },
            };
            self.in_flight = Some((query, work));
        }
        match (&self.in_flight, self.hops.is_empty()) {
            (Some((query, _)), _) => ResolveStep::Query(query),
            (None, false) => ResolveStep::Done(&self.hops),
            (None, true) => ResolveStep::Failed(self.failure.unwrap_or(ResolveError::NotFound)),
        }
    }

    /// The answer to the query [`Resolution::poll`] returned. `rng` orders SRV records.
    pub fn handle_answer(&mut self, answer: DnsAnswer, rng: &mut dyn RngCore) {
        let Some((query, work)) = self.in_flight.take() else { return };
        self.lookups.push(LookupRecord { query, answer: answer.summary() });
        if let DnsAnswer::Failed(f) = &answer {
            // A timeout explains an empty result better than "not found"; keep the first.
            let error = match f {
                DnsFailure::Timeout => ResolveError::Timeout,
                DnsFailure::ServerFailure => ResolveError::ServerFailure,
            };
            self.failure.get_or_insert(error);
        }
        match (work, answer) {
            (Work::Naptr { name, sips, address_fallback }, DnsAnswer::Naptr(records)) => {
                let mut usable: Vec<_> = records
                    .into_iter()
                    .filter(|n| n.flags.eq_ignore_ascii_case("s"))
                    .filter_map(|n| naptr_transport(&n.service, sips).map(|t| (n, t)))
                    .collect();
                usable.sort_by_key(|(n, _)| (n.order, n.preference));
                let ttl = usable.iter().map(|(n, _)| n.ttl).min();
                let candidates: VecDeque<_> = usable.into_iter().map(|(n, t)| (n.replacement.trim_end_matches('.').to_owned(), t)).collect();
                let fallback = address_fallback.then(|| default_fallback(&name, sips));
                if candidates.is_empty() {
                    self.work.push_front(Work::Srv { candidates: default_candidates(&name, sips), fallback, ttl: None });
                } else {
                    self.work.push_front(Work::Srv { candidates, fallback, ttl });
                }
            }
            (Work::Naptr { name, sips, address_fallback }, _) => {
                // RFC 3263 §4.1: no NAPTR records → SRV for each transport we support.
                let fallback = address_fallback.then(|| default_fallback(&name, sips));
                self.work.push_front(Work::Srv { candidates: default_candidates(&name, sips), fallback, ttl: None });
            }
            (Work::Srv { mut candidates, fallback, ttl }, answer) => {
                let transport = candidates.pop_front().map(|(_, t)| t);
                let records = match answer {
                    // RFC 2782: a lone target of "." means the service is decidedly not offered.
                    DnsAnswer::Srv(r) => r.into_iter().filter(|s| !s.target.trim_end_matches('.').is_empty()).collect(),
                    _ => Vec::new(),
                };
                match (transport, records.is_empty()) {
                    (Some(transport), false) => {
                        let ordered = srv::order(records, |s| (s.priority, s.weight), rng);
                        for s in ordered.into_iter().rev() {
                            let host = s.target.trim_end_matches('.').to_ascii_lowercase();
                            let ttl = Some(ttl.map_or(s.ttl, |t| t.min(s.ttl)));
                            self.work.push_front(Work::Address { host, port: s.port, transport, ttl, peer: None });
                        }
                    }
                    _ if !candidates.is_empty() => self.work.push_front(Work::Srv { candidates, fallback, ttl }),
                    _ => {
                        if let Some(Fallback { host, transport }) = fallback {
                            let port = transport.default_port();
                            self.work.push_front(Work::Address { host, port, transport, ttl, peer: None });
                        }
                    }
                }
            }
            (Work::Address { host, port, transport, ttl, peer }, DnsAnswer::Addresses(records)) => {
                for a in records.into_iter().take(MAX_HOPS.saturating_sub(self.hops.len())) {
                    let ttl = Some(ttl.map_or(a.ttl, |t| t.min(a.ttl)));
                    let hop = NextHop { transport, address: SocketAddr::new(a.address, port), host: host.clone(), ttl, peer: peer.clone() };
                    self.hops.push(hop);
                }
            }
            (Work::Address { .. }, _) => {}
        }
    }

    /// Lookups so far, with their answers.
    pub fn lookups(&self) -> &[LookupRecord] {
        &self.lookups
    }

    /// Hops found so far.
    pub fn hops(&self) -> &[NextHop] {
        &self.hops
    }

    /// One line for the trace: the hops in order, or why there are none.
    pub fn summary(&self) -> String {
        if self.traversal {
            return "down the traversal connection".to_owned();
        }
        if self.in_flight.is_some() || !self.work.is_empty() {
            return "unfinished".to_owned();
        }
        if self.hops.is_empty() {
            let error = self.failure.unwrap_or(ResolveError::NotFound);
            return format!("no next hop: {error} ({})", error.status());
        }
        self.hops.iter().map(ToString::to_string).collect::<Vec<_>>().join(", then ")
    }
}

/// RFC 3263 §4.1: `_sips._tcp` for TLS, `_sip._tcp`, `_sip._udp`.
fn srv_name(transport: Transport, domain: &str) -> String {
    let prefix = match transport {
        Transport::Tls => "_sips._tcp",
        Transport::Tcp => "_sip._tcp",
        Transport::Udp => "_sip._udp",
    };
    format!("{prefix}.{domain}")
}

/// RFC 3263 §4.1: a SIPS URI may only use SIPS+D2T; a SIP URI any we support.
fn naptr_transport(service: &str, sips: bool) -> Option<Transport> {
    match service.to_ascii_uppercase().as_str() {
        "SIPS+D2T" => Some(Transport::Tls),
        "SIP+D2T" if !sips => Some(Transport::Tcp),
        "SIP+D2U" if !sips => Some(Transport::Udp),
        _ => None,
    }
}

/// SRV queries without NAPTR, in our preference order (secure first).
fn default_candidates(domain: &str, sips: bool) -> VecDeque<(String, Transport)> {
    let transports: &[Transport] = if sips { &[Transport::Tls] } else { &[Transport::Tls, Transport::Tcp, Transport::Udp] };
    transports.iter().map(|t| (srv_name(*t, domain), *t)).collect()
}

/// RFC 3263 §4.1-4.2: without SRV records, TLS (for SIPS) or UDP at the default port.
fn default_fallback(domain: &str, sips: bool) -> Fallback {
    Fallback { host: domain.to_owned(), transport: if sips { Transport::Tls } else { Transport::Udp } }
}
