//! The shipped policies of examples/policy, rule by rule, against crafted INVITEs: the toll-fraud
//! destinations (9…, 0…, 011…, +1…) and spoofed enterprise identities from the field guide, in
//! both the rule-table and the CPL form, which must agree on every case.

mod common;

use std::collections::BTreeSet;

use causeway_policy::{evaluate, Decider, PolicyInput, Verdict};
use common::{addr, authenticated, invite, load_cpl, load_toml};

/// What a case expects: allowed, or rejected with 403; and the rule-table rule that decides
/// (`None` = the default action).
struct Case {
    what: &'static str,
    input: PolicyInput,
    allow: bool,
    rule: Option<&'static str>,
}

fn case(what: &'static str, input: PolicyInput, allow: bool, rule: Option<&'static str>) -> Case {
    Case { what, input, allow, rule }
}

fn with_pai(mut input: PolicyInput, pai: &str) -> PolicyInput {
    input.asserted.push(addr(pai));
    input
}

fn phone(mut input: PolicyInput) -> PolicyInput {
    input.destination = input.destination.clone().with_user_phone();
    input
}

fn check(file_rules: &str, file_cpl: &str, cases: Vec<Case>) -> BTreeSet<String> {
    let rules = load_toml(file_rules);
    let cpl = load_cpl(file_cpl);
    let mut deciding = BTreeSet::new();
    for c in cases {
        for (form, set) in [("rules", &rules), ("cpl", &cpl)] {
            let (verdict, trace) = evaluate(&c.input, set);
            let allowed = verdict.allowed().is_some();
            assert_eq!(allowed, c.allow, "{form}: {}\n{trace}", c.what);
            if let Verdict::Reject(r) = &verdict {
                assert_eq!((r.status, r.reason.as_str()), (403, "Forbidden"), "{form}: {}", c.what);
            }
            assert!(!trace.steps.is_empty(), "{form}: {} has a trace", c.what);
            if form == "rules" {
                match (verdict.decided_by(), c.rule) {
                    (Decider::Rule { name, .. }, Some(rule)) => {
                        assert_eq!(name, rule, "{}\n{trace}", c.what);
                        deciding.insert(name.clone());
                    }
                    (Decider::DefaultAction, None) => {}
                    (other, expected) => panic!("{}: decided by {other}, expected {expected:?}\n{trace}", c.what),
                }
            }
        }
    }
    deciding
}

#[test]
fn shared_edge_stops_toll_fraud_and_spoofing_and_lets_b2b_in() {
    let cases = vec![
        // Rules 1-3: unauthenticated callers claiming our identities.
        case("From the cloud domain", invite("default", "x@ent-pa.call.webex.com", "bob@ent-pa.com"), false, Some("spoofed-cloud-domain")),
        case("From the enterprise domain", invite("default", "x@ent-pa.com", "bob@ent-pa.com"), false, Some("spoofed-enterprise-domain")),
        case("From the enterprise domain, other case", invite("default", "x@ENT-PA.COM", "bob@ent-pa.com"), false, Some("spoofed-enterprise-domain")),
        case("PAI claims the enterprise", with_pai(invite("default", "x@evil.example", "bob@ent-pa.com"), "ceo@ent-pa.com"), false, Some("spoofed-enterprise-domain")),
        case("From an edge address with port", {
            let mut i = invite("default", "x@10.10.10.10", "bob@ent-pa.com");
            i.from = i.from.clone().with_port(5060);
            i
        }, false, Some("spoofed-edge-address")),
        case("From the other edge address", invite("traversal", "x@10.10.10.11", "bob@ent-pa.com"), false, Some("spoofed-edge-address")),
        // Rule 4: dial-out prefixes from the default zone.
        case("9 + international", invite("default", "a@203.0.113.5", "9011441234567@ent-pa.com"), false, Some("dial-out-prefix")),
        case("0 + national", invite("default", "a@203.0.113.5", "00441234567@ent-pa.com"), false, Some("dial-out-prefix")),
        case("011 to the edge IP", invite("default", "a@203.0.113.5", "011441234567@10.10.10.10"), false, Some("dial-out-prefix")),
        case("bare digits", invite("default", "a@203.0.113.5", "90114412345"), false, Some("dial-out-prefix")),
        case("percent-encoded 9011", invite("default", "a@203.0.113.5", "%39%30%311441234@ent-pa.com"), false, Some("dial-out-prefix")),
        // Rule 5: E.164 and dial strings.
        case("+1 E.164", invite("default", "a@203.0.113.5", "+12125550100@ent-pa.com"), false, Some("e164-and-dial-strings")),
        case("tel: URI", invite("default", "a@203.0.113.5", "tel:+1-212-555-0100"), false, Some("e164-and-dial-strings")),
        case("visual separators", invite("default", "a@203.0.113.5", "9-011-44-1234@ent-pa.com"), false, Some("e164-and-dial-strings")),
        case("phone-context parameter", phone(invite("default", "a@203.0.113.5", "9011441234;phone-context=+1@ent-pa.com")), false, Some("e164-and-dial-strings")),
        // Rules 6-7.
        case("B2B call to a user", invite("default", "carol@partner.example", "bob@ent-pa.com"), true, Some("enterprise-domain")),
        case("B2B call to a subdomain-less alias with params", invite("default", "carol@partner.example", "sales@ENT-PA.com"), true, Some("enterprise-domain")),
        case("relay to another domain", invite("default", "carol@partner.example", "x@elsewhere.example"), false, Some("everything-else")),
        case("call to an IP", invite("default", "carol@partner.example", "bob@192.0.2.7"), false, Some("everything-else")),
        // Authenticated traffic from trusted zones passes (default action).
        case("cloud user, mutual TLS", authenticated("webex", "alice@ent-pa.call.webex.com", "bob@ent-pa.com"), true, None),
        case("cloud user with PAI", with_pai(authenticated("webex", "alice@ent-pa.call.webex.com", "bob@ent-pa.com"), "alice@ent-pa.com"), true, None),
        case("internal user dials out via the traversal zone", authenticated("traversal", "bob@ent-pa.com", "9011441234@pstn.example"), true, None),
    ];
    let deciding = check("shared-edge.toml", "shared-edge.cpl", cases);
    let every_rule: BTreeSet<String> = load_toml("shared-edge.toml")
        .rules()
        .map(|t| t.rules().iter().map(|r| r.name().to_owned()).collect())
        .unwrap_or_default();
    assert_eq!(deciding, every_rule, "every shipped rule is proven by at least one case");
}

