//! Where a leg through a zone goes, the way the proxy core's edge router sends a request to
//! that zone: causeway-routing's [`Resolution`] of the zone target, driven by the proxy's own
//! [`drive`] over the keepalive's [`HealthSnapshot`] (peers marked down are skipped, equal
//! priorities ordered by weight, RFC 2782) — and for DNS zones RFC 3263 (NAPTR, SRV, A/AAAA).
//! A lookup the snapshot cannot answer leaves the engine as a [`Resolve`] action (the node's DNS
//! service answers it, [`crate::B2bua::handle_resolved`]) and the leg waits for it.
//!
//! A leg whose INVITE fails with 408 (Timer B, or Timer C before any provisional) or 503 (a
//! received 503 or a transport error) tries the zone's next hop before the call hears of the
//! failure (RFC 3263 §4.3, [`next_hop_after`]); only when the hops are exhausted does the leg fail.

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
use crate::zones::{alias, Zones};

/// The next hops of one leg: found so far, and how to find more.
#[derive(Debug)]
pub(crate) struct LegRoute {
    zone: String,
    /// What the leg calls: a SIP URI, or a number the zone's peer gets as `sip:<number>@<peer>`.
    destination: String,
    resolution: Resolution,
    /// Hops found and not tried yet, in order.
    left: VecDeque<NextHop>,
    /// The resolution has ended (hops found or none).
    resolved: bool,
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
    /// Starts finding the next hops of a leg to `destination` (a URI or a number) through
    /// `zone`; `None` when there is no such zone.
    pub(crate) fn new(zones: &Zones, zone: &str, destination: &str, max_forwards: u8, rng: &mut dyn RngCore) -> Option<Self> {
        let table = zones.table()?;
        let kind = table.zone(zone)?.kind;
        let is_uri = matches!(Uri::parse(destination), Ok(Uri::Sip(_)));
        let target = ZoneTarget {
            rule: String::new(),
            zone: zone.to_owned(),
            kind,
            alias: alias(destination).unwrap_or_else(|| destination.to_owned()),
            request_uri: is_uri.then(|| destination.to_owned()),
            max_forwards,
        };
        let resolution = Resolution::new(table, &target, zones.health(), rng);
        let destination = destination.to_owned();
        Some(Self { zone: zone.to_owned(), destination, resolution, left: VecDeque::new(), resolved: false })
    }

    /// The leg's Request-URI when its INVITE goes to `hop`.
    pub(crate) fn request_uri(&self, hop: SocketAddr) -> String {
        let d = &self.destination;
        if d.starts_with("sip:") || d.starts_with("sips:") {
            d.clone()
        } else {
            format!("sip:{d}@{hop}")
        }
    }

    /// The next hop to try, or what stands in the way.
    pub(crate) fn next(&mut self, zones: &Zones, rng: &mut dyn RngCore) -> Next {
        if let Some(hop) = self.left.pop_front() {
            return Next::Hop(hop);
        }
        if self.resolved {
            return Next::Exhausted;
        }
        match drive(&mut self.resolution, zones.zone(&self.zone), zones.health(), rng) {
            Resolved::Hops(hops) => {
                self.resolved = true;
                self.left = hops.into();
                self.left.pop_front().map_or(Next::Exhausted, Next::Hop)
            }
            Resolved::Unanswered(query) => Next::Lookup(query),
            other => {
                self.resolved = true;
                Next::Failed(other.status())
            }
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
        let route = LegRoute::new(&z, "webex", "sip:bob@ent-pa.call.webex.com", 69, &mut rng);
        let mut route = route.unwrap_or_else(|| panic!("zone"));
        assert_eq!(hops(&mut route, &z), [hop(Transport::Tcp, "127.0.0.2:5090"), hop(Transport::Udp, "127.0.0.1:5090")]);
        let mut health = causeway_routing::HealthSnapshot::default();
        health.set_state("webex", "127.0.0.2:5090", PeerState::Down);
        z.set_health(health);
        let route = LegRoute::new(&z, "webex", "sip:bob@ent-pa.call.webex.com", 69, &mut rng);
        let mut route = route.unwrap_or_else(|| panic!("zone"));
        assert_eq!(hops(&mut route, &z), [hop(Transport::Udp, "127.0.0.1:5090")]);
        assert!(LegRoute::new(&z, "nowhere", "sip:bob@x", 69, &mut rng).is_none());
    }

    #[test]
    fn a_dns_zone_asks_for_srv_then_addresses() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let z = zones();
        let route = LegRoute::new(&z, "cloud", "sip:bob@example.com;transport=tcp", 69, &mut rng);
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
        let route = LegRoute::new(&z, "cloud", "sip:bob@example.com;transport=udp", 69, &mut rng);
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
