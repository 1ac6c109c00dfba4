//! The edge's security phases in simulated time (issue 4): digest challenges (407, 401 for
//! REGISTER) and the request that answers them, anti-enumeration, brute-force and flood bans
//! (silent drops), the shipped shared-edge call policy against toll fraud — including a Route
//! that points straight at the gateway — RFC 3325 identity stripping, and the counters.

mod harness;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use causeway_policy::flood::{FloodConfig, Limit};
use causeway_policy::{Decider, PolicySet, SourceText};
use causeway_sip::{HeaderName, Message, StatusCode};
use chrono::{TimeZone, Utc};
use harness::gate::*;
use harness::*;

const OTHER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 6)), 5060);

#[test]
fn rfc3261_22_3_invite_is_challenged_then_forwarded_with_the_right_credentials() {
    let mut sim = Sim::new().with_security(security(zones("check-credentials"), Arc::new(PolicySet::off()), generous()), EPOCH);
    let uri = "sip:bob@example.com";
    sim.udp(MALLORY, &crlf(&req("INVITE", uri, "c1", 1, MALLORY, "")));
    let (to, challenge) = sim.one();
    assert_eq!((to, status(&challenge)), (MALLORY, Some(407)));
    let offered = values(&challenge, HeaderName::ProxyAuthenticate);
    assert_eq!(offered.len(), 1, "{offered:?}");
    assert!(offered[0].contains("realm=\"ent-pa.com\"") && offered[0].contains("qop=\"auth\""), "{offered:?}");
    assert_eq!(value(&challenge, HeaderName::Server).as_deref(), Some("Causeway"), "our own response names us, without a version");

    let auth = credentials("1000", "1234", "INVITE", uri, &nonce(&offered[0]), 1);
    sim.udp(MALLORY, &crlf(&req("INVITE", uri, "c1", 2, MALLORY, &format!("Proxy-Authorization: {auth}\n"))));
    let sent = sim.take_msgs();
    let forwarded: Vec<_> = sent.iter().filter(|(to, m)| *to == BOB && m.method().is_some()).collect();
    assert_eq!(forwarded.len(), 1, "the authenticated INVITE goes to Bob: {:?}", sent.iter().map(|(d, m)| (d, summary(m))).collect::<Vec<_>>());
    let counters = &sim.core.counters().security;
    assert_eq!((counters.challenges, counters.authenticated, counters.auth_failures), (1, 1, 0));
}

#[test]
fn rfc3261_22_2_register_is_challenged_with_401() {
    let mut sim = Sim::new().with_security(security(zones("check-credentials"), Arc::new(PolicySet::off()), generous()), EPOCH);
    sim.udp(MALLORY, &crlf(&req("REGISTER", "sip:example.com", "r1", 1, MALLORY, "")));
    let (_, challenge) = sim.one();
    assert_eq!(status(&challenge), Some(401));
    assert_eq!(values(&challenge, HeaderName::WwwAuthenticate).len(), 1);
    assert!(values(&challenge, HeaderName::ProxyAuthenticate).is_empty());
    let auth = credentials("1000", "1234", "REGISTER", "sip:example.com", &nonce(&values(&challenge, HeaderName::WwwAuthenticate)[0]), 1);
    sim.udp(MALLORY, &crlf(&req("REGISTER", "sip:example.com", "r1", 2, MALLORY, &format!("Authorization: {auth}\n"))));
    let (to, forwarded) = sim.one();
    assert_eq!((to, forwarded.method().map(|m| m.as_str().to_owned())), (BOB, Some("REGISTER".to_owned())));
}

/// Everything of a response but the parts that differ on every response anyway (the nonce,
/// our To tag) and the request's own fields.
fn shape(m: &Message) -> Vec<String> {
    let mut lines = vec![format!("{} {}", m.status().map(StatusCode::as_u16).unwrap_or_default(), m.reason_phrase().unwrap_or_default())];
    for h in m.headers() {
        let value = String::from_utf8_lossy(h.value).into_owned();
        let value = match h.name {
            HeaderName::To | HeaderName::From | HeaderName::CallId | HeaderName::CSeq | HeaderName::Via => continue,
            HeaderName::ProxyAuthenticate | HeaderName::WwwAuthenticate => value.replace(&nonce(&value), "N"),
            _ => value,
        };
        lines.push(format!("{}: {value}", String::from_utf8_lossy(h.raw_name)));
    }
    lines
}

