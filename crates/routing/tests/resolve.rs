//! RFC 3263 next-hop resolution as data, with a fake DNS and a seeded RNG: which lookups are
//! asked in which order, how NAPTR/SRV/A answers become ordered hops, failures and bounds.

mod common;

use std::net::{IpAddr, SocketAddr};

use causeway_routing::resolve::{
    AddressRecord, DnsAnswer, DnsFailure, NaptrRecord, QueryKind, ResolveError, SrvRecord, MAX_HOPS, MAX_QUERIES,
};
use causeway_routing::{HealthSnapshot, PeerState, Resolution, ResolveStep, RoutingTable, ZoneKind, ZoneTarget};
use causeway_sip::Transport;
use common::{load, FakeDns};
use rand::rngs::StdRng;
use rand::SeedableRng;

const ZONES: &str = r#"
[[zone]]
name = "internet"
kind = "dns"
include_address_record = true

[[zone]]
name = "strict"
kind = "dns"

[[zone]]
name = "webex"
kind = "dns"
search_domain = "callservice.webex.com"
transport = "tls"

[[zone]]
name = "pool"
kind = "neighbor"
[[zone.peer]]
address = "10.0.0.1:5060"
transport = "udp"
priority = 10
weight = 90
[[zone.peer]]
address = "10.0.0.2:5060"
transport = "udp"
priority = 10
weight = 10
[[zone.peer]]
address = "backup.ent-pa.com:5060"
transport = "tcp"
priority = 20
"#;

fn target(zone: &str, alias: &str, request_uri: Option<&str>) -> ZoneTarget {
    ZoneTarget {
        rule: "r".into(),
        zone: zone.into(),
        kind: ZoneKind::Dns,
        alias: alias.into(),
        request_uri: request_uri.map(str::to_owned),
        max_forwards: 15,
    }
}

fn a(ip: &str, ttl: u32) -> DnsAnswer {
    DnsAnswer::Addresses(vec![AddressRecord { address: ip.parse().unwrap_or(IpAddr::from([0; 4])), ttl }])
}

fn srv(records: &[(u16, u16, u16, &str)]) -> DnsAnswer {
    DnsAnswer::Srv(records.iter().map(|&(priority, weight, port, target)| SrvRecord { priority, weight, port, target: target.into(), ttl: 600 }).collect())
}

fn naptr(order: u16, pref: u16, service: &str, replacement: &str) -> NaptrRecord {
    NaptrRecord { order, preference: pref, flags: "s".into(), service: service.into(), replacement: replacement.into(), ttl: 3600 }
}

fn hops(r: &Resolution) -> Vec<(Transport, SocketAddr, Option<u32>)> {
    r.hops().iter().map(|h| (h.transport, h.address, h.ttl)).collect()
}

