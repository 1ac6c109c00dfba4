//! Single Number Reach in simulated time: every timer behaviour, first answer wins with the
//! exact Reason, forwards, busy, the caller's CANCEL, early media, races and bad events.

mod common;

use std::time::Duration;

use causeway_callctl::cdr::{EndCause, Party};
use causeway_callctl::directory::ReachKind;
use causeway_callctl::fork::{ForwardPlan, ForwardReason, PlannedLeg};
use causeway_callctl::{Action, CancelReason, Event, ForkPlan, LegId, LegKind, LegTarget, ReleaseCause, SnrError, SnrTimer};
use common::Sim;

const COMPLETED_ELSEWHERE: &str = "SIP;cause=200;text=\"Call completed elsewhere\"";

fn desk(contact: &str) -> PlannedLeg {
    PlannedLeg {
        kind: LegKind::Device { device: "SEP00AA00000002".into() },
        target: LegTarget::Contact { contact: contact.into() },
        delay: Duration::ZERO,
        answer_too_soon: None,
        answer_too_late: None,
    }
}

fn cloud(delay: u64, soon: u64, late: u64) -> PlannedLeg {
    PlannedLeg {
        kind: LegKind::Remote { user: "bob".into(), name: "bob-webex".into(), reach: ReachKind::AssociatedIdentity },
        target: LegTarget::Zone { zone: "webex".into(), destination: "sip:bob@ent-pa.call.webex.com".into(), avoid: Vec::new() },
        delay: Duration::from_millis(delay),
        answer_too_soon: (soon > 0).then(|| Duration::from_millis(soon)),
        answer_too_late: (late > 0).then(|| Duration::from_millis(late)),
    }
}

fn forward(reason: ForwardReason, after: u64) -> ForwardPlan {
    ForwardPlan {
        reason,
        destination: "8000".into(),
        after: Duration::from_millis(after),
        legs: vec![PlannedLeg {
            kind: LegKind::Forward { reason },
            target: LegTarget::Zone { zone: "unity".into(), destination: "8000".into(), avoid: Vec::new() },
            delay: Duration::ZERO,
            answer_too_soon: None,
            answer_too_late: None,
        }],
    }
}

/// Bob's line as in F1: desk phone now, cloud after 4 s (too soon 1.5 s, too late 19 s).
fn f1_plan() -> ForkPlan {
    ForkPlan { legs: vec![desk("sip:bob@10.0.0.2:5060"), cloud(4000, 1500, 19000)], ..ForkPlan::default() }
}

fn start(leg: u32) -> impl Fn(&Action) -> bool {
    move |a| matches!(a, Action::StartLeg { leg: l, .. } if *l == LegId(leg))
}

fn names(actions: &[(u64, Action)]) -> Vec<(u64, String)> {
    actions
        .iter()
        .map(|(ms, a)| {
            let s = match a {
                Action::StartLeg { leg, .. } => format!("start {}", leg.0),
                Action::CancelLeg { leg, reason } => format!("cancel {} {reason:?}", leg.0),
                Action::ReleaseLeg { leg, cause } => format!("bye {} {cause:?}", leg.0),
                Action::Provisional { leg, status, early_media } => format!("{status} from {} sdp={early_media}", leg.0),
                Action::AnswerCaller { leg } => format!("answer with {}", leg.0),
                Action::RejectCaller { status } => format!("reject {status}"),
                Action::ReleaseCaller => "bye caller".into(),
                Action::SetTimer { timer, .. } => format!("set {timer:?}"),
                Action::CancelTimer { timer } => format!("unset {timer:?}"),
                Action::Cdr(e) => format!("cdr {e:?}"),
            };
            (*ms, s)
        })
        .collect()
}

fn ev(leg: u32) -> LegId {
    LegId(leg)
}

