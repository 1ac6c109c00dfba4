//! [`SnrCall`]: one call to a line, from the caller's INVITE to the last leg's final response.
//!
//! Rules (CUCM Single Number Reach, RFC 3261 §16.7 for the choice among failures):
//! - legs with no delay start at once; remote legs start after `delay_before_ringing`;
//! - the first 2xx wins: the caller is answered with it, every other ringing leg is CANCELled
//!   with `Reason: SIP;cause=200;text="Call completed elsewhere"`, delayed legs never start;
//! - a remote leg answering sooner than `answer_too_soon` after its INVITE is a voicemail: it
//!   is released (BYE) and the others ring on; one still ringing `answer_too_late` after its
//!   INVITE is CANCELled;
//! - the first 183 with SDP becomes the caller's early media (until that leg stops while the
//!   caller still rings); before that, the first 18x without SDP is relayed once as ringback;
//! - the line's no-answer time runs from the call's arrival; when it expires, ringing legs are
//!   CANCELled and the forward-no-answer legs start;
//! - when every leg has ended without an answer: busy (best failure 486 or 600) → forward
//!   busy, else that status; otherwise → forward no answer at once, else the best failure
//!   (6xx, then 486, then the lowest class, first received), else 480;
//! - the caller's CANCEL cancels every leg *without* "completed elsewhere" and answers 487.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::timer::{SnrTimer, TimerTable};
use super::{Action, CancelReason, Event, LegId, ReleaseCause, SnrError};
use crate::cdr::{CdrEvent, EndCause, Party};
use crate::fork::{ForkPlan, ForwardPlan, ForwardReason, LegKind, LegTarget, PlannedLeg};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The fork plan's legs.
    Main,
    /// A forward's legs (no further forward).
    Forwarded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LegState {
    /// Waiting for its delay before ringing.
    Pending,
    /// INVITE sent.
    Calling,
    /// 18x received.
    Early,
    /// Answered and bridged to the caller.
    Connected,
    /// CANCEL sent; its final response is awaited.
    Cancelling(CancelReason),
    /// Over, or never started.
    Ended,
}

impl LegState {
    fn name(self) -> &'static str {
        match self {
            Self::Pending => "before the leg started",
            Self::Calling | Self::Early => "while the leg rings",
            Self::Connected => "on the answered leg",
            Self::Cancelling(_) => "while the leg is cancelled",
            Self::Ended => "after the leg ended",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Ringing,
    Connected(LegId),
    Done,
}

#[derive(Debug, Clone)]
struct Leg {
    /// What it is and where it goes, until its INVITE goes out: then they move into the
    /// B2BUA's action and the CDR event, copied once, not twice.
    destination: Option<(LegKind, LegTarget)>,
    answer_too_soon: Option<Duration>,
    answer_too_late: Option<Duration>,
    stage: Stage,
    state: LegState,
    started: Option<Instant>,
    rang: bool,
}

/// One call to a line (or one routed call) in simulated or real time.
#[derive(Debug, Clone)]
pub struct SnrCall {
    legs: Vec<Leg>,
    caller: Caller,
    stage: Stage,
    no_answer: Option<ForwardPlan>,
    busy: Option<ForwardPlan>,
    timers: TimerTable,
    actions: VecDeque<Action>,
    early_media: Option<LegId>,
    answered: Option<LegId>,
    ringing_relayed: bool,
    /// Far-end final statuses of the current stage, in arrival order.
    failures: Vec<u16>,
}

impl SnrCall {
    /// A call that arrived at `now`: starts the undelayed legs and arms the timers.
    pub fn new(now: Instant, plan: ForkPlan) -> Self {
        let ForkPlan { legs, no_answer, busy, .. } = plan;
        let mut call = Self {
            legs: Vec::with_capacity(legs.len()),
            caller: Caller::Ringing,
            stage: Stage::Main,
            no_answer,
            busy,
            timers: TimerTable::default(),
            actions: VecDeque::new(),
            early_media: None,
            answered: None,
            ringing_relayed: false,
            failures: Vec::new(),
        };
        if let Some(after) = call.no_answer.as_ref().map(|f| f.after) {
            call.arm(SnrTimer::NoAnswer, now + after);
        }
        call.add_legs(now, legs, Stage::Main);
        call.check_done(now);
        call
    }

    /// The next thing to do; call until `None` after every input.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Self::handle_timeout`] must next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The leg that answered the caller, if any.
    pub fn answered_leg(&self) -> Option<LegId> {
        self.answered
    }

    /// Whether the caller still waits for its final response (rings or hears early media).
    pub fn caller_ringing(&self) -> bool {
        self.caller == Caller::Ringing
    }

