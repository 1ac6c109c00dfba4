//! Fork plans from the shipped example: registered contacts of shared lines, remote
//! destinations with their timers, schedules at the call's wall time, the dual-ring toggle,
//! Teams numbers through the remote-destination CSS (F4), and forwards.

mod common;

use std::time::Duration;

use causeway_callctl::fork::{ForwardReason, SkipReason, Skipped};
use causeway_callctl::{Cluster, ContactSnapshot, DualRingSwitches, ForkInput, ForkPlan, LegKind, LegTarget, Origin, Outcome, Placement};
use chrono::{TimeZone, Utc};
use common::{example, sip, tuesday_la, zones, EXAMPLE, ZONES};

fn contacts() -> ContactSnapshot {
    ContactSnapshot::new()
        .with("SEP00AA00000001", "sip:alice-desk@10.1.0.1:5060")
        .with("SEP00AA00000002", "sip:bob-desk@10.1.0.2:5060;transport=tcp")
        .with("SEP00AA00000003", "sip:carol-desk@10.1.0.3:5060")
        .with("SEP00AA00000003", "sip:carol-desk@10.1.9.3:5060")
}

/// Alice's desk phone dials `called`; the plan for the line it reaches.
fn plan_for(cluster: &Cluster, called: &str, switches: &DualRingSwitches, at: chrono::DateTime<Utc>) -> (ForkPlan, Placement) {
    let d = cluster
        .locate(&Origin::Device { device: "SEP00AA00000001".into(), line: None }, &sip(called))
        .unwrap_or_else(|e| panic!("{e}"));
    let Outcome::Line { line, .. } = d.outcome else { panic!("not a line: {:?}", d.outcome) };
    let contacts = contacts();
    let input = ForkInput { placement: &d.placement, wall_time: at, switches, contacts: &contacts, zones: &zones };
    (cluster.fork_plan(line, input), d.placement)
}

fn skipped(plan: &ForkPlan, target: &str) -> Option<SkipReason> {
    plan.skipped.iter().find(|s| s.target == target).map(|s| s.reason.clone())
}

#[test]
fn bobs_line_rings_his_desk_now_and_his_cloud_identity_after_its_delay() {
    let c = example();
    let (plan, _) = plan_for(&c, "1002@ent-pa.com", &DualRingSwitches::new(), tuesday_la(10, 0));
    let [desk, cloud] = plan.legs.as_slice() else { panic!("{:?}", plan.legs) };
    assert_eq!(desk.kind, LegKind::Device { device: "SEP00AA00000002".into() });
    assert_eq!(desk.target, LegTarget::Contact { contact: "sip:bob-desk@10.1.0.2:5060;transport=tcp".into() });
    assert_eq!(desk.delay, Duration::ZERO);
    assert_eq!(cloud.target, LegTarget::Zone { zone: "webex".into(), destination: "sip:bob@ent-pa.call.webex.com".into(), avoid: Vec::new() });
    assert_eq!(
        (cloud.delay, cloud.answer_too_soon, cloud.answer_too_late),
        (Duration::from_millis(4000), Some(Duration::from_millis(1500)), Some(Duration::from_millis(19000)))
    );
    assert_eq!(skipped(&plan, "1002"), Some(SkipReason::Disabled), "bob-teams is disabled");
    let no_answer = plan.no_answer.as_ref().unwrap_or_else(|| panic!("CFNA"));
    assert_eq!((no_answer.reason, no_answer.after, no_answer.destination.as_str()), (ForwardReason::NoAnswer, Duration::from_secs(24), "8000"));
    assert!(matches!(&no_answer.legs[..], [l] if l.target == LegTarget::Zone { zone: "unity".into(), destination: "8000".into(), avoid: Vec::new() }));
    assert!(plan.busy.as_ref().is_some_and(|b| b.after.is_zero()));
}

#[test]
fn a_shared_line_rings_every_contact_of_every_device() {
    let c = example();
    let (plan, _) = plan_for(&c, "1003@ent-pa.com", &DualRingSwitches::new(), tuesday_la(10, 0));
    let contacts: Vec<_> = plan.legs.iter().filter(|l| matches!(l.kind, LegKind::Device { .. })).map(|l| l.target.destination().to_owned()).collect();
    assert_eq!(contacts, ["sip:carol-desk@10.1.0.3:5060", "sip:carol-desk@10.1.9.3:5060"]);
    assert_eq!(skipped(&plan, "SEP00AA00000004"), Some(SkipReason::NotRegistered));
    // Carol has no forwards.
    assert!(plan.no_answer.is_none() && plan.busy.is_none());
}

#[test]
fn the_schedule_is_read_at_the_calls_wall_time() {
    let c = example();
    let switches = DualRingSwitches::new();
    // Tuesday 10:00 in Los Angeles: inside mon-fri 08:00-18:00.
    let (plan, _) = plan_for(&c, "1003@ent-pa.com", &switches, tuesday_la(10, 0));
    let mobile = plan.legs.iter().find(|l| matches!(&l.kind, LegKind::Remote { name, .. } if name == "carol-mobile"));
    let mobile = mobile.unwrap_or_else(|| panic!("{:?}", plan));
    assert_eq!(mobile.target, LegTarget::Zone { zone: "pstn-gw".into(), destination: "+14155550123".into(), avoid: Vec::new() });
    assert_eq!((mobile.delay, mobile.answer_too_soon), (Duration::from_secs(2), Some(Duration::from_secs(3))));
    // Tuesday 18:00 (the window's end is exclusive), Saturday 11:00 (inside), Sunday 11:00.
    let (plan, _) = plan_for(&c, "1003@ent-pa.com", &switches, tuesday_la(18, 0));
    assert_eq!(skipped(&plan, "+14155550123"), Some(SkipReason::OutsideSchedule));
    let saturday = Utc.with_ymd_and_hms(2026, 11, 28, 19, 0, 0).single().unwrap_or_default();
    let (plan, _) = plan_for(&c, "1003@ent-pa.com", &switches, saturday);
    assert_eq!(skipped(&plan, "+14155550123"), None);
    let sunday = Utc.with_ymd_and_hms(2026, 11, 29, 19, 0, 0).single().unwrap_or_default();
    let (plan, _) = plan_for(&c, "1003@ent-pa.com", &switches, sunday);
    assert_eq!(skipped(&plan, "+14155550123"), Some(SkipReason::OutsideSchedule));
}

