//! Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6).
//!
//! ```text
//!  Trying ──1xx──▶ Proceeding ──200-699──▶ Completed ──Timer K──▶ Terminated
//!     └──200-699─────────────────────────────▲
//!  Trying / Proceeding ──Timer F / transport error──▶ Terminated
//! ```

use std::time::Duration;

use bytes::Bytes;
use causeway_sip::StatusCode;

use crate::machine::{doubled, Ctx, Signal};
use crate::timer::Timer;

/// The non-INVITE client transaction's states.
#[derive(Debug)]
pub(crate) enum NonInviteClient {
    /// The request is out; no response yet.
    Trying(Trying),
    /// A provisional response arrived.
    Proceeding(Proceeding),
    /// A final arrived; absorbing its retransmissions until Timer K.
    Completed(Completed),
    /// Done; the table removes the transaction.
    Terminated,
}

/// Trying: Timer E retransmits (UDP), doubling up to T2; Timer F gives up.
#[derive(Debug)]
pub(crate) struct Trying {
    request: Bytes,
    interval: Duration,
}

/// Proceeding: Timer E keeps retransmitting, every T2 from its next firing on.
#[derive(Debug)]
pub(crate) struct Proceeding {
    request: Bytes,
}

/// Completed: nothing to resend; waits Timer K.
#[derive(Debug)]
pub(crate) struct Completed;

impl NonInviteClient {
    /// Send the request and enter Trying (§17.1.2.2): Timer E = T1 on UDP only, Timer F = 64*T1.
    pub(crate) fn start(ctx: &mut Ctx<'_>, request: Bytes) -> Self {
        ctx.send(&request);
        if !ctx.reliable {
            ctx.arm(Timer::E, ctx.config.t1);
        }
        ctx.arm(Timer::F, ctx.config.t1_x64());
        Self::Trying(Trying { request, interval: ctx.config.t1 })
    }

    /// A response matched this transaction.
    pub(crate) fn on_response(self, ctx: &mut Ctx<'_>, status: StatusCode) -> Self {
        match self {
            Self::Trying(s) => s.on_response(ctx, status),
            Self::Proceeding(s) => s.on_response(ctx, status),
            // §17.1.2.2: Completed buffers (absorbs) response retransmissions.
            Self::Completed(s) => Self::Completed(s),
            Self::Terminated => Self::Terminated,
        }
    }

    /// A timer of this transaction fired.
    pub(crate) fn on_timer(self, ctx: &mut Ctx<'_>, timer: Timer) -> Self {
        match (self, timer) {
            (Self::Trying(s), Timer::E) => s.on_timer_e(ctx),
            (Self::Proceeding(s), Timer::E) => s.on_timer_e(ctx),
            (Self::Trying(_) | Self::Proceeding(_), Timer::F) => {
                // §17.1.2.2: inform the TU of the timeout; it answers 408 upstream.
                ctx.timers.clear();
                ctx.signal(Signal::Timeout(Timer::F));
                Self::Terminated
            }
            (Self::Completed(_), Timer::K) => Self::Terminated,
            (state, _) => state,
        }
    }

    /// The transport could not send the request: inform the TU and terminate (§17.1.4).
    pub(crate) fn on_transport_error(self, ctx: &mut Ctx<'_>) -> Self {
        ctx.timers.clear();
        ctx.signal(Signal::TransportError);
        Self::Terminated
    }
}

impl NonInviteClient {
    /// The request as sent, until a final response arrives.
    pub(crate) fn sent_request(&self) -> Option<&Bytes> {
        match self {
            Self::Trying(s) => Some(&s.request),
            Self::Proceeding(s) => Some(&s.request),
            Self::Completed(_) | Self::Terminated => None,
        }
    }
}

impl Trying {
    fn on_response(self, ctx: &mut Ctx<'_>, status: StatusCode) -> NonInviteClient {
        ctx.signal(Signal::Deliver);
        if status.is_provisional() {
            // Timer E keeps its deadline; from its next firing on it runs at T2.
            return NonInviteClient::Proceeding(Proceeding { request: self.request });
        }
        completed(ctx)
    }

    fn on_timer_e(self, ctx: &mut Ctx<'_>) -> NonInviteClient {
        // §17.1.2.2: retransmit; Timer E = MIN(2*E, T2).
        ctx.send(&self.request);
        let interval = doubled(self.interval, Some(ctx.config.t2));
        ctx.arm(Timer::E, interval);
        NonInviteClient::Trying(Trying { request: self.request, interval })
    }
}

impl Proceeding {
    fn on_response(self, ctx: &mut Ctx<'_>, status: StatusCode) -> NonInviteClient {
        ctx.signal(Signal::Deliver);
        if status.is_provisional() {
            return NonInviteClient::Proceeding(self);
        }
        completed(ctx)
    }

    fn on_timer_e(self, ctx: &mut Ctx<'_>) -> NonInviteClient {
        // §17.1.2.2: in Proceeding, retransmit and reset Timer E to T2.
        ctx.send(&self.request);
        ctx.arm(Timer::E, ctx.config.t2);
        NonInviteClient::Proceeding(self)
    }
}

/// A final response in Trying or Proceeding: Completed with Timer K = T4 on UDP, or
/// Terminated at once on TCP/TLS (§17.1.2.2).
fn completed(ctx: &mut Ctx<'_>) -> NonInviteClient {
    ctx.timers.clear();
    match ctx.linger(ctx.config.t4) {
        Some(k) => {
            ctx.arm(Timer::K, k);
            NonInviteClient::Completed(Completed)
        }
        None => NonInviteClient::Terminated,
    }
}