#[test]
fn unknown_user_and_wrong_password_get_the_same_answer() {
    let mut sim = Sim::new().with_security(security(zones("check-credentials"), Arc::new(PolicySet::off()), generous()), EPOCH);
    for (method, uri, header) in [
        ("REGISTER", "sip:example.com", "Authorization"),
        ("INVITE", "sip:bob@example.com", "Proxy-Authorization"),
        ("OPTIONS", "sip:bob@example.com", "Proxy-Authorization"),
    ] {
        let mut answers = Vec::new();
        for (i, user) in ["1000", "9999"].into_iter().enumerate() {
            let call = format!("{method}-{i}");
            sim.udp(MALLORY, &crlf(&req(method, uri, &call, 1, MALLORY, "")));
            let (_, challenge) = sim.one();
            let offered = [HeaderName::WwwAuthenticate, HeaderName::ProxyAuthenticate]
                .into_iter()
                .find_map(|n| value(&challenge, n))
                .unwrap_or_default();
            let auth = credentials(user, "wrong", method, uri, &nonce(&offered), 1);
            sim.udp(MALLORY, &crlf(&req(method, uri, &call, 2, MALLORY, &format!("{header}: {auth}\n"))));
            let (_, answer) = sim.one();
            answers.push(shape(&answer));
        }
        assert_eq!(answers[0], answers[1], "{method}: a known user with a wrong password and an unknown user");
        assert!(answers[0][0].starts_with(if method == "REGISTER" { "401" } else { "407" }), "{:?}", answers[0]);
    }
    assert_eq!(sim.core.counters().security.auth_failures, 6);
}

#[test]
fn password_guessing_bans_the_source_and_the_username_silently() {
    let mut sim = Sim::new().with_security(security(zones("check-credentials"), Arc::new(PolicySet::off()), generous()), EPOCH);
    let uri = "sip:example.com";
    let mut last_nonce = String::new();
    let mut answered = 0;
    for guess in 0..30u32 {
        let call = format!("g{guess}");
        sim.udp(MALLORY, &crlf(&req("REGISTER", uri, &call, 1, MALLORY, "")));
        let Some((_, challenge)) = sim.take_msgs().into_iter().next() else { break };
        last_nonce = nonce(&value(&challenge, HeaderName::WwwAuthenticate).unwrap_or_default());
        let auth = credentials("1000", &format!("guess{guess}"), "REGISTER", uri, &last_nonce, 1);
        sim.udp(MALLORY, &crlf(&req("REGISTER", uri, &call, 2, MALLORY, &format!("Authorization: {auth}\n"))));
        if sim.take_msgs().is_empty() {
            break;
        }
        answered += 1;
    }
    // The default limit: 10 failures per source per minute; the 11th starts a ban and is
    // dropped unanswered.
    assert_eq!(answered, 10, "ten wrong guesses get challenges, then the source is banned");
    assert!(!last_nonce.is_empty());
    sim.udp(MALLORY, &crlf(&req("REGISTER", uri, "after", 1, MALLORY, "")));
    assert!(sim.take().is_empty(), "a banned source gets no answer at all");
    // The right password from another address: the username is not banned yet (20 per 5 min),
    // so it gets in; the source ban is only Mallory's.
    sim.udp(OTHER, &crlf(&req("REGISTER", uri, "o1", 1, OTHER, "")));
    let (_, challenge) = sim.one();
    let auth = credentials("1000", "1234", "REGISTER", uri, &nonce(&value(&challenge, HeaderName::WwwAuthenticate).unwrap_or_default()), 1);
    sim.udp(OTHER, &crlf(&req("REGISTER", uri, "o1", 2, OTHER, &format!("Authorization: {auth}\n"))));
    assert_eq!(sim.one().0, BOB);
    let counters = &sim.core.counters().security;
    assert_eq!((counters.auth_failures, counters.bans_started), (11, 1));
    assert!(counters.flood_dropped >= 1 && counters.auth_dropped == 1, "{counters:?}");
    let status = sim.core.flood_status(sim.now).unwrap_or_else(|| panic!("flood guard on"));
    assert_eq!(status.bans.len(), 1);
    // Bans end: after the first ban time (60 s) the source is heard again.
    sim.advance(Duration::from_secs(61));
    sim.take();
    sim.udp(MALLORY, &crlf(&req("REGISTER", uri, "later", 1, MALLORY, "")));
    assert_eq!(status_of_one(&mut sim), Some(401));
}

