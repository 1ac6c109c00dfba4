//! Flows F1 and F2 of DESIGN.md through call control: anchoring on associated identities (and
//! who may claim one), the enterprise identity presented, loop avoidance on calls that carry
//! the cloud's marker, and one call end to end with its CDR checked field by field.

mod common;

use causeway_callctl::cdr::{EndCause, Party};
use causeway_callctl::fork::SkipReason;
use causeway_callctl::{
    Action, CallInfo, CancelReason, Cluster, ContactSnapshot, Decision, DualRingSwitches, Event, ForkInput, LegId, LegKind, LegTarget, Origin,
    Outcome, TraceStep, ZoneCall,
};
use causeway_policy::Address;
use common::{example, sip, tuesday_la, zones, Sim, EXAMPLE, ZONES};

/// The F2 INVITE as call control sees it: from the webex zone, Alice's cloud address in From
/// (and in PAI when the zone vouched for it), the cloud's loop marker in Contact.
fn from_cloud(authenticated: bool, pai: Option<&str>, marked: bool) -> Origin {
    Origin::Zone(ZoneCall {
        zone: "webex".into(),
        authenticated,
        from: sip("alice@ent-pa.call.webex.com").with_display("Alice"),
        asserted: pai.map(sip).into_iter().collect(),
        contact_params: if marked { vec![("call-type".into(), Some("squared".into()))] } else { Vec::new() },
    })
}

