//! A DNS zone in simulated time (RFC 3263): the request waits while NAPTR, SRV and A/AAAA are
//! looked up through `poll_resolve`, then goes to the first SRV target with the others as
//! failover; answers are held for their TTL; a DNS timeout ends in 504, NXDOMAIN in 404.

mod harness;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use causeway_proxy::edge::EdgeRouter;
use causeway_routing::resolve::{AddressRecord, DnsAnswer, DnsFailure, NaptrRecord, QueryKind, SrvRecord};
use causeway_sip::Method;
use harness::*;

const TABLE: &str = r#"
[[zone]]
name = "b2b"
kind = "dns"

[[search_rule]]
name = "partners"
pattern_type = "suffix"
pattern = "@partner.example"
target = "b2b"
"#;

type Dns = HashMap<(String, QueryKind), DnsAnswer>;

fn partner_dns() -> Dns {
    let naptr = NaptrRecord { order: 10, preference: 10, flags: "s".into(), service: "SIP+D2U".into(), replacement: "_sip._udp.partner.example.".into(), ttl: 300 };
    let srv = |priority, port, target: &str| SrvRecord { priority, weight: 0, port, target: target.into(), ttl: 60 };
    let a = |ip: [u8; 4]| DnsAnswer::Addresses(vec![AddressRecord { address: IpAddr::from(ip), ttl: 60 }]);
    HashMap::from([
        (("partner.example".into(), QueryKind::Naptr), DnsAnswer::Naptr(vec![naptr])),
        (("_sip._udp.partner.example".into(), QueryKind::Srv), DnsAnswer::Srv(vec![srv(2, 5080, "b.partner.example."), srv(1, 5070, "a.partner.example.")])),
        (("a.partner.example".into(), QueryKind::Address), a([192, 0, 2, 70])),
        (("b.partner.example".into(), QueryKind::Address), a([192, 0, 2, 80])),
    ])
}

fn sim() -> Sim<EdgeRouter> {
    let table = causeway_routing::config::load(TABLE).unwrap_or_else(|e| panic!("{e:?}"));
    let mut sim = Sim::with(config(), EdgeRouter::new(Arc::new(table.clone())));
    let now = sim.now;
    sim.core.monitor_peers(now, &table);
    sim
}

/// Answers every lookup the core asks for from `dns` (anything else: `fallback`) until it asks
/// for nothing more; returns the questions in order.
fn resolve_all(sim: &mut Sim<EdgeRouter>, dns: &Dns, fallback: &DnsAnswer) -> Vec<String> {
    let mut asked = Vec::new();
    while let Some(lookup) = sim.core.poll_resolve() {
        asked.push(lookup.query.to_string());
        let name = lookup.query.name.trim_end_matches('.').to_owned();
        let answer = dns.get(&(name, lookup.query.kind)).cloned().unwrap_or_else(|| fallback.clone());
        let now = sim.now;
        sim.core.handle_resolved(now, lookup.id, answer);
        assert!(asked.len() < 32, "lookups never end: {asked:?}");
    }
    asked
}

fn sent_since(sim: &mut Sim<EdgeRouter>) -> Vec<(SocketAddr, causeway_sip::Message)> {
    let mut sent = sim.take_msgs();
    sent.extend(std::iter::from_fn(|| sim.core.poll_transmit()).map(|t| (t.destination, causeway_sip::Message::parse(t.bytes).unwrap_or_else(|e| panic!("{e}")))));
    sent
}

#[test]
fn rfc3263_naptr_srv_a_then_the_request_goes_to_the_best_srv_target() {
    let mut sim = sim();
    sim.udp(ALICE, &invite("sip:bob@partner.example", "d1", "z9hG4bKd1", ""));
    assert!(sim.take().is_empty(), "nothing is sent while the lookups run");
    // A retransmission while waiting is not parked twice.
    sim.udp(ALICE, &invite("sip:bob@partner.example", "d1", "z9hG4bKd1", ""));
    let asked = resolve_all(&mut sim, &partner_dns(), &DnsAnswer::NoRecords);
    assert_eq!(asked, ["NAPTR partner.example", "SRV _sip._udp.partner.example", "A/AAAA a.partner.example", "A/AAAA b.partner.example"]);
    let sent = sent_since(&mut sim);
    let invites: Vec<SocketAddr> = sent.iter().filter(|(_, m)| m.method() == Some(&Method::Invite)).map(|(to, _)| *to).collect();
    assert_eq!(invites, [SocketAddr::from(([192, 0, 2, 70], 5070))], "priority 1 first");
    assert!(sent.iter().any(|(to, m)| *to == ALICE && m.status().map(|s| s.as_u16()) == Some(100)));

    // A second call within the TTLs needs no lookup at all.
    sim.udp(ALICE, &invite("sip:carol@partner.example", "d2", "z9hG4bKd2", ""));
    assert!(sim.core.poll_resolve().is_none());
    let again: Vec<SocketAddr> = sent_since(&mut sim).into_iter().filter(|(_, m)| m.method() == Some(&Method::Invite)).map(|(to, _)| to).collect();
    assert_eq!(again, [SocketAddr::from(([192, 0, 2, 70], 5070))]);

    // After the TTLs the names are looked up again.
    sim.advance(Duration::from_secs(400));
    sim.take();
    sim.udp(ALICE, &invite("sip:dave@partner.example", "d3", "z9hG4bKd3", ""));
    assert_eq!(resolve_all(&mut sim, &partner_dns(), &DnsAnswer::NoRecords).len(), 4);
}

#[test]
fn rfc3263_a_dns_timeout_gives_504_and_nxdomain_404() {
    let mut sim = sim();
    sim.udp(ALICE, &invite("sip:bob@partner.example", "t1", "z9hG4bKt1", ""));
    resolve_all(&mut sim, &HashMap::new(), &DnsAnswer::Failed(DnsFailure::Timeout));
    let finals: Vec<u16> = sent_since(&mut sim).iter().filter_map(|(_, m)| m.status().map(|s| s.as_u16())).filter(|s| *s >= 200).collect();
    assert_eq!(finals, [504]);

    let mut sim = self::sim();
    sim.udp(ALICE, &invite("sip:bob@nowhere.partner.example", "n1", "z9hG4bKn1", ""));
    resolve_all(&mut sim, &HashMap::new(), &DnsAnswer::NoRecords);
    let finals: Vec<u16> = sent_since(&mut sim).iter().filter_map(|(_, m)| m.status().map(|s| s.as_u16())).filter(|s| *s >= 200).collect();
    assert_eq!(finals, [404]);
}
