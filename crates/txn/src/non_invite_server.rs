//! Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8).
//!
//! ```text
//!  Trying ──1xx from TU──▶ Proceeding ──200-699 from TU──▶ Completed ──Timer J──▶ Terminated
//!     └──200-699 from TU────────────────────────────────────▲
//!  any state ──transport error──▶ Terminated
//! ```

use bytes::Bytes;
use causeway_sip::StatusCode;

use crate::error::TxnError;
use crate::machine::{compact, Ctx, Signal};
use crate::timer::Timer;

/// The non-INVITE server transaction's states.
#[derive(Debug)]
pub(crate) enum NonInviteServer {
    /// The request is with the TU; nothing sent yet.
    Trying,
    /// A provisional went out.
    Proceeding(Proceeding),
    /// A final went out; it answers request retransmissions until Timer J.
    Completed(Completed),
    /// Done; the table removes the transaction.
    Terminated,
}

/// Proceeding: the latest provisional response.
#[derive(Debug)]
pub(crate) struct Proceeding {
    last: Bytes,
}

/// Completed: the final response.
#[derive(Debug)]
pub(crate) struct Completed {
    response: Bytes,
}

impl NonInviteServer {
    /// Whether the TU may send a response now. §17.2.2: in Completed, further finals from
    /// the TU are discarded; we report that instead of dropping it silently.
    pub(crate) fn check_response(&self, status: StatusCode) -> Result<(), TxnError> {
        match self {
            Self::Trying | Self::Proceeding(_) => Ok(()),
            Self::Completed(_) | Self::Terminated => Err(TxnError::AfterFinal { status: status.as_u16() }),
        }
    }

    /// The TU sends a response.
    pub(crate) fn respond(self, ctx: &mut Ctx<'_>, status: StatusCode, response: Bytes) -> Self {
        match self {
            Self::Trying | Self::Proceeding(_) => {
                ctx.send(&response);
                if status.is_provisional() {
                    return Self::Proceeding(Proceeding { last: response });
                }
                // §17.2.2: Completed; Timer J = 64*T1 on UDP, zero on TCP/TLS.
                match ctx.linger(ctx.config.t1_x64()) {
                    Some(j) => {
                        ctx.arm(Timer::J, j);
                        Self::Completed(Completed { response: compact(&response) })
                    }
                    None => Self::Terminated,
                }
            }
            other => other,
        }
    }

    /// A retransmission of the request arrived.
    pub(crate) fn on_retransmission(self, ctx: &mut Ctx<'_>) -> Self {
        match self {
            // §17.2.2: Trying discards retransmissions.
            Self::Trying => Self::Trying,
            Self::Proceeding(s) => {
                ctx.send(&s.last);
                Self::Proceeding(s)
            }
            Self::Completed(s) => {
                ctx.send(&s.response);
                Self::Completed(s)
            }
            Self::Terminated => Self::Terminated,
        }
    }

    /// A timer of this transaction fired.
    pub(crate) fn on_timer(self, timer: Timer) -> Self {
        match (self, timer) {
            (Self::Completed(_), Timer::J) => Self::Terminated,
            (state, _) => state,
        }
    }

    /// The transport failed to send a response: inform the TU and terminate (§17.2.4).
    pub(crate) fn on_transport_error(self, ctx: &mut Ctx<'_>) -> Self {
        ctx.timers.clear();
        ctx.signal(Signal::TransportError);
        Self::Terminated
    }
}