#[test]
fn delay_before_ringing_starts_the_remote_leg_later() {
    let mut sim = Sim::new(f1_plan());
    let first = sim.take();
    assert_eq!(
        names(&first),
        vec![(0, "start 0".into()), (0, "set DelayBeforeRinging(LegId(1))".into())]
    );
    assert!(matches!(&first[0].1, Action::StartLeg { target: LegTarget::Contact { contact }, .. } if contact == "sip:bob@10.0.0.2:5060"));
    assert!(matches!(first[1].1, Action::SetTimer { at, .. } if at == sim.t0 + Duration::from_millis(4000)));
    sim.advance_to(3999);
    assert!(sim.take().is_empty());
    sim.advance_to(4000);
    let at_4s = sim.take();
    assert_eq!(names(&at_4s), vec![(4000, "start 1".into()), (4000, "set AnswerTooLate(LegId(1))".into())]);
    assert!(matches!(&at_4s[0].1, Action::StartLeg { target: LegTarget::Zone { zone, .. }, .. } if zone == "webex"));
    assert!(matches!(at_4s[1].1, Action::SetTimer { at, .. } if at == sim.t0 + Duration::from_millis(23_000)));
    assert_eq!(sim.call.poll_timeout(), Some(sim.t0 + Duration::from_millis(23_000)));
}

#[test]
fn first_answer_wins_and_the_others_hear_completed_elsewhere() {
    let mut sim = Sim::new(f1_plan());
    sim.advance_to(4000);
    sim.event(5000, Event::Provisional { leg: ev(0), status: 180, sdp: false });
    sim.event(5200, Event::Provisional { leg: ev(1), status: 180, sdp: false });
    sim.take();
    assert!(sim.call.caller_ringing());
    sim.event(7000, Event::Answered { leg: ev(0) });
    assert!(!sim.call.caller_ringing(), "answered");
    let actions = sim.take();
    assert_eq!(
        names(&actions),
        vec![
            (7000, "answer with 0".into()),
            (7000, "unset AnswerTooLate(LegId(1))".into()),
            (7000, "cancel 1 CompletedElsewhere".into()),
        ]
    );
    let Some((_, Action::CancelLeg { reason, .. })) = actions.get(2) else { panic!("{actions:?}") };
    assert_eq!(reason.reason_header(), Some(COMPLETED_ELSEWHERE));
    assert_eq!(sim.call.answered_leg(), Some(ev(0)));
    assert!(!sim.call.is_finished());
    sim.event(7050, Event::Failed { leg: ev(1), status: 487, reason: None });
    sim.event(60_000, Event::CallerHungUp);
    assert_eq!(names(&sim.take()), vec![(60_000, "bye 0 CallerHungUp".into())]);
    assert!(sim.call.is_finished());
    assert!(sim.cdr.is_complete());
    assert_eq!(sim.call.poll_timeout(), None);

    let record = sim.cdr.record();
    assert_eq!((record.status, record.answered_leg, record.released_by), (Some(200), Some(0), Some(Party::Caller)));
    let [desk, cloud] = record.legs.as_slice() else { panic!("{:?}", record.legs) };
    assert_eq!((desk.status, desk.cause, desk.released_by), (Some(200), Some(EndCause::CallerHungUp), Some(Party::Caller)));
    assert_eq!(cloud.status, Some(487));
    assert_eq!(cloud.cause, Some(EndCause::Cancelled(CancelReason::CompletedElsewhere)));
    assert_eq!(cloud.released_by, Some(Party::System));
    assert_eq!(cloud.reason.as_deref(), Some(COMPLETED_ELSEWHERE));
    assert_eq!((cloud.start - record.start).num_milliseconds(), 4000);
    assert_eq!(cloud.ringing.map(|t| (t - record.start).num_milliseconds()), Some(5200));
    assert_eq!(cloud.end.map(|t| (t - record.start).num_milliseconds()), Some(7050));
    assert_eq!(desk.answer.map(|t| (t - record.start).num_milliseconds()), Some(7000));
}

#[test]
fn an_answer_before_the_delay_means_the_remote_leg_never_starts() {
    let mut sim = Sim::new(f1_plan());
    sim.take();
    sim.event(1000, Event::Answered { leg: ev(0) });
    assert_eq!(names(&sim.take()), vec![(1000, "answer with 0".into()), (1000, "unset DelayBeforeRinging(LegId(1))".into())]);
    sim.advance_to(30_000);
    assert!(sim.log.iter().all(|(_, a)| !start(1)(a)), "the cloud leg must never start");
    sim.event(30_000, Event::LegHungUp { leg: ev(0) });
    assert_eq!(names(&sim.take()), vec![(30_000, "bye caller".into())]);
    assert!(sim.call.is_finished());
    assert_eq!(sim.cdr.record().legs.len(), 1);
    assert_eq!(sim.cdr.record().released_by, Some(Party::Callee));
}

