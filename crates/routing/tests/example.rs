//! The shipped example (examples/routing/expressway.toml, the field guide's Expressway-E/-C set-up)
//! through the whole engine: flow F2 for both clusters, the Webex search rule with its DNS zone,
//! the `call-type=squared` loop rule, and the Teams trunk with keepalive. Golden traces are the
//! `causeway locate` text shown in docs/routing.md.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use causeway_policy::{PolicySet, SourceText};
use causeway_routing::keepalive::{Keepalive, ProbeResult};
use causeway_routing::resolve::{AddressRecord, DnsAnswer, QueryKind, SrvRecord};
use causeway_routing::{
    authenticate, classify, AuthRequirement, Authentication, ClassifiedBy, ClassifyInput, Decision, HealthSnapshot,
    IdentityHeaders, Locate, LocateInput, Outcome, RejectCause, ResolveStep, RoutingTable, ZoneClassified, ZoneKind,
};
use causeway_sip::Transport;
use chrono::{TimeZone, Utc};
use common::{golden, load, FakeDns, EXAMPLE};

const SHARED_EDGE: &str = include_str!("../../../examples/policy/shared-edge.toml");
const F2_CONTACT: &str = "\"l2sip\" <sip:l2sip@10.10.10.10:5062;transport=tls>;call-type=squared";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn policy(table: &RoutingTable) -> PolicySet {
    let zones = table.zone_names();
    PolicySet::from_toml_str(SourceText::new("shared-edge.toml", SHARED_EDGE), &zones, |_| Err(std::io::ErrorKind::NotFound.into()))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Classifies and authenticates a request the way the node will.
fn arrive(table: &RoutingTable, source: &str, listener: &str, names: Option<&[String]>) -> (ZoneClassified, Authentication) {
    let input = ClassifyInput { listener: addr(listener), source: addr(source), transport: Transport::Tls, tls_peer_names: names };
    let classified = classify(&input, table, &HealthSnapshot::default());
    match authenticate(&classified, table) {
        AuthRequirement::Decided(a) => (classified, a),
        AuthRequirement::CheckCredentials(_) => panic!("the example's zones do not check credentials"),
    }
}

/// Flow F2: Webex over mutual TLS, Route header naming the caller's home cluster.
fn f2(table: &RoutingTable, policy: &PolicySet, home: &str) -> Decision {
    let names = ["callservice.webex.com".to_owned()];
    let (classified, auth) = arrive(table, "198.51.100.20:40123", "10.0.0.5:5062", Some(&names));
    let routes = ["<sip:l2sip@20.20.20.20:5062;transport=tls;lr>".to_owned(), format!("<sip:{home};lr>")];
    let local = ["20.20.20.20".to_owned(), "edge.ent-pa.com".to_owned()];
    let mut input = LocateInput::new(&classified, &auth, "sip:bob@ent-pa.com");
    input.from = Some("\"Alice\" <sip:alice@example.call.webex.com>;tag=1381736467");
    input.routes = &routes;
    input.contact = Some(F2_CONTACT);
    input.max_forwards = Some(70);
    input.local_hosts = &local;
    let wall = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).single().unwrap_or_default();
    Locate::new(table, &HealthSnapshot::default()).with_policy(policy, wall).run(&input)
}

fn only_target(d: &Decision) -> (&str, &str, Option<&str>, u8, bool) {
    let groups = d.groups();
    assert_eq!(groups.len(), 1, "{d}");
    let g = &groups[0];
    assert_eq!(g.targets.len(), 1, "{d}");
    let t = &g.targets[0];
    (t.zone.as_str(), t.alias.as_str(), t.request_uri.as_deref(), t.max_forwards, g.last)
}

#[test]
fn the_example_loads_with_every_zone_kind_it_documents() {
    let table = load(EXAMPLE);
    let kinds: Vec<_> = table.zones().map(|z| (z.name.as_str(), z.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("webex", ZoneKind::Dns),
            ("cucm-us", ZoneKind::Neighbor),
            ("cucm-emea", ZoneKind::Neighbor),
            ("teams", ZoneKind::Trunk),
            ("internet", ZoneKind::Dns),
            ("default", ZoneKind::Default),
        ]
    );
    assert_eq!(table.transforms().len(), 2);
    assert_eq!(table.search_rules().len(), 7);
    let teams = table.zone("teams").unwrap_or_else(|| panic!("teams"));
    assert_eq!(teams.local_fqdn.as_deref(), Some("sbc.ent-pa.com"));
    assert!(!teams.sip_profile.keeps("History-Info") && teams.sip_profile.keeps("Via"));
    assert_eq!(teams.peers.iter().map(|p| p.key()).collect::<Vec<_>>(), [
        "sip.pstnhub.microsoft.com:5061",
        "sip2.pstnhub.microsoft.com:5061",
        "sip3.pstnhub.microsoft.com:5061"
    ]);
}

