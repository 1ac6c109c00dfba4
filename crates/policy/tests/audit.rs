//! Audit records and per-rule counters for rejected and blocked requests.

mod common;

use std::net::IpAddr;

use causeway_policy::audit::{AuditEvent, AuditRecord, PolicyCounters};
use causeway_policy::flood::{BanReason, Subject};
use causeway_policy::{evaluate, Decider};
use common::{invite, load_toml};

#[test]
fn every_reject_is_recorded_with_zone_source_from_to_and_rule() {
    let set = load_toml("shared-edge.toml");
    let input = invite("default", "mallory@203.0.113.5", "9011441234567@ent-pa.com");
    let source: IpAddr = "203.0.113.5".parse().unwrap_or_else(|e| panic!("{e}"));
    let (verdict, _) = evaluate(&input, &set);
    let record = AuditRecord::from_verdict(&input, Some(source), &verdict).unwrap_or_else(|| panic!("{verdict:?}"));
    assert_eq!(record.event, AuditEvent::Rejected { status: 403, reason: "Forbidden".into() });
    assert_eq!(
        record.to_string(),
        "Event=\"Call Rejected\" Zone=\"default\" Src-ip=\"203.0.113.5\" Src-alias=\"mallory@203.0.113.5\" \
         Dst-alias=\"9011441234567@ent-pa.com\" Decided-by=\"rule 4 \\\"dial-out-prefix\\\"\" Response-code=403 Reason=\"Forbidden\""
    );
    let allowed = invite("default", "carol@partner.example", "bob@ent-pa.com");
    assert!(AuditRecord::from_verdict(&allowed, None, &evaluate(&allowed, &set).0).is_none());
}

#[test]
fn blocked_requests_are_recorded() {
    let source: IpAddr = "127.0.0.9".parse().unwrap_or_else(|e| panic!("{e}"));
    let record = AuditRecord::blocked("default", source, "", "", &Subject::Source(source), BanReason::AuthFailures, 60);
    assert_eq!(
        record.to_string(),
        "Event=\"Request Blocked\" Zone=\"default\" Src-ip=\"127.0.0.9\" Src-alias=\"\" Dst-alias=\"\" \
         Decided-by=\"flood guard\" Ban-reason=\"auth-failures\" Ban-on=\"source\" Ban-seconds-left=60"
    );
}

#[test]
fn counters_per_rule() {
    let set = load_toml("shared-edge.toml");
    let mut counters = PolicyCounters::new();
    let requests = [
        ("x@ent-pa.com", "bob@ent-pa.com"),
        ("a@b.example", "9011@ent-pa.com"),
        ("a@b.example", "0044@ent-pa.com"),
        ("a@b.example", "bob@ent-pa.com"),
        ("a@b.example", "carol@ent-pa.com"),
    ];
    for (from, to) in requests {
        counters.record(&evaluate(&invite("default", from, to), &set).0);
    }
    let rule = |index, name: &str| Decider::Rule { index, name: name.to_owned() };
    assert_eq!(counters.get(&rule(1, "spoofed-enterprise-domain")).rejected, 1);
    assert_eq!(counters.get(&rule(3, "dial-out-prefix")).rejected, 2);
    assert_eq!(counters.get(&rule(5, "enterprise-domain")).allowed, 2);
    let order: Vec<_> = counters.snapshot().into_iter().map(|(d, _)| d.to_string()).collect();
    assert_eq!(order, ["rule 2 \"spoofed-enterprise-domain\"", "rule 4 \"dial-out-prefix\"", "rule 6 \"enterprise-domain\""]);
}