#[test]
fn answer_too_soon_is_a_voicemail_pickup_and_the_others_ring_on() {
    let mut sim = Sim::new(f1_plan());
    sim.advance_to(4000);
    sim.take();
    // The cloud answers 1.499 s after its INVITE: its voicemail.
    sim.event(5499, Event::Answered { leg: ev(1) });
    let actions = sim.take();
    assert_eq!(names(&actions), vec![(5499, "bye 1 AnswerTooSoon".into()), (5499, "unset AnswerTooLate(LegId(1))".into())]);
    let Some((_, Action::ReleaseLeg { cause, .. })) = actions.first() else { panic!() };
    assert_eq!(cause.reason_header(), None);
    assert_eq!(sim.call.answered_leg(), None);
    // The desk phone still rings and then wins.
    sim.event(9000, Event::Answered { leg: ev(0) });
    assert_eq!(names(&sim.take()), vec![(9000, "answer with 0".into())]);
    let cloud = sim.cdr.record().legs.iter().find(|l| l.leg == 1).cloned().unwrap_or_else(|| panic!("leg 1"));
    assert_eq!((cloud.status, cloud.cause, cloud.released_by), (Some(200), Some(EndCause::AnswerTooSoon), Some(Party::System)));
}

#[test]
fn an_answer_exactly_at_answer_too_soon_is_a_real_answer() {
    let mut sim = Sim::new(f1_plan());
    sim.advance_to(4000);
    sim.take();
    sim.event(5500, Event::Answered { leg: ev(1) });
    let actions = names(&sim.take());
    assert_eq!(actions.first(), Some(&(5500, "answer with 1".to_owned())));
    assert!(actions.contains(&(5500, "cancel 0 CompletedElsewhere".to_owned())), "{actions:?}");
}

#[test]
fn answer_too_late_stops_the_remote_leg_before_its_voicemail() {
    let mut sim = Sim::new(f1_plan());
    sim.advance_to(22_999);
    sim.take();
    sim.advance_to(23_000);
    let actions = sim.take();
    assert_eq!(names(&actions), vec![(23_000, "cancel 1 AnswerTooLate".into())]);
    let Some((_, Action::CancelLeg { reason, .. })) = actions.first() else { panic!() };
    assert_eq!(reason.reason_header(), None, "a too-late CANCEL is not 'completed elsewhere'");
    sim.event(23_020, Event::Failed { leg: ev(1), status: 487, reason: None });
    // The desk phone rings on and can still answer.
    sim.event(40_000, Event::Answered { leg: ev(0) });
    assert_eq!(names(&sim.take()), vec![(40_000, "answer with 0".into())]);
    let cloud = sim.cdr.record().legs.iter().find(|l| l.leg == 1).cloned().unwrap_or_else(|| panic!("leg 1"));
    assert_eq!(cloud.cause, Some(EndCause::Cancelled(CancelReason::AnswerTooLate)));
    assert_eq!(cloud.reason, None);
}

#[test]
fn no_answer_forwards_after_the_line_timer() {
    let plan = ForkPlan { no_answer: Some(forward(ForwardReason::NoAnswer, 12_000)), ..f1_plan() };
    let mut sim = Sim::new(plan);
    assert_eq!(names(&sim.take()).first(), Some(&(0, "set NoAnswer".to_owned())));
    sim.advance_to(11_999);
    assert_eq!(names(&sim.take()), vec![(4000, "start 1".into()), (4000, "set AnswerTooLate(LegId(1))".into())]);
    sim.advance_to(12_000);
    let actions = names(&sim.take_calls());
    assert_eq!(
        actions,
        vec![(12_000, "cancel 0 NoAnswer".into()), (12_000, "cancel 1 NoAnswer".into()), (12_000, "start 2".into())]
    );
    assert!(matches!(sim.log.last(), Some((_, Action::StartLeg { kind: LegKind::Forward { reason: ForwardReason::NoAnswer }, target: LegTarget::Zone { zone, .. }, .. })) if zone == "unity"));
    sim.event(12_010, Event::Failed { leg: ev(0), status: 487, reason: None });
    sim.event(12_010, Event::Failed { leg: ev(1), status: 487, reason: None });
    sim.event(12_400, Event::Answered { leg: ev(2) });
    assert_eq!(names(&sim.take_calls()), vec![(12_400, "answer with 2".into())]);
    let record = sim.cdr.record();
    assert_eq!(record.forwarded, Some((ForwardReason::NoAnswer, "8000".to_owned())));
    assert_eq!(record.answered_leg, Some(2));
    assert!(record.legs.iter().take(2).all(|l| l.cause == Some(EndCause::Cancelled(CancelReason::NoAnswer)) && l.reason.is_none()));
}

