//! What every state machine gets in and gives out for one step.
//!
//! The machines know status codes, timers and wire bytes, nothing else: matching, message
//! parsing and building live in the table. That keeps each state small and testable.

use std::time::Duration;

use bytes::Bytes;

use crate::config::TxnConfig;
use crate::invite_client::InviteClient;
use crate::invite_server::InviteServer;
use crate::non_invite_client::NonInviteClient;
use crate::non_invite_server::NonInviteServer;
use crate::output::{TxnKind, TxnState};
use crate::timer::{Tick, Timer, TimerTable};

/// One transaction's state machine, whichever of the four it is.
#[derive(Debug)]
pub(crate) enum Machine {
    InviteClient(InviteClient),
    NonInviteClient(NonInviteClient),
    InviteServer(InviteServer),
    NonInviteServer(NonInviteServer),
}

impl Machine {
    pub(crate) fn is_terminated(&self) -> bool {
        matches!(
            self,
            Self::InviteClient(InviteClient::Terminated)
                | Self::NonInviteClient(NonInviteClient::Terminated)
                | Self::InviteServer(InviteServer::Terminated)
                | Self::NonInviteServer(NonInviteServer::Terminated)
        )
    }

    /// The request a client transaction sends, while it may still resend it or build an ACK
    /// or CANCEL from it (Calling, Trying, Proceeding).
    pub(crate) fn sent_request(&self) -> Option<&Bytes> {
        match self {
            Self::InviteClient(m) => m.sent_request(),
            Self::NonInviteClient(m) => m.sent_request(),
            Self::InviteServer(_) | Self::NonInviteServer(_) => None,
        }
    }

    pub(crate) fn kind(&self) -> TxnKind {
        match self {
            Self::InviteClient(_) => TxnKind::InviteClient,
            Self::NonInviteClient(_) => TxnKind::NonInviteClient,
            Self::InviteServer(_) => TxnKind::InviteServer,
            Self::NonInviteServer(_) => TxnKind::NonInviteServer,
        }
    }

    pub(crate) fn state(&self) -> Option<TxnState> {
        use TxnState as S;
        Some(match self {
            Self::InviteClient(m) => match m {
                InviteClient::Calling(_) => S::Calling,
                InviteClient::Proceeding(_) => S::Proceeding,
                InviteClient::Completed(_) => S::Completed,
                InviteClient::Accepted(_) => S::Accepted,
                InviteClient::Terminated => return None,
            },
            Self::NonInviteClient(m) => match m {
                NonInviteClient::Trying(_) => S::Trying,
                NonInviteClient::Proceeding(_) => S::Proceeding,
                NonInviteClient::Completed(_) => S::Completed,
                NonInviteClient::Terminated => return None,
            },
            Self::InviteServer(m) => match m {
                InviteServer::Proceeding(_) => S::Proceeding,
                InviteServer::Completed(_) => S::Completed,
                InviteServer::Confirmed(_) => S::Confirmed,
                InviteServer::Accepted(_) => S::Accepted,
                InviteServer::Terminated => return None,
            },
            Self::NonInviteServer(m) => match m {
                NonInviteServer::Trying => S::Trying,
                NonInviteServer::Proceeding(_) => S::Proceeding,
                NonInviteServer::Completed(_) => S::Completed,
                NonInviteServer::Terminated => return None,
            },
        })
    }
}

/// Inputs shared by all steps of one transaction.
pub(crate) struct Ctx<'a> {
    /// The time of the event being handled.
    pub(crate) now: Tick,
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
        self.timers.set(timer, self.now.after(after));
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

/// A copy of exactly `bytes`, for a state that keeps a message while it lingers (up to 64*T1): the original
/// may be a slice of a larger buffer (a connection's read buffer, a `Vec` with spare capacity) that it would
/// keep alive for as long.
pub(crate) fn compact(bytes: &Bytes) -> Bytes {
    Bytes::copy_from_slice(bytes)
}

/// Doubling retransmit interval, optionally capped (Timers A, E, G).
pub(crate) fn doubled(interval: Duration, cap: Option<Duration>) -> Duration {
    let next = interval.saturating_mul(2);
    match cap {
        Some(cap) => next.min(cap),
        None => next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lingering_copy_does_not_keep_the_buffer_it_was_sliced_from() {
        let block = Bytes::from(vec![b'x'; 1 << 20]);
        let response = block.slice(100..400);
        let kept = compact(&response);
        assert_eq!(kept, response);
        assert!(!std::ptr::eq(kept.as_ptr(), response.as_ptr()), "a copy, not a second view of the 1 MiB block");
    }
}