fn sock(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn table() -> RoutingTable {
    load(ZONES)
}

#[test]
fn rfc3263_4_1_naptr_picks_the_transport_then_srv_then_addresses() {
    let mut dns = FakeDns::default()
        .with(
            "partner.example",
            QueryKind::Naptr,
            DnsAnswer::Naptr(vec![
                naptr(20, 10, "SIP+D2U", "_sip._udp.partner.example."),
                naptr(10, 50, "SIP+D2T", "_sip._tcp.partner.example."),
                naptr(10, 10, "SIPS+D2T", "_sips._tcp.partner.example."),
                naptr(5, 1, "E2U+sip", "ignored.example."),
            ]),
        )
        .with("_sips._tcp.partner.example", QueryKind::Srv, srv(&[(1, 0, 5061, "edge.partner.example.")]))
        .with("edge.partner.example", QueryKind::Address, a("198.51.100.7", 30));
    let r = dns.resolve(&table(), &target("internet", "bob@partner.example", None), &HealthSnapshot::default(), 1);
    assert_eq!(dns.asked, ["NAPTR partner.example", "SRV _sips._tcp.partner.example", "A/AAAA edge.partner.example"]);
    // The smallest TTL on the way (NAPTR 3600, SRV 600, A 30) bounds the cache.
    assert_eq!(hops(&r), [(Transport::Tls, sock("198.51.100.7:5061"), Some(30))]);
}

#[test]
fn rfc3263_4_1_without_naptr_srv_is_tried_per_transport_in_our_preference() {
    let mut dns = FakeDns::default()
        .with("_sips._tcp.partner.example", QueryKind::Srv, DnsAnswer::NoRecords)
        .with("_sip._tcp.partner.example", QueryKind::Srv, srv(&[(1, 0, 5080, "pbx.partner.example")]))
        .with("pbx.partner.example", QueryKind::Address, a("198.51.100.8", 60));
    let r = dns.resolve(&table(), &target("internet", "bob@partner.example", None), &HealthSnapshot::default(), 1);
    assert_eq!(dns.asked, ["NAPTR partner.example", "SRV _sips._tcp.partner.example", "SRV _sip._tcp.partner.example", "A/AAAA pbx.partner.example"]);
    assert_eq!(hops(&r), [(Transport::Tcp, sock("198.51.100.8:5080"), Some(60))]);
}

#[test]
fn rfc3263_4_2_address_records_only_with_include_address_record() {
    let mut dns = FakeDns::default().with("partner.example", QueryKind::Address, a("198.51.100.9", 60));
    let r = dns.resolve(&table(), &target("internet", "bob@partner.example", None), &HealthSnapshot::default(), 1);
    assert_eq!(dns.asked.last().map(String::as_str), Some("A/AAAA partner.example"));
    assert_eq!(hops(&r), [(Transport::Udp, sock("198.51.100.9:5060"), Some(60))]);
    // Expressway's default: no SRV record, no route.
    let mut dns = FakeDns::default().with("partner.example", QueryKind::Address, a("198.51.100.9", 60));
    let mut r = dns.resolve(&table(), &target("strict", "bob@partner.example", None), &HealthSnapshot::default(), 1);
    assert!(!dns.asked.iter().any(|q| q.starts_with("A/AAAA")));
    assert_eq!(r.poll(), ResolveStep::Failed(ResolveError::NotFound));
    assert_eq!(ResolveError::NotFound.status(), 404);
    assert!(r.summary().starts_with("no next hop: DNS has no usable record (404)"));
}

#[test]
fn numeric_hosts_explicit_ports_transport_params_and_sips() {
    let t = table();
    let mut dns = FakeDns::default();
    let r = dns.resolve(&t, &target("internet", "x@192.0.2.1", Some("sip:x@192.0.2.1:5070;transport=tcp")), &HealthSnapshot::default(), 1);
    assert!(dns.asked.is_empty());
    assert_eq!(hops(&r), [(Transport::Tcp, sock("192.0.2.1:5070"), None)]);

    let mut dns = FakeDns::default().with("pbx.partner.example", QueryKind::Address, a("198.51.100.10", 5));
    let r = dns.resolve(&t, &target("internet", "x@pbx.partner.example", Some("sip:x@pbx.partner.example:5099")), &HealthSnapshot::default(), 1);
    assert_eq!(dns.asked, ["A/AAAA pbx.partner.example"]);
    assert_eq!(hops(&r), [(Transport::Udp, sock("198.51.100.10:5099"), Some(5))]);

    let mut dns = FakeDns::default();
    dns.resolve(&t, &target("internet", "x@partner.example", Some("sip:x@partner.example;transport=tcp")), &HealthSnapshot::default(), 1);
    assert_eq!(dns.asked, ["SRV _sip._tcp.partner.example", "A/AAAA partner.example"]);

    let mut dns = FakeDns::default()
        .with("partner.example", QueryKind::Naptr, DnsAnswer::Naptr(vec![naptr(1, 1, "SIP+D2U", "_sip._udp.partner.example")]));
    dns.resolve(&t, &target("internet", "x@partner.example", Some("sips:x@partner.example")), &HealthSnapshot::default(), 1);
    // RFC 3263 §4.1: a SIPS URI uses SIPS+D2T only, so the UDP NAPTR is ignored.
    assert_eq!(dns.asked, ["NAPTR partner.example", "SRV _sips._tcp.partner.example", "A/AAAA partner.example"]);
}

#[test]
fn search_domain_replaces_the_destination_in_the_lookup_only() {
    let mut dns = FakeDns::default();
    let mut r = dns.resolve(&table(), &target("webex", "bob@example.call.webex.com", None), &HealthSnapshot::default(), 1);
    assert_eq!(dns.asked, ["SRV _sips._tcp.callservice.webex.com"]);
    assert_eq!(r.poll(), ResolveStep::Failed(ResolveError::NotFound));
}

#[test]
fn rfc2782_srv_order_is_priority_then_weighted_random_with_a_seeded_rng() {
    let records = srv(&[(20, 0, 5061, "c.example"), (10, 80, 5061, "a.example"), (10, 20, 5061, "b.example"), (10, 0, 5061, ".")]);
    let order_for = |seed| {
        let mut dns = FakeDns::default()
            .with("_sips._tcp.callservice.webex.com", QueryKind::Srv, records.clone())
            .with("a.example", QueryKind::Address, a("192.0.2.1", 60))
            .with("b.example", QueryKind::Address, a("192.0.2.2", 60))
            .with("c.example", QueryKind::Address, a("192.0.2.3", 60));
        let r = dns.resolve(&table(), &target("webex", "x@y", None), &HealthSnapshot::default(), seed);
        r.hops().iter().map(|h| h.host.clone()).collect::<Vec<_>>()
    };
    // Same seed, same order; the priority-20 record always last; "." never used.
    assert_eq!(order_for(7), order_for(7));
    let mut a_first = 0;
    for seed in 0..400 {
        let order = order_for(seed);
        assert_eq!(order.len(), 3, "{order:?}");
        assert_eq!(order.last().map(String::as_str), Some("c.example"));
        a_first += usize::from(order.first().map(String::as_str) == Some("a.example"));
    }
    assert!((260..380).contains(&a_first), "weight 80 of 100 should come first about 320 times in 400, got {a_first}");
}

#[test]
fn neighbour_peers_follow_priority_weight_and_keepalive_state() {
    let t = table();
    let pool = |health: &HealthSnapshot, seed| {
        let mut dns = FakeDns::default().with("backup.ent-pa.com", QueryKind::Address, a("10.0.0.3", 300));
        let r = dns.resolve(&t, &target("pool", "x@y", None), health, seed);
        hops(&r)
    };
    let healthy = HealthSnapshot::default();
    let mut first_is_1 = 0;
    for seed in 0..200 {
        let h = pool(&healthy, seed);
        assert_eq!(h.len(), 3);
        assert_eq!(h.last(), Some(&(Transport::Tcp, sock("10.0.0.3:5060"), Some(300))));
        first_is_1 += usize::from(h.first().map(|x| x.1) == Some(sock("10.0.0.1:5060")));
    }
    assert!((160..195).contains(&first_is_1), "weight 90 of 100 first about 180 times in 200, got {first_is_1}");
    let mut health = HealthSnapshot::default();
    health.set_state("pool", "10.0.0.1:5060", PeerState::Down);
    health.set_state("pool", "backup.ent-pa.com:5060", PeerState::Down);
    assert_eq!(pool(&health, 1), [(Transport::Udp, sock("10.0.0.2:5060"), None)]);
    health.set_state("pool", "10.0.0.2:5060", PeerState::Down);
    let mut rng = StdRng::seed_from_u64(1);
    let mut r = Resolution::new(&t, &target("pool", "x@y", None), &health, &mut rng);
    assert_eq!(r.poll(), ResolveStep::Failed(ResolveError::NoPeerUp));
    assert_eq!(ResolveError::NoPeerUp.status(), 503);
}

#[test]
fn dns_failures_map_to_the_right_status() {
    let mut dns = FakeDns::default()
        .with("partner.example", QueryKind::Naptr, DnsAnswer::Failed(DnsFailure::Timeout))
        .with("_sips._tcp.partner.example", QueryKind::Srv, DnsAnswer::Failed(DnsFailure::Timeout))
        .with("_sip._tcp.partner.example", QueryKind::Srv, DnsAnswer::Failed(DnsFailure::ServerFailure))
        .with("_sip._udp.partner.example", QueryKind::Srv, DnsAnswer::Failed(DnsFailure::Timeout));
    let mut r = dns.resolve(&table(), &target("strict", "bob@partner.example", None), &HealthSnapshot::default(), 1);
    assert_eq!(r.poll(), ResolveStep::Failed(ResolveError::Timeout));
    assert_eq!(ResolveError::Timeout.status(), 504);
    // A timeout on one transport does not hide an answer on another.
    let mut dns = FakeDns::default()
        .with("_sips._tcp.partner.example", QueryKind::Srv, DnsAnswer::Failed(DnsFailure::Timeout))
        .with("_sip._tcp.partner.example", QueryKind::Srv, srv(&[(1, 1, 5060, "pbx.partner.example")]))
        .with("pbx.partner.example", QueryKind::Address, a("198.51.100.8", 60));
    let r = dns.resolve(&table(), &target("strict", "bob@partner.example", None), &HealthSnapshot::default(), 1);
    assert_eq!(hops(&r), [(Transport::Tcp, sock("198.51.100.8:5060"), Some(60))]);
}

#[test]
fn hostile_answers_are_bounded() {
    let many_srv: Vec<(u16, u16, u16, String)> = (0..500).map(|i| (1, 1, 5060, format!("h{i}.example"))).collect();
    let records = DnsAnswer::Srv(many_srv.iter().map(|(p, w, port, t)| SrvRecord { priority: *p, weight: *w, port: *port, target: t.clone(), ttl: 1 }).collect());
    let mut dns = FakeDns::default().with("_sip._tcp.partner.example", QueryKind::Srv, records);
    for i in 0..500 {
        let ips: Vec<AddressRecord> = (0..50).map(|j| AddressRecord { address: IpAddr::from([10, 0, (i % 250) as u8, j]), ttl: 1 }).collect();
        dns = dns.with(&format!("h{i}.example"), QueryKind::Address, DnsAnswer::Addresses(ips));
    }
    let r = dns.resolve(&table(), &target("strict", "x@partner.example", Some("sip:x@partner.example;transport=tcp")), &HealthSnapshot::default(), 1);
    assert!(dns.asked.len() <= MAX_QUERIES, "{} lookups", dns.asked.len());
    assert_eq!(r.hops().len(), MAX_HOPS);
}