#[test]
fn busy_everywhere_gives_486_or_the_busy_forward() {
    // No forward: 486.
    let plan = ForkPlan { legs: vec![desk("sip:a@10.0.0.2"), cloud(0, 1500, 19000)], ..ForkPlan::default() };
    let mut sim = Sim::new(plan);
    sim.event(100, Event::Failed { leg: ev(0), status: 486, reason: None });
    assert!(sim.take_calls().iter().all(|(_, a)| !matches!(a, Action::RejectCaller { .. })), "the cloud still rings");
    sim.event(300, Event::Failed { leg: ev(1), status: 480, reason: Some("Q.850;cause=20".into()) });
    assert_eq!(names(&sim.take_calls()), vec![(300, "reject 486".into())]);
    assert!(sim.call.is_finished());
    assert_eq!(sim.cdr.record().legs.get(1).and_then(|l| l.reason.clone()).as_deref(), Some("Q.850;cause=20"));

    // With a busy forward: the forward leg starts.
    let plan = ForkPlan {
        legs: vec![desk("sip:a@10.0.0.2"), desk("sip:a@10.0.0.3")],
        busy: Some(forward(ForwardReason::Busy, 0)),
        no_answer: Some(forward(ForwardReason::NoAnswer, 12_000)),
        ..ForkPlan::default()
    };
    let mut sim = Sim::new(plan);
    sim.event(100, Event::Failed { leg: ev(0), status: 486, reason: None });
    sim.event(150, Event::Failed { leg: ev(1), status: 600, reason: None });
    assert_eq!(names(&sim.take()).into_iter().skip(3).collect::<Vec<_>>(), vec![(150, "unset NoAnswer".into()), (150, "start 2".into())]);
    assert_eq!(sim.cdr.record().forwarded, Some((ForwardReason::Busy, "8000".to_owned())));
    // The forward fails too: its status goes to the caller, no second forward.
    sim.event(400, Event::Failed { leg: ev(2), status: 503, reason: None });
    assert_eq!(names(&sim.take_calls()), vec![(400, "reject 503".into())]);
}

#[test]
fn failures_that_are_not_busy_go_to_forward_no_answer_at_once() {
    let plan = ForkPlan { legs: vec![desk("sip:a@10.0.0.2")], no_answer: Some(forward(ForwardReason::NoAnswer, 12_000)), ..ForkPlan::default() };
    let mut sim = Sim::new(plan);
    sim.event(200, Event::Failed { leg: ev(0), status: 480, reason: None });
    assert_eq!(names(&sim.take()).into_iter().skip(2).collect::<Vec<_>>(), vec![(200, "unset NoAnswer".into()), (200, "start 1".into())]);
}

#[test]
fn nothing_to_ring_answers_480_at_once() {
    let mut sim = Sim::new(ForkPlan::default());
    assert_eq!(names(&sim.take()), vec![(0, "reject 480".into())]);
    assert!(sim.call.is_finished());
    assert_eq!(sim.cdr.record().released_by, Some(Party::System));
}

