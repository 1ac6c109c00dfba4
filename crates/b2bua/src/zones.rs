//! What call control needs from edge routing, read from the same compiled [`RoutingTable`] the
//! proxy core routes with: the zone a remote destination's URI leaves through (the search
//! rules), and the keepalive's [`HealthSnapshot`] the node hands over, so a leg's next
//! hops come out of the proxy core's own resolution (`causeway_proxy::edge::drive`, see
//! `crate::route`).
//!
//! Call control's own legs are trusted requests: a search rule's `source` and "must be
//! authenticated" conditions do not apply to them, only its pattern and target.

use std::sync::Arc;
use std::time::{Duration, Instant};

use causeway_routing::resolve::{DnsAnswer, DnsQuery};
use causeway_routing::{HealthSnapshot, RoutingTable, Zone};
use causeway_sip::uri::Uri;

/// Most answers of call control's own lookups held at once (past it the oldest goes).
const MAX_HELD: usize = 256;

/// The edge's zones as call control sees them; without a routing table nothing leaves through a
/// zone. The zone a call comes from is not worked out here: the proxy core's gate classifies and
/// authenticates every initial request and hands call control its `Clearance`.
#[derive(Debug, Clone, Default)]
pub struct Zones {
    table: Option<Arc<RoutingTable>>,
    /// Peer keepalive state as the proxy core last reported it (empty: nothing known yet), with
    /// the `held` answers in it.
    health: HealthSnapshot,
    /// Records call control's own lookups found, each until its TTL runs out (RFC 1035 §3.2.1):
    /// later legs to the same domain need no lookup, and `HealthSnapshot::host_of` finds the name
    /// a TLS leg's destination was found under (RFC 5922 §4) as it does for the core's sends.
    held: Vec<(DnsQuery, DnsAnswer, Instant)>,
}

impl Zones {
    /// Zones of `table`.
    pub fn new(table: Option<Arc<RoutingTable>>) -> Self {
        Self { table, health: HealthSnapshot::default(), held: Vec::new() }
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
    /// connections, the answers it holds); the answers call control holds stay in it.
    pub(crate) fn set_health(&mut self, health: HealthSnapshot) {
        self.health = health;
        for (query, answer, _) in &self.held {
            if self.health.answer(query).is_none() {
                self.health.set_answer(query, Some(answer.clone()));
            }
        }
    }

    /// Holds the answer to one of call control's lookups for its TTL; empty and failed answers
    /// are not held (the leg that asked has them; the next one asks again).
    pub(crate) fn remember(&mut self, now: Instant, query: DnsQuery, answer: &DnsAnswer) {
        let ttl = match answer {
            DnsAnswer::Naptr(r) => r.iter().map(|n| n.ttl).min(),
            DnsAnswer::Srv(r) => r.iter().map(|s| s.ttl).min(),
            DnsAnswer::Addresses(r) => r.iter().map(|a| a.ttl).min(),
            DnsAnswer::NoRecords | DnsAnswer::Failed(_) => None,
        };
        let Some(ttl) = ttl.filter(|t| *t > 0) else { return };
        self.held.retain(|(q, _, _)| !q.name.eq_ignore_ascii_case(&query.name) || q.kind != query.kind);
        if self.held.len() >= MAX_HELD {
            let (oldest, _, _) = self.held.remove(0);
            self.health.set_answer(&oldest, None);
        }
        self.health.set_answer(&query, Some(answer.clone()));
        self.held.push((query, answer.clone(), now + Duration::from_secs(ttl.into())));
    }

    /// When the first held answer's TTL runs out.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.held.iter().map(|(_, _, until)| *until).min()
    }

    /// Lets go of held answers whose TTL ran out.
    pub(crate) fn expire(&mut self, now: Instant) {
        let health = &mut self.health;
        self.held.retain(|(query, _, until)| {
            let keep = *until > now;
            if !keep {
                health.set_answer(query, None);
            }
            keep
        });
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
