//! The routing engine as the core's locator, in simulated time: flow F2 (mutual TLS names the
//! zone, the Route header names the cluster), a certificate that matches no zone, RFC 3325
//! identity handling, a search rule's `continue` after a 404, peer failover after 503, the
//! hop count, the `call-type=squared` loop rule and the Zoom repair.

mod harness;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use causeway_meetings::booking::{Booking, BookingStore, BookingTime, Call, DialInfo, START_TIME_BUFFER};
use causeway_proxy::edge::{EdgeRouter, ZoomRepair};
use causeway_proxy::{FlowId, Inbound};
use causeway_sip::{HeaderName, Message, Method, StatusCode, Transport};
use chrono::{DateTime, Utc};
use harness::*;

const TABLE: &str = r#"
[[zone]]
name = "webex"
kind = "dns"
authentication = "treat-as-authenticated"
tls_verify_subject = ["callservice.webex.com"]
honor_route_header = true
search_domain = "callservice.webex.com"
transport = "tls"
loop_contact_params = ["call-type=squared"]

[[zone]]
name = "cucm-us"
kind = "neighbor"
authentication = "treat-as-authenticated"
hop_count = 15
[[zone.peer]]
address = "192.0.2.20:5060"
transport = "udp"
priority = 1
[[zone.peer]]
address = "192.0.2.21:5070"
transport = "udp"
priority = 2

[[zone]]
name = "cucm-emea"
kind = "neighbor"
authentication = "treat-as-authenticated"
[[zone.peer]]
address = "192.0.2.30:5060"
transport = "udp"

[[zone]]
name = "zoom"
kind = "neighbor"
loop_contact_params = ["call-type=squared"]
sip_profile = { strip_headers = ["History-Info"] }
[[zone.peer]]
address = "192.0.2.40:5060"
transport = "udp"

[[search_rule]]
name = "webex-to-cucm-us"
priority = 40
source = "webex"
request_must_be_authenticated = true
pattern_type = "exact"
pattern = "us-cm-pub.ent-pa.com"
on_match = "stop"
target = "cucm-us"

[[search_rule]]
name = "webex-to-cucm-emea"
priority = 40
source = "webex"
request_must_be_authenticated = true
pattern_type = "exact"
pattern = "emea-cm-pub.ent-pa.com"
on_match = "stop"
target = "cucm-emea"

[[search_rule]]
name = "to-zoom"
priority = 50
pattern_type = "suffix"
pattern = "@zoomcrc.com"
on_match = "stop"
target = "zoom"

[[search_rule]]
name = "enterprise-us"
priority = 100
pattern_type = "suffix"
pattern = "@ent-pa.com"
target = "cucm-us"

[[search_rule]]
name = "enterprise-emea"
priority = 110
pattern_type = "suffix"
pattern = "@ent-pa.com"
on_match = "stop"
target = "cucm-emea"
"#;

const WEBEX: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 20)), 40123);
const EMEA: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 30)), 5060);
const ZOOM: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 40)), 5060);

fn router() -> EdgeRouter {
    let table = causeway_routing::config::load(TABLE).unwrap_or_else(|e| panic!("{e:?}"));
    EdgeRouter::new(Arc::new(table))
}

fn sim(router: EdgeRouter) -> Sim<EdgeRouter> {
    Sim::with(config(), router)
}

/// Delivers `text` over TLS from Webex with certificate names `names`; returns what was sent.
fn from_webex(sim: &mut Sim<EdgeRouter>, text: &str, names: &[&str]) -> Vec<(SocketAddr, Message)> {
    let names: Arc<[String]> = names.iter().map(|n| (*n).to_owned()).collect();
    let inbound = Inbound {
        bytes: Bytes::from(crlf(text)),
        transport: Transport::Tls,
        local: PROXY_TLS,
        peer: WEBEX,
        flow: Some(FlowId(7)),
        tls_peer_names: Some(names),
    };
    sim.core.handle_inbound(sim.now, inbound);
    std::iter::from_fn(|| sim.core.poll_transmit())
        .map(|t| (t.destination, Message::parse(t.bytes).unwrap_or_else(|e| panic!("{e}"))))
        .collect()
}

/// Flow F2's INVITE: our Route first, then the caller's home cluster.
fn f2_invite(call: &str, cluster: &str) -> String {
    let extra = format!(
        "Route: <sip:127.0.0.1:5061;transport=tls;lr>, <sip:{cluster};lr>\n\
         P-Asserted-Identity: <sip:alice@example.call.webex.com>\n"
    );
    invite("sip:bob@ent-pa.com", call, &format!("z9hG4bK{call}"), &extra)
        .replace("SIP/2.0/UDP 192.0.2.10:5060", "SIP/2.0/TLS 198.51.100.20:40123")
        .replace("Contact: <sip:alice@192.0.2.10:5060>", "Contact: \"l2sip\" <sip:l2sip@198.51.100.20:5062;transport=tls>;call-type=squared")
}

