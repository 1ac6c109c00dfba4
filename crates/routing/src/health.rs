//! What the node knows about its peers right now: keepalive state (from OPTIONS, see
//! [`crate::keepalive`]), the addresses peer host names resolved to, and whether traversal
//! connections are up. Routing reads a snapshot; it never probes anything itself.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use causeway_sip::Transport;
use serde::Serialize;

use crate::resolve::{DnsAnswer, DnsQuery, QueryKind};
use crate::table::{Peer, Zone, ZoneKind};

/// Keepalive state of one peer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerState {
    /// Not probed yet, or not answered often enough to be up, and not failed often enough to be down.
    #[default]
    Unknown,
    /// Answering OPTIONS.
    Up,
    /// Failed `failures_before_down` probes in a row.
    Down,
}

impl std::fmt::Display for PeerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unknown => "unknown",
            Self::Up => "up",
            Self::Down => "down",
        })
    }
}

/// One peer's entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PeerHealth {
    /// Keepalive state.
    pub state: PeerState,
    /// Addresses its host name resolved to (for classifying requests by source address).
    pub addresses: Vec<IpAddr>,
}

/// The connection an internal node keeps open to this (edge) node for a traversal-server zone:
/// requests for the zone go down it (RFC 5626 §5 flow reuse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TraversalConnection {
    /// The I/O layer's name for the connection.
    pub flow: u64,
    /// The internal node's address on it.
    pub address: SocketAddr,
    /// TCP or TLS.
    #[serde(serialize_with = "crate::serialize_transport")]
    pub transport: Transport,
}

/// Peer health and traversal connection state, by zone name and peer key (`host:port`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HealthSnapshot {
    peers: BTreeMap<String, BTreeMap<String, PeerHealth>>,
    traversal: BTreeMap<String, bool>,
    connections: BTreeMap<String, TraversalConnection>,
    /// DNS answers the node's resolver gave and the node still holds (within their TTL).
    #[serde(skip)]
    answers: BTreeMap<(String, QueryKind), DnsAnswer>,
    assume_up: bool,
}

impl HealthSnapshot {
    /// For dry runs without a running node: every peer not known to be down counts as up, and
    /// every traversal connection as connected.
    pub fn assume_up() -> Self {
        Self { assume_up: true, ..Self::default() }
    }

    /// Whether this snapshot assumes unknown peers are up.
    pub fn assumes_up(&self) -> bool {
        self.assume_up
    }

    fn entry(&mut self, zone: &str, peer: &str) -> &mut PeerHealth {
        self.peers.entry(zone.to_owned()).or_default().entry(peer.to_owned()).or_default()
    }

    /// Records a peer's keepalive state.
    pub fn set_state(&mut self, zone: &str, peer: &str, state: PeerState) {
        self.entry(zone, peer).state = state;
    }

    /// Records the addresses a peer's host name resolved to.
    pub fn set_addresses(&mut self, zone: &str, peer: &str, addresses: Vec<IpAddr>) {
        self.entry(zone, peer).addresses = addresses;
    }

    /// Records whether a traversal zone's connection is up.
    pub fn set_traversal(&mut self, zone: &str, up: bool) {
        self.traversal.insert(zone.to_owned(), up);
    }

    /// Records a traversal-server zone's connection (`None`: there is none), and whether the
    /// zone is up accordingly.
    pub fn set_traversal_connection(&mut self, zone: &str, connection: Option<TraversalConnection>) {
        self.set_traversal(zone, connection.is_some());
        match connection {
            Some(c) => self.connections.insert(zone.to_owned(), c),
            None => self.connections.remove(zone),
        };
    }

    /// The connection requests for traversal-server zone `zone` go down, if one is up.
    pub fn traversal_connection(&self, zone: &str) -> Option<&TraversalConnection> {
        self.connections.get(zone)
    }

    /// Records the answer to a DNS lookup (`None`: forget it, its TTL is over).
    pub fn set_answer(&mut self, query: &DnsQuery, answer: Option<DnsAnswer>) {
        let key = (query.name.to_ascii_lowercase(), query.kind);
        match answer {
            Some(a) => self.answers.insert(key, a),
            None => self.answers.remove(&key),
        };
    }

    /// The answer the node holds for `query`, if any: routing continues an RFC 3263 resolution
    /// with it instead of asking for the lookup again.
    pub fn answer(&self, query: &DnsQuery) -> Option<&DnsAnswer> {
        self.answers.get(&(query.name.to_ascii_lowercase(), query.kind))
    }

