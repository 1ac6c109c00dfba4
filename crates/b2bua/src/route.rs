//! Where a leg through a zone goes, the way the proxy core's edge router sends a request to
//! that zone: causeway-routing's [`Resolution`] of the zone target, driven by the proxy's own
//! [`drive`] over the keepalive's [`HealthSnapshot`] (peers marked down are skipped, equal
//! priorities ordered by weight, RFC 2782) — and for DNS zones RFC 3263 (NAPTR, SRV, A/AAAA).
//! A lookup the snapshot cannot answer leaves the engine as a [`Resolve`] action (the node's DNS
//! service answers it, [`crate::B2bua::handle_resolved`]) and the leg waits for it.
//!
//! A leg whose INVITE fails with 408 (Timer B, or Timer C before any provisional) or 503 (a
//! received 503 or a transport error) tries the zone's next hop before the call hears of the
//! failure (RFC 3263 §4.3, [`next_hop_after`]); when a zone's hops are exhausted the leg goes on
//! to the next zone target edge routing's search gave (`on_match = continue`), and only when
//! every target is exhausted does the leg fail.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use causeway_callctl::LegId;
use causeway_proxy::edge::{drive, Resolved};
use causeway_proxy::{NextHop, Resolve, ResolveId, MAX_PENDING};
use causeway_routing::resolve::{DnsAnswer, DnsQuery};
use causeway_routing::{Resolution, ZoneTarget};
use causeway_sip::{StatusCode, Uri};
use rand::RngCore;

pub(crate) use causeway_proxy::next_hop_after;

use crate::call::CallKey;
use crate::zones::Zones;

/// The next hops of one leg: the zone target being tried, its hops found so far and how to
/// find more, and the targets after it.
#[derive(Debug)]
pub(crate) struct LegRoute {
    /// The zone, and the Request-URI the search rules rewrote the leg's URI to (`None`: a number
    /// the zone's peer gets as `sip:<number>@<peer>`, the alias).
    target: ZoneTarget,
    resolution: Resolution,
    /// Hops found and not tried yet, in order.
    left: VecDeque<NextHop>,
    /// The resolution has ended (hops found or none).
    resolved: bool,
    /// Targets tried once this one's hops are exhausted or it cannot be reached: the later rules
    /// of an `on_match = continue` chain (docs/routing.md), as RFC 3263 §4.3 goes on to the next
    /// server.
    later: VecDeque<ZoneTarget>,
}

/// What a leg does next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Send the INVITE here.
    Hop(NextHop),
    /// Wait for this lookup.
    Lookup(DnsQuery),
    /// No hop at all: the leg fails with this status (RFC 3263: 503, 504 or 404).
    Failed(StatusCode),
    /// Every hop was tried.
    Exhausted,
}

impl LegRoute {
    /// Starts finding the next hops of a leg to `destination`. A SIP URI goes where edge
    /// routing's search rules send it now ([`Zones::targets`]: the zone call control planned
    /// with comes first unless its health changed since); a number goes through `zone`, the
    /// route pattern's. A target in one of the `avoid` zones is never used (loop avoidance: the
    /// fork plan vetted only the zone it planned with, a continue chain may lead further). `None`
    /// when nothing routes it.
    pub(crate) fn new(zones: &Zones, zone: &str, destination: &str, avoid: &[String], max_forwards: u8, rng: &mut dyn RngCore) -> Option<Self> {
        let table = zones.table()?;
        let mut targets: VecDeque<ZoneTarget> = if matches!(Uri::parse(destination), Ok(Uri::Sip(_))) {
            let targets = zones.targets(destination);
            let located = targets.iter().filter(|t| !avoid.contains(&t.zone)).map(|t| {
                let mut t = t.clone();
                t.request_uri.get_or_insert_with(|| destination.to_owned());
                t.max_forwards = max_forwards;
                t
            });
            located.collect()
        } else {
            let kind = table.zone(zone)?.kind;
            let alias = destination.to_owned();
            if avoid.iter().any(|a| a == zone) {
                return None;
            }
            VecDeque::from([ZoneTarget { rule: String::new(), zone: zone.to_owned(), kind, alias, request_uri: None, max_forwards }])
        };
        let target = targets.pop_front()?;
        let resolution = Resolution::new(table, &target, zones.health(), rng);
        Some(Self { target, resolution, left: VecDeque::new(), resolved: false, later: targets })
    }

    /// The leg's Request-URI when its INVITE goes to `hop`.
    pub(crate) fn request_uri(&self, hop: SocketAddr) -> String {
        match &self.target.request_uri {
            Some(uri) => uri.clone(),
            None => format!("sip:{}@{hop}", self.target.alias),
        }
    }