fn forwarded(out: &[(SocketAddr, Message)]) -> Vec<(SocketAddr, Message)> {
    out.iter().filter(|(_, m)| m.method() == Some(&Method::Invite)).cloned().collect()
}

#[test]
fn f2_the_route_header_picks_the_cluster_for_the_same_request_uri() {
    let mut sim = sim(router());
    let us = forwarded(&from_webex(&mut sim, &f2_invite("f2us", "us-cm-pub.ent-pa.com"), &["callservice.webex.com"]));
    let emea = forwarded(&from_webex(&mut sim, &f2_invite("f2emea", "emea-cm-pub.ent-pa.com"), &["callservice.webex.com"]));
    assert_eq!(us.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [BOB], "US cluster, first peer");
    assert_eq!(emea.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [EMEA]);
    let (_, copy) = &us[0];
    assert_eq!(copy.request_uri_str(), Some("sip:bob@ent-pa.com"), "the Request-URI is not rewritten");
    assert_eq!(values(copy, HeaderName::Route), ["<sip:us-cm-pub.ent-pa.com;lr>"], "only our Route is taken off");
    assert_eq!(copy.max_forwards().ok().flatten(), Some(15), "cucm-us hop count");
    assert!(copy.header(HeaderName::PAssertedIdentity).is_some(), "authenticated: PAI kept (RFC 3325)");
}

#[test]
fn a_certificate_that_matches_no_zone_lands_in_the_default_zone() {
    let mut sim = sim(router());
    let out = from_webex(&mut sim, &f2_invite("f2bad", "us-cm-pub.ent-pa.com"), &["evil.example.net"]);
    // Default zone: the Route is not honoured, so the Request-URI decides (enterprise rules),
    // and the request is not authenticated: its asserted identity goes.
    let sent = forwarded(&out);
    assert_eq!(sent.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [BOB]);
    assert!(sent[0].1.header(HeaderName::PAssertedIdentity).is_none(), "RFC 3325 §5: stripped");
}

#[test]
fn continue_a_404_from_the_us_cluster_tries_emea() {
    let mut sim = sim(router());
    sim.udp(ALICE, &invite("sip:bob@ent-pa.com", "c1", "z9hG4bKc1", ""));
    let us = forwarded(&sim.take_msgs());
    assert_eq!(us.len(), 1);
    sim.udp(BOB, &respond(&us[0].1, 404, "Not Found", "u1", ""));
    let emea = forwarded(&sim.take_msgs());
    assert_eq!(emea.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [EMEA]);
}

#[test]
fn rfc3263_4_3_a_503_from_the_first_peer_goes_to_the_second() {
    let mut sim = sim(router());
    sim.udp(ALICE, &invite("sip:bob@ent-pa.com", "p1", "z9hG4bKp1", ""));
    let first = forwarded(&sim.take_msgs());
    sim.udp(BOB, &respond(&first[0].1, 503, "Service Unavailable", "u1", ""));
    let second = forwarded(&sim.take_msgs());
    assert_eq!(second.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [BOB2]);
}

#[test]
fn call_type_squared_never_goes_back_to_a_zone_that_refuses_it() {
    let mut sim = sim(router());
    let text = invite("sip:85012345678@zoomcrc.com", "l1", "z9hG4bKl1", "")
        .replace("Contact: <sip:alice@192.0.2.10:5060>", "Contact: <sip:alice@192.0.2.10:5060>;call-type=squared");
    sim.udp(ALICE, &text);
    let out = sim.take_msgs();
    assert!(forwarded(&out).is_empty());
    assert!(out.iter().any(|(d, m)| *d == ALICE && m.status() == Some(StatusCode::NOT_FOUND)), "no rule left: 404");
}

#[test]
fn a_zones_sip_profile_strips_its_headers_and_keeps_the_core_ones() {
    let mut sim = sim(router());
    let extra = "History-Info: <sip:x@example.org>;index=1\nSubject: weekly\n";
    sim.udp(ALICE, &invite("sip:85012345678.739201@zoomcrc.com", "s1", "z9hG4bKs1", extra));
    let sent = forwarded(&sim.take_msgs());
    assert_eq!(sent.len(), 1);
    let copy = &sent[0].1;
    assert!(!copy.headers().any(|h| h.raw_name.eq_ignore_ascii_case(b"History-Info")), "stripped for the zoom zone");
    assert!(copy.header(HeaderName::Subject).is_some() && copy.header(HeaderName::Contact).is_some());
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
}