fn locate(cluster: &Cluster, origin: &Origin, called: &Address) -> Decision {
    cluster.locate(origin, called).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn f2_authenticated_pai_anchors_on_alice_with_her_css_and_enterprise_identity() {
    let c = example();
    let d = locate(&c, &from_cloud(true, Some("alice@ent-pa.call.webex.com"), true), &sip("bob@ent-pa.com"));
    assert_eq!(d.anchored_user.as_deref(), Some("alice"));
    assert!(matches!(&d.outcome, Outcome::Line { dn, .. } if dn == "1002"));
    assert_eq!(d.calling.number.as_deref(), Some("1001"));
    assert_eq!(d.calling.display_name.as_deref(), Some("Alice Adams"));
    assert_eq!(d.calling.uri.as_deref(), Some("alice@ent-pa.com"));
    assert!(d.placement.loop_marked);
    let anchored = d.trace.steps.iter().find_map(|s| match s {
        TraceStep::Anchored { user, identity, css } => Some((user.clone(), identity.clone(), css.clone())),
        _ => None,
    });
    assert_eq!(
        anchored,
        Some(("alice".into(), "alice@ent-pa.call.webex.com".into(), vec!["CSS-Line-Intl".into(), "CSS-Cloud-Device".into()]))
    );
    // Her CSS also gives her the PSTN, presented with her DID.
    let d = locate(&c, &from_cloud(true, Some("alice@ent-pa.call.webex.com"), true), &sip("9011442079460000@us-cm-pub.ent-pa.com"));
    assert!(matches!(&d.outcome, Outcome::Route { zone, called, .. } if zone == "pstn-gw" && called == "+442079460000"));
    assert_eq!(d.calling.number.as_deref(), Some("+14085551001"));
}

#[test]
fn trust_pai_only_refuses_unauthenticated_or_from_only_claims() {
    let c = example();
    for (origin, why) in [
        (from_cloud(false, Some("alice@ent-pa.call.webex.com"), true), "request not authenticated"),
        (from_cloud(true, None, true), "trunk trusts P-Asserted-Identity only"),
    ] {
        let d = locate(&c, &origin, &sip("9011442079460000@ent-pa.com"));
        assert_eq!(d.anchored_user, None);
        assert_eq!(d.outcome, Outcome::NoMatch, "the trunk CSS has no PSTN: no toll fraud through a claimed identity");
        assert!(d.trace.steps.iter().any(|s| matches!(s, TraceStep::IdentityIgnored { why: w, .. } if *w == why)), "{}", d.trace);
        // The cloud address is presented as it came.
        assert_eq!(d.calling.uri.as_deref(), Some("alice@ent-pa.call.webex.com"));
        assert_eq!(d.calling.display_name.as_deref(), Some("Alice"));
        // Internal numbers stay reachable through the trunk CSS.
        let d = locate(&c, &origin, &sip("bob@ent-pa.com"));
        assert!(matches!(&d.outcome, Outcome::Line { dn, .. } if dn == "1002"));
    }
    // A PAI that is nobody's identity anchors nothing.
    let d = locate(&c, &from_cloud(true, Some("mallory@ent-pa.call.webex.com"), false), &sip("1002@ent-pa.com"));
    assert_eq!(d.anchored_user, None);
}

#[test]
fn from_or_pai_trunks_anchor_on_from() {
    let text = EXAMPLE.replacen("trusted_identity = \"pai-only\"", "trusted_identity = \"from-or-pai\"", 1);
    let c = Cluster::from_toml_str(causeway_policy::SourceText::new("ent-pa.toml", &text), ZONES).unwrap_or_else(|e| panic!("{e}"));
    let d = locate(&c, &from_cloud(false, None, false), &sip("1002@ent-pa.com"));
    assert_eq!(d.anchored_user.as_deref(), Some("alice"));
    assert!(d.trace.steps.iter().any(|s| matches!(s, TraceStep::IdentityChecked { header: "from", user: Some(u), .. } if u == "alice")));
}

fn plan(c: &Cluster, d: &Decision, contacts: &ContactSnapshot) -> causeway_callctl::ForkPlan {
    let Outcome::Line { line, .. } = d.outcome else { panic!("{:?}", d.outcome) };
    let switches = DualRingSwitches::new();
    c.fork_plan(line, ForkInput { placement: &d.placement, wall_time: tuesday_la(10, 0), switches: &switches, contacts, zones: &zones })
}

#[test]
fn f2_loop_marked_calls_never_fork_back_to_the_cloud() {
    let c = example();
    let contacts = ContactSnapshot::new().with("SEP00AA00000002", "sip:bob-desk@10.1.0.2:5060");
    let marked = locate(&c, &from_cloud(true, Some("alice@ent-pa.call.webex.com"), true), &sip("bob@ent-pa.com"));
    let p = plan(&c, &marked, &contacts);
    assert_eq!(p.legs.len(), 1, "desk phone only: {p:?}");
    assert!(matches!(p.legs[0].kind, LegKind::Device { .. }));
    assert!(p.skipped.iter().any(|s| s.target == "sip:bob@ent-pa.call.webex.com" && s.reason == SkipReason::LoopAvoidance));
    // Without the marker, the same call does fork to Bob's cloud identity.
    let unmarked = locate(&c, &from_cloud(true, Some("alice@ent-pa.call.webex.com"), false), &sip("bob@ent-pa.com"));
    let p = plan(&c, &unmarked, &contacts);
    assert!(p.legs.iter().any(|l| l.target.zone() == Some("webex")));
    // The marker only protects associated identities: Carol's mobile rings on a marked call.
    let to_carol = locate(&c, &from_cloud(true, Some("alice@ent-pa.call.webex.com"), true), &sip("carol@ent-pa.com"));
    let p = plan(&c, &to_carol, &contacts);
    assert!(p.legs.iter().any(|l| l.target == LegTarget::Zone { zone: "pstn-gw".into(), destination: "+14155550123".into(), avoid: Vec::new() }));
}

#[test]
fn f2_a_continue_chain_never_leads_a_marked_call_back_to_the_cloud() {
    let c = example();
    let contacts = ContactSnapshot::new().with("SEP00AA00000002", "sip:bob-desk@10.1.0.2:5060");
    let switches = DualRingSwitches::new();
    // Edge routing sends Bob's cloud identity first through teams, then (on_match = continue)
    // through the protected webex zone.
    let chain = |uri: &str| if uri.contains("call.webex.com") { vec!["teams".to_owned(), "webex".to_owned()] } else { Vec::new() };
    let cloud_only = |uri: &str| if uri.contains("call.webex.com") { vec!["webex".to_owned()] } else { Vec::new() };
    let marked = locate(&c, &from_cloud(true, Some("alice@ent-pa.call.webex.com"), true), &sip("bob@ent-pa.com"));
    let Outcome::Line { line, .. } = marked.outcome else { panic!("{:?}", marked.outcome) };
    let input = ForkInput { placement: &marked.placement, wall_time: tuesday_la(10, 0), switches: &switches, contacts: &contacts, zones: &chain };
    let p = c.fork_plan(line, input);
    let identity = p.legs.iter().find(|l| matches!(l.kind, LegKind::Remote { .. }));
    let Some(identity) = identity else { panic!("the teams leg rings: {p:?}") };
    let avoid = vec!["webex".to_owned()];
    assert_eq!(identity.target, LegTarget::Zone { zone: "teams".into(), destination: "sip:bob@ent-pa.call.webex.com".into(), avoid });
    let input = ForkInput { zones: &cloud_only, ..input };
    let p = c.fork_plan(line, input);
    assert!(p.legs.iter().all(|l| matches!(l.kind, LegKind::Device { .. })), "{p:?}");
    assert!(p.skipped.iter().any(|s| s.target == "sip:bob@ent-pa.call.webex.com" && s.reason == SkipReason::LoopAvoidance));
    // Unmarked, the leg carries nothing to avoid.
    let unmarked = locate(&c, &from_cloud(true, Some("alice@ent-pa.call.webex.com"), false), &sip("bob@ent-pa.com"));
    let input = ForkInput { placement: &unmarked.placement, zones: &chain, ..input };
    let p = c.fork_plan(line, input);
    assert!(p.legs.iter().any(|l| matches!(&l.target, LegTarget::Zone { zone, avoid, .. } if zone == "teams" && avoid.is_empty())));
}

#[test]
fn an_anchored_caller_is_not_rung_back_on_her_own_identity() {
    let c = example();
    let d = locate(&c, &from_cloud(true, Some("Alice@ent-pa.call.webex.com"), false), &sip("1001@ent-pa.com"));
    let p = plan(&c, &d, &ContactSnapshot::new());
    assert!(p.skipped.iter().any(|s| s.target == "sip:alice@ent-pa.call.webex.com" && s.reason == SkipReason::IsCaller), "{p:?}");
}

#[test]
fn f1_end_to_end_with_the_cdr_field_by_field() {
    let c = example();
    let origin = Origin::Device { device: "SEP00AA00000001".into(), line: None };
    let d = locate(&c, &origin, &sip("1002@us-cm-pub.ent-pa.com"));
    let contacts = ContactSnapshot::new().with("SEP00AA00000002", "sip:bob-desk@10.1.0.2:5060");
    let info = CallInfo {
        call_id: "f1@alice-desk".into(),
        calling: d.calling.clone(),
        called: "1002@us-cm-pub.ent-pa.com".into(),
        line: Some("1002".into()),
        anchored_user: d.anchored_user.clone(),
    };
    let mut sim = Sim::with_info(plan(&c, &d, &contacts), info, tuesday_la(10, 0));
    sim.event(300, Event::Provisional { leg: LegId(0), status: 180, sdp: false });
    sim.advance_to(4000);
    sim.event(4600, Event::Provisional { leg: LegId(1), status: 183, sdp: true });
    sim.event(9000, Event::Answered { leg: LegId(1) });
    sim.event(9040, Event::Failed { leg: LegId(0), status: 487, reason: None });
    sim.event(70_000, Event::LegHungUp { leg: LegId(1) });
    assert!(sim.call.is_finished() && sim.cdr.is_complete());
    let cancel = sim.log.iter().find_map(|(ms, a)| match a {
        Action::CancelLeg { leg, reason } => Some((*ms, *leg, reason.reason_header())),
        _ => None,
    });
    assert_eq!(cancel, Some((9000, LegId(0), Some("SIP;cause=200;text=\"Call completed elsewhere\""))));

    let r = sim.cdr.record();
    let ms = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| (t - r.start).num_milliseconds());
    assert_eq!(r.info.call_id, "f1@alice-desk");
    assert_eq!(r.info.calling.number.as_deref(), Some("1001"));
    assert_eq!(r.info.line.as_deref(), Some("1002"));
    assert_eq!(r.start, tuesday_la(10, 0));
    assert_eq!((ms(r.answer), ms(r.end)), (Some(9000), Some(70_000)));
    assert_eq!((r.status, r.released_by, r.answered_leg, r.early_media_leg), (Some(200), Some(Party::Callee), Some(1), Some(1)));
    assert_eq!(r.forwarded, None);
    let [desk, cloud] = r.legs.as_slice() else { panic!("{:?}", r.legs) };
    assert_eq!((desk.leg, desk.target.as_str(), desk.zone.as_deref()), (0, "sip:bob-desk@10.1.0.2:5060", None));
    assert_eq!((ms(Some(desk.start)), ms(desk.ringing), ms(desk.answer), ms(desk.end)), (Some(0), Some(300), None, Some(9040)));
    assert_eq!((desk.status, desk.cause, desk.released_by), (Some(487), Some(EndCause::Cancelled(CancelReason::CompletedElsewhere)), Some(Party::System)));
    assert_eq!(desk.reason.as_deref(), Some("SIP;cause=200;text=\"Call completed elsewhere\""));
    assert_eq!((cloud.leg, cloud.target.as_str(), cloud.zone.as_deref()), (1, "sip:bob@ent-pa.call.webex.com", Some("webex")));
    assert_eq!((ms(Some(cloud.start)), ms(cloud.ringing), ms(cloud.answer), ms(cloud.end)), (Some(4000), Some(4600), Some(9000), Some(70_000)));
    assert_eq!((cloud.status, cloud.cause, cloud.released_by, cloud.reason.as_deref()), (Some(200), Some(EndCause::CalleeHungUp), Some(Party::Callee), None));

    let json = serde_json::to_value(r).unwrap_or_default();
    assert_eq!(json["call_id"], "f1@alice-desk");
    assert_eq!(json["legs"][1]["kind"]["kind"], "remote");
    assert_eq!(json["legs"][1]["kind"]["reach"], "associated-identity");
    assert_eq!(json["legs"][0]["cause"]["cause"], "cancelled");
    assert_eq!(json["legs"][0]["cause"]["reason"], "completed-elsewhere");
    assert_eq!(json["legs"][0]["released_by"], "system");
    assert_eq!(json["start"], "2026-11-24T18:00:00Z");
}
