//! Table tests of the search pipeline: (config snippet, request) → Decision and trace.
//! A decision is summarised as `priority[!]: zone alias [Request-URI] mf N` per target, groups
//! separated by ` | ` (`!` marks the last group), or `reject STATUS`.

mod common;

use causeway_policy::{PolicySet, SourceText};
use causeway_routing::{
    locate, AliasRewriter, Decision, ExternalRewrite, HealthSnapshot, Locate, LocateInput, Outcome, PeerState,
    RuleCheck, RoutingTable, TraceStep,
};
use chrono::{TimeZone, Utc};
use common::{from_zone, load};

/// Zones used by most cases: a dns zone per letter plus two neighbours with one peer each.
const ZONES: &str = r#"
[[zone]]
name = "a"
kind = "dns"
[[zone]]
name = "b"
kind = "dns"
[[zone]]
name = "c"
kind = "dns"
hop_count = 5
loop_contact_params = ["call-type=squared"]
[[zone]]
name = "n1"
kind = "neighbor"
[[zone.peer]]
address = "10.0.0.1"
[[zone]]
name = "n2"
kind = "neighbor"
honor_route_header = true
[[zone.peer]]
address = "10.0.0.2"
"#;

struct Request<'a> {
    zone: &'a str,
    authenticated: bool,
    uri: &'a str,
    routes: &'a [&'a str],
    contact: Option<&'a str>,
    max_forwards: Option<u8>,
}

const REQ: Request<'static> =
    Request { zone: "default", authenticated: false, uri: "sip:bob@ent-pa.com", routes: &[], contact: None, max_forwards: None };

fn run_with(table: &RoutingTable, health: &HealthSnapshot, r: &Request<'_>, policy: Option<&PolicySet>) -> Decision {
    let (classified, auth) = from_zone(table, r.zone, r.authenticated);
    let routes: Vec<String> = r.routes.iter().map(|s| (*s).to_owned()).collect();
    let local = ["edge.example.com".to_owned()];
    let mut input = LocateInput::new(&classified, &auth, r.uri);
    input.routes = &routes;
    input.contact = r.contact;
    input.max_forwards = r.max_forwards;
    input.local_hosts = &local;
    let wall = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default();
    match policy {
        Some(p) => Locate::new(table, health).with_policy(p, wall).run(&input),
        None => Locate::new(table, health).run(&input),
    }
}

fn run(rules: &str, r: &Request<'_>) -> Decision {
    let table = load(&format!("{ZONES}{rules}"));
    run_with(&table, &HealthSnapshot::default(), r, None)
}

fn summary(d: &Decision) -> String {
    match &d.outcome {
        Outcome::Route { groups } => groups
            .iter()
            .map(|g| {
                let targets: Vec<String> = g
                    .targets
                    .iter()
                    .map(|t| {
                        let uri = t.request_uri.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
                        format!("{} {}{uri} mf {}", t.zone, t.alias, t.max_forwards)
                    })
                    .collect();
                format!("{}{}: {}", g.priority, if g.last { "!" } else { "" }, targets.join(", "))
            })
            .collect::<Vec<_>>()
            .join(" | "),
        Outcome::Reject { status, .. } => format!("reject {status}"),
        Outcome::Policy => "policy".to_owned(),
    }
}

fn rule(name: &str, priority: u16, extra: &str, target: &str) -> String {
    format!("[[search_rule]]\nname = \"{name}\"\npriority = {priority}\ntarget = \"{target}\"\n{extra}\n")
}

const ANY: &str = "mode = \"any-alias\"";
const STOP: &str = "mode = \"any-alias\"\non_match = \"stop\"";