    /// The next hop to try, or what stands in the way; past the last hop of a target, the next
    /// target's.
    pub(crate) fn next(&mut self, zones: &Zones, rng: &mut dyn RngCore) -> Next {
        loop {
            if let Some(hop) = self.left.pop_front() {
                return Next::Hop(hop);
            }
            let mut failed = None;
            if !self.resolved {
                self.resolved = true;
                match drive(&mut self.resolution, zones.zone(&self.target.zone), zones.health(), rng) {
                    Resolved::Hops(hops) => {
                        self.left = hops.into();
                        continue;
                    }
                    Resolved::Unanswered(query) => {
                        self.resolved = false;
                        return Next::Lookup(query);
                    }
                    other => failed = Some(other.status()),
                }
            }
            let (Some(table), Some(target)) = (zones.table(), self.later.pop_front()) else {
                return failed.map_or(Next::Exhausted, Next::Failed);
            };
            self.resolution = Resolution::new(table, &target, zones.health(), rng);
            self.target = target;
            self.resolved = false;
        }
    }

    /// The answer to the lookup [`LegRoute::next`] asked for.
    pub(crate) fn answer(&mut self, answer: DnsAnswer, rng: &mut dyn RngCore) {
        self.resolution.handle_answer(answer, rng);
    }
}

/// Lookups the engine's legs wait for, and who waits for each.
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    next: u64,
    queue: VecDeque<Resolve>,
    pending: HashMap<ResolveId, (CallKey, LegId, DnsQuery)>,
}

impl Lookups {
    /// Queues `query` for a leg; `None` when [`MAX_PENDING`] lookups wait already.
    pub(crate) fn start(&mut self, query: DnsQuery, key: CallKey, leg: LegId) -> Option<ResolveId> {
        if self.pending.len() >= MAX_PENDING {
            return None;
        }
        let id = ResolveId(self.next);
        self.next += 1;
        self.pending.insert(id, (key, leg, query.clone()));
        self.queue.push_back(Resolve { id, query });
        Some(id)
    }

    /// The next lookup for the node to perform.
    pub(crate) fn poll(&mut self) -> Option<Resolve> {
        self.queue.pop_front()
    }

    /// Who waited for lookup `id` (once), and what was asked.
    pub(crate) fn finish(&mut self, id: ResolveId) -> Option<(CallKey, LegId, DnsQuery)> {
        self.pending.remove(&id)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use causeway_routing::resolve::{AddressRecord, QueryKind, SrvRecord};
    use causeway_routing::PeerState;
    use causeway_sip::Transport;
    use rand::SeedableRng;

    use super::*;

    const ROUTING: &str = r#"
[[zone]]
name = "webex"
kind = "neighbor"
peer = [{ address = "127.0.0.1:5090", transport = "udp", priority = 2 }, { address = "127.0.0.2:5090", transport = "tcp", priority = 1 }]
keepalive = { enabled = true, interval_secs = 30 }

[[zone]]
name = "cloud"
kind = "dns"

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

[[search_rule]]
name = "to-webex"
priority = 50
source = "any-authenticated"
pattern_type = "suffix"
pattern = "@ent-pa.call.webex.com"
target = "webex"

[[search_rule]]
name = "dns"
priority = 60
pattern_type = "suffix"
pattern = "@example.com"
target = "cloud"

[[search_rule]]
name = "pstn-out"
priority = 70
pattern_type = "prefix"
pattern = "9"
behaviour = "strip"
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

    fn hops(route: &mut LegRoute, zones: &Zones) -> Vec<Next> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        std::iter::from_fn(|| Some(route.next(zones, &mut rng)).filter(|n| *n != Next::Exhausted)).collect()
    }

    fn hop(transport: Transport, address: &str) -> Next {
        let address: SocketAddr = address.parse().unwrap_or_else(|e| panic!("{e}"));
        Next::Hop(NextHop { transport, address, flow: None })
    }

