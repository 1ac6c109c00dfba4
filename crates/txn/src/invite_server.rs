//! INVITE server transaction (RFC 3261 §17.2.1, Figure 7, as amended by RFC 6026 §7.1, §8.5-§8.7).
//!
//! ```text
//!  Proceeding ──2xx from TU──▶ Accepted ──Timer L──▶ Terminated
//!      └──300-699 from TU──▶ Completed ──ACK──▶ Confirmed ──Timer I──▶ Terminated
//!                               └──Timer H (no ACK)──▶ Terminated
//! ```
//!
//! The TU sends the 100 (Trying) itself, through [`crate::TransactionTable::respond`], as
//! §17.2.1 asks when it cannot answer within 200 ms.

use std::time::Duration;

use bytes::Bytes;
use causeway_sip::StatusCode;

use crate::error::TxnError;
use crate::machine::{compact, doubled, Ctx, Signal};
use crate::timer::Timer;

/// The INVITE server transaction's states.
#[derive(Debug)]
pub(crate) enum InviteServer {
    /// The INVITE is with the TU; provisional responses may have gone out.
    Proceeding(Proceeding),
    /// A non-2xx final went out; Timer G retransmits it until the ACK, Timer H gives up.
    Completed(Completed),
    /// The ACK arrived; absorbing ACK retransmissions until Timer I.
    Confirmed(Confirmed),
    /// RFC 6026: a 2xx went out; INVITE retransmissions are absorbed, ACKs and further 2xx
    /// from the TU pass through, until Timer L.
    Accepted(Accepted),
    /// Done; the table removes the transaction.
    Terminated,
}

/// Proceeding: keeps the latest provisional to answer retransmitted INVITEs.
#[derive(Debug)]
pub(crate) struct Proceeding {
    last_provisional: Option<Bytes>,
}

/// Completed: the final and the current Timer G interval.
#[derive(Debug)]
pub(crate) struct Completed {
    response: Bytes,
    interval: Duration,
}

/// Confirmed: nothing to send any more.
#[derive(Debug)]
pub(crate) struct Confirmed;

/// Accepted: nothing kept; 2xx retransmissions are the TU's (§13.3.1.4).
#[derive(Debug)]
pub(crate) struct Accepted;

impl InviteServer {
    /// A new INVITE: enter Proceeding (§17.2.1). No timer runs until the TU answers.
    pub(crate) fn start() -> Self {
        Self::Proceeding(Proceeding { last_provisional: None })
    }

    /// Whether the TU may send a response with `status` now.
    pub(crate) fn check_response(&self, status: StatusCode) -> Result<(), TxnError> {
        match self {
            Self::Proceeding(_) => Ok(()),
            // RFC 6026 §8.7: in Accepted the TU may pass further 2xx (retransmissions or
            // 2xx from other forks of a proxied INVITE).
            Self::Accepted(_) if status.is_success() => Ok(()),
            _ => Err(TxnError::AfterFinal { status: status.as_u16() }),
        }
    }

    /// The TU sends a response. Call [`Self::check_response`] first; a response the state
    /// does not accept leaves the state unchanged and sends nothing.
    pub(crate) fn respond(self, ctx: &mut Ctx<'_>, status: StatusCode, response: Bytes) -> Self {
        match self {
            Self::Proceeding(s) => s.respond(ctx, status, response),
            Self::Accepted(s) if status.is_success() => {
                ctx.send(&response);
                Self::Accepted(s)
            }
            other => other,
        }
    }

    /// A retransmission of the INVITE arrived.
    pub(crate) fn on_retransmission(self, ctx: &mut Ctx<'_>) -> Self {
        match self {
            Self::Proceeding(s) => {
                // §17.2.1: resend the most recent provisional response, if there is one.
                if let Some(last) = &s.last_provisional {
                    ctx.send(last);
                }
                Self::Proceeding(s)
            }
            Self::Completed(s) => {
                // §17.2.1: resend the final response.
                ctx.send(&s.response);
                Self::Completed(s)
            }
            // Confirmed absorbs; RFC 6026 §8.7: Accepted absorbs and does not pass it up.
            other => other,
        }
    }

    /// An ACK matched this transaction.
    pub(crate) fn on_ack(self, ctx: &mut Ctx<'_>) -> Self {
        match self {
            Self::Completed(_) => {
                // §17.2.1: Confirmed; Timer I = T4 on UDP, zero on TCP/TLS.
                ctx.timers.clear();
                match ctx.linger(ctx.config.t4) {
                    Some(i) => {
                        ctx.arm(Timer::I, i);
                        Self::Confirmed(Confirmed)
                    }
                    None => Self::Terminated,
                }
            }
            Self::Accepted(s) => {
                // RFC 6026 §7.1: ACKs in Accepted go to the TU, never absorbed.
                ctx.signal(Signal::Deliver);
                Self::Accepted(s)
            }
            // An ACK before any final is out of order; Confirmed absorbs retransmitted ACKs.
            other => other,
        }
    }

    /// A timer of this transaction fired.
    pub(crate) fn on_timer(self, ctx: &mut Ctx<'_>, timer: Timer) -> Self {
        match (self, timer) {
            (Self::Completed(s), Timer::G) => s.on_timer_g(ctx),
            (Self::Completed(_), Timer::H) => {
                // §17.2.1: the ACK never came; tell the TU.
                ctx.timers.clear();
                ctx.signal(Signal::Timeout(Timer::H));
                Self::Terminated
            }
            (Self::Confirmed(_), Timer::I) | (Self::Accepted(_), Timer::L) => Self::Terminated,
            (state, _) => state,
        }
    }

    /// The transport failed to send a response. RFC 6026 §7.1: inform the TU but keep the
    /// state; the timers end the transaction.
    pub(crate) fn on_transport_error(self, ctx: &mut Ctx<'_>) -> Self {
        ctx.signal(Signal::TransportError);
        self
    }
}

impl Proceeding {
    fn respond(self, ctx: &mut Ctx<'_>, status: StatusCode, response: Bytes) -> InviteServer {
        ctx.send(&response);
        if status.is_provisional() {
            return InviteServer::Proceeding(Proceeding { last_provisional: Some(response) });
        }
        if status.is_success() {
            // RFC 6026 §8.5: a 2xx moves to Accepted with Timer L = 64*T1.
            ctx.arm(Timer::L, ctx.config.t1_x64());
            return InviteServer::Accepted(Accepted);
        }
        // §17.2.1: 300-699 → Completed; Timer G = T1 on UDP only, Timer H = 64*T1 always.
        if !ctx.reliable {
            ctx.arm(Timer::G, ctx.config.t1);
        }
        ctx.arm(Timer::H, ctx.config.t1_x64());
        InviteServer::Completed(Completed { response: compact(&response), interval: ctx.config.t1 })
    }
}

impl Completed {
    fn on_timer_g(self, ctx: &mut Ctx<'_>) -> InviteServer {
        // §17.2.1: retransmit; Timer G = MIN(2*G, T2).
        ctx.send(&self.response);
        let interval = doubled(self.interval, Some(ctx.config.t2));
        ctx.arm(Timer::G, interval);
        InviteServer::Completed(Completed { response: self.response, interval })
    }
}