    /// The host name `address` was found under, for the TLS server name to verify on a new
    /// connection (RFC 5922 §4: the name the next hop was reached by, not its address): a peer's
    /// host name (its keepalive looked it up); for a target an SRV answer held here gave, the
    /// domain that was looked up — the NAPTR or SRV domain (`callservice.webex.com` for
    /// `_sips._tcp.callservice.webex.com`), never the SRV target, which DNS alone vouches for
    /// (RFC 5922 §4.1); else a name an A/AAAA answer held here gave it.
    pub fn host_of(&self, address: SocketAddr) -> Option<&str> {
        let port = format!(":{}", address.port());
        let peer = self.peers.values().flat_map(|z| z.iter()).find_map(|(key, health)| {
            let host = key.strip_suffix(&port)?;
            health.addresses.contains(&address.ip()).then(|| host.trim_start_matches('[').trim_end_matches(']'))
        });
        peer.or_else(|| self.srv_domain_of(address)).or_else(|| {
            self.answers.keys().find_map(|(name, kind)| {
                (*kind == QueryKind::Address && self.has_address(name, address)).then(|| name.trim_end_matches('.'))
            })
        })
    }

    /// Whether an A/AAAA answer held for `name` holds `address`'s IP.
    fn has_address(&self, name: &str, address: SocketAddr) -> bool {
        let key = (name.trim_end_matches('.').to_ascii_lowercase(), QueryKind::Address);
        matches!(self.answers.get(&key), Some(DnsAnswer::Addresses(records)) if records.iter().any(|r| r.address == address.ip()))
    }

    /// The domain whose SRV records (reached from its NAPTR records, or directly as
    /// `_service._proto.domain`) name a target at `address`.
    fn srv_domain_of(&self, address: SocketAddr) -> Option<&str> {
        let (owner, _) = self.answers.iter().find(|((_, kind), answer)| {
            *kind == QueryKind::Srv
                && matches!(answer, DnsAnswer::Srv(records)
                    if records.iter().any(|r| r.port == address.port() && self.has_address(&r.target, address)))
        })?;
        let owner = owner.0.trim_end_matches('.');
        let naptr = self.answers.iter().find_map(|((name, kind), answer)| match answer {
            DnsAnswer::Naptr(records)
                if *kind == QueryKind::Naptr
                    && records.iter().any(|r| r.replacement.trim_end_matches('.').eq_ignore_ascii_case(owner)) =>
            {
                Some(name.trim_end_matches('.'))
            }
            _ => None,
        });
        // `_sips._tcp.example.com` → `example.com` (RFC 2782 owner names).
        let stripped = owner.splitn(3, '.').nth(2).filter(|_| owner.starts_with('_'));
        naptr.or(stripped)
    }

    /// A peer's entry (default: unknown, no addresses).
    pub fn peer(&self, zone: &str, peer: &str) -> Option<&PeerHealth> {
        self.peers.get(zone).and_then(|z| z.get(peer))
    }

    /// A peer's state.
    pub fn state(&self, zone: &str, peer: &str) -> PeerState {
        self.peer(zone, peer).map_or(PeerState::Unknown, |p| p.state)
    }

    /// Whether requests may go to `peer` of `zone`: never when down; when unknown, only if the
    /// zone does not require an answered keepalive (trunks do) or the snapshot assumes up.
    pub fn peer_usable(&self, zone: &Zone, peer: &Peer) -> bool {
        if zone.keepalive.is_none() {
            return true;
        }
        match self.state(&zone.name, peer.key()) {
            PeerState::Up => true,
            PeerState::Down => false,
            PeerState::Unknown => self.assume_up || !zone.requires_answered_keepalive(),
        }
    }