    /// The leg whose early media the caller hears.
    pub fn early_media_leg(&self) -> Option<LegId> {
        self.early_media
    }

    /// Whether the caller's side and every leg are over: the CDR is complete and the call can
    /// be dropped. A leg that never answers ends with the B2BUA's transaction timeout (Timer C
    /// / B gives 408), so no call stays here for ever.
    pub fn is_finished(&self) -> bool {
        self.caller == Caller::Done && self.legs.iter().all(|l| l.state == LegState::Ended)
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                SnrTimer::DelayBeforeRinging(id) => {
                    if self.state(id) == Some(LegState::Pending) {
                        self.start(now, id);
                    }
                }
                SnrTimer::AnswerTooLate(id) => {
                    if matches!(self.state(id), Some(LegState::Calling | LegState::Early)) {
                        self.cancel(id, CancelReason::AnswerTooLate);
                        self.check_done(now);
                    }
                }
                SnrTimer::NoAnswer => {
                    if self.caller == Caller::Ringing && self.stage == Stage::Main {
                        self.forward(now, ForwardReason::NoAnswer);
                    }
                }
            }
        }
    }

    /// Takes one event from the B2BUA.
    pub fn handle(&mut self, now: Instant, event: Event) -> Result<(), SnrError> {
        match event {
            Event::Provisional { leg, status, sdp } => self.on_provisional(now, leg, status, sdp),
            Event::Answered { leg } => self.on_answered(now, leg),
            Event::Failed { leg, status, reason } => self.on_failed(now, leg, status, reason),
            Event::LegHungUp { leg } => {
                let state = self.state(leg).ok_or(SnrError::UnknownLeg(leg))?;
                if state != LegState::Connected {
                    return Err(SnrError::Unexpected { event: "BYE from a leg", state: state.name() });
                }
                self.end_leg(now, leg, 200, EndCause::CalleeHungUp, None);
                self.actions.push_back(Action::ReleaseCaller);
                self.end_call(now, 200, Party::Callee);
                Ok(())
            }
            Event::CallerCancelled => {
                // RFC 3261 §9.2: a CANCEL after the final response has no effect.
                if self.caller == Caller::Ringing {
                    self.cancel_ringing(CancelReason::CallerCancelled);
                    self.actions.push_back(Action::RejectCaller { status: 487 });
                    self.end_call(now, 487, Party::Caller);
                }
                Ok(())
            }
            Event::CallerHungUp => {
                let Caller::Connected(leg) = self.caller else {
                    return Err(SnrError::Unexpected { event: "BYE from the caller", state: "before the call was answered" });
                };
                self.actions.push_back(Action::ReleaseLeg { leg, cause: ReleaseCause::CallerHungUp });
                self.end_leg(now, leg, 200, EndCause::CallerHungUp, None);
                self.end_call(now, 200, Party::Caller);
                Ok(())
            }
        }
    }

    fn on_provisional(&mut self, now: Instant, id: LegId, status: u16, sdp: bool) -> Result<(), SnrError> {
        if !(100..=199).contains(&status) {
            return Err(SnrError::Status { event: "provisional", status });
        }
        let (caller, stage) = (self.caller, self.stage);
        let leg = self.legs.get_mut(index(id)).ok_or(SnrError::UnknownLeg(id))?;
        match leg.state {
            LegState::Pending => return Err(SnrError::Unexpected { event: "provisional", state: leg.state.name() }),
            LegState::Calling | LegState::Early if status >= 180 => {
                leg.state = LegState::Early;
                if !leg.rang {
                    leg.rang = true;
                    self.actions.push_back(Action::Cdr(CdrEvent::LegRinging { leg: id, at: now }));
                }
                if caller == Caller::Ringing && leg.stage == stage {
                    self.relay(id, status, sdp);
                }
            }
            // 100-179 (100 Trying is hop-by-hop, RFC 3261 §16.7 step 5, and never relayed), or
            // a provisional after the leg was answered, cancelled or ended.
            _ => {}
        }
        Ok(())
    }

    fn relay(&mut self, leg: LegId, status: u16, sdp: bool) {
        if sdp {
            match self.early_media {
                None => {
                    self.early_media = Some(leg);
                    self.actions.push_back(Action::Cdr(CdrEvent::EarlyMedia { leg }));
                    self.actions.push_back(Action::Provisional { leg, status, early_media: true });
                }
                Some(current) if current == leg => {
                    self.actions.push_back(Action::Provisional { leg, status, early_media: true });
                }
                Some(_) => {}
            }
        } else if self.early_media.is_none() && !self.ringing_relayed {
            self.ringing_relayed = true;
            self.actions.push_back(Action::Provisional { leg, status, early_media: false });
        }
    }

    fn on_answered(&mut self, now: Instant, id: LegId) -> Result<(), SnrError> {
        let leg = self.legs.get(index(id)).ok_or(SnrError::UnknownLeg(id))?;
        match leg.state {
            LegState::Calling | LegState::Early => {
                let too_soon = match (leg.answer_too_soon, leg.started) {
                    (Some(window), Some(started)) => now.saturating_duration_since(started) < window,
                    _ => false,
                };
                self.actions.push_back(Action::Cdr(CdrEvent::LegAnswered { leg: id, at: now }));
                if too_soon {
                    self.actions.push_back(Action::ReleaseLeg { leg: id, cause: ReleaseCause::AnswerTooSoon });
                    self.end_leg(now, id, 200, EndCause::AnswerTooSoon, None);
                    self.check_done(now);
                } else {
                    self.win(now, id);
                }
                Ok(())
            }
            LegState::Cancelling(reason) => {
                let cause = ReleaseCause::LateAnswer(reason);
                self.actions.push_back(Action::Cdr(CdrEvent::LegAnswered { leg: id, at: now }));
                self.actions.push_back(Action::ReleaseLeg { leg: id, cause });
                self.end_leg(now, id, 200, EndCause::LateAnswer, cause.reason_header().map(str::to_owned));
                Ok(())
            }
            state => Err(SnrError::Unexpected { event: "2xx", state: state.name() }),
        }
    }

    fn on_failed(&mut self, now: Instant, id: LegId, status: u16, reason: Option<String>) -> Result<(), SnrError> {
        if !(300..=699).contains(&status) {
            return Err(SnrError::Status { event: "final error", status });
        }
        let leg = self.legs.get(index(id)).ok_or(SnrError::UnknownLeg(id))?;
        match leg.state {
            LegState::Calling | LegState::Early => {
                if leg.stage == self.stage {
                    self.failures.push(status);
                }
                self.end_leg(now, id, status, EndCause::Rejected, reason);
                self.check_done(now);
                Ok(())
            }
            LegState::Cancelling(r) => {
                self.end_leg(now, id, status, EndCause::Cancelled(r), r.reason_header().map(str::to_owned));
                Ok(())
            }
            state => Err(SnrError::Unexpected { event: "final error", state: state.name() }),
        }
    }

    fn state(&self, id: LegId) -> Option<LegState> {
        self.legs.get(index(id)).map(|l| l.state)
    }

    fn set_state(&mut self, id: LegId, state: LegState) {
        if let Some(leg) = self.legs.get_mut(index(id)) {
            leg.state = state;
        }
    }

    fn arm(&mut self, timer: SnrTimer, at: Instant) {
        self.timers.set(timer, at);
        self.actions.push_back(Action::SetTimer { timer, at });
    }

    fn disarm(&mut self, timer: SnrTimer) {
        if self.timers.cancel(timer) {
            self.actions.push_back(Action::CancelTimer { timer });
        }
    }

    fn disarm_all(&mut self) {
        let armed: Vec<SnrTimer> = self.timers.armed().collect();
        armed.into_iter().for_each(|t| self.disarm(t));
    }

    fn add_legs(&mut self, now: Instant, legs: Vec<PlannedLeg>, stage: Stage) {
        for plan in legs {
            let id = leg_id(self.legs.len());
            let PlannedLeg { kind, target, delay, answer_too_soon, answer_too_late } = plan;
            self.legs.push(Leg {
                destination: Some((kind, target)),
                answer_too_soon,
                answer_too_late,
                stage,
                state: LegState::Pending,
                started: None,
                rang: false,
            });
            if delay.is_zero() {
                self.start(now, id);
            } else {
                self.arm(SnrTimer::DelayBeforeRinging(id), now + delay);
            }
        }
    }

    fn start(&mut self, now: Instant, id: LegId) {
        let Some(leg) = self.legs.get_mut(index(id)) else { return };
        let Some((kind, target)) = leg.destination.take() else { return };
        leg.state = LegState::Calling;
        leg.started = Some(now);
        let too_late = leg.answer_too_late;
        self.actions.push_back(Action::StartLeg { leg: id, kind: kind.clone(), target: target.clone() });
        self.actions.push_back(Action::Cdr(CdrEvent::LegStarted { leg: id, kind, target, at: now }));
        if let Some(limit) = too_late {
            self.arm(SnrTimer::AnswerTooLate(id), now + limit);
        }
    }

    fn cancel(&mut self, id: LegId, reason: CancelReason) {
        self.forget_early_media(id);
        self.disarm(SnrTimer::AnswerTooLate(id));
        self.set_state(id, LegState::Cancelling(reason));
        self.actions.push_back(Action::CancelLeg { leg: id, reason });
    }

    /// CANCELs every ringing leg, drops the delayed ones and disarms every timer.
    fn cancel_ringing(&mut self, reason: CancelReason) {
        self.disarm_all();
        for i in 0..self.legs.len() {
            match self.legs.get(i).map(|l| l.state) {
                Some(LegState::Calling | LegState::Early) => self.cancel(leg_id(i), reason),
                Some(LegState::Pending) => self.set_state(leg_id(i), LegState::Ended),
                _ => {}
            }
        }
    }

    /// While the caller still rings, a leg that stops also stops being the early media: the
    /// next leg to send SDP in a provisional takes over (a forward's announcement, say).
    fn forget_early_media(&mut self, id: LegId) {
        if self.early_media == Some(id) && self.caller == Caller::Ringing {
            self.early_media = None;
        }
    }

    fn end_leg(&mut self, now: Instant, id: LegId, status: u16, cause: EndCause, reason: Option<String>) {
        self.forget_early_media(id);
        self.disarm(SnrTimer::AnswerTooLate(id));
        self.set_state(id, LegState::Ended);
        self.actions.push_back(Action::Cdr(CdrEvent::LegEnded { leg: id, at: now, status, cause, reason }));
    }

    fn end_call(&mut self, now: Instant, status: u16, released_by: Party) {
        self.caller = Caller::Done;
        self.actions.push_back(Action::Cdr(CdrEvent::CallEnded { at: now, status, released_by }));
    }

    fn win(&mut self, now: Instant, id: LegId) {
        self.set_state(id, LegState::Connected);
        self.caller = Caller::Connected(id);
        self.answered = Some(id);
        self.actions.push_back(Action::AnswerCaller { leg: id });
        self.actions.push_back(Action::Cdr(CdrEvent::CallAnswered { leg: id, at: now }));
        self.cancel_ringing(CancelReason::CompletedElsewhere);
    }

    fn forward(&mut self, now: Instant, reason: ForwardReason) {
        let plan = match reason {
            ForwardReason::NoAnswer => self.no_answer.take(),
            ForwardReason::Busy => self.busy.take(),
        };
        self.cancel_ringing(CancelReason::NoAnswer);
        self.stage = Stage::Forwarded;
        self.failures.clear();
        if let Some(plan) = plan {
            self.actions.push_back(Action::Cdr(CdrEvent::Forwarded { reason, destination: plan.destination }));
            self.add_legs(now, plan.legs, Stage::Forwarded);
        }
        self.check_done(now);
    }

    /// Once no leg of the current stage can still answer: forward or give the caller a final.
    fn check_done(&mut self, now: Instant) {
        let live = |l: &Leg| l.stage == self.stage && matches!(l.state, LegState::Pending | LegState::Calling | LegState::Early);
        if self.caller != Caller::Ringing || self.legs.iter().any(live) {
            return;
        }
        let best = best_failure(&self.failures);
        let busy = matches!(best, Some(486 | 600));
        if self.stage == Stage::Main && busy && self.busy.is_some() {
            self.forward(now, ForwardReason::Busy);
        } else if self.stage == Stage::Main && !busy && self.no_answer.is_some() {
            self.forward(now, ForwardReason::NoAnswer);
        } else {
            self.disarm_all();
            let (status, by) = best.map_or((480, Party::System), |s| (s, Party::Callee));
            self.actions.push_back(Action::RejectCaller { status });
            self.end_call(now, status, by);
        }
    }
}