#[test]
fn zoom_repair_the_short_dial_string_leaves_with_the_bookings_passcode() {
    let store = BookingStore::new();
    store.add_room("board", &["sip:alice@example.org".into()]);
    let start = at("2026-03-10T14:00:00Z");
    let booking = Booking {
        id: "q1".into(),
        title: "Quarterly review".into(),
        time: BookingTime { start_time: start, end_time: start + chrono::Duration::hours(1), start_time_buffer: START_TIME_BUFFER },
        meeting_platform: "Zoom".into(),
        dial_info: DialInfo { connect_mode: "OBTP".into(), calls: vec![Call { number: "85012345678.739201@zoomcrc.com".into(), protocol: "SIP".into() }] },
    };
    store.replace("board", vec![booking], start);
    let repair = ZoomRepair::new(store, Arc::new(|| at("2026-03-10T14:02:00Z")));
    let mut sim = sim(router().with_rewriter(Arc::new(repair)));
    sim.udp(ALICE, &invite("sip:85012345678@zoomcrc.com", "z1", "z9hG4bKz1", ""));
    let sent = forwarded(&sim.take_msgs());
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, ZOOM);
    assert_eq!(sent[0].1.request_uri_str(), Some("sip:85012345678.739201@zoomcrc.com"));
}

/// `causeway locate`'s path: the same router, the arrival described, call policy evaluated.
mod dry_run {
    use super::*;
    use causeway_policy::{PolicySet, SourceText};
    use causeway_proxy::edge::DryRun;
    use causeway_proxy::{LocateError, RequestCtx};
    use causeway_routing::{Outcome, RejectCause, TraceStep};
    use causeway_sip::uri::Uri;

    const POLICY: &str = "[policy]\ndefault = { action = \"allow\" }\n[[policy.rule]]\nname = \"dial-out\"\n\
                          source_zone = \"default\"\ndestination = '9\\d*(@.*)?'\naction = \"reject\"\n";

    fn locate(request_uri: &str, dry_run: &DryRun) -> causeway_proxy::edge::EdgeDecision {
        let text = crlf(&invite(request_uri, "d1", "z9hG4bKd1", ""));
        let request = Message::parse(Bytes::from(text)).unwrap_or_else(|e| panic!("{e}"));
        let ctx = RequestCtx {
            transport: Transport::Udp,
            local: PROXY,
            peer: ALICE,
            flow: None,
            tls_peer_names: None,
            request_uri: Uri::parse(request_uri).unwrap_or_else(|e| panic!("{e}")),
            uri_is_ours: false,
            route: None,
            health: None,
            clearance: None,
        };
        router().route(&request, &ctx, Some(dry_run))
    }

    fn with_policy() -> DryRun {
        let zones = ["webex", "cucm-us", "cucm-emea", "zoom", "default"];
        let set = PolicySet::from_toml_str(SourceText::new("p.toml", POLICY), &zones, |_| Err(std::io::ErrorKind::NotFound.into()))
            .unwrap_or_else(|e| panic!("{e}"));
        DryRun { policy: Some((Arc::new(set), at("2026-03-10T14:00:00Z"))), ..DryRun::default() }
    }

    #[test]
    fn call_policy_rejects_before_the_search_and_the_trace_says_so() {
        let decided = locate("sip:9011441234@ent-pa.com", &with_policy());
        assert_eq!(decided.outcome.err(), Some(LocateError::Rejected { status: StatusCode::FORBIDDEN }));
        let decision = decided.decision.unwrap_or_else(|| panic!("no decision"));
        assert!(matches!(decision.outcome, Outcome::Reject { status: 403, cause: RejectCause::Policy, .. }));
        let last = decision.trace.steps.last();
        assert!(matches!(last, Some(TraceStep::Policy { verdict, .. }) if verdict == "reject 403 Forbidden"), "{decision}");
        assert!(!decision.trace.steps.iter().any(|s| matches!(s, TraceStep::Rule { .. })), "no search after a refusal");
    }

    #[test]
    fn an_allowed_request_shows_the_verdict_then_every_rule_and_its_hops() {
        let decided = locate("sip:bob@ent-pa.com", &with_policy());
        let decision = decided.decision.unwrap_or_else(|| panic!("no decision"));
        let text = decision.to_string();
        assert!(text.contains("call policy: allow"), "{text}");
        assert!(text.contains("search rule \"enterprise-us\" (priority 100, source any, suffix '@ent-pa.com' → cucm-us): match"), "{text}");
        assert!(text.contains("resolve cucm-us:\n  → UDP 192.0.2.20:5060, then UDP 192.0.2.21:5070"), "{text}");
        let targets = decided.outcome.unwrap_or_else(|e| panic!("{e}"));
        let hops: Vec<_> = targets.iter().map(|t| (t.options.group, t.next_hop.address)).collect();
        assert_eq!(hops, [(0, BOB), (1, EMEA)], "US first, EMEA when it cannot route (continue)");
    }

    #[test]
    fn a_given_zone_and_authentication_replace_the_arrival() {
        let dry_run = DryRun { zone: Some("webex".into()), authenticated: Some(true), ..DryRun::default() };
        let decided = locate("sip:bob@ent-pa.com", &dry_run);
        assert_eq!(decided.classified.zone(), "webex");
        let text = decided.decision.map(|d| d.to_string()).unwrap_or_default();
        assert!(text.contains("zone: webex (given for a dry run)"), "{text}");
        assert!(text.contains("authentication: authenticated (treat-as-authenticated: given for a dry run)"), "{text}");
    }
}
