//! INVITE client transaction (RFC 3261 §17.1.1, Figure 5, as amended by RFC 6026 §8.4).
//!
//! ```text
//!  Calling ──1xx──▶ Proceeding ──2xx──▶ Accepted ──Timer M──▶ Terminated
//!     │  └──2xx──────────────────────────▲
//!     └──300-699 (and from Proceeding)──▶ Completed ──Timer D──▶ Terminated
//!  Calling ──Timer B / transport error──▶ Terminated
//! ```
//!
//! One struct per state; every transition consumes the state and returns the next one.

use std::time::Duration;

use bytes::Bytes;
use causeway_sip::StatusCode;

use crate::machine::{compact, doubled, Ctx, Signal};
use crate::timer::Timer;

/// The INVITE client transaction's states.
#[derive(Debug)]
pub(crate) enum InviteClient {
    /// The INVITE is out; no response yet.
    Calling(Calling),
    /// A provisional response arrived.
    Proceeding(Proceeding),
    /// A non-2xx final arrived and was ACKed; absorbing its retransmissions.
    Completed(Completed),
    /// RFC 6026: a 2xx arrived; later 2xx (retransmitted or forked) still go to the TU.
    Accepted(Accepted),
    /// Done; the table removes the transaction.
    Terminated,
}

/// Calling: Timer A retransmits (UDP), Timer B gives up.
#[derive(Debug)]
pub(crate) struct Calling {
    request: Bytes,
    interval: Duration,
}

/// Proceeding: no timers; the proxy's Timer C covers this state (§16.6 step 11). The INVITE
/// is kept to build the ACK should a non-2xx final come.
#[derive(Debug)]
pub(crate) struct Proceeding {
    request: Bytes,
}

/// Completed: the ACK is kept to answer each retransmitted final (§17.1.1.2). `None` only
/// if the final was too malformed to acknowledge (no To).
#[derive(Debug)]
pub(crate) struct Completed {
    ack: Option<Bytes>,
}

/// Accepted: waits Timer M for more 2xx.
#[derive(Debug)]
pub(crate) struct Accepted;

impl InviteClient {
    /// Send the INVITE and enter Calling (§17.1.1.2): Timer A = T1 on UDP only, Timer B = 64*T1.
    pub(crate) fn start(ctx: &mut Ctx<'_>, request: Bytes) -> Self {
        ctx.send(&request);
        if !ctx.reliable {
            ctx.arm(Timer::A, ctx.config.t1);
        }
        ctx.arm(Timer::B, ctx.config.t1_x64());
        Self::Calling(Calling { request, interval: ctx.config.t1 })
    }

    /// A response matched this transaction. `ack` builds the ACK for a non-2xx final from the
    /// INVITE's bytes (§17.1.1.3); it runs at most once.
    pub(crate) fn on_response(self, ctx: &mut Ctx<'_>, status: StatusCode, ack: impl FnOnce(&Bytes) -> Option<Bytes>) -> Self {
        match self {
            Self::Calling(s) => s.on_response(ctx, status, ack),
            Self::Proceeding(s) => s.on_response(ctx, status, ack),
            Self::Completed(s) => s.on_response(ctx, status),
            Self::Accepted(s) => s.on_response(ctx, status),
            Self::Terminated => Self::Terminated,
        }
    }

    /// A timer of this transaction fired.
    pub(crate) fn on_timer(self, ctx: &mut Ctx<'_>, timer: Timer) -> Self {
        match (self, timer) {
            (Self::Calling(s), Timer::A) => s.on_timer_a(ctx),
            (Self::Calling(_), Timer::B) => {
                ctx.signal(Signal::Timeout(Timer::B));
                Self::Terminated
            }
            (Self::Completed(_), Timer::D) | (Self::Accepted(_), Timer::M) => Self::Terminated,
            (state, _) => state,
        }
    }

    /// The transport could not send the INVITE or the ACK: inform the TU and terminate
    /// (§17.1.4).
    pub(crate) fn on_transport_error(self, ctx: &mut Ctx<'_>) -> Self {
        ctx.timers.clear();
        ctx.signal(Signal::TransportError);
        Self::Terminated
    }
}

impl InviteClient {
    /// The INVITE as sent, while a CANCEL or an ACK may still be built from it.
    pub(crate) fn sent_request(&self) -> Option<&Bytes> {
        match self {
            Self::Calling(s) => Some(&s.request),
            Self::Proceeding(s) => Some(&s.request),
            Self::Completed(_) | Self::Accepted(_) | Self::Terminated => None,
        }
    }
}

impl Calling {
    fn on_response(self, ctx: &mut Ctx<'_>, status: StatusCode, ack: impl FnOnce(&Bytes) -> Option<Bytes>) -> InviteClient {
        if status.is_provisional() {
            // §17.1.1.2: Proceeding stops retransmissions; Timer B only guards Calling.
            ctx.timers.clear();
            ctx.signal(Signal::Deliver);
            return InviteClient::Proceeding(Proceeding { request: self.request });
        }
        on_final(ctx, status, &self.request, ack)
    }

    fn on_timer_a(self, ctx: &mut Ctx<'_>) -> InviteClient {
        // §17.1.1.2: retransmit, and reset Timer A to twice its last value (no cap for INVITE).
        ctx.send(&self.request);
        let interval = doubled(self.interval, None);
        ctx.arm(Timer::A, interval);
        InviteClient::Calling(Calling { request: self.request, interval })
    }
}

impl Proceeding {
    fn on_response(self, ctx: &mut Ctx<'_>, status: StatusCode, ack: impl FnOnce(&Bytes) -> Option<Bytes>) -> InviteClient {
        if status.is_provisional() {
            ctx.signal(Signal::Deliver);
            return InviteClient::Proceeding(self);
        }
        on_final(ctx, status, &self.request, ack)
    }
}

/// A final response in Calling or Proceeding.
fn on_final(ctx: &mut Ctx<'_>, status: StatusCode, request: &Bytes, ack: impl FnOnce(&Bytes) -> Option<Bytes>) -> InviteClient {
    ctx.timers.clear();
    ctx.signal(Signal::Deliver);
    if status.is_success() {
        // RFC 6026 §8.4: enter Accepted, Timer M = 64*T1; the TU sends the 2xx ACK.
        ctx.arm(Timer::M, ctx.config.t1_x64());
        return InviteClient::Accepted(Accepted);
    }
    // §17.1.1.2: 300-699 → send ACK, pass the response up, Completed with Timer D.
    let ack = ack(request);
    if let Some(ack) = &ack {
        ctx.send(ack);
    }
    match ctx.linger(ctx.config.timer_d) {
        Some(d) => {
            ctx.arm(Timer::D, d);
            InviteClient::Completed(Completed { ack: ack.as_ref().map(compact) })
        }
        None => InviteClient::Terminated,
    }
}

impl Completed {
    fn on_response(self, ctx: &mut Ctx<'_>, status: StatusCode) -> InviteClient {
        // §17.1.1.2: a retransmitted final is answered with the ACK again and not passed up.
        if let Some(ack) = self.ack.as_ref().filter(|_| status.is_final() && !status.is_success()) {
            ctx.send(ack);
        }
        InviteClient::Completed(self)
    }
}

impl Accepted {
    fn on_response(self, ctx: &mut Ctx<'_>, status: StatusCode) -> InviteClient {
        // RFC 6026 §8.4: every 2xx goes to the TU; the transaction never ACKs a 2xx.
        if status.is_success() {
            ctx.signal(Signal::Deliver);
        }
        InviteClient::Accepted(self)
    }
}