#[test]
fn caller_cancel_cancels_every_leg_without_completed_elsewhere() {
    let mut sim = Sim::new(ForkPlan { no_answer: Some(forward(ForwardReason::NoAnswer, 12_000)), ..f1_plan() });
    sim.advance_to(4000);
    sim.take();
    sim.event(6000, Event::CallerCancelled);
    assert!(!sim.call.caller_ringing(), "the caller gave up");
    let actions = sim.take();
    assert_eq!(
        names(&actions),
        vec![
            (6000, "unset NoAnswer".into()),
            (6000, "unset AnswerTooLate(LegId(1))".into()),
            (6000, "cancel 0 CallerCancelled".into()),
            (6000, "cancel 1 CallerCancelled".into()),
            (6000, "reject 487".into()),
        ]
    );
    for (_, a) in &actions {
        if let Action::CancelLeg { reason, .. } = a {
            assert_eq!(reason.reason_header(), None);
        }
    }
    // The desk phone's 200 crosses the CANCEL: released, still not "completed elsewhere".
    sim.event(6010, Event::Answered { leg: ev(0) });
    let actions = sim.take();
    assert_eq!(names(&actions), vec![(6010, "bye 0 LateAnswer(CallerCancelled)".into())]);
    let Some((_, Action::ReleaseLeg { cause, .. })) = actions.first() else { panic!() };
    assert_eq!(cause.reason_header(), None);
    assert!(!sim.call.is_finished());
    sim.event(6020, Event::Failed { leg: ev(1), status: 487, reason: None });
    assert!(sim.call.is_finished());
    // A CANCEL after the final response has no effect (RFC 3261 §9.2).
    sim.event(6030, Event::CallerCancelled);
    assert!(sim.take().is_empty());
    let record = sim.cdr.record();
    assert_eq!((record.status, record.released_by), (Some(487), Some(Party::Caller)));
    assert!(record.legs.iter().all(|l| l.reason.is_none() && l.released_by == Some(Party::Caller) || l.cause == Some(EndCause::LateAnswer)));
}

#[test]
fn a_200_crossing_the_completed_elsewhere_cancel_is_released_with_the_same_reason() {
    let mut sim = Sim::new(ForkPlan { legs: vec![desk("sip:a@10.0.0.2"), desk("sip:a@10.0.0.3")], ..ForkPlan::default() });
    sim.event(3000, Event::Answered { leg: ev(0) });
    sim.event(3005, Event::Answered { leg: ev(1) });
    let actions = sim.take_calls();
    let Some((_, Action::ReleaseLeg { leg, cause })) = actions.last() else { panic!("{actions:?}") };
    assert_eq!((*leg, *cause), (ev(1), ReleaseCause::LateAnswer(CancelReason::CompletedElsewhere)));
    assert_eq!(cause.reason_header(), Some(COMPLETED_ELSEWHERE));
    assert_eq!(sim.cdr.record().legs.get(1).and_then(|l| l.cause), Some(EndCause::LateAnswer));
}

#[test]
fn first_183_with_sdp_is_the_early_media() {
    let mut sim = Sim::new(ForkPlan { legs: vec![desk("sip:a@10.0.0.2"), cloud(0, 0, 0)], ..ForkPlan::default() });
    sim.take();
    sim.event(100, Event::Provisional { leg: ev(0), status: 100, sdp: false });
    sim.event(200, Event::Provisional { leg: ev(0), status: 180, sdp: false });
    sim.event(250, Event::Provisional { leg: ev(1), status: 180, sdp: false });
    sim.event(300, Event::Provisional { leg: ev(1), status: 183, sdp: true });
    sim.event(400, Event::Provisional { leg: ev(0), status: 183, sdp: true });
    sim.event(500, Event::Provisional { leg: ev(1), status: 183, sdp: true });
    assert_eq!(
        names(&sim.take()),
        vec![(200, "180 from 0 sdp=false".into()), (300, "183 from 1 sdp=true".into()), (500, "183 from 1 sdp=true".into())]
    );
    assert_eq!(sim.call.early_media_leg(), Some(ev(1)));
    assert_eq!(sim.cdr.record().early_media_leg, Some(1));
    let rang: Vec<_> = sim.cdr.record().legs.iter().map(|l| l.ringing.map(|t| (t - sim.cdr.record().start).num_milliseconds())).collect();
    assert_eq!(rang, vec![Some(200), Some(250)]);
}

#[test]
fn a_leg_that_never_answers_ends_with_the_transaction_timeout() {
    let mut sim = Sim::new(ForkPlan { legs: vec![desk("sip:a@10.0.0.2")], ..ForkPlan::default() });
    assert_eq!(sim.call.poll_timeout(), None, "no SNR timer: the B2BUA's Timer C bounds the leg");
    sim.event(180_000, Event::Failed { leg: ev(0), status: 408, reason: None });
    assert_eq!(names(&sim.take_calls()), vec![(0, "start 0".into()), (180_000, "reject 408".into())]);
    assert!(sim.call.is_finished());
}