#[test]
fn a_flooding_source_is_dropped_unparsed_and_others_are_still_served() {
    let flood = FloodConfig { requests_per_source: Limit { count: 50, window: Duration::from_secs(10) }, ..FloodConfig::default() };
    let mut sim = Sim::new().with_security(security(zones("do-not-check"), Arc::new(PolicySet::off()), flood), EPOCH);
    let mut answers = 0;
    for i in 0..500 {
        sim.udp(MALLORY, &crlf(&req("OPTIONS", "sip:nobody@nowhere.invalid", &format!("f{i}"), 1, MALLORY, "")));
        answers += sim.take().len();
        sim.advance(Duration::from_millis(1));
    }
    assert_eq!(answers, 50, "the first 50 requests are answered (404: no route), the rest dropped");
    // Garbage counts as well: it is dropped before anyone tries to parse it.
    sim.udp(MALLORY, "\u{1}\u{2} not SIP at all\n");
    assert!(sim.take().is_empty());
    sim.udp(OTHER, &crlf(&req("OPTIONS", "sip:nobody@nowhere.invalid", "x", 1, OTHER, "")));
    assert_eq!(status_of_one(&mut sim), Some(404));
    let counters = &sim.core.counters().security;
    assert_eq!((counters.flood_dropped, counters.bans_started), (451, 1));
    assert_eq!(sim.core.counters().requests_received.total(), 51, "dropped requests were never parsed");
}

/// The toll-fraud attempts of flow F3, each with the rule of the shipped shared-edge policy
/// that must stop it.
const TOLL_FRAUD: [(&str, &str, &str); 6] = [
    ("sip:9011441234567@ent-pa.com", "", "dial-out-prefix"),
    ("sip:0044201234567@ent-pa.com", "", "dial-out-prefix"),
    ("sip:011441234567@ent-pa.com", "", "dial-out-prefix"),
    ("sip:+12125550100@ent-pa.com", "", "e164-and-dial-strings"),
    ("sip:alice@ent-pa.com", "P-Asserted-Identity: <sip:ceo@ent-pa.com>\n", "spoofed-enterprise-domain"),
    ("sip:%39011441234567@ent-pa.com", "", "dial-out-prefix"),
];

#[test]
fn f3_toll_fraud_from_the_default_zone_is_rejected_and_nothing_is_forwarded() {
    let mut sim = Sim::with(config(), everything_to_bob())
    .with_security(security(zones("do-not-check"), shared_edge(), generous()), EPOCH);
    for (i, (uri, extra, rule)) in TOLL_FRAUD.iter().enumerate() {
        sim.udp(MALLORY, &crlf(&internet_invite(uri, &format!("t{i}"), "sip:mallory@203.0.113.5", extra)));
        let (to, answer) = sim.one();
        assert_eq!((to, status(&answer)), (MALLORY, Some(403)), "{uri} {extra}");
        let counts = sim.core.counters().security.policy.snapshot();
        assert!(counts.iter().any(|(d, c)| matches!(d, Decider::Rule { name, .. } if name == rule) && c.rejected > 0), "{uri}: {counts:?}");
    }
    // The same with a spoofed enterprise From, and with a Route straight at the gateway: the
    // gate runs before a Route is followed, so pointing past routing does not bypass policy.
    sim.udp(MALLORY, &crlf(&internet_invite("sip:bob@ent-pa.com", "s1", "sip:ceo@ent-pa.com", "")));
    assert_eq!(status_of_one(&mut sim), Some(403));
    let routed = internet_invite("sip:9011441234567@192.0.2.20", "r1", "sip:mallory@203.0.113.5", "Route: <sip:192.0.2.20;lr>\n");
    sim.udp(MALLORY, &crlf(&routed));
    assert_eq!(status_of_one(&mut sim), Some(403));
    // A business-to-business call is allowed, and the identity it asserts is not passed on
    // (RFC 3325 §5: the caller is not authenticated).
    sim.udp(MALLORY, &crlf(&internet_invite("sip:bob@ent-pa.com", "ok", "sip:mallory@partner.example", "P-Asserted-Identity: <sip:boss@partner.example>\n")));
    let sent = sim.take_msgs();
    let forwarded: Vec<&Message> = sent.iter().filter(|(to, m)| *to == BOB && m.method().is_some()).map(|(_, m)| m).collect();
    assert_eq!(forwarded.len(), 1);
    assert!(values(forwarded[0], HeaderName::PAssertedIdentity).is_empty(), "PAI stripped from an unauthenticated request");
    let counters = &sim.core.counters().security.policy;
    let allowed = counters.get(&Decider::Rule { index: 5, name: "enterprise-domain".into() });
    assert_eq!((allowed.allowed, allowed.rejected), (1, 0));
}

