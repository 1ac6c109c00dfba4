//! A call's deadlines as data: SnrCall's timers (delay before ringing, answer too late, no
//! answer), each leg's Timer C or CANCEL give-up, the retransmission of a 2xx until its ACK
//! (RFC 3261 §13.3.1.4) and the give-up when none comes, and the RFC 4028 session expiry.
//! The engine keeps one heap entry per call at [`Call::next_deadline`].

use std::time::Instant;

use causeway_callctl::Event;

use super::{Call, Cx};

impl Call {
    /// The earliest thing this call waits for.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let legs = self.legs.iter().filter_map(|l| l.deadline);
        let ack = self.await_ack.iter().flat_map(|w| [w.resend.map(|(at, _)| at), Some(w.give_up)]).flatten();
        let session = self.session.map(|s| s.expires);
        legs.chain(ack).chain(session).chain(self.snr.poll_timeout()).min()
    }

    /// Fires everything due at `now`.
    pub(crate) fn on_timeout(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now;
        if self.snr.poll_timeout().is_some_and(|at| at <= now) {
            self.snr.handle_timeout(now);
            self.drive(cx);
        }
        let due: Vec<_> = self.legs.iter().filter(|l| l.deadline.is_some_and(|d| d <= now)).map(|l| l.id).collect();
        for id in due {
            self.on_leg_deadline(cx, id);
        }
        self.ack_timers(cx);
        if self.session.is_some_and(|s| s.expires <= now) {
            // RFC 4028 §10: nobody refreshed the session in time; both sides are let go.
            tracing::info!("session expired without a refresh: ending the call");
            self.session = None;
            self.hang_up_both(cx);
        }
    }

    fn ack_timers(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now;
        let Some(wait) = &mut self.await_ack else { return };
        if wait.give_up <= now {
            // §13.3.1.4: no ACK within 64*T1: the session is not up; end it.
            tracing::info!("2xx never acknowledged: ending the call");
            self.await_ack = None;
            self.hang_up_both(cx);
            return;
        }
        if let Some((at, interval)) = wait.resend.filter(|(at, _)| *at <= now) {
            let next = (interval * 2).min(cx.net.config.timers.t2);
            wait.resend = Some((at + next, next));
            let (server, status, response) = (wait.server, wait.status, wait.response.clone());
            if let Err(error) = cx.net.txns.respond_bytes(now, server, status, response) {
                tracing::debug!(%error, "2xx retransmission not sent");
            }
        }
    }

    /// BYE to both sides of an answered call (session expiry, a 2xx never ACKed).
    fn hang_up_both(&mut self, cx: &mut Cx<'_>) {
        if self.snr.answered_leg().is_some() && !self.snr.is_finished() {
            self.tell(cx, Event::CallerHungUp);
            self.release_caller(cx);
        }
    }
}
