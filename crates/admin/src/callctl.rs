//! [`CallControlReport`]: call control's part of `causeway status` — calls active and ended by
//! outcome, legs placed, cancelled, released as answered too soon and cancelled as answered too
//! late, registrations, and the call records written, waiting for the store, or refused.

use std::fmt;

use causeway_node::CallControlStats;
use serde::{Deserialize, Serialize};

/// Call control since start (present only on a node that runs it).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallControlReport {
    /// Calls in progress.
    pub calls_active: u64,
    /// Calls ended, by outcome.
    pub calls: CallOutcomes,
    /// Leg INVITEs started by Single Number Reach (a failover to another hop counts once).
    pub legs_placed: u64,
    /// Legs CANCELled (completed elsewhere, caller's CANCEL, no answer, answer too late).
    pub legs_cancelled: u64,
    /// Remote legs answered within `answer_too_soon` (voicemail pickups), released.
    pub legs_answered_too_soon: u64,
    /// Remote legs still ringing at `answer_too_late`, cancelled.
    pub legs_answered_too_late: u64,
    /// Contacts bound in the registrar.
    pub registrations_active: u64,
    /// Call records the store acknowledged as durable.
    pub cdrs_written: u64,
    /// Call records handed to the store, not acknowledged yet.
    pub cdrs_pending: u64,
    /// Call records the store refused.
    pub cdrs_failed: u64,
}

/// Calls ended, by how.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallOutcomes {
    /// Answered (and later ended).
    pub answered: u64,
    /// Busy (486 or 600 to the caller).
    pub busy: u64,
    /// Nobody answered (480, 408).
    pub no_answer: u64,
    /// The caller gave up before the answer.
    pub cancelled: u64,
    /// Anything else.
    pub failed: u64,
}

impl From<&CallControlStats> for CallControlReport {
    fn from(s: &CallControlStats) -> Self {
        let c = &s.counters;
        Self {
            calls_active: c.calls_active,
            calls: CallOutcomes {
                answered: c.calls_answered,
                busy: c.calls_busy,
                no_answer: c.calls_no_answer,
                cancelled: c.calls_cancelled,
                failed: c.calls_failed,
            },
            legs_placed: c.legs_placed,
            legs_cancelled: c.legs_cancelled,
            legs_answered_too_soon: c.legs_answered_too_soon,
            legs_answered_too_late: c.legs_answered_too_late,
            registrations_active: c.registrations_active,
            cdrs_written: s.cdrs_written,
            cdrs_pending: s.cdrs_pending,
            cdrs_failed: s.cdrs_failed,
        }
    }
}

impl fmt::Display for CallControlReport {
    /// Three lines of `causeway status`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.calls;
        writeln!(
            f,
            "call control: calls active={}, ended answered={} busy={} no answer={} cancelled={} failed={}",
            self.calls_active, c.answered, c.busy, c.no_answer, c.cancelled, c.failed
        )?;
        writeln!(
            f,
            "  legs placed={} cancelled={} answered too soon={} answered too late={}, registrations active={}",
            self.legs_placed, self.legs_cancelled, self.legs_answered_too_soon, self.legs_answered_too_late, self.registrations_active
        )?;
        writeln!(f, "  CDRs written={} pending={} failed={}", self.cdrs_written, self.cdrs_pending, self.cdrs_failed)
    }
}

#[cfg(test)]
mod tests {
    use causeway_b2bua::B2buaCounters;

    use super::*;

    #[test]
    fn counters_become_the_report_json_and_text() {
        let counters = B2buaCounters {
            calls_active: 2,
            calls_answered: 7,
            calls_busy: 1,
            calls_no_answer: 3,
            calls_cancelled: 4,
            calls_failed: 5,
            legs_placed: 30,
            legs_cancelled: 11,
            legs_answered_too_soon: 2,
            legs_answered_too_late: 6,
            registrations_active: 9,
            call_records: 20,
        };
        let stats = CallControlStats { counters, cdrs_written: 18, cdrs_pending: 1, cdrs_failed: 1 };
        let report = CallControlReport::from(&stats);
        let json = serde_json::to_value(&report).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(json["calls"]["no_answer"], 3);
        assert_eq!((json["legs_answered_too_late"].as_u64(), json["cdrs_pending"].as_u64()), (Some(6), Some(1)));
        let back: CallControlReport = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, report);
        assert_eq!(
            report.to_string(),
            "call control: calls active=2, ended answered=7 busy=1 no answer=3 cancelled=4 failed=5\n\
             \x20 legs placed=30 cancelled=11 answered too soon=2 answered too late=6, registrations active=9\n\
             \x20 CDRs written=18 pending=1 failed=1\n"
        );
    }
}
