//! What call control needs from edge routing, read from the same compiled [`RoutingTable`] the
//! proxy core routes with: the zone a remote destination's URI leaves through (the search
//! rules), and the keepalive's [`HealthSnapshot`] the node hands over, so a leg's next
//! hops come out of the proxy core's own resolution (`causeway_proxy::edge::drive`, see
//! `crate::route`).
//!
//! Call control's own legs are trusted requests: a search rule's `source` and "must be
//! authenticated" conditions do not apply to them, only its pattern and target.

use std::sync::Arc;

use causeway_routing::{HealthSnapshot, RoutingTable, Zone};
use causeway_sip::uri::Uri;

/// The edge's zones as call control sees them; without a routing table nothing leaves through a
/// zone. The zone a call comes from is not worked out here: the proxy core's gate classifies and
/// authenticates every initial request and hands call control its `Clearance`.
#[derive(Debug, Clone, Default)]
pub struct Zones {
    table: Option<Arc<RoutingTable>>,
    /// Peer keepalive state as the proxy core last reported it (empty: nothing known yet).
    health: HealthSnapshot,
}

impl Zones {
    /// Zones of `table`.
    pub fn new(table: Option<Arc<RoutingTable>>) -> Self {
        Self { table, health: HealthSnapshot::default() }
    }

    /// The compiled table as shared with the proxy core (whose gate classifies the calls).
    pub fn shared_table(&self) -> Option<&Arc<RoutingTable>> {
        self.table.as_ref()
    }

    /// The compiled table, if any.
    pub(crate) fn table(&self) -> Option<&RoutingTable> {
        self.table.as_deref()
    }

    /// A zone by name.
    pub(crate) fn zone(&self, name: &str) -> Option<&Zone> {
        self.table.as_ref()?.zone(name)
    }

    /// Peer health legs are routed with.
    pub(crate) fn health(&self) -> &HealthSnapshot {
        &self.health
    }

    /// Takes the proxy core's latest peer health (keepalive states, peer addresses, traversal
    /// connections).
    pub(crate) fn set_health(&mut self, health: HealthSnapshot) {
        self.health = health;
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
}

/// `user@host` (host lower-case), the host alone, or a tel number: what search rules match.
pub(crate) fn alias(uri: &str) -> Option<String> {
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
}