#[test]
fn cpl_time_switch_reads_the_request_time_from_the_core_clock() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/policy/");
    let text = std::fs::read_to_string(format!("{dir}business-hours.cpl")).unwrap_or_else(|e| panic!("{e}"));
    let set = PolicySet::from_cpl(SourceText::new("business-hours.cpl", &text), &["default"]).unwrap_or_else(|e| panic!("{e}"));
    // Monday 2 March 2026, 07:00 UTC: 08:00 in Paris, before opening time (08:30).
    let monday = Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0).single().unwrap_or(EPOCH);
    let mut sim = Sim::with(config(), everything_to_bob()).with_security(security(zones("do-not-check"), Arc::new(set), generous()), monday);
    sim.udp(MALLORY, &crlf(&internet_invite("sip:sales@ent-pa.com", "early", "sip:mallory@partner.example", "")));
    let (_, redirect) = sim.one();
    assert_eq!(status(&redirect), Some(302), "after hours: to voicemail");
    assert_eq!(values(&redirect, HeaderName::Contact), ["<sip:voicemail@ent-pa.com>"]);
    // Two hours later by the core's clock it is 10:00 in Paris: the call goes through.
    sim.advance(Duration::from_secs(2 * 3600));
    sim.udp(MALLORY, &crlf(&internet_invite("sip:sales@ent-pa.com", "open", "sip:mallory@partner.example", "")));
    let sent = sim.take_msgs();
    assert!(sent.iter().any(|(to, m)| *to == BOB && m.method().is_some()), "{:?}", sent.iter().map(|(d, m)| (d, summary(m))).collect::<Vec<_>>());
}

/// The default zone checks credentials; authenticated callers may reach the enterprise, whose
/// one peer is Bob.
const EDGE_ZONES: &str = r#"
[[zone]]
name = "default"
kind = "default"
authentication = "check-credentials"

[[zone]]
name = "enterprise"
kind = "neighbor"
keepalive = { enabled = false }
[[zone.peer]]
address = "192.0.2.20:5060"
transport = "udp"

[[search_rule]]
name = "to-the-enterprise"
priority = 10
source = "any-authenticated"
request_must_be_authenticated = true
pattern_type = "regex"
pattern = '.*@ent-pa\.com'
target = "enterprise"
"#;