/// RFC 3261 §16.7 step 6 for a B2BUA: a 6xx first; then 486 (the callee was reached and is
/// busy); then the lowest class, first received. Redirects are not followed and not relayed.
fn best_failure(failures: &[u16]) -> Option<u16> {
    let first = |f: &dyn Fn(u16) -> bool| failures.iter().copied().find(|s| f(*s));
    first(&|s| (600..700).contains(&s)).or_else(|| first(&|s| s == 486)).or_else(|| {
        let class = failures.iter().filter(|s| (400..600).contains(*s)).map(|s| s / 100).min()?;
        first(&|s| s / 100 == class)
    })
}

fn index(id: LegId) -> usize {
    usize::try_from(id.0).unwrap_or(usize::MAX)
}

fn leg_id(i: usize) -> LegId {
    LegId(u32::try_from(i).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::best_failure;

    #[test]
    fn best_failure_prefers_6xx_then_busy_then_lowest_class() {
        assert_eq!(best_failure(&[480, 603, 486]), Some(603));
        assert_eq!(best_failure(&[480, 486, 404]), Some(486));
        assert_eq!(best_failure(&[503, 480, 404]), Some(480));
        assert_eq!(best_failure(&[302]), None);
        assert_eq!(best_failure(&[]), None);
    }
}
