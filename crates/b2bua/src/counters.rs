//! [`B2buaCounters`]: what call control did since start, for `causeway status`. Calls are
//! counted by how they ended (from the record callctl's CDR builder completes), legs as the
//! Single Number Reach state machine acts on them.

use causeway_callctl::cdr::Party;
use causeway_callctl::{Action, CallRecord, CancelReason, ReleaseCause};

/// Call control's counters; the gauges (`calls_active`, `registrations_active`) are filled in
/// by [`crate::B2bua::counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct B2buaCounters {
    /// Calls in progress.
    pub calls_active: u64,
    /// Calls that ended after an answer.
    pub calls_answered: u64,
    /// Calls that ended busy (486 or 600 to the caller).
    pub calls_busy: u64,
    /// Calls nobody answered (480, 408: every leg rang out or timed out).
    pub calls_no_answer: u64,
    /// Calls the caller gave up on (CANCEL, or BYE before the answer).
    pub calls_cancelled: u64,
    /// Calls that ended otherwise (refused by the far end, no leg could be placed).
    pub calls_failed: u64,
    /// Leg INVITEs Single Number Reach started (a failover to another hop is the same leg).
    pub legs_placed: u64,
    /// Legs CANCELled (completed elsewhere, caller's CANCEL, no answer, answer too late).
    pub legs_cancelled: u64,
    /// Remote legs answered sooner than `answer_too_soon` (a voicemail): released.
    pub legs_answered_too_soon: u64,
    /// Remote legs still ringing at `answer_too_late`: cancelled.
    pub legs_answered_too_late: u64,
    /// Contacts bound in the registrar.
    pub registrations_active: u64,
    /// Call records handed to the node to write.
    pub call_records: u64,
}

impl B2buaCounters {
    /// Counts what a state machine action does to legs.
    pub(crate) fn action(&mut self, action: &Action) {
        match action {
            Action::StartLeg { .. } => self.legs_placed += 1,
            Action::CancelLeg { reason, .. } => {
                self.legs_cancelled += 1;
                if *reason == CancelReason::AnswerTooLate {
                    self.legs_answered_too_late += 1;
                }
            }
            Action::ReleaseLeg { cause: ReleaseCause::AnswerTooSoon, .. } => self.legs_answered_too_soon += 1,
            _ => {}
        }
    }

    /// Counts a call that ended with `record`.
    pub(crate) fn call_ended(&mut self, record: &CallRecord) {
        self.call_records += 1;
        let outcome = match (record.answered_leg, record.status, record.released_by) {
            (Some(_), _, _) => &mut self.calls_answered,
            (None, Some(487), Some(Party::Caller)) => &mut self.calls_cancelled,
            (None, Some(486 | 600), _) => &mut self.calls_busy,
            (None, Some(408 | 480), _) => &mut self.calls_no_answer,
            _ => &mut self.calls_failed,
        };
        *outcome += 1;
    }
}
