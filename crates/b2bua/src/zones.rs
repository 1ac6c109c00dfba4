//! What call control needs from edge routing, read from the same compiled [`RoutingTable`] the
//! proxy core routes with: the zone targets a remote destination's URI leaves through (edge
//! routing's own [`locate`], not a copy of it), and the keepalive's [`HealthSnapshot`] the node
//! hands over, so a leg's next hops come out of the proxy core's own resolution
//! (`causeway_proxy::edge::drive`, see `crate::route`).
//!
//! Call control's own legs are trusted requests: they are located as authenticated, so a search
//! rule's "any authenticated" source and "must be authenticated" conditions never block them.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use causeway_routing::resolve::{DnsAnswer, DnsQuery};
use causeway_routing::{auth, classify, locate, HealthSnapshot, LocateInput, RoutingTable, Zone, ZoneTarget};

/// Most answers of call control's own lookups held at once (past it the oldest goes).
const MAX_HELD: usize = 256;

/// Most searches kept for reuse at once (past it they are all let go).
const MAX_LOCATED: usize = 64;

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
    /// Searches made since the health last changed, by URI: a leg placed as its call starts uses
    /// the targets its fork plan located, not a second search (a dual-ring call's legs were
    /// located twice, ~14 % of a call's instructions). Any change of the health lets them all
    /// go, so a leg placed later (after its `delay_before_ringing`, when the health was handed
    /// over again) is located anew: the failover walk only walks the targets it was given, and
    /// a zone that went down (or came back) since must be skipped (or tried) from the start.
    located: RefCell<Vec<(String, Arc<[ZoneTarget]>)>>,
}

impl Zones {
    /// Zones of `table`.
    pub fn new(table: Option<Arc<RoutingTable>>) -> Self {
        Self { table, health: HealthSnapshot::default(), held: Vec::new(), located: RefCell::default() }
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
        self.located.get_mut().clear();
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
        self.located.get_mut().clear();
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
        let (health, located) = (&mut self.health, self.located.get_mut());
        self.held.retain(|(query, _, until)| {
            let keep = *until > now;
            if !keep {
                health.set_answer(query, None);
                located.clear();
            }
            keep
        });
    }

    /// The zone targets a call-control leg to `uri` tries, in order: edge routing's own search
    /// ([`locate`]: the pre-search transform, each rule's pattern and behaviour, `on_match`,
    /// equal priorities, the target zones' health), the groups one after the other and a
    /// group's targets one after another (a leg is one INVITE at a time). Empty when no rule
    /// routes it.
    ///
    /// A leg is call control's own request, so it is located as an authenticated request of the
    /// default zone: rules for any source or any authenticated source, and rules that require
    /// authentication, apply to it; a rule restricted to one named source zone does not, and a
    /// rule back into the default zone counts as a loop (as for any default-zone request).
    ///
    /// The same URI searched again before the health changes gets the first search's targets.
    /// Shared with the held search: a leg reads its targets, it does not copy them all.
    pub(crate) fn targets(&self, uri: &str) -> Arc<[ZoneTarget]> {
        if let Some((_, targets)) = self.located.borrow().iter().find(|(u, _)| u == uri) {
            return Arc::clone(targets);
        }
        let Some(table) = self.table.as_deref() else { return Arc::new([]) };
        let Some(source) = classify::assume(table, &table.default_zone().name) else { return Arc::new([]) };
        let trusted = auth::assume(&source, table, true);
        let decision = locate(&LocateInput::new(&source, &trusted, uri), table, &self.health);
        let targets: Arc<[ZoneTarget]> = decision.groups().iter().flat_map(|g| g.targets.iter().cloned()).collect();
        let mut located = self.located.borrow_mut();
        if located.len() >= MAX_LOCATED {
            located.clear();
        }
        located.push((uri.to_owned(), Arc::clone(&targets)));
        targets
    }