#[test]
fn f2_same_request_uri_goes_to_the_cluster_its_route_header_names() {
    let table = load(EXAMPLE);
    let policy = policy(&table);
    let us = f2(&table, &policy, "us-cm-pub.ent-pa.com");
    let emea = f2(&table, &policy, "emea-cm-pub.ent-pa.com");
    // The Route host is the alias; the Request-URI is not rewritten; hop count 15 caps Max-Forwards.
    assert_eq!(only_target(&us), ("cucm-us", "us-cm-pub.ent-pa.com", None, 15, true));
    assert_eq!(only_target(&emea), ("cucm-emea", "emea-cm-pub.ent-pa.com", None, 15, true));
    assert!(matches!(us.policy, Some(causeway_policy::Verdict::Allow(_))));

    let mut rng_seed = 1;
    let mut with_hops = |d: &mut Decision| {
        let target = d.groups()[0].targets[0].clone();
        let resolution = FakeDns::default().resolve(&table, &target, &HealthSnapshot::default(), rng_seed);
        rng_seed += 1;
        let hops: Vec<_> = match resolution.hops() {
            [] => panic!("no hops for {}", target.zone),
            h => h.iter().map(|h| (h.address, h.transport)).collect(),
        };
        d.record_resolution(&target.zone, &resolution);
        hops
    };
    let mut us = us;
    let mut emea = emea;
    assert_eq!(with_hops(&mut us), [(addr("10.1.1.10:5061"), Transport::Tls), (addr("10.1.1.11:5061"), Transport::Tls)]);
    assert_eq!(with_hops(&mut emea), [(addr("10.2.1.10:5061"), Transport::Tls), (addr("10.2.1.11:5061"), Transport::Tls)]);
    golden("f2-us.txt", &us.to_string());
    golden("f2-emea.txt", &emea.to_string());
    let json = serde_json::to_value(&us).unwrap_or_default();
    assert_eq!(json["outcome"]["groups"][0]["targets"][0]["zone"], "cucm-us");
    assert_eq!(json["trace"]["steps"][1]["classified"]["by"], "tls-subject");
}

#[test]
fn f2_with_a_certificate_that_does_not_match_lands_in_the_default_zone_unauthenticated() {
    let table = load(EXAMPLE);
    let names = ["evil.example.net".to_owned(), "callservice.webex.com.evil.net".to_owned()];
    let (classified, auth) = arrive(&table, "198.51.100.20:40123", "10.0.0.5:5062", Some(&names));
    assert_eq!(classified.zone(), "default");
    assert_eq!(classified.by(), &ClassifiedBy::NoMatch { refused: Vec::new() });
    assert!(!auth.authenticated());
    assert_eq!(auth.identity_headers(), IdentityHeaders::Strip);
    // The default zone does not honour Route headers: the Route cannot steer the request.
    let routes = ["<sip:us-cm-pub.ent-pa.com;lr>".to_owned()];
    let mut input = LocateInput::new(&classified, &auth, "sip:bob@ent-pa.com");
    input.routes = &routes;
    let d = causeway_routing::locate(&input, &table, &HealthSnapshot::default());
    assert!(d.trace.to_string().contains("route <sip:us-cm-pub.ent-pa.com;lr>: ignored: the zone does not honour Route headers"));
    // Business-to-business: US first; if US cannot route it, EMEA (Continue, then Stop).
    let groups: Vec<_> = d
        .groups()
        .iter()
        .map(|g| (g.priority, g.last, g.targets.iter().map(|t| (t.zone.as_str(), t.alias.as_str())).collect::<Vec<_>>()))
        .collect();
    assert_eq!(
        groups,
        [(100, false, vec![("cucm-us", "bob@ent-pa.com")]), (110, true, vec![("cucm-emea", "bob@ent-pa.com")])]
    );
}

