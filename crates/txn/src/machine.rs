//! What every state machine gets in and gives out for one step.
//!
//! The machines know status codes, timers and wire bytes, nothing else: matching, message
//! parsing and building live in the table. That keeps each state small and testable.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::config::TxnConfig;
use crate::timer::{Timer, TimerTable};

/// Inputs shared by all steps of one transaction.
pub(crate) struct Ctx<'a> {
    /// The time of the event being handled.
    pub(crate) now: Instant,
    /// Timer base values.
    pub(crate) config: &'a TxnConfig,
    /// TCP/TLS: no retransmissions, zero-length linger timers (RFC 3261 §17.1.1.2, §17.2.1).
    pub(crate) reliable: bool,
    /// This transaction's timers.
    pub(crate) timers: &'a mut TimerTable,
    /// What the step wants done.
    pub(crate) out: Output,
}

impl Ctx<'_> {
    /// Arm `timer` to fire `after` from now.
    pub(crate) fn arm(&mut self, timer: Timer, after: Duration) {
        self.timers.set(timer, self.now + after);
    }

    /// Queue `bytes` for the transport.
    pub(crate) fn send(&mut self, bytes: &Bytes) {
        self.out.send = Some(bytes.clone());
    }

    /// Tell the transaction user something.
    pub(crate) fn signal(&mut self, signal: Signal) {
        self.out.signal = Some(signal);
    }

    /// A linger timer's length: `unreliable` on UDP, zero on TCP/TLS. `None` means "zero":
    /// the caller goes straight to Terminated instead of arming a timer that fires at once.
    pub(crate) fn linger(&self, unreliable: Duration) -> Option<Duration> {
        (!self.reliable).then_some(unreliable)
    }
}

/// The effects of one step. A step sends at most one message and tells the TU at most one thing.
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// Bytes to hand to the transport (a first send or a retransmission).
    pub(crate) send: Option<Bytes>,
    /// A notification for the transaction user.
    pub(crate) signal: Option<Signal>,
}

/// A notification from a machine to the TU; the table turns it into an [`crate::Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Pass the message being handled up to the TU.
    Deliver,
    /// A give-up timer fired (B, F: the TU answers 408; H: the ACK never came).
    Timeout(Timer),
    /// The transport failed to send (RFC 3261 §17.1.4, §17.2.4).
    TransportError,
}

/// Doubling retransmit interval, optionally capped (Timers A, E, G).
pub(crate) fn doubled(interval: Duration, cap: Option<Duration>) -> Duration {
    let next = interval.saturating_mul(2);
    match cap {
        Some(cap) => next.min(cap),
        None => next,
    }
}
