//! Single Number Reach / dual ringing as a sans-IO state machine in the quinn-proto shape:
//! [`SnrCall::new`] takes a [`crate::ForkPlan`], [`SnrCall::handle`] takes leg and caller
//! events, [`SnrCall::handle_timeout`] fires due timers, and the outputs come from
//! [`SnrCall::poll_action`] (call it until `None` after every input) and
//! [`SnrCall::poll_timeout`]. Timers are also reported as `SetTimer`/`CancelTimer` actions for
//! a driver that keeps one timer wheel for many calls. `now` is always a parameter.

mod call;
mod timer;

pub use call::SnrCall;
pub use timer::SnrTimer;

use crate::cdr::CdrEvent;
use crate::fork::{LegKind, LegTarget};

/// A leg of one call, numbered in plan order (forward legs after the plan's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct LegId(pub u32);

/// The `Reason` header (RFC 3326 §2) for CANCELs of legs that lost to another leg's answer.
pub const COMPLETED_ELSEWHERE: &str = "SIP;cause=200;text=\"Call completed elsewhere\"";

/// Why Causeway cancels a ringing leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CancelReason {
    /// Another leg answered.
    CompletedElsewhere,
    /// The caller cancelled (never "completed elsewhere": the callee must see a missed call).
    CallerCancelled,
    /// A remote leg rang for its answer-too-late time.
    AnswerTooLate,
    /// The line's no-answer time ran out and the call is forwarded.
    NoAnswer,
}

impl CancelReason {
    /// The Reason header value to put on the CANCEL, if any. Only a leg that lost to another
    /// leg's answer gets `cause=200` "Call completed elsewhere" (RFC 3326 §2, RFC 3261 §9.1);
    /// phones then do not log a missed call.
    pub fn reason_header(self) -> Option<&'static str> {
        match self {
            Self::CompletedElsewhere => Some(COMPLETED_ELSEWHERE),
            Self::CallerCancelled | Self::AnswerTooLate | Self::NoAnswer => None,
        }
    }
}

/// Why Causeway sends BYE on an answered leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseCause {
    /// Answered sooner than answer-too-soon: a voicemail picked up; the other legs ring on.
    AnswerTooSoon,
    /// Answered after it had been cancelled for this reason (the CANCEL crossed the 2xx).
    LateAnswer(CancelReason),
    /// The caller hung up.
    CallerHungUp,
}

impl ReleaseCause {
    /// The Reason header value to put on the BYE, if any.
    pub fn reason_header(self) -> Option<&'static str> {
        match self {
            Self::LateAnswer(reason) => reason.reason_header(),
            Self::AnswerTooSoon | Self::CallerHungUp => None,
        }
    }
}

/// What the B2BUA reports about a leg or the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A provisional response (100–199) on a leg; only 180–199 ring or carry early media.
    Provisional {
        /// Leg.
        leg: LegId,
        /// Status.
        status: u16,
        /// Whether it carried SDP (early media).
        sdp: bool,
    },
    /// A 2xx on a leg.
    Answered {
        /// Leg.
        leg: LegId,
    },
    /// A final error (300–699) on a leg, or the transaction's own 408/503.
    Failed {
        /// Leg.
        leg: LegId,
        /// Status.
        status: u16,
        /// Its Reason header, if any.
        reason: Option<String>,
    },
    /// BYE from the answered leg.
    LegHungUp {
        /// Leg.
        leg: LegId,
    },
    /// CANCEL from the caller.
    CallerCancelled,
    /// BYE from the caller after answer.
    CallerHungUp,
}

/// What the B2BUA must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send an INVITE for this leg.
    StartLeg {
        /// Leg.
        leg: LegId,
        /// What it is.
        kind: LegKind,
        /// Where.
        target: LegTarget,
    },
    /// CANCEL this leg (RFC 3261 §9.1), with `reason.reason_header()` as Reason if any.
    CancelLeg {
        /// Leg.
        leg: LegId,
        /// Why.
        reason: CancelReason,
    },
    /// ACK the leg's 2xx and BYE it.
    ReleaseLeg {
        /// Leg.
        leg: LegId,
        /// Why.
        cause: ReleaseCause,
    },
    /// Send a provisional to the caller; with `early_media` the leg's SDP goes with it.
    Provisional {
        /// Leg it comes from.
        leg: LegId,
        /// Status.
        status: u16,
        /// Relay the leg's SDP.
        early_media: bool,
    },
    /// Answer the caller with this leg's 2xx and bridge the two.
    AnswerCaller {
        /// Leg.
        leg: LegId,
    },
    /// Final error to the caller.
    RejectCaller {
        /// Status (487 after the caller's CANCEL, RFC 3261 §9.2).
        status: u16,
    },
    /// BYE the caller (the answered leg hung up).
    ReleaseCaller,
    /// Arm a timer (call [`SnrCall::handle_timeout`] at or after `at`).
    SetTimer {
        /// Which.
        timer: SnrTimer,
        /// When.
        at: std::time::Instant,
    },
    /// Disarm a timer.
    CancelTimer {
        /// Which.
        timer: SnrTimer,
    },
    /// A CDR event for [`crate::CdrBuilder::apply`].
    Cdr(CdrEvent),
}

/// An event the call cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnrError {
    /// No such leg.
    #[error("unknown leg {}", .0 .0)]
    UnknownLeg(LegId),
    /// The event does not fit the leg's or the call's state.
    #[error("{event} not expected {state}")]
    Unexpected {
        /// The event.
        event: &'static str,
        /// Where the call or leg is.
        state: &'static str,
    },
    /// A status outside the event's range.
    #[error("status {status} is not valid for {event}")]
    Status {
        /// The event.
        event: &'static str,
        /// The status.
        status: u16,
    },
}
