//! Which zone an incoming request belongs to (Expressway's zone matching), proven by a
//! [`ZoneClassified`] token that only this module can build (STYLE §6.5).
//!
//! In order: (1) on a TLS connection whose peer presented a certificate, the first zone (in
//! configuration order) with a `tls_verify_subject` matching one of the certificate's names;
//! (2) a zone with a peer at the source address (configured IP, or an address its host name
//! resolved to); (3) a zone that owns the listener. Zones with `tls_verify_subject` are reached
//! only through (1): their address or listener alone admits nobody. Anything else lands in the
//! default zone — never in a trusted zone.

use std::net::{IpAddr, SocketAddr};

use causeway_sip::Transport;
use serde::Serialize;

use crate::health::HealthSnapshot;
use crate::table::{RoutingTable, Zone};

/// What is known about an incoming request's arrival.
#[derive(Debug, Clone, Copy)]
pub struct ClassifyInput<'a> {
    /// The listener it came on.
    pub listener: SocketAddr,
    /// The source address.
    pub source: SocketAddr,
    /// The transport.
    pub transport: Transport,
    /// Subject names of the verified peer certificate (mutual TLS): SAN DNS names and IPs.
    pub tls_peer_names: Option<&'a [String]>,
}

/// Proof that a request was classified into a zone. Only [`classify`] and, for dry runs,
/// [`assume`] build one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneClassified {
    zone: String,
    by: ClassifiedBy,
}

impl ZoneClassified {
    /// The zone's name.
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// Why the request is in that zone.
    pub fn by(&self) -> &ClassifiedBy {
        &self.by
    }
}

/// Why a request is in its zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum ClassifiedBy {
    /// A certificate name matched the zone's `tls_verify_subject`.
    TlsSubject {
        /// The certificate name.
        name: String,
        /// The configured subject it matched.
        subject: String,
    },
    /// The source address is one of the zone's peers.
    SourceAddress {
        /// The source address.
        address: IpAddr,
        /// The peer (`host:port`).
        peer: String,
    },
    /// The listener belongs to the zone.
    Listener {
        /// The listener.
        listener: SocketAddr,
    },
    /// Nothing matched.
    NoMatch {
        /// Zones the request would have reached but for its certificate: it presented none,
        /// or none of its names matched their `tls_verify_subject`.
        refused: Vec<String>,
    },
    /// A dry run named the zone (`causeway locate --zone`).
    Assumed,
}

impl std::fmt::Display for ClassifiedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TlsSubject { name, subject } => {
                write!(f, "certificate name {name} matches tls_verify_subject {subject}")
            }
            Self::SourceAddress { address, peer } => write!(f, "source address {address} is peer {peer}"),
            Self::Listener { listener } => write!(f, "listener {listener} belongs to the zone"),
            Self::NoMatch { refused } if refused.is_empty() => f.write_str("no zone matches: default zone"),
            Self::NoMatch { refused } => write!(
                f,
                "no zone matches: default zone (zone {} needs a certificate matching its tls_verify_subject)",
                refused.join(", ")
            ),
            Self::Assumed => f.write_str("given for a dry run"),
        }
    }
}

/// Classifies a request. `health` supplies the addresses peer host names resolved to.
pub fn classify(input: &ClassifyInput<'_>, table: &RoutingTable, health: &HealthSnapshot) -> ZoneClassified {
    let names = input.tls_peer_names.filter(|_| input.transport == Transport::Tls).unwrap_or_default();
    let mutual_tls_zones = || table.zones().filter(|z| !z.tls_verify_subject.is_empty());
    for zone in mutual_tls_zones() {
        for subject in &zone.tls_verify_subject {
            if let Some(name) = names.iter().find(|n| subject.matches(n)) {
                let by = ClassifiedBy::TlsSubject { name: name.clone(), subject: subject.to_string() };
                return ZoneClassified { zone: zone.name.clone(), by };
            }
        }
    }
    let mut refused = Vec::new();
    let source = input.source.ip();
    for zone in table.zones() {
        let Some(peer) = zone.peers.iter().find(|p| peer_is(zone, p, source, health)) else { continue };
        if zone.tls_verify_subject.is_empty() {
            let by = ClassifiedBy::SourceAddress { address: source, peer: peer.key().to_owned() };
            return ZoneClassified { zone: zone.name.clone(), by };
        }
        refused.push(zone.name.clone());
    }
    if let Some(zone) = table.zones().find(|z| z.listeners.contains(&input.listener)) {
        if zone.tls_verify_subject.is_empty() {
            let by = ClassifiedBy::Listener { listener: input.listener };
            return ZoneClassified { zone: zone.name.clone(), by };
        }
        if !refused.contains(&zone.name) {
            refused.push(zone.name.clone());
        }
    }
    ZoneClassified { zone: table.default_zone().name.clone(), by: ClassifiedBy::NoMatch { refused } }
}

fn peer_is(zone: &Zone, peer: &crate::table::Peer, source: IpAddr, health: &HealthSnapshot) -> bool {
    peer.ip() == Some(source) || health.peer(&zone.name, peer.key()).is_some_and(|h| h.addresses.contains(&source))
}

/// For dry runs (`causeway locate --zone NAME`): the request is taken to come from `zone`.
/// Live requests are classified by [`classify`]; only call control's own legs, which arrive from
/// no zone, are located as from the default zone through this.
pub fn assume(table: &RoutingTable, zone: &str) -> Option<ZoneClassified> {
    table.zone(zone).map(|z| ZoneClassified { zone: z.name.clone(), by: ClassifiedBy::Assumed })
}
