//! What a leg's INVITE transaction reports, turned into SnrCall events: provisionals (ringing,
//! early media; Timer C restarts, a pending CANCEL goes out), the 2xx (the leg's dialog is
//! confirmed; retransmissions get our ACK again), failures (final errors, Timer B's 408, a
//! transport error's 503; on 408/503 a leg through a zone tries its next hop first).

use causeway_callctl::{Event, LegId};
use causeway_sip::{Message, Method, StatusCode};

use super::actions::send_cancel;
use super::{Call, Cx, Leg};
use crate::net::Client;

impl Call {
    /// A response on leg `id`'s INVITE transaction.
    pub(crate) fn on_leg_response(&mut self, cx: &mut Cx<'_>, id: LegId, response: Message) {
        let Some(status) = response.status() else { return };
        let timer_c = cx.net.config.timers.timer_c;
        let Some(leg) = self.leg_mut(id) else { return };
        if status.is_provisional() {
            if status == StatusCode::TRYING {
                // Hop by hop (RFC 3261 §16.7 step 5): it only stops retransmissions.
                return;
            }
            let sdp = !response.body().is_empty();
            let tag = response.to_tag().ok().flatten();
            if sdp && !leg.early_media {
                // The first provisional with SDP: its fork's early dialog is the one the caller
                // may hear, and the one early UPDATE/INFO are relayed on (RFC 3311 §5.1).
                leg.early_media = true;
                if leg.dialog.remote_tag.as_deref() != tag {
                    leg.dialog.rebase(&response, tag);
                }
            }
            leg.dialog.on_response(&response, tag);
            leg.provisional = true;
            if !leg.cancel_sent {
                // §16.6 step 11: each provisional restarts Timer C.
                leg.deadline = Some(cx.now + timer_c);
            }
            if let Some(reason) = leg.cancel_pending.take() {
                send_cancel(cx, leg, reason);
            }
            leg.last_provisional = Some(response);
            let event = Event::Provisional { leg: id, status: status.as_u16(), sdp };
            self.tell(cx, event);
        } else if status.is_success() {
            let tag = response.to_tag().ok().flatten();
            if let Some(answer) = &leg.answer {
                if answer.to_tag().ok().flatten() != tag {
                    // Another fork of this leg answered too (§13.2.2.4): ACK it and end it.
                    release_fork(cx, leg, &response);
                } else if let Some(ack) = leg.ack.clone() {
                    // A retransmitted 2xx: our ACK was lost (§13.2.2.4). Before our ACK (the
                    // caller's is awaited) there is nothing to resend.
                    cx.net.send_raw(leg.dialog.hop, ack);
                }
                return;
            }
            if leg.dialog.remote_tag.as_deref() != tag {
                // The fork that answered makes the dialog, not the one that rang first (§12.1.2).
                leg.dialog.rebase(&response, tag);
            } else {
                leg.dialog.on_response(&response, tag);
            }
            leg.answer = Some(response);
            leg.deadline = None;
            leg.reported = true;
            self.tell(cx, Event::Answered { leg: id });
        } else {
            leg.deadline = None;
            if leg.reported || self.fail_over(cx, id, status) {
                return;
            }
            let Some(leg) = self.leg_mut(id) else { return };
            leg.reported = true;
            let reason = response.header(causeway_sip::HeaderName::Reason).map(|h| String::from_utf8_lossy(h.value).into_owned());
            self.tell(cx, Event::Failed { leg: id, status: status.as_u16(), reason });
        }
    }

    /// Leg `id`'s INVITE transaction gave up: Timer B (408) or a transport error (503). A
    /// leg through a zone tries its next hop first (RFC 3263 §4.3).
    pub(crate) fn on_leg_failure(&mut self, cx: &mut Cx<'_>, id: LegId, status: StatusCode) {
        let Some(leg) = self.leg_mut(id) else { return };
        leg.deadline = None;
        if leg.reported || self.fail_over(cx, id, status) {
            return;
        }
        let Some(leg) = self.leg_mut(id) else { return };
        leg.reported = true;
        self.tell(cx, Event::Failed { leg: id, status: status.as_u16(), reason: None });
    }

    /// Leg `id`'s Timer C or CANCEL give-up time has come.
    pub(crate) fn on_leg_deadline(&mut self, cx: &mut Cx<'_>, id: LegId) {
        let Some(leg) = self.leg_mut(id) else { return };
        leg.deadline = None;
        if leg.provisional && !leg.cancel_sent && leg.answer.is_none() {
            // §16.6 step 11: Timer C with a provisional: CANCEL; its 487 ends the leg.
            send_cancel(cx, leg, None);
            return;
        }
        // No provisional, or no final 64*T1 after the CANCEL (§9.1): give up as a 408.
        if let Some(txn) = leg.txn.take() {
            cx.net.txns.terminate(txn);
        }
        self.on_leg_failure(cx, id, StatusCode::REQUEST_TIMEOUT);
    }
}

/// A 2xx from a second fork of a leg that already has its answer: the dialog it makes is ACKed
/// and ended with BYE at once (§13.2.2.4: every 2xx is ACKed; only one dialog is kept).
fn release_fork(cx: &mut Cx<'_>, leg: &Leg, response: &Message) {
    let mut fork = leg.dialog.clone();
    fork.remote_tag = None;
    fork.on_response(response, response.to_tag().ok().flatten());
    let hop = fork.hop;
    let Some(via) = cx.net.via(&hop) else { return };
    let ack = fork.request(Method::Ack, &via, Some(1), &[], None);
    cx.net.send_raw(hop, ack);
    cx.net.send_request(cx.now, hop, &Method::Bye, Client::Fire, |via| fork.request(Method::Bye, via, None, &[], None));
}