fn checks(d: &Decision) -> Vec<(String, RuleCheck)> {
    d.trace
        .steps
        .iter()
        .filter_map(|s| match s {
            TraceStep::Rule { name, check, .. } => Some((name.clone(), check.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn only_the_highest_priority_matching_transform_applies() {
    let transforms = r#"
[[transform]]
priority = 5
pattern_type = "prefix"
pattern = "0"
behaviour = "strip"
enabled = false
[[transform]]
priority = 10
pattern_type = "suffix"
pattern = "@ent-pa.local"
behaviour = "replace"
replace = "@ent-pa.com"
[[transform]]
priority = 20
pattern_type = "regex"
pattern = '(.*)@ent-pa\.(local|com)'
behaviour = "replace"
replace = '\1@other.com'
"#;
    let rules = format!("{transforms}{}", rule("r", 1, ANY, "a"));
    let d = run(&rules, &Request { uri: "sip:0bob@ent-pa.local:5070;transport=tcp", ..REQ });
    assert_eq!(summary(&d), "1: a 0bob@ent-pa.com sip:0bob@ent-pa.com;transport=tcp mf 15");
    let text = d.to_string();
    assert!(text.contains("transform 5 (prefix '0', strip): disabled"), "{text}");
    assert!(text.contains("transform 10 (suffix '@ent-pa.local', replace with '@ent-pa.com'): applied, 0bob@ent-pa.local → 0bob@ent-pa.com"), "{text}");
    assert!(!text.contains("transform 20"), "a second transform must not be tried:\n{text}");
}

#[test]
fn equal_priorities_are_parallel_continue_falls_back_stop_ends() {
    let rules = [
        rule("first-a", 10, ANY, "a"),
        rule("first-b", 10, ANY, "b"),
        rule("then-c", 20, STOP, "c"),
        rule("never", 30, ANY, "n1"),
    ]
    .concat();
    let d = run(&rules, &REQ);
    assert_eq!(summary(&d), "10: a bob@ent-pa.com mf 15, b bob@ent-pa.com mf 15 | 20!: c bob@ent-pa.com mf 5");
    assert_eq!(
        checks(&d).last(),
        Some(&("never".to_owned(), RuleCheck::NotReached { stopped_by: "then-c".into(), priority: 20 }))
    );
    // A Stop rule still lets the other rules of its own priority run.
    let same = [rule("stop-a", 10, STOP, "a"), rule("also-b", 10, ANY, "b"), rule("later", 20, ANY, "c")].concat();
    assert_eq!(summary(&run(&same, &REQ)), "10!: a bob@ent-pa.com mf 15, b bob@ent-pa.com mf 15");
}

#[test]
fn a_target_zone_that_cannot_route_is_passed_over_unless_its_rule_stops() {
    let table = load(&format!("{ZONES}{}{}", rule("to-n1", 10, ANY, "n1"), rule("to-a", 20, ANY, "a")));
    let mut health = HealthSnapshot::default();
    health.set_state("n1", "10.0.0.1:5061", PeerState::Down);
    let d = run_with(&table, &health, &REQ, None);
    assert_eq!(summary(&d), "20: a bob@ent-pa.com mf 15");
    assert_eq!(checks(&d)[0].1, RuleCheck::TargetDown { on_match: causeway_routing::OnMatch::Continue });

    let stop = load(&format!("{ZONES}{}{}", rule("to-n1", 10, STOP, "n1"), rule("to-a", 20, ANY, "a")));
    let d = run_with(&stop, &health, &REQ, None);
    assert_eq!(summary(&d), "reject 503");
    assert!(d.to_string().contains("result: reject 503 Service Unavailable (every matching target zone is down)"));
    // Unknown keepalive state still routes to a neighbour (only trunks need an answer first).
    assert_eq!(summary(&run_with(&stop, &HealthSnapshot::default(), &REQ, None)), "10!: n1 bob@ent-pa.com mf 15");
}

#[test]
fn sources_and_authentication() {
    let rules = [
        rule("from-n1", 10, "mode = \"any-alias\"\nsource = \"n1\"", "a"),
        rule("authenticated", 20, "mode = \"any-alias\"\nsource = \"any-authenticated\"", "b"),
        rule("must-auth", 30, "mode = \"any-alias\"\nrequest_must_be_authenticated = true", "c"),
    ]
    .concat();
    let d = run(&rules, &REQ);
    assert_eq!(summary(&d), "reject 404");
    let got: Vec<_> = checks(&d).into_iter().map(|(_, c)| c).collect();
    assert_eq!(got, [RuleCheck::SourceMismatch, RuleCheck::SourceMismatch, RuleCheck::NotAuthenticated]);
    assert!(d.to_string().contains("result: reject 404 Not Found (no search rule matched)"));
    assert_eq!(
        summary(&run(&rules, &Request { zone: "n1", authenticated: true, ..REQ })),
        "10: a bob@ent-pa.com mf 15 | 20: b bob@ent-pa.com mf 15 | 30: c bob@ent-pa.com mf 5"
    );
}

#[test]
fn loop_prevention_source_zone_and_contact_parameter() {
    let rules = [rule("back", 10, ANY, "n1"), rule("squared", 20, ANY, "c"), rule("other", 30, ANY, "a")].concat();
    let contact = "<sip:l2sip@10.10.10.10:5062;transport=tls>;call-type=squared";
    let d = run(&rules, &Request { zone: "n1", contact: Some(contact), ..REQ });
    assert_eq!(summary(&d), "30: a bob@ent-pa.com mf 15");
    let got: Vec<_> = checks(&d).into_iter().map(|(_, c)| c).collect();
    assert_eq!(got[0], RuleCheck::SourceZoneLoop);
    assert_eq!(got[1], RuleCheck::ContactParam { param: "call-type=squared".into() });
    // An explicit allow_source_zone lets a rule hairpin; another Contact parameter value passes.
    let hairpin = rule("back", 10, "mode = \"any-alias\"\nallow_source_zone = true", "n1");
    assert_eq!(summary(&run(&hairpin, &Request { zone: "n1", ..REQ })), "10: n1 bob@ent-pa.com mf 15");
    let other = run(&rules, &Request { zone: "n1", contact: Some("<sip:x@y>;call-type=other"), ..REQ });
    assert_eq!(summary(&other), "20: c bob@ent-pa.com mf 5 | 30: a bob@ent-pa.com mf 15");
}

#[test]
fn hop_count_is_the_lower_of_the_zones_and_the_received_max_forwards_minus_one() {
    let rules = [rule("a", 10, ANY, "a"), rule("c", 10, ANY, "c")].concat();
    assert_eq!(summary(&run(&rules, &Request { max_forwards: Some(70), ..REQ })), "10: a bob@ent-pa.com mf 15, c bob@ent-pa.com mf 5");
    assert_eq!(summary(&run(&rules, &Request { max_forwards: Some(4), ..REQ })), "10: a bob@ent-pa.com mf 3, c bob@ent-pa.com mf 3");
    assert_eq!(summary(&run(&rules, &Request { max_forwards: Some(1), ..REQ })), "10: a bob@ent-pa.com mf 0, c bob@ent-pa.com mf 0");
}

#[test]
fn route_header_routing_only_for_zones_that_honour_it() {
    let rules = [
        rule("us", 10, "pattern_type = \"exact\"\npattern = \"us-cm-pub.ent-pa.com\"\non_match = \"stop\"", "a"),
        rule("emea", 10, "pattern_type = \"exact\"\npattern = \"emea-cm-pub.ent-pa.com\"\non_match = \"stop\"", "b"),
        rule("by-uri", 20, "pattern_type = \"suffix\"\npattern = \"@ent-pa.com\"", "c"),
    ]
    .concat();
    let routes = ["<sip:edge.example.com;lr>", "<sip:us-cm-pub.ent-pa.com;lr>"];
    assert_eq!(summary(&run(&rules, &Request { zone: "n2", routes: &routes, ..REQ })), "10!: a us-cm-pub.ent-pa.com mf 15");
    let emea = ["<sip:emea-cm-pub.ent-pa.com;lr>"];
    assert_eq!(summary(&run(&rules, &Request { zone: "n2", routes: &emea, ..REQ })), "10!: b emea-cm-pub.ent-pa.com mf 15");
    // n1 does not honour Route headers: the same request is routed by its Request-URI.
    let d = run(&rules, &Request { zone: "n1", routes: &routes, ..REQ });
    assert_eq!(summary(&d), "20: c bob@ent-pa.com mf 5");
    // A Route that names only this node, or no SIP host, leaves the Request-URI in charge.
    let own = ["<sip:edge.example.com;lr>", "<tel:+123>"];
    assert_eq!(summary(&run(&rules, &Request { zone: "n2", routes: &own, ..REQ })), "20: c bob@ent-pa.com mf 5");
    // A rule rewriting a Route-derived alias changes the alias searched, never the Request-URI.
    let strip = rule("strip", 10, "pattern_type = \"suffix\"\npattern = \".ent-pa.com\"\nbehaviour = \"strip\"", "a");
    assert_eq!(summary(&run(&strip, &Request { zone: "n2", routes: &routes, ..REQ })), "10: a us-cm-pub mf 15");
}

#[test]
fn rule_behaviours_rewrite_the_request_uri_per_target() {
    let rules = [
        rule("strip-9", 10, "pattern_type = \"prefix\"\npattern = \"9\"\nbehaviour = \"strip\"", "a"),
        rule("isdn", 10, "pattern_type = \"regex\"\npattern = '(9\\d+)(@example\\.com)'\nbehaviour = \"replace\"\nreplace = '\\1'", "b"),
        rule("leave", 10, "pattern_type = \"prefix\"\npattern = \"9\"", "c"),
    ]
    .concat();
    let d = run(&rules, &Request { uri: "sip:9011@example.com;user=phone", ..REQ });
    assert_eq!(
        summary(&d),
        "10: a 011@example.com sip:011@example.com;user=phone mf 15, b 9011 mf 15, c 9011@example.com mf 5"
    );
    // A bare alias replaces the user part and keeps the host: here the Request-URI is unchanged.
}

#[test]
fn call_policy_runs_between_transforms_and_search_rules() {
    let table = load(&format!("{ZONES}{}", rule("all", 10, ANY, "a")));
    let zones = table.zone_names();
    let policy_text = "[policy]\ndefault = { action = \"allow\" }\n[[policy.rule]]\nname = \"toll\"\nsource_zone = \"default\"\ndestination = '9\\d*(@.*)?'\naction = \"reject\"\n";
    let policy = PolicySet::from_toml_str(SourceText::new("p.toml", policy_text), &zones, |_| Err(std::io::ErrorKind::NotFound.into()))
        .unwrap_or_else(|e| panic!("{e}"));
    let toll = run_with(&table, &HealthSnapshot::default(), &Request { uri: "sip:9011441234@ent-pa.com", ..REQ }, Some(&policy));
    assert_eq!(summary(&toll), "reject 403");
    assert!(toll.to_string().contains("call policy: reject 403 Forbidden by rule 1 \"toll\""), "{toll}");
    assert!(!toll.trace.steps.iter().any(|s| matches!(s, TraceStep::Rule { .. })), "no search after a policy reject");
    let ok = run_with(&table, &HealthSnapshot::default(), &REQ, Some(&policy));
    assert_eq!(summary(&ok), "10: a bob@ent-pa.com mf 15");
    assert!(ok.policy.as_ref().and_then(|v| v.allowed()).is_some());
}

struct Repair;

impl AliasRewriter for Repair {
    fn name(&self) -> &str {
        "zoom repair"
    }

    fn rewrite(&self, caller: Option<&str>, request_uri: &str) -> Option<ExternalRewrite> {
        (caller == Some("<sip:board-room@ent-pa.com>") && request_uri == "sip:85012345678@zoomcrc.com").then(|| ExternalRewrite {
            request_uri: "sip:85012345678.739201@zoomcrc.com".into(),
            why: "booking 'Q3 review' is current".into(),
        })
    }
}

#[test]
fn an_alias_rewriter_runs_before_the_transforms() {
    let table = load(&format!("{ZONES}{}", rule("zoom", 10, "pattern_type = \"suffix\"\npattern = \"@zoomcrc.com\"", "a")));
    let (classified, auth) = from_zone(&table, "n1", true);
    let mut input = LocateInput::new(&classified, &auth, "sip:85012345678@zoomcrc.com");
    input.from = Some("<sip:board-room@ent-pa.com>");
    let repair = Repair;
    let d = Locate::new(&table, &HealthSnapshot::default()).with_rewriter(&repair).run(&input);
    assert_eq!(summary(&d), "10: a 85012345678.739201@zoomcrc.com sip:85012345678.739201@zoomcrc.com mf 15");
    assert!(d.to_string().contains(
        "zoom repair: sip:85012345678@zoomcrc.com → sip:85012345678.739201@zoomcrc.com (booking 'Q3 review' is current)"
    ));
}

#[test]
fn a_request_uri_that_is_not_a_uri_is_answered_400_and_the_trace_is_json() {
    let table = load(&format!("{ZONES}{}", rule("all", 10, ANY, "a")));
    let (classified, auth) = from_zone(&table, "default", false);
    let d = locate(&LocateInput::new(&classified, &auth, "not a uri"), &table, &HealthSnapshot::default());
    assert_eq!(summary(&d), "reject 400");
    let ok = run(&rule("all", 10, ANY, "a"), &REQ);
    let json = serde_json::to_value(&ok).unwrap_or_default();
    let rule_step = json["trace"]["steps"].as_array().and_then(|s| s.iter().find(|s| s["step"] == "rule")).cloned();
    assert_eq!(rule_step.as_ref().map(|s| s["check"]["check"].clone()), Some("matched".into()));
    assert_eq!(json["outcome"]["outcome"], "route");
    assert_eq!(json["outcome"]["groups"][0]["targets"][0]["kind"], "dns");
}

#[test]
fn any_alias_leaves_ip_addresses_to_pattern_rules() {
    let rules = [rule("any", 10, STOP, "a"), rule("ip", 20, "pattern_type = \"regex\"\npattern = '.*@192\\.0\\.2\\.\\d+'", "b")].concat();
    let d = run(&rules, &Request { uri: "sip:bob@192.0.2.7", ..REQ });
    assert_eq!(summary(&d), "20: b bob@192.0.2.7 mf 15");
    assert_eq!(checks(&d)[0].1, RuleCheck::IpAddressAlias);
    assert_eq!(summary(&run(&rules, &REQ)), "10!: a bob@ent-pa.com mf 15");
}

#[test]
fn a_cpl_location_set_replaces_the_search() {
    let table = load(&format!("{ZONES}{}", rule("all", 10, ANY, "a")));
    let cpl = r#"<?xml version="1.0" encoding="UTF-8"?>
<cpl xmlns="urn:ietf:params:xml:ns:cpl" xmlns:taa="http://www.tandberg.net/cpl-extensions">
  <taa:routed>
    <location url="sip:reception@ent-pa.com">
      <proxy/>
    </location>
  </taa:routed>
</cpl>"#;
    let policy = PolicySet::from_cpl(SourceText::new("p.cpl", cpl), &table.zone_names()).unwrap_or_else(|e| panic!("{e}"));
    let d = run_with(&table, &HealthSnapshot::default(), &REQ, Some(&policy));
    assert_eq!(summary(&d), "policy");
    let targets = d.policy.as_ref().and_then(|v| v.allowed()).map(|a| a.targets().iter().map(|t| t.uri.clone()).collect::<Vec<_>>());
    assert_eq!(targets, Some(vec!["sip:reception@ent-pa.com".to_owned()]));
    assert!(!d.trace.steps.iter().any(|s| matches!(s, TraceStep::Rule { .. })));
    assert!(d.to_string().ends_with("result: carried out by call policy (CPL location set, redirect or lookup)\n"));
}