#[test]
fn the_edge_router_routes_with_the_authentication_the_gate_established() {
    let table = Arc::new(causeway_routing::config::load(EDGE_ZONES).unwrap_or_else(|e| panic!("{e:?}")));
    let router = causeway_proxy::edge::EdgeRouter::new(table.clone());
    let policy = Arc::new(PolicySet::off());
    let mut sim = Sim::with(config(), router).with_security(security(table, policy, generous()), EPOCH);
    let uri = "sip:bob@ent-pa.com";
    sim.udp(MALLORY, &crlf(&req("INVITE", uri, "e1", 1, MALLORY, "")));
    let (_, challenge) = sim.one();
    assert_eq!(status(&challenge), Some(407));
    let auth = credentials("1000", "1234", "INVITE", uri, &nonce(&value(&challenge, HeaderName::ProxyAuthenticate).unwrap_or_default()), 1);
    sim.udp(MALLORY, &crlf(&req("INVITE", uri, "e1", 2, MALLORY, &format!("Proxy-Authorization: {auth}\nP-Asserted-Identity: <sip:1000@ent-pa.com>\n"))));
    let sent = sim.take_msgs();
    let forwarded: Vec<&Message> = sent.iter().filter(|(to, m)| *to == BOB && m.method().is_some()).map(|(_, m)| m).collect();
    assert_eq!(forwarded.len(), 1, "{:?}", sent.iter().map(|(d, m)| (d, summary(m))).collect::<Vec<_>>());
    assert_eq!(values(forwarded[0], HeaderName::PAssertedIdentity), ["<sip:1000@ent-pa.com>"], "kept: the caller is authenticated");
    assert!(values(forwarded[0], HeaderName::Server).is_empty() && values(forwarded[0], HeaderName::UserAgent).is_empty(), "nothing added to a forwarded request");
}

#[test]
fn credentials_are_checked_once_for_a_request_that_waits_for_dns_lookups() {
    let text = "[[zone]]\nname = \"default\"\nkind = \"default\"\nauthentication = \"check-credentials\"\n\
                [[zone]]\nname = \"b2b\"\nkind = \"dns\"\ntransport = \"udp\"\n\
                [[search_rule]]\nname = \"b2b\"\nsource = \"any-authenticated\"\npattern_type = \"suffix\"\npattern = \"@partner.example\"\ntarget = \"b2b\"\n";
    let table = Arc::new(causeway_routing::config::load(text).unwrap_or_else(|e| panic!("{e:?}")));
    let router = causeway_proxy::edge::EdgeRouter::new(Arc::clone(&table));
    let mut sim = Sim::with(config(), router).with_security(security(Arc::clone(&table), Arc::new(PolicySet::off()), generous()), EPOCH);
    let now = sim.now;
    sim.core.monitor_peers(now, &table);
    let uri = "sip:bob@partner.example";
    sim.udp(MALLORY, &crlf(&req("INVITE", uri, "dz", 1, MALLORY, "")));
    let (_, challenge) = sim.one();
    let offered = values(&challenge, HeaderName::ProxyAuthenticate);
    let auth = credentials("1000", "1234", "INVITE", uri, &nonce(&offered[0]), 1);
    sim.udp(MALLORY, &crlf(&req("INVITE", uri, "dz", 2, MALLORY, &format!("Proxy-Authorization: {auth}\n"))));
    // RFC 3263: SRV, then A; the request waits, then is handled again with the answers.
    use causeway_routing::resolve::{AddressRecord, DnsAnswer, QueryKind, SrvRecord};
    let mut asked = Vec::new();
    while let Some(lookup) = sim.core.poll_resolve() {
        asked.push(lookup.query.kind);
        let answer = match lookup.query.kind {
            QueryKind::Srv => DnsAnswer::Srv(vec![SrvRecord { priority: 1, weight: 0, port: 5060, target: "pbx.partner.example.".into(), ttl: 60 }]),
            _ => DnsAnswer::Addresses(vec![AddressRecord { address: BOB.ip(), ttl: 60 }]),
        };
        let now = sim.now;
        sim.core.handle_resolved(now, lookup.id, answer);
    }
    assert_eq!(asked, [QueryKind::Srv, QueryKind::Address]);
    let mut sent = sim.take_msgs();
    sent.extend(std::iter::from_fn(|| sim.core.poll_transmit()).map(|t| (t.destination, Message::parse(t.bytes).unwrap_or_else(|e| panic!("{e}")))));
    let forwarded = sent.iter().filter(|(to, m)| *to == BOB && m.method().is_some()).count();
    assert_eq!(forwarded, 1, "{:?}", sent.iter().map(|(d, m)| (d, summary(m))).collect::<Vec<_>>());
    let counters = &sim.core.counters().security;
    assert_eq!((counters.authenticated, counters.auth_failures), (1, 0), "the digest response was checked once, not replayed");
}