    #[test]
    fn peers_in_priority_order_and_down_peers_skipped() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut z = zones();
        let route = LegRoute::new(&z, "webex", "sip:bob@ent-pa.call.webex.com", &[], 69, &mut rng);
        let mut route = route.unwrap_or_else(|| panic!("zone"));
        assert_eq!(hops(&mut route, &z), [hop(Transport::Tcp, "127.0.0.2:5090"), hop(Transport::Udp, "127.0.0.1:5090")]);
        let mut health = causeway_routing::HealthSnapshot::default();
        health.set_state("webex", "127.0.0.2:5090", PeerState::Down);
        z.set_health(health);
        let route = LegRoute::new(&z, "webex", "sip:bob@ent-pa.call.webex.com", &[], 69, &mut rng);
        let mut route = route.unwrap_or_else(|| panic!("zone"));
        assert_eq!(hops(&mut route, &z), [hop(Transport::Udp, "127.0.0.1:5090")]);
        assert!(LegRoute::new(&z, "webex", "sip:bob@x", &[], 69, &mut rng).is_none());
        assert!(LegRoute::new(&z, "nowhere", "5551234", &[], 69, &mut rng).is_none());
    }

    #[test]
    fn a_strip_rule_rewrites_the_legs_request_uri() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let z = zones();
        let route = LegRoute::new(&z, "pstn", "sip:95551234@gw.example.net", &[], 69, &mut rng);
        let route = route.unwrap_or_else(|| panic!("routed"));
        let hop: SocketAddr = "127.0.0.3:5060".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(route.request_uri(hop), "sip:5551234@gw.example.net");
        let route = LegRoute::new(&z, "pstn", "5551234", &[], 69, &mut rng);
        let route = route.unwrap_or_else(|| panic!("zone"));
        assert_eq!(route.request_uri(hop), "sip:5551234@127.0.0.3:5060");
    }

    #[test]
    fn a_continue_chain_goes_on_to_the_next_zone() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut z = zones();
        let route = LegRoute::new(&z, "pstn", "sip:95551234@gw.example.net", &[], 69, &mut rng);
        let mut route = route.unwrap_or_else(|| panic!("routed"));
        let first = route.next(&z, &mut rng);
        assert_eq!(first, hop(Transport::Udp, "127.0.0.3:5060"));
        assert_eq!(route.next(&z, &mut rng), hop(Transport::Udp, "127.0.0.4:5060"));
        assert_eq!(route.request_uri("127.0.0.4:5060".parse().unwrap_or_else(|e| panic!("{e}"))), "sip:5551234@gw.example.net");
        assert_eq!(route.next(&z, &mut rng), Next::Exhausted);
        let mut health = causeway_routing::HealthSnapshot::default();
        health.set_state("pstn", "127.0.0.3:5060", PeerState::Down);
        z.set_health(health);
        let route = LegRoute::new(&z, "pstn", "sip:95551234@gw.example.net", &[], 69, &mut rng);
        let mut route = route.unwrap_or_else(|| panic!("routed"));
        assert_eq!(hops(&mut route, &z), [hop(Transport::Udp, "127.0.0.4:5060")]);
    }

    #[test]
    fn a_leg_never_continues_into_a_zone_it_must_avoid() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut z = zones();
        // Loop avoidance: the chain pstn → pstn-backup, with pstn-backup protected.
        let avoid = ["pstn-backup".to_owned()];
        let route = LegRoute::new(&z, "pstn", "sip:95551234@gw.example.net", &avoid, 69, &mut rng);
        let mut route = route.unwrap_or_else(|| panic!("routed"));
        assert_eq!(hops(&mut route, &z), [hop(Transport::Udp, "127.0.0.3:5060")]);
        let mut health = causeway_routing::HealthSnapshot::default();
        health.set_state("pstn", "127.0.0.3:5060", PeerState::Down);
        z.set_health(health);
        let route = LegRoute::new(&z, "pstn", "sip:95551234@gw.example.net", &avoid, 69, &mut rng);
        assert!(route.is_none(), "only the avoided zone is left");
        assert!(LegRoute::new(&z, "pstn-backup", "5551234", &avoid, 69, &mut rng).is_none());
    }

    #[test]
    fn a_dns_zone_asks_for_srv_then_addresses() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let z = zones();
        let route = LegRoute::new(&z, "cloud", "sip:bob@example.com;transport=tcp", &[], 69, &mut rng);
        let mut route = route.unwrap_or_else(|| panic!("zone"));
        let srv = DnsQuery { name: "_sip._tcp.example.com".into(), kind: QueryKind::Srv };
        assert_eq!(route.next(&z, &mut rng), Next::Lookup(srv));
        let record = SrvRecord { priority: 10, weight: 1, port: 5070, target: "sip1.example.com.".into(), ttl: 60 };
        route.answer(DnsAnswer::Srv(vec![record]), &mut rng);
        let a = DnsQuery { name: "sip1.example.com".into(), kind: QueryKind::Address };
        assert_eq!(route.next(&z, &mut rng), Next::Lookup(a));
        let address = AddressRecord { address: [127, 0, 0, 9].into(), ttl: 60 };
        route.answer(DnsAnswer::Addresses(vec![address]), &mut rng);
        assert_eq!(hops(&mut route, &z), [hop(Transport::Tcp, "127.0.0.9:5070")]);
    }

    #[test]
    fn a_dns_zone_without_records_fails_with_404() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let z = zones();
        let route = LegRoute::new(&z, "cloud", "sip:bob@example.com;transport=udp", &[], 69, &mut rng);
        let mut route = route.unwrap_or_else(|| panic!("zone"));
        assert!(matches!(route.next(&z, &mut rng), Next::Lookup(_)));
        route.answer(DnsAnswer::NoRecords, &mut rng);
        assert_eq!(route.next(&z, &mut rng), Next::Failed(StatusCode::NOT_FOUND));
    }

    #[test]
    fn lookups_are_bounded_and_answered_once() {
        let mut lookups = Lookups::default();
        let key = CallKey { index: 1, generation: 1 };
        let query = DnsQuery { name: "x".into(), kind: QueryKind::Address };
        let id = lookups.start(query.clone(), key, LegId(0));
        let id = id.unwrap_or_else(|| panic!("room"));
        assert_eq!(lookups.poll().map(|r| r.id), Some(id));
        assert_eq!(lookups.finish(id), Some((key, LegId(0), query.clone())));
        assert_eq!(lookups.finish(id), None);
        for _ in 0..MAX_PENDING {
            assert!(lookups.start(query.clone(), key, LegId(0)).is_some());
        }
        assert!(lookups.start(query, key, LegId(0)).is_none());
    }
}