#[test]
fn dual_ringing_toggles_by_feature_code_and_api() {
    let c = example();
    let mut switches = DualRingSwitches::new();
    // Bob dials *88 from his desk phone.
    let d = c.locate(&Origin::Device { device: "SEP00AA00000002".into(), line: None }, &sip("*88@ent-pa.com")).unwrap_or_else(|e| panic!("{e}"));
    let Outcome::ToggleDualRing { user, .. } = d.outcome else { panic!("{:?}", d.outcome) };
    let bob = c.directory().user(user).unwrap_or_else(|| panic!("bob"));
    assert!(!switches.toggle(bob), "on by default, now off");
    let (plan, _) = plan_for(&c, "1002@ent-pa.com", &switches, tuesday_la(10, 0));
    assert_eq!(plan.legs.len(), 1, "only the desk phone");
    assert_eq!(skipped(&plan, "sip:bob@ent-pa.call.webex.com"), Some(SkipReason::DualRingOff));
    assert_eq!(switches.overrides().collect::<Vec<_>>(), [("bob", false)]);
    // The admin API turns it back on; the override disappears as it equals the config.
    switches.set(bob, true);
    assert_eq!(switches.overrides().count(), 0);
    let (plan, _) = plan_for(&c, "1002@ent-pa.com", &switches, tuesday_la(10, 0));
    assert_eq!(plan.legs.len(), 2);
}

#[test]
fn teams_numbers_equal_to_extensions_route_through_the_remote_destination_css() {
    let text = EXAMPLE.replacen("destination = \"1002\"\ndelay_before_ringing_ms = 0\nenabled = false", "destination = \"1002\"\ndelay_before_ringing_ms = 0\nenabled = true", 1);
    assert_ne!(text, EXAMPLE);
    let c = Cluster::from_toml_str(causeway_policy::SourceText::new("ent-pa.toml", &text), ZONES).unwrap_or_else(|e| panic!("{e}"));
    let (plan, _) = plan_for(&c, "1002@ent-pa.com", &DualRingSwitches::new(), tuesday_la(10, 0));
    let teams = plan.legs.iter().find(|l| matches!(&l.kind, LegKind::Remote { name, .. } if name == "bob-teams"));
    let teams = teams.unwrap_or_else(|| panic!("{plan:?}"));
    // 1002 in the Teams partition, not Bob's own DN 1002 in Internal.
    assert_eq!(teams.target, LegTarget::Zone { zone: "teams".into(), destination: "+14085551002".into(), avoid: Vec::new() });
    assert!(teams.delay.is_zero());
}

#[test]
fn unroutable_destinations_are_skipped_with_the_reason() {
    let c = example();
    let d = c.locate(&Origin::Device { device: "SEP00AA00000001".into(), line: None }, &sip("1002@ent-pa.com")).unwrap_or_else(|e| panic!("{e}"));
    let Outcome::Line { line, .. } = d.outcome else { panic!() };
    let nowhere = |_: &str| Vec::new();
    let contacts = ContactSnapshot::new();
    let switches = DualRingSwitches::new();
    let input = ForkInput { placement: &d.placement, wall_time: tuesday_la(10, 0), switches: &switches, contacts: &contacts, zones: &nowhere };
    let plan = c.fork_plan(line, input);
    assert!(plan.legs.is_empty());
    assert_eq!(
        plan.skipped,
        vec![
            Skipped { target: "SEP00AA00000002".into(), reason: SkipReason::NotRegistered },
            Skipped { target: "1002".into(), reason: SkipReason::Disabled },
            Skipped { target: "sip:bob@ent-pa.call.webex.com".into(), reason: SkipReason::NoRoute },
        ]
    );
}

#[test]
fn a_forward_to_another_line_rings_that_lines_contacts() {
    let text = EXAMPLE.replacen("dn = \"1003\"\npartition = \"Internal\"\nuser = \"carol\"\ncss = \"CSS-Line-National\"", "dn = \"1003\"\npartition = \"Internal\"\nuser = \"carol\"\ncss = \"CSS-Line-National\"\nforward_no_answer = { destination = \"1001\", after_ms = 8000 }\nforward_css = \"CSS-Forward\"", 1);
    assert_ne!(text, EXAMPLE);
    let c = Cluster::from_toml_str(causeway_policy::SourceText::new("ent-pa.toml", &text), ZONES).unwrap_or_else(|e| panic!("{e}"));
    let (plan, _) = plan_for(&c, "1003@ent-pa.com", &DualRingSwitches::new(), tuesday_la(10, 0));
    let fwd = plan.no_answer.unwrap_or_else(|| panic!("CFNA"));
    assert_eq!(fwd.after, Duration::from_secs(8));
    assert!(matches!(&fwd.legs[..], [l] if l.kind == LegKind::Forward { reason: ForwardReason::NoAnswer } && l.target.destination() == "sip:alice-desk@10.1.0.1:5060"));
}