    /// The zones a leg to `uri` may leave through, in order (those of [`Zones::targets`]).
    pub(crate) fn zones_for(&self, uri: &str) -> Vec<String> {
        self.targets(uri).iter().map(|t| t.zone.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use causeway_routing::PeerState;

    use super::*;

    const ROUTING: &str = r#"
[[zone]]
name = "webex"
kind = "neighbor"
peer = [{ address = "127.0.0.1:5090", transport = "udp", priority = 2 }, { address = "127.0.0.2:5090", transport = "tcp", priority = 1 }, { address = "cloud.example.com", transport = "tls" }]
keepalive = { enabled = false }
authentication = "treat-as-authenticated"

[[zone]]
name = "pstn"
kind = "neighbor"
peer = [{ address = "127.0.0.3:5060", transport = "udp" }]
keepalive = { enabled = true, interval_secs = 30 }

[[zone]]
name = "pstn-backup"
kind = "neighbor"
peer = [{ address = "127.0.0.4:5060", transport = "udp" }]
keepalive = { enabled = false }

[[transform]]
priority = 10
pattern_type = "regex"
pattern = '(\d{4})@ent-pa\.local'
behaviour = "replace"
replace = '\1@ent-pa.com'

[[search_rule]]
name = "to-webex"
priority = 50
source = "any-authenticated"
request_must_be_authenticated = true
pattern_type = "regex"
pattern = '.*@ent-pa\.call\.webex\.com'
target = "webex"

[[search_rule]]
name = "enterprise"
priority = 60
pattern_type = "suffix"
pattern = "@ent-pa.com"
on_match = "stop"
target = "webex"

[[search_rule]]
name = "pstn-out"
priority = 70
pattern_type = "prefix"
pattern = "9"
behaviour = "strip"
on_match = "continue"
target = "pstn"

[[search_rule]]
name = "pstn-fallback"
priority = 80
pattern_type = "prefix"
pattern = "9"
behaviour = "strip"
on_match = "stop"
target = "pstn-backup"
"#;

    fn zones() -> Zones {
        let table = causeway_routing::config::load(ROUTING).unwrap_or_else(|e| panic!("{e:?}"));
        Zones::new(Some(Arc::new(table)))
    }

    fn located(z: &Zones, uri: &str) -> Vec<(String, Option<String>)> {
        z.targets(uri).iter().map(|t| (t.zone.clone(), t.request_uri.clone())).collect()
    }

    #[test]
    fn legs_are_trusted_by_authenticated_only_rules() {
        let z = zones();
        assert_eq!(z.zones_for("sip:bob@ENT-PA.call.webex.com"), ["webex"]);
        assert!(z.zones_for("sip:bob@elsewhere.com").is_empty());
        assert!(Zones::default().zones_for("sip:bob@ent-pa.call.webex.com").is_empty());
        assert_eq!(z.zones_for("sip:95551234@gw.example.com"), ["pstn", "pstn-backup"]);
    }

    #[test]
    fn a_strip_rule_rewrites_the_request_uri_and_continue_keeps_the_next_zone() {
        let mut z = zones();
        let stripped = Some("sip:5551234@gw.example.com;user=phone".to_owned());
        let both = [("pstn".to_owned(), stripped.clone()), ("pstn-backup".to_owned(), stripped.clone())];
        assert_eq!(located(&z, "sip:95551234@gw.example.com;user=phone"), both);
        let mut health = HealthSnapshot::default();
        health.set_state("pstn", "127.0.0.3:5060", PeerState::Down);
        z.set_health(health);
        assert_eq!(located(&z, "sip:95551234@gw.example.com;user=phone"), [("pstn-backup".to_owned(), stripped)]);
    }

    #[test]
    fn a_search_is_reused_until_the_health_changes() {
        let mut z = zones();
        let uri = "sip:95551234@gw.example.com;user=phone";
        assert_eq!(z.zones_for(uri), ["pstn", "pstn-backup"]);
        assert_eq!(located(&z, uri).len(), 2);
        assert_eq!(z.located.borrow().len(), 1, "the leg reuses its plan's search");
        let mut health = HealthSnapshot::default();
        health.set_state("pstn", "127.0.0.3:5060", PeerState::Down);
        z.set_health(health);
        assert!(z.located.borrow().is_empty());
        assert_eq!(z.zones_for(uri), ["pstn-backup"], "located anew after a health change");
    }

    #[test]
    fn the_pre_search_transform_applies_before_the_rules() {
        let z = zones();
        let rewritten = Some("sip:1001@ent-pa.com".to_owned());
        assert_eq!(located(&z, "sip:1001@ent-pa.local"), [("webex".to_owned(), rewritten)]);
        assert_eq!(located(&z, "sip:alice@ent-pa.local"), []);
    }
}