fn cucm_calls(table: &RoutingTable, request_uri: &str, contact: Option<&str>) -> Decision {
    let (classified, auth) = arrive(table, "10.1.1.10:5061", "10.0.0.5:5061", None);
    assert_eq!(classified.zone(), "cucm-us");
    let mut input = LocateInput::new(&classified, &auth, request_uri);
    input.from = Some("<sip:alice@ent-pa.com>;tag=9");
    input.contact = contact;
    input.max_forwards = Some(70);
    let wall = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).single().unwrap_or_default();
    let policy = policy(table);
    Locate::new(table, &HealthSnapshot::default()).with_policy(&policy, wall).run(&input)
}

#[test]
fn webex_search_rule_resolves_through_the_fixed_search_domain() {
    let table = load(EXAMPLE);
    let mut d = cucm_calls(&table, "sip:bob@example.call.webex.com", Some("<sip:alice@10.1.1.10:5061;transport=tls>"));
    assert_eq!(only_target(&d), ("webex", "bob@example.call.webex.com", None, 15, true));
    let target = d.groups()[0].targets[0].clone();
    let srv = |priority, weight, target: &str| SrvRecord { priority, weight, port: 5062, target: target.into(), ttl: 300 };
    let a = |s: &str| AddressRecord { address: ip(s), ttl: 60 };
    let mut dns = FakeDns::default()
        .with(
            "_sips._tcp.callservice.webex.com",
            QueryKind::Srv,
            DnsAnswer::Srv(vec![srv(5, 10, "l2sip-a.wbx2.com."), srv(5, 10, "l2sip-b.wbx2.com."), srv(10, 10, "l2sip-c.wbx2.com.")]),
        )
        .with("l2sip-a.wbx2.com", QueryKind::Address, DnsAnswer::Addresses(vec![a("192.0.2.10")]))
        .with("l2sip-b.wbx2.com", QueryKind::Address, DnsAnswer::Addresses(vec![a("192.0.2.11")]))
        .with("l2sip-c.wbx2.com", QueryKind::Address, DnsAnswer::Addresses(vec![a("192.0.2.12")]));
    let resolution = dns.resolve(&table, &target, &HealthSnapshot::default(), 42);
    // "Modify DNS request": the destination domain is never looked up, only callservice.webex.com.
    assert_eq!(dns.asked.first().map(String::as_str), Some("SRV _sips._tcp.callservice.webex.com"));
    assert!(dns.asked.iter().all(|q| !q.contains("example.call.webex.com")));
    let hops: Vec<_> = resolution.hops().iter().map(|h| (h.host.as_str(), h.address.port(), h.transport, h.ttl)).collect();
    assert_eq!(hops.len(), 3);
    assert_eq!(hops[2], ("l2sip-c.wbx2.com", 5062, Transport::Tls, Some(60)));
    d.record_resolution("webex", &resolution);
    golden("webex-rule.txt", &d.to_string());
}

#[test]
fn call_type_squared_never_goes_back_to_webex() {
    let table = load(EXAMPLE);
    let d = cucm_calls(&table, "sip:bob@example.call.webex.com", Some(F2_CONTACT));
    assert_eq!(
        d.outcome,
        Outcome::Reject { status: 404, reason: "Not Found".into(), cause: RejectCause::NoRuleMatched }
    );
    let text = d.to_string();
    assert!(text.contains("search rule \"to-webex\" (priority 50, source any-authenticated, regex '.*@example\\.call\\.webex\\.com' → webex): skipped: Contact carries call-type=squared"), "{text}");
    assert!(text.contains("search rule \"b2b-outbound\" (priority 200, source any-authenticated, any alias → internet): skipped: Contact carries call-type=squared"), "{text}");
}