    /// Whether a search may target the zone now. DNS zones are decided by their lookups.
    pub fn zone_available(&self, zone: &Zone) -> bool {
        match zone.kind {
            ZoneKind::Neighbor | ZoneKind::Trunk | ZoneKind::TraversalClient => {
                zone.peers.iter().any(|p| self.peer_usable(zone, p))
            }
            ZoneKind::Dns => true,
            ZoneKind::TraversalServer => self.assume_up || self.traversal.get(&zone.name).copied().unwrap_or(false),
            ZoneKind::Default => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    #[test]
    fn a_traversal_zone_is_available_while_its_connection_is_known() {
        let table = config::load("[[zone]]\nname = \"internal\"\nkind = \"traversal\"\nrole = \"server\"\n").unwrap_or_else(|e| panic!("{e:?}"));
        let zone = table.zone("internal").unwrap_or_else(|| panic!("zone"));
        let mut health = HealthSnapshot::default();
        assert!(!health.zone_available(zone));
        let connection = TraversalConnection { flow: 7, address: SocketAddr::from(([127, 0, 0, 1], 40000)), transport: Transport::Tls };
        health.set_traversal_connection("internal", Some(connection));
        assert!(health.zone_available(zone));
        assert_eq!(health.traversal_connection("internal"), Some(&connection));
        health.set_traversal_connection("internal", None);
        assert!(!health.zone_available(zone));
        assert_eq!(health.traversal_connection("internal"), None);
    }

    #[test]
    fn dns_answers_are_held_by_name_and_kind_ignoring_case() {
        let mut health = HealthSnapshot::default();
        let query = DnsQuery { name: "_sip._udp.Example.com".into(), kind: QueryKind::Srv };
        health.set_answer(&query, Some(DnsAnswer::NoRecords));
        let lower = DnsQuery { name: "_sip._udp.example.com".into(), kind: QueryKind::Srv };
        assert_eq!(health.answer(&lower), Some(&DnsAnswer::NoRecords));
        assert_eq!(health.answer(&DnsQuery { kind: QueryKind::Naptr, ..lower.clone() }), None);
        health.set_answer(&lower, None);
        assert_eq!(health.answer(&query), None);
    }

    #[test]
    fn rfc5922_4_a_next_hop_address_maps_back_to_the_name_it_was_found_under() {
        use crate::resolve::AddressRecord;
        let mut health = HealthSnapshot::default();
        health.set_addresses("teams", "sip.pstnhub.example:5061", vec![IpAddr::from([192, 0, 2, 52])]);
        let a = DnsQuery { name: "pbx.partner.example".into(), kind: QueryKind::Address };
        health.set_answer(&a, Some(DnsAnswer::Addresses(vec![AddressRecord { address: IpAddr::from([192, 0, 2, 70]), ttl: 60 }])));
        assert_eq!(health.host_of(SocketAddr::from(([192, 0, 2, 52], 5061))), Some("sip.pstnhub.example"));
        assert_eq!(health.host_of(SocketAddr::from(([192, 0, 2, 52], 5062))), None, "another port is another peer");
        assert_eq!(health.host_of(SocketAddr::from(([192, 0, 2, 70], 5061))), Some("pbx.partner.example"));
        assert_eq!(health.host_of(SocketAddr::from(([192, 0, 2, 99], 5061))), None);
    }

    #[test]
    fn rfc5922_4_1_an_srv_target_is_verified_under_the_domain_that_was_looked_up() {
        use crate::resolve::{AddressRecord, NaptrRecord, SrvRecord};
        let mut health = HealthSnapshot::default();
        let srv = |target: &str| SrvRecord { priority: 5, weight: 10, port: 5062, target: target.into(), ttl: 300 };
        let records = DnsAnswer::Srv(vec![srv("l2sip-a.wbx2.com."), srv("l2sip-b.wbx2.com.")]);
        health.set_answer(&DnsQuery { name: "_sips._tcp.callservice.webex.com".into(), kind: QueryKind::Srv }, Some(records));
        for (name, ip) in [("l2sip-a.wbx2.com", [192, 0, 2, 10]), ("l2sip-b.wbx2.com", [192, 0, 2, 11])] {
            let a = DnsAnswer::Addresses(vec![AddressRecord { address: IpAddr::from(ip), ttl: 60 }]);
            health.set_answer(&DnsQuery { name: name.into(), kind: QueryKind::Address }, Some(a));
        }
        assert_eq!(health.host_of(SocketAddr::from(([192, 0, 2, 11], 5062))), Some("callservice.webex.com"));
        assert_eq!(
            health.host_of(SocketAddr::from(([192, 0, 2, 11], 5061))),
            Some("l2sip-b.wbx2.com"),
            "not the SRV record's port: only the A/AAAA name is known"
        );

        // Through NAPTR: the domain whose NAPTR records led to the SRV name.
        let mut health = HealthSnapshot::default();
        let naptr = NaptrRecord {
            order: 10,
            preference: 10,
            flags: "s".into(),
            service: "SIPS+D2T".into(),
            replacement: "_sips._tcp.sip-servers.partner.example.".into(),
            ttl: 300,
        };
        health.set_answer(&DnsQuery { name: "partner.example".into(), kind: QueryKind::Naptr }, Some(DnsAnswer::Naptr(vec![naptr])));
        let records = DnsAnswer::Srv(vec![SrvRecord { priority: 1, weight: 1, port: 5061, target: "pbx.partner.example.".into(), ttl: 300 }]);
        health.set_answer(&DnsQuery { name: "_sips._tcp.sip-servers.partner.example".into(), kind: QueryKind::Srv }, Some(records));
        let a = DnsAnswer::Addresses(vec![AddressRecord { address: IpAddr::from([192, 0, 2, 70]), ttl: 60 }]);
        health.set_answer(&DnsQuery { name: "pbx.partner.example".into(), kind: QueryKind::Address }, Some(a));
        assert_eq!(health.host_of(SocketAddr::from(([192, 0, 2, 70], 5061))), Some("partner.example"));
    }
}