#[test]
fn dedicated_edge_rejects_everything_from_the_default_zone() {
    let cases = vec![
        case("B2B call", invite("default", "carol@partner.example", "bob@ent-pa.com"), false, Some("no-calls-from-the-internet")),
        case("toll fraud", invite("default", "a@203.0.113.5", "9011441234567@ent-pa.com"), false, Some("no-calls-from-the-internet")),
        case("even authenticated", authenticated("default", "x@ent-pa.com", "bob@ent-pa.com"), false, Some("no-calls-from-the-internet")),
        case("cloud user", authenticated("webex", "alice@ent-pa.call.webex.com", "bob@ent-pa.com"), true, None),
        case("internal user", authenticated("traversal", "bob@ent-pa.com", "alice@ent-pa.call.webex.com"), true, None),
    ];
    let deciding = check("dedicated-edge.toml", "dedicated-edge.cpl", cases);
    assert_eq!(deciding.len(), 1);
}

#[test]
fn cpl_trace_names_the_node_that_decided() {
    let cpl = load_cpl("shared-edge.cpl");
    let (verdict, trace) = evaluate(&invite("default", "a@203.0.113.5", "9011441234567@ent-pa.com"), &cpl);
    match verdict.decided_by() {
        Decider::CplNode { element, line, .. } => {
            assert_eq!(*element, "reject");
            let text = common::example_text("shared-edge.cpl");
            let decided_line = text.lines().nth(*line as usize - 1).unwrap_or_default();
            assert!(decided_line.contains("<reject"), "line {line} is {decided_line:?}");
        }
        other => panic!("decided by {other}"),
    }
    let shown = trace.to_string();
    for expected in ["not-present", "go to subaction \"default-zone\"", "is=\"default\" matched", r#"regex="[09]\d*(@.*)?" matched"#] {
        assert!(shown.contains(expected), "trace lacks {expected:?}:\n{shown}");
    }
}

#[test]
fn business_hours_example() {
    use chrono::TimeZone;
    let set = load_cpl("business-hours.cpl");
    let at = |y, m, d, h, min| {
        let mut i = invite("default", "carol@partner.example", "sales@ent-pa.com");
        i.wall_time = chrono::Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().unwrap_or_default();
        i
    };
    // Monday 23 Nov 2026, 10:00 UTC = 11:00 Paris: open.
    let (v, trace) = evaluate(&at(2026, 11, 23, 10, 0), &set);
    assert_eq!(v.allowed().and_then(|a| a.proxy()).map(|p| p.timeout), Some(30), "{trace}");
    // 17:00 UTC = 18:00 Paris: closed, redirected to voicemail.
    let (v, trace) = evaluate(&at(2026, 11, 23, 17, 0), &set);
    match v {
        Verdict::Redirect(r) => assert_eq!(r.contacts.first().map(|c| c.uri.as_str()), Some("sip:voicemail@ent-pa.com")),
        other => panic!("{other:?}\n{trace}"),
    }
    // Christmas Day (a Friday in 2026), 10:00 UTC: closed.
    assert!(matches!(evaluate(&at(2026, 12, 25, 10, 0), &set).0, Verdict::Redirect(_)));
    // Closed, but an emergency gets through.
    let mut urgent = at(2026, 11, 28, 12, 0);
    urgent.priority = Some("emergency".into());
    assert!(evaluate(&urgent, &set).0.allowed().is_some());
    // Other users are not covered by the script: allowed at any time.
    let mut other = at(2026, 11, 28, 3, 0);
    other.destination = addr("bob@ent-pa.com");
    assert!(evaluate(&other, &set).0.allowed().is_some());
}

#[test]
fn trace_serializes_for_locate_json() {
    let set = load_toml("shared-edge.toml");
    let (_, trace) = evaluate(&invite("default", "mallory@203.0.113.5", "9011441234567@ent-pa.com"), &set);
    let json = serde_json::to_value(&trace).unwrap_or_default();
    let last = json["steps"].as_array().and_then(|s| s.last()).cloned().unwrap_or_default();
    assert_eq!(last["step"], "rule");
    assert_eq!(last["name"], "dial-out-prefix");
    assert_eq!(last["check"], serde_json::json!({ "matched": { "identity": null } }));
}