#[test]
fn f4_teams_trunk_uses_only_proxies_that_answered_options_in_priority_order() {
    let table = load(EXAMPLE);
    let uri = "sip:+14085550100@teams.ent-pa.com;user=phone";
    // Before any keepalive has been answered, the trunk is down: 503 (RFC 3263 §4.3).
    let before = cucm_calls(&table, uri, None);
    assert!(matches!(before.outcome, Outcome::Reject { status: 503, cause: RejectCause::TargetsDown, .. }), "{before}");

    // A dry run without a running node may assume every peer up.
    let (classified, auth) = arrive(&table, "10.1.1.10:5061", "10.0.0.5:5061", None);
    let dry = causeway_routing::locate(&LocateInput::new(&classified, &auth, uri), &table, &HealthSnapshot::assume_up());
    assert_eq!(only_target(&dry).0, "teams");

    let t0 = Instant::now();
    let mut keepalive = Keepalive::new(&table, t0);
    keepalive.handle_timeout(t0);
    let mut probes = Vec::new();
    while let Some(p) = keepalive.poll_probe() {
        probes.push(p);
    }
    let teams: Vec<_> = probes.iter().filter(|p| p.zone == "teams").collect();
    assert_eq!(teams.len(), 3);
    assert!(teams.iter().all(|p| p.contact_host.as_deref() == Some("sbc.ent-pa.com")));
    for p in &teams {
        if p.peer.host != "sip2.pstnhub.microsoft.com" {
            keepalive.handle_result(t0 + Duration::from_millis(80), p.id, ProbeResult::Response(200));
        }
    }
    let mut health = keepalive.snapshot();
    health.set_addresses("teams", "sip.pstnhub.microsoft.com:5061", vec![ip("52.114.148.0")]);
    let (classified, auth) = arrive(&table, "10.1.1.10:5061", "10.0.0.5:5061", None);
    let input = LocateInput::new(&classified, &auth, uri);
    let d = causeway_routing::locate(&input, &table, &health);
    assert_eq!(only_target(&d).0, "teams");
    assert_eq!(only_target(&d).2, Some("sip:+14085550100@sip.pstnhub.microsoft.com;user=phone"));
    let target = d.groups()[0].targets[0].clone();
    let a = |s: &str| DnsAnswer::Addresses(vec![AddressRecord { address: ip(s), ttl: 3600 }]);
    let mut dns = FakeDns::default()
        .with("sip.pstnhub.microsoft.com", QueryKind::Address, a("52.114.148.0"))
        .with("sip3.pstnhub.microsoft.com", QueryKind::Address, a("52.114.16.74"));
    let resolution = dns.resolve(&table, &target, &health, 3);
    let order: Vec<_> = resolution.hops().iter().map(|h| (h.peer.clone().unwrap_or_default(), h.address)).collect();
    assert_eq!(
        order,
        [
            ("sip.pstnhub.microsoft.com:5061".to_owned(), addr("52.114.148.0:5061")),
            ("sip3.pstnhub.microsoft.com:5061".to_owned(), addr("52.114.16.74:5061")),
        ]
    );
    // Requests from the Teams proxies are classified by their certificate.
    let names = ["sip2.pstnhub.microsoft.com".to_owned()];
    let (from_teams, _) = arrive(&table, "52.114.76.76:5061", "10.0.0.5:5061", Some(&names));
    assert_eq!(from_teams.zone(), "teams");
}

#[test]
fn a_traversal_target_goes_down_its_connection() {
    let table = load(
        r#"
[[zone]]
name = "internal"
kind = "traversal"
role = "server"
[[search_rule]]
name = "all"
mode = "any-alias"
target = "internal"
"#,
    );
    let (classified, auth) = common::from_zone(&table, "default", false);
    let input = LocateInput::new(&classified, &auth, "sip:x@y");
    let down = causeway_routing::locate(&input, &table, &HealthSnapshot::default());
    assert!(matches!(down.outcome, Outcome::Reject { status: 503, .. }));
    let mut health = HealthSnapshot::default();
    health.set_traversal("internal", true);
    let up = causeway_routing::locate(&input, &table, &health);
    let target = up.groups()[0].targets[0].clone();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
    let mut resolution = causeway_routing::Resolution::new(&table, &target, &health, &mut rng);
    assert_eq!(resolution.poll(), ResolveStep::TraversalFlow);
}

#[test]
fn docs_show_the_complete_example_and_the_golden_locate_output() {
    let docs = include_str!("../../../docs/routing.md");
    assert!(docs.contains(EXAMPLE), "docs/routing.md must hold examples/routing/expressway.toml verbatim");
    for name in ["f2-us.txt", "f2-emea.txt", "webex-rule.txt"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(docs.contains(&text), "docs/routing.md must show tests/golden/{name}");
    }
}
