//! Call detail records: one [`CallRecord`] per call with a [`LegRecord`] per leg, built by
//! [`CdrBuilder`] from the [`CdrEvent`]s the state machine emits. Monotonic instants become
//! wall-clock times through the call's start (`wall = start_wall + (at - start)`), so the
//! engine never reads a clock. Storage (SQLite, PostgreSQL) is the store crate's job.

use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::fork::{ForwardReason, LegKind, LegTarget};
use crate::origin::CallingIdentity;
use crate::snr::{CancelReason, LegId};

/// Who ended a leg or the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    /// The calling party (CANCEL or BYE).
    Caller,
    /// The called party (a final error, or BYE).
    Callee,
    /// Causeway itself (a timer, or another leg answered).
    System,
}

/// Why a leg ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "cause", content = "reason", rename_all = "kebab-case")]
pub enum EndCause {
    /// The far end answered with a final error.
    Rejected,
    /// Causeway cancelled it.
    Cancelled(CancelReason),
    /// Answered sooner than answer-too-soon: a voicemail pickup, released.
    AnswerTooSoon,
    /// Answered after Causeway had cancelled it: released.
    LateAnswer,
    /// Answered, then the caller hung up.
    CallerHungUp,
    /// Answered, then this leg hung up.
    CalleeHungUp,
}

impl EndCause {
    /// Who released the leg.
    pub fn released_by(self) -> Party {
        match self {
            Self::Rejected | Self::CalleeHungUp => Party::Callee,
            Self::Cancelled(CancelReason::CallerCancelled) | Self::CallerHungUp => Party::Caller,
            Self::Cancelled(_) | Self::AnswerTooSoon | Self::LateAnswer => Party::System,
        }
    }
}

/// What the state machine reports for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CdrEvent {
    /// A leg's INVITE went out.
    LegStarted {
        /// Leg.
        leg: LegId,
        /// What it is.
        kind: LegKind,
        /// Where.
        target: LegTarget,
        /// When.
        at: Instant,
    },
    /// First 18x of a leg.
    LegRinging {
        /// Leg.
        leg: LegId,
        /// When.
        at: Instant,
    },
    /// The leg whose early media the caller hears.
    EarlyMedia {
        /// Leg.
        leg: LegId,
    },
    /// A leg answered (2xx), whether it won or not.
    LegAnswered {
        /// Leg.
        leg: LegId,
        /// When.
        at: Instant,
    },
    /// A leg ended.
    LegEnded {
        /// Leg.
        leg: LegId,
        /// When.
        at: Instant,
        /// Its final SIP status (200 for an answered leg).
        status: u16,
        /// Why.
        cause: EndCause,
        /// Reason header (RFC 3326) sent with the CANCEL/BYE, or received with the error.
        reason: Option<String>,
    },
    /// The caller was answered by this leg.
    CallAnswered {
        /// Leg.
        leg: LegId,
        /// When.
        at: Instant,
    },
    /// The call was forwarded.
    Forwarded {
        /// Why.
        reason: ForwardReason,
        /// To.
        destination: String,
    },
    /// The caller's side ended.
    CallEnded {
        /// When.
        at: Instant,
        /// Final status sent to the caller (200 when it was answered).
        status: u16,
        /// Who ended it.
        released_by: Party,
    },
}

/// What is known about a call before it rings.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallInfo {
    /// The caller-side Call-ID.
    pub call_id: String,
    /// Calling identity presented.
    pub calling: CallingIdentity,
    /// What was dialed (Request-URI).
    pub called: String,
    /// DN of the line called, if any.
    pub line: Option<String>,
    /// User the call was anchored on, if any.
    pub anchored_user: Option<String>,
}

/// One leg of a call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LegRecord {
    /// Leg number within the call.
    pub leg: u32,
    /// What it is.
    pub kind: LegKind,
    /// Contact or destination.
    pub target: String,
    /// Zone, for legs that left through one.
    pub zone: Option<String>,
    /// INVITE sent.
    pub start: DateTime<Utc>,
    /// First 18x.
    pub ringing: Option<DateTime<Utc>>,
    /// 2xx.
    pub answer: Option<DateTime<Utc>>,
    /// End.
    pub end: Option<DateTime<Utc>>,
    /// Final SIP status.
    pub status: Option<u16>,
    /// Why it ended.
    pub cause: Option<EndCause>,
    /// Who released it.
    pub released_by: Option<Party>,
    /// Reason header.
    pub reason: Option<String>,
}

