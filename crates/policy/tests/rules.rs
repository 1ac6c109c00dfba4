//! The rule table: table tests (config snippet + request → verdict + trace) and load-time
//! refusals with file:line:col.

mod common;

use causeway_policy::verdict::RuleCheck;
use causeway_policy::{evaluate, Decider, TraceStep, Verdict};
use common::{addr, authenticated, invite, toml_policy};

fn load(text: &str) -> causeway_policy::PolicySet {
    toml_policy(text).unwrap_or_else(|e| panic!("{e}"))
}

fn refused(text: &str) -> String {
    match toml_policy(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn first_match_wins_and_every_rule_considered_is_traced() {
    let set = load(
        r#"
[policy]
[[policy.rule]]
name = "auth-only"
applies_to = "authenticated"
destination = '.*'
action = "allow"

[[policy.rule]]
name = "other-zone"
source_zone = "webex"
destination = '.*'
action = "reject"

[[policy.rule]]
name = "partners"
source = '.*@partner\.example'
destination = 'nomatch'
action = "reject"

[[policy.rule]]
name = "sales"
destination = 'sales@.*'
action = "reject"
status = 480
reason = "Closed"

[[policy.rule]]
name = "later"
destination = 'sales@ent-pa\.com'
action = "allow"
"#,
    );
    let (verdict, trace) = evaluate(&invite("default", "carol@partner.example", "sales@ent-pa.com"), &set);
    match &verdict {
        Verdict::Reject(r) => {
            assert_eq!((r.status, r.reason.as_str()), (480, "Closed"));
            assert_eq!(r.decided_by, Decider::Rule { index: 3, name: "sales".into() });
        }
        other => panic!("{other:?}"),
    }
    let checks: Vec<_> = trace
        .steps
        .iter()
        .map(|s| match s {
            TraceStep::Rule { name, check, .. } => (name.as_str(), check.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        checks,
        vec![
            ("auth-only", RuleCheck::CallerUnauthenticated),
            ("other-zone", RuleCheck::ZoneDiffers),
            ("partners", RuleCheck::DestinationDiffers),
            ("sales", RuleCheck::Matched { identity: None }),
        ]
    );
    assert_eq!(trace.to_string().lines().last(), Some("rule 4 \"sales\": matched"));
}

#[test]
fn default_action_applies_when_nothing_matches() {
    let reject_all = load(
        r#"
[policy]
default = { action = "reject", status = 404 }
[[policy.rule]]
name = "bob"
destination = 'bob@.*'
action = "allow"
"#,
    );
    let (verdict, trace) = evaluate(&invite("default", "a@b", "carol@ent-pa.com"), &reject_all);
    assert!(matches!(&verdict, Verdict::Reject(r) if r.status == 404 && r.reason == "Not Found" && r.decided_by == Decider::DefaultAction));
    assert_eq!(trace.steps.last(), Some(&TraceStep::DefaultAction { allow: false }));
    let (verdict, _) = evaluate(&invite("default", "a@b", "bob@ent-pa.com"), &reject_all);
    assert!(verdict.allowed().is_some());
    // No default: allow (Expressway: "no policy configured ⇒ allow").
    let (verdict, _) = evaluate(&invite("default", "a@b", "x@y"), &load("[policy]\n"));
    assert_eq!(verdict.decided_by(), &Decider::DefaultAction);
    assert!(verdict.allowed().is_some());
}

#[test]
fn unauthenticated_rules_skip_authenticated_callers() {
    let set = load(
        r#"
[policy]
[[policy.rule]]
name = "impostor"
applies_to = "unauthenticated"
source = '.*@ent-pa\.com'
destination = '.*'
action = "reject"
"#,
    );
    assert!(evaluate(&invite("default", "x@ent-pa.com", "bob@ent-pa.com"), &set).0.allowed().is_none());
    let (verdict, trace) = evaluate(&authenticated("webex", "x@ent-pa.com", "bob@ent-pa.com"), &set);
    assert!(verdict.allowed().is_some());
    assert!(matches!(trace.steps.first(), Some(TraceStep::Rule { check: RuleCheck::CallerAuthenticated, .. })));
}

#[test]
fn source_pattern_sees_every_claimed_identity() {
    let set = load(
        r#"
[policy]
[[policy.rule]]
name = "ceo"
source = 'ceo@ent-pa\.com'
destination = '.*'
action = "reject"
"#,
    );
    let mut input = invite("default", "x@evil.example", "bob@ent-pa.com");
    input.asserted.push(addr("ceo@ent-pa.com"));
    let (verdict, trace) = evaluate(&input, &set);
    assert!(verdict.allowed().is_none());
    assert!(matches!(
        trace.steps.first(),
        Some(TraceStep::Rule { check: RuleCheck::Matched { identity: Some(id) }, .. }) if id == "ceo@ent-pa.com"
    ));
}

#[test]
fn invalid_regex_is_refused_with_its_position() {
    let e = refused("[policy]\n[[policy.rule]]\nname = \"x\"\ndestination = '([09]'\naction = \"reject\"\n");
    assert!(e.starts_with("policy.toml:4:15: rule \"x\": invalid destination pattern"), "{e}");
}

#[test]
fn unknown_zone_is_refused() {
    let e = refused("[policy]\n[[policy.rule]]\nname = \"x\"\nsource_zone = \"dmz\"\ndestination = '.*'\naction = \"reject\"\n");
    assert_eq!(e, "policy.toml:4:15: rule \"x\": unknown zone \"dmz\"");
}

#[test]
fn rule_behind_a_catch_all_is_refused() {
    let text = r#"[policy]
[[policy.rule]]
name = "from-default"
source_zone = "default"
destination = '(.*)'
action = "reject"

[[policy.rule]]
name = "never"
source_zone = "default"
applies_to = "unauthenticated"
source = 'x@y'
destination = '9\d+'
action = "allow"
"#;
    let e = refused(text);
    assert_eq!(
        e,
        "policy.toml:8:1: rule \"never\" can never match: rule \"from-default\" at policy.toml:2:1 matches everything it would"
    );
    // A catch-all for one zone does not shadow another zone's rule, nor does an
    // unauthenticated-only catch-all shadow an all-callers rule.
    load(&text.replace("source_zone = \"default\"\napplies_to", "source_zone = \"webex\"\napplies_to"));
    load(
        r#"[policy]
[[policy.rule]]
name = "a"
applies_to = "unauthenticated"
destination = '.*'
action = "reject"
[[policy.rule]]
name = "b"
destination = '.*'
action = "allow"
"#,
    );
}

#[test]
fn other_mistakes_are_refused() {
    let rule = |extra: &str| format!("[policy]\n[[policy.rule]]\nname = \"x\"\ndestination = '.*'\n{extra}\n");
    let cases = [
        (rule("action = \"reject\"\nstatus = 200"), "policy.toml:6:10: status 200 is not a final error status (400-699)"),
        (rule("action = \"allow\"\nstatus = 403"), "policy.toml:6:10: status and reason apply only to action = \"reject\""),
        (rule("action = \"reject\"\ndestinaton = 'x'"), "policy.toml:6:1: unknown field `destinaton`"),
        (rule("action = \"deny\""), "policy.toml:5:10: unknown variant `deny`"),
        (rule("action = \"reject\"\nreason = \"a\\r\\nb\""), "policy.toml:6:10: reason phrase must be printable text"),
        (format!("{}[[policy.rule]]\nname = \"x\"\ndestination = 'y'\naction = \"allow\"\n", rule("action = \"reject\"")),
            "policy.toml:6:1: rule name \"x\" is already used at policy.toml:2:1"),
        (rule("action = \"reject\"\n[policy.extra]"), "policy.toml:"),
        ("[policy]\ncpl = \"p.cpl\"\n[[policy.rule]]\nname = \"x\"\ndestination = '.*'\naction = \"reject\"\n".to_owned(),
            "policy.toml:2:7: policy has both `cpl` and rule-table settings"),
        ("[policy]\ncpl_node_budget = 5\n".to_owned(), "policy.toml:2:19: cpl_node_budget applies only with `cpl`"),
        ("[policy]\ncpl = \"missing.cpl\"\n".to_owned(), "policy.toml:2:7: cannot read CPL script \"missing.cpl\""),
    ];
    for (text, expected) in cases {
        let e = refused(&text);
        assert!(e.starts_with(expected), "got {e:?}\nwanted {expected:?}\nfor:\n{text}");
    }
}

#[test]
fn policy_off_allows_everything() {
    let (verdict, trace) = evaluate(&invite("default", "a@b", "9011@c"), &causeway_policy::PolicySet::off());
    assert_eq!(verdict.decided_by(), &Decider::NoPolicy);
    assert!(verdict.allowed().is_some());
    assert_eq!(trace.steps, vec![TraceStep::PolicyOff]);
}
