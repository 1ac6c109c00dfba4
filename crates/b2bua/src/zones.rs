//! What call control needs from edge routing, read from the same compiled [`RoutingTable`] the
//! proxy core routes with: the zone a call arrives from (Expressway's classification and the
//! zone's authentication policy), the zone a remote destination's URI leaves through (the
//! search rules), and a zone's next hops (its peers).
//!
//! Call control's own legs are trusted requests: a search rule's `source` and "must be
//! authenticated" conditions do not apply to them, only its pattern and target. Next hops are
//! the zone's peers with IP addresses in priority order; legs through DNS zones or to peers
//! named by host name are not placed (no lookup runs here), and say so in the log.

use std::net::SocketAddr;
use std::sync::Arc;

use causeway_proxy::{Arrived, NextHop};
use causeway_routing::{authenticate, classify, AuthRequirement, ClassifyInput, HealthSnapshot, RoutingTable};
use causeway_sip::uri::Uri;

/// The edge's zones as call control sees them; without a routing table every call comes from
/// the default zone, unauthenticated, and nothing leaves through a zone.
#[derive(Debug, Clone, Default)]
pub struct Zones {
    table: Option<Arc<RoutingTable>>,
}

/// The zone a call comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Arrival {
    pub(crate) zone: String,
    pub(crate) authenticated: bool,
}

impl Zones {
    /// Zones of `table`.
    pub fn new(table: Option<Arc<RoutingTable>>) -> Self {
        Self { table }
    }

    /// Classification (listener, source, mutual-TLS subject) and the zone's authentication
    /// policy. A `check-credentials` zone counts as unauthenticated here: call control does
    /// not challenge calls.
    pub(crate) fn arrival(&self, arrived: &Arrived<'_>) -> Arrival {
        let Some(table) = &self.table else {
            return Arrival { zone: causeway_routing::DEFAULT_ZONE.to_owned(), authenticated: false };
        };
        let input = ClassifyInput {
            listener: arrived.local,
            source: arrived.peer,
            transport: arrived.transport,
            tls_peer_names: arrived.tls_peer_names,
        };
        let classified = classify(&input, table, &HealthSnapshot::default());
        let authenticated = match authenticate(&classified, table) {
            AuthRequirement::Decided(auth) => auth.authenticated(),
            AuthRequirement::CheckCredentials(_) => false,
        };
        Arrival { zone: classified.zone().to_owned(), authenticated }
    }

    /// The zone `uri` leaves through: the first enabled search rule, by priority, whose pattern
    /// matches its alias and whose target is not the default zone.
    pub(crate) fn zone_for(&self, uri: &str) -> Option<String> {
        let table = self.table.as_ref()?;
        let alias = alias(uri)?;
        let default = table.default_zone().name.as_str();
        table
            .search_rules()
            .iter()
            .filter(|r| r.enabled && r.target != default)
            .find(|r| match &r.pattern {
                Some(p) => p.is_match(&alias),
                None => alias.parse::<std::net::IpAddr>().is_err() && !alias.contains('['),
            })
            .map(|r| r.target.clone())
    }

    /// The zone's peers with IP addresses, lowest priority value first.
    pub(crate) fn next_hops(&self, zone: &str) -> Vec<NextHop> {
        let Some(zone) = self.table.as_ref().and_then(|t| t.zone(zone)) else { return Vec::new() };
        let mut peers: Vec<_> = zone.peers.iter().collect();
        peers.sort_by_key(|p| p.priority);
        peers
            .into_iter()
            .filter_map(|p| {
                let ip = p.host.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
                Some(NextHop { transport: p.transport, address: SocketAddr::new(ip, p.port), flow: None })
            })
            .collect()
    }
}

/// `user@host` (host lower-case), the host alone, or a tel number: what search rules match.
fn alias(uri: &str) -> Option<String> {
    match Uri::parse(uri).ok()? {
        Uri::Sip(u) => Some(match u.user() {
            Some(user) => format!("{user}@{}", u.host_str().to_ascii_lowercase()),
            None => u.host_str().to_ascii_lowercase(),
        }),
        Uri::Tel(t) => Some(t.number().to_owned()),
        Uri::Other { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTING: &str = r#"
[[zone]]
name = "webex"
kind = "neighbor"
peer = [{ address = "127.0.0.1:5090", transport = "udp", priority = 2 }, { address = "127.0.0.2:5090", transport = "tcp", priority = 1 }, { address = "cloud.example.com", transport = "tls" }]
keepalive = { enabled = false }
authentication = "treat-as-authenticated"

[[search_rule]]
name = "to-webex"
priority = 50
source = "any-authenticated"
pattern_type = "regex"
pattern = '.*@ent-pa\.call\.webex\.com'
target = "webex"
"#;

    fn zones() -> Zones {
        let table = causeway_routing::config::load(ROUTING).unwrap_or_else(|e| panic!("{e:?}"));
        Zones::new(Some(Arc::new(table)))
    }

    #[test]
    fn search_rules_pick_the_zone_whatever_their_source_condition() {
        let z = zones();
        assert_eq!(z.zone_for("sip:bob@ENT-PA.call.webex.com").as_deref(), Some("webex"));
        assert_eq!(z.zone_for("sip:bob@elsewhere.com"), None);
        assert_eq!(Zones::default().zone_for("sip:bob@ent-pa.call.webex.com"), None);
    }

    #[test]
    fn next_hops_are_ip_peers_by_priority() {
        let hops: Vec<_> = zones().next_hops("webex").into_iter().map(|h| (h.transport, h.address)).collect();
        assert_eq!(
            hops,
            [
                (causeway_sip::Transport::Tcp, SocketAddr::from(([127, 0, 0, 2], 5090))),
                (causeway_sip::Transport::Udp, SocketAddr::from(([127, 0, 0, 1], 5090))),
            ]
        );
        assert!(zones().next_hops("nowhere").is_empty());
    }
}