#[test]
fn a_routed_call_is_one_leg() {
    let mut sim = Sim::new(ForkPlan::routed("pstn-gw", "+14155550123"));
    let actions = sim.take();
    assert!(matches!(&actions[..], [(0, Action::StartLeg { kind: LegKind::Routed, target: LegTarget::Zone { zone, destination, .. }, .. })] if zone == "pstn-gw" && destination == "+14155550123"));
    sim.event(900, Event::Answered { leg: ev(0) });
    assert_eq!(names(&sim.take()), vec![(900, "answer with 0".into())]);
}

#[test]
fn bad_events_are_errors_not_panics() {
    let mut sim = Sim::new(f1_plan());
    let now = sim.now;
    assert_eq!(sim.call.handle(now, Event::Answered { leg: ev(7) }), Err(SnrError::UnknownLeg(ev(7))));
    assert_eq!(
        sim.call.handle(now, Event::Answered { leg: ev(1) }),
        Err(SnrError::Unexpected { event: "2xx", state: "before the leg started" })
    );
    assert_eq!(sim.call.handle(now, Event::Provisional { leg: ev(0), status: 200, sdp: false }), Err(SnrError::Status { event: "provisional", status: 200 }));
    assert_eq!(sim.call.handle(now, Event::Failed { leg: ev(0), status: 200, reason: None }), Err(SnrError::Status { event: "final error", status: 200 }));
    assert_eq!(
        sim.call.handle(now, Event::CallerHungUp),
        Err(SnrError::Unexpected { event: "BYE from the caller", state: "before the call was answered" })
    );
    assert_eq!(
        sim.call.handle(now, Event::LegHungUp { leg: ev(0) }),
        Err(SnrError::Unexpected { event: "BYE from a leg", state: "while the leg rings" })
    );
    // Timers keep their promise whatever was refused.
    assert_eq!(sim.call.poll_timeout(), Some(sim.t0 + Duration::from_millis(4000)));
    sim.advance_to(4000);
    assert!(sim.log.iter().any(|(_, a)| start(1)(a)));
    assert!(sim.log.iter().any(|(_, a)| matches!(a, Action::SetTimer { timer: SnrTimer::AnswerTooLate(l), .. } if *l == ev(1))));
}

#[test]
fn a_voicemail_pickup_on_the_last_leg_goes_to_forward_no_answer() {
    let plan = ForkPlan { legs: vec![cloud(0, 1500, 19000)], no_answer: Some(forward(ForwardReason::NoAnswer, 12_000)), ..ForkPlan::default() };
    let mut sim = Sim::new(plan);
    sim.take();
    sim.event(800, Event::Answered { leg: ev(0) });
    assert_eq!(names(&sim.take_calls()), vec![(800, "bye 0 AnswerTooSoon".into()), (800, "start 1".into())]);
    // Without a forward, the caller hears 480: nobody was really reached.
    let mut sim = Sim::new(ForkPlan { legs: vec![cloud(0, 1500, 19000)], ..ForkPlan::default() });
    sim.event(800, Event::Answered { leg: ev(0) });
    assert_eq!(names(&sim.take_calls()), vec![(0, "start 0".into()), (800, "bye 0 AnswerTooSoon".into()), (800, "reject 480".into())]);
    assert!(sim.call.is_finished());
}

#[test]
fn early_media_passes_on_when_its_leg_stops_ringing() {
    let plan = ForkPlan { legs: vec![cloud(0, 0, 5000), desk("sip:a@10.0.0.2")], no_answer: Some(forward(ForwardReason::NoAnswer, 8000)), ..ForkPlan::default() };
    let mut sim = Sim::new(plan);
    sim.event(100, Event::Provisional { leg: ev(0), status: 183, sdp: true });
    sim.event(200, Event::Provisional { leg: ev(1), status: 183, sdp: true });
    sim.advance_to(5000);
    sim.take();
    // The cloud leg was cancelled at answer-too-late: the desk phone's early media is next.
    sim.event(5100, Event::Provisional { leg: ev(1), status: 183, sdp: true });
    assert_eq!(names(&sim.take_calls()), vec![(5100, "183 from 1 sdp=true".into())]);
    // After the no-answer forward, the voicemail's announcement is relayed.
    sim.advance_to(8000);
    sim.take();
    sim.event(8300, Event::Provisional { leg: ev(2), status: 183, sdp: true });
    assert_eq!(names(&sim.take_calls()), vec![(8300, "183 from 2 sdp=true".into())]);
    assert_eq!(sim.cdr.record().early_media_leg, Some(2));
}