/// One call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallRecord {
    /// What was known at the start.
    #[serde(flatten)]
    pub info: CallInfo,
    /// Arrival.
    pub start: DateTime<Utc>,
    /// Answer.
    pub answer: Option<DateTime<Utc>>,
    /// End of the caller's side.
    pub end: Option<DateTime<Utc>>,
    /// Final status sent to the caller.
    pub status: Option<u16>,
    /// Who ended the call.
    pub released_by: Option<Party>,
    /// The leg that answered.
    pub answered_leg: Option<u32>,
    /// The leg whose early media was relayed.
    pub early_media_leg: Option<u32>,
    /// Forward taken, and to where.
    pub forwarded: Option<(ForwardReason, String)>,
    /// Legs in start order.
    pub legs: Vec<LegRecord>,
}

/// An event the builder cannot place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CdrError {
    /// An event for a leg that never started.
    #[error("CDR event for leg {0} which never started")]
    UnknownLeg(u32),
    /// A leg started twice.
    #[error("leg {0} started twice")]
    DuplicateLeg(u32),
}

/// Builds one [`CallRecord`] from [`CdrEvent`]s.
#[derive(Debug, Clone)]
pub struct CdrBuilder {
    start: Instant,
    record: CallRecord,
}

impl CdrBuilder {
    /// A record for a call that arrived at `start` (monotonic) = `wall` (wall clock).
    pub fn new(info: CallInfo, start: Instant, wall: DateTime<Utc>) -> Self {
        let record = CallRecord {
            info,
            start: wall,
            answer: None,
            end: None,
            status: None,
            released_by: None,
            answered_leg: None,
            early_media_leg: None,
            forwarded: None,
            legs: Vec::new(),
        };
        Self { start, record }
    }

    fn wall(&self, at: Instant) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(at.saturating_duration_since(self.start)).unwrap_or_default();
        self.record.start + elapsed
    }

    fn leg(&mut self, leg: LegId) -> Result<&mut LegRecord, CdrError> {
        self.record.legs.iter_mut().find(|l| l.leg == leg.0).ok_or(CdrError::UnknownLeg(leg.0))
    }

    /// Records one event (taken by value: a started leg's kind and target move into its row).
    pub fn apply(&mut self, event: CdrEvent) -> Result<(), CdrError> {
        match event {
            CdrEvent::LegStarted { leg, kind, target, at } => {
                if self.record.legs.iter().any(|l| l.leg == leg.0) {
                    return Err(CdrError::DuplicateLeg(leg.0));
                }
                let start = self.wall(at);
                let (target, zone) = match target {
                    LegTarget::Contact { contact } => (contact, None),
                    LegTarget::Zone { zone, destination, .. } => (destination, Some(zone)),
                };
                self.record.legs.push(LegRecord {
                    leg: leg.0,
                    kind,
                    target,
                    zone,
                    start,
                    ringing: None,
                    answer: None,
                    end: None,
                    status: None,
                    cause: None,
                    released_by: None,
                    reason: None,
                });
            }
            CdrEvent::LegRinging { leg, at } => {
                let at = self.wall(at);
                let l = self.leg(leg)?;
                l.ringing.get_or_insert(at);
            }
            CdrEvent::EarlyMedia { leg } => {
                self.leg(leg)?;
                self.record.early_media_leg = Some(leg.0);
            }
            CdrEvent::LegAnswered { leg, at } => {
                let at = self.wall(at);
                self.leg(leg)?.answer = Some(at);
            }
            CdrEvent::LegEnded { leg, at, status, cause, reason } => {
                let at = self.wall(at);
                let l = self.leg(leg)?;
                l.end = Some(at);
                l.status = Some(status);
                l.cause = Some(cause);
                l.released_by = Some(cause.released_by());
                l.reason = reason;
            }
            CdrEvent::CallAnswered { leg, at } => {
                self.leg(leg)?;
                self.record.answer = Some(self.wall(at));
                self.record.answered_leg = Some(leg.0);
            }
            CdrEvent::Forwarded { reason, destination } => {
                self.record.forwarded = Some((reason, destination));
            }
            CdrEvent::CallEnded { at, status, released_by } => {
                self.record.end = Some(self.wall(at));
                self.record.status = Some(status);
                self.record.released_by = Some(released_by);
            }
        }
        Ok(())
    }

    /// Whether the caller's side and every leg have ended: the record can be written.
    pub fn is_complete(&self) -> bool {
        self.record.end.is_some() && self.record.legs.iter().all(|l| l.end.is_some())
    }

    /// The record so far.
    pub fn record(&self) -> &CallRecord {
        &self.record
    }

    /// The record.
    pub fn into_record(self) -> CallRecord {
        self.record
    }
}
