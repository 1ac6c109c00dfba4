//! Requests inside a call's dialogs (RFC 3261 §12.2.2): BYE ends both sides; ACK for a 2xx we
//! relayed is passed to the side that sent it; everything else (re-INVITE, UPDATE, INFO,
//! MESSAGE, NOTIFY, ...) is relayed to the other side on its own dialog, with the body and the
//! session-timer fields unchanged (RFC 4028), and its answer relayed back. While the caller
//! still rings, its early dialog is joined to the leg whose provisional it got last (the first
//! 183 with SDP), and UPDATE/INFO are relayed between those two (RFC 3311 §5.1); offers that
//! cross get 491 (RFC 3311 §5.2).

use std::borrow::Cow;

use causeway_callctl::Event;
use causeway_sip::{Message, Method, StatusCode};
use causeway_txn::TxnId;
use rand::RngCore;

use super::actions::ack_leg;
use super::{
    body_of, carries_offer, passed_on, relayable, session_expires, AwaitAck, Call, Cx, Leg, Relay, Session, Side, PASSED_ON_REQUESTS,
    PASSED_ON_RESPONSES,
};
use crate::net::{Answer, Client};

/// A request refused: status, detail for the reason phrase, extra fields.
type Refusal = (StatusCode, &'static str, Vec<(&'static str, String)>);

impl Call {
    /// A request in the dialog of `side`, on the new server transaction `txn`.
    pub(crate) fn on_request(&mut self, cx: &mut Cx<'_>, side: Side, txn: TxnId, request: &Message) {
        let Some(method) = request.method().cloned() else { return };
        let Some(dialog) = self.dialog_mut(side) else {
            cx.net.refuse(cx.now, txn, request, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST, "", Vec::new());
            return;
        };
        if !dialog.matches(request) {
            cx.net.refuse(cx.now, txn, request, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST, "", Vec::new());
            return;
        }
        let cseq = request.cseq().map(|c| c.seq).unwrap_or_default();
        if dialog.remote_cseq.is_some_and(|last| cseq <= last) {
            // §12.2.2: a lower CSeq is out of order.
            cx.net.refuse(cx.now, txn, request, StatusCode::SERVER_INTERNAL_ERROR, "CSeq out of order", Vec::new());
            return;
        }
        dialog.remote_cseq = Some(cseq);
        if method == Method::Bye {
            cx.net.respond(cx.now, txn, request, StatusCode::OK, &Answer::default());
            self.on_bye(cx, side);
            return;
        }
        if !relayable(&method) {
            cx.net.refuse(cx.now, txn, request, StatusCode::METHOD_NOT_ALLOWED, "", Vec::new());
            return;
        }
        let other = match self.other(side) {
            Some(other) => other,
            None if !self.snr.caller_ringing() => {
                // The caller's INVITE got its final answer (or the call is over): no dialog.
                cx.net.refuse(cx.now, txn, request, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST, "", Vec::new());
                return;
            }
            None => match self.early_request(cx, side, &method) {
                Ok(other) => other,
                Err((status, detail, headers)) => {
                    cx.net.refuse(cx.now, txn, request, status, detail, headers);
                    return;
                }
            },
        };
        if let Some((status, headers)) = self.offer_conflict(cx, side, &method, request) {
            cx.net.refuse(cx.now, txn, request, status, "", headers);
            return;
        }
        let extra = passed_on(request, &PASSED_ON_REQUESTS);
        let extra: Vec<(&str, &str)> = extra.iter().map(|(n, v)| (*n, v.as_ref())).collect();
        let body = body_of(request);
        let key = self.key;
        let Some(target) = self.dialog_mut(other) else { return };
        let hop = target.hop;
        let sent = cx.net.send_request(cx.now, hop, &method, Client::Relay(key), |via| {
            target.request(method.clone(), via, None, &extra, body.as_ref().map(|(ct, b)| (ct.as_ref(), &b[..])))
        });
        match sent {
            Some((client, _)) => self.relays.push(Relay { from: side, server: txn, request: request.clone(), to: other, client }),
            None => cx.net.refuse(cx.now, txn, request, StatusCode::SERVICE_UNAVAILABLE, "", Vec::new()),
        }
    }

    /// Where a request in an early dialog goes while the caller rings: the caller's early
    /// dialog is joined to the leg whose provisional it got last — the first 183 with SDP, whose
    /// early media it hears, or else the ringing leg — and UPDATE (RFC 3311 §5.1), INFO
    /// (RFC 6086) and the like are relayed between those two. A second INVITE is refused as
    /// RFC 3261 §14.2 says: 500 with Retry-After from the caller (its INVITE has no final
    /// answer yet), 491 from a leg (our INVITE to it is in progress). A leg the caller does not
    /// hear, or a caller whose early peer stopped ringing, gets 480: the dialog lives on (another
    /// leg may still answer it), there is just nobody to relay to now.
    fn early_request(&self, cx: &mut Cx<'_>, side: Side, method: &Method) -> Result<Side, Refusal> {
        if *method == Method::Invite {
            return Err(match side {
                Side::Caller => {
                    let after = cx.net.ids.rng().next_u32() % 11;
                    (StatusCode::SERVER_INTERNAL_ERROR, "INVITE pending", vec![("Retry-After", after.to_string())])
                }
                Side::Leg(_) => (StatusCode::REQUEST_PENDING, "", Vec::new()),
            });
        }
        let peer = self.early_peer.filter(|id| self.leg(*id).is_some_and(Leg::rings));
        match (side, peer) {
            (Side::Caller, Some(id)) => Ok(Side::Leg(id)),
            (Side::Leg(id), Some(p)) if p == id => Ok(Side::Caller),
            (Side::Caller, _) => Err((StatusCode::TEMPORARILY_UNAVAILABLE, "no early dialog to relay to", Vec::new())),
            (Side::Leg(_), _) => Err((StatusCode::TEMPORARILY_UNAVAILABLE, "the caller does not hear this leg", Vec::new())),
        }
    }

    /// An offer from `side` that meets another still unanswered on the same pair of dialogs: 491
    /// when we sent `side` an offer it has not answered (glare, RFC 3311 §5.2 and RFC 3261
    /// §14.2: each side retries after a random wait), 500 with Retry-After when `side`'s own
    /// previous offer is not answered yet (RFC 3311 §5.2). An INVITE is an offer exchange even
    /// without a body (the offer then comes in its 2xx).
    fn offer_conflict(&self, cx: &mut Cx<'_>, side: Side, method: &Method, request: &Message) -> Option<(StatusCode, Vec<(&'static str, String)>)> {
        if !carries_offer(method, request) {
            return None;
        }
        let open = |r: &&Relay| r.request.method().is_some_and(|m| carries_offer(m, &r.request));
        let toward = self.relays.iter().filter(open).any(|r| r.to == side);
        // A 2xx to a re-INVITE waits for its ACK: that exchange is not over in either direction.
        let unacked = *method == Method::Invite && self.await_ack.is_some();
        if toward || unacked {
            return Some((StatusCode::REQUEST_PENDING, Vec::new()));
        }
        if self.relays.iter().filter(open).any(|r| r.from == side) {
            let after = cx.net.ids.rng().next_u32() % 11;
            return Some((StatusCode::SERVER_INTERNAL_ERROR, vec![("Retry-After", after.to_string())]));
        }
        None
    }

    fn on_bye(&mut self, cx: &mut Cx<'_>, side: Side) {
        match side {
            Side::Caller if self.snr.answered_leg().is_some() => self.tell(cx, Event::CallerHungUp),
            // A BYE before the answer ends the call like a CANCEL (RFC 3261 §15: the caller gave up).
            Side::Caller => self.tell(cx, Event::CallerCancelled),
            Side::Leg(id) if self.snr.answered_leg() == Some(id) => self.tell(cx, Event::LegHungUp { leg: id }),
            // An early dialog of a leg ended; its INVITE still gets its final response.
            Side::Leg(_) => {}
        }
        self.await_ack = None;
    }

    /// An ACK in the dialog of `side`: for the 2xx we answered it with, it goes on to the side
    /// whose 2xx we relayed (with its body: an answer to an offer made in that 2xx).
    pub(crate) fn on_ack(&mut self, cx: &mut Cx<'_>, side: Side, ack: &Message) {
        let Some(wait) = self.await_ack.take_if(|w| w.answered == side) else { return };
        let body = body_of(ack);
        match wait.ack_to {
            Side::Leg(id) if wait.ack_cseq == 1 => {
                if let Some(leg) = self.leg_mut(id) {
                    ack_leg(cx, leg, body);
                }
            }
            to => {
                let Some(dialog) = self.dialog_mut(to) else { return };
                let hop = dialog.hop;
                let Some(via) = cx.net.via(&hop) else { return };
                let bytes = dialog.request(Method::Ack, &via, Some(wait.ack_cseq), &[], body.as_ref().map(|(ct, b)| (ct.as_ref(), &b[..])));
                cx.net.send_raw(hop, bytes);
            }
        }
    }

    /// The far side answered a relayed request: the answer goes back on the near side's
    /// transaction, with our Contact when it refreshes the target (INVITE, UPDATE).
    pub(crate) fn on_relay_response(&mut self, cx: &mut Cx<'_>, client: TxnId, response: &Message) {
        let Some(status) = response.status() else { return };
        if status == StatusCode::TRYING {
            return;
        }
        let Some(i) = self.relays.iter().position(|r| r.client == client) else { return };
        let Some(relay) = self.relays.get(i).cloned() else { return };
        let method = relay.request.method().cloned().unwrap_or(Method::Options);
        if status.is_final() {
            self.relays.remove(i);
        }
        let refreshes = matches!(method, Method::Invite | Method::Update);
        if refreshes && status.is_success() {
            if let Some(dialog) = self.dialog_mut(relay.to) {
                dialog.on_response(response, response.to_tag().ok().flatten());
            }
            // An early UPDATE's 2xx (RFC 3311) does not start the session: only the answer does.
            let interval = session_expires(response).or(self.session.map(|s| s.interval));
            if let Some(interval) = interval.filter(|_| self.snr.answered_leg().is_some()) {
                // RFC 4028 §10: a 2xx to a refresh restarts the session.
                self.session = Some(Session { interval, expires: cx.now + interval });
            }
        }
        let mut headers = passed_on(response, &PASSED_ON_RESPONSES);
        if refreshes && status.as_u16() > 100 && status.as_u16() < 300 {
            if let Some(dialog) = self.dialog_mut(relay.from) {
                headers.push(("Contact", Cow::Owned(dialog.contact.clone())));
            }
        }
        let body = body_of(response);
        let answer = Answer {
            reason: response.reason_phrase(),
            to_tag: None,
            headers,
            body: body.as_ref().map(|(ct, b)| (ct.as_ref(), &b[..])),
        };
        let sent = cx.net.respond(cx.now, relay.server, &relay.request, status, &answer);
        if method == Method::Invite && status.is_success() {
            if let Some(response_bytes) = sent {
                let t1 = cx.net.config.timers.t1;
                let unreliable = self.dialog_mut(relay.from).is_some_and(|d| !d.hop.transport.is_reliable());
                self.await_ack = Some(AwaitAck {
                    answered: relay.from,
                    server: relay.server,
                    status,
                    response: response_bytes,
                    resend: unreliable.then_some((cx.now + t1, t1)),
                    give_up: cx.now + t1 * 64,
                    ack_to: relay.to,
                    ack_cseq: response.cseq().map(|c| c.seq).unwrap_or_default(),
                });
            }
        }
    }

    /// A relayed request's transaction gave up: the near side gets `status`.
    pub(crate) fn on_relay_failure(&mut self, cx: &mut Cx<'_>, client: TxnId, status: StatusCode) {
        let Some(i) = self.relays.iter().position(|r| r.client == client) else { return };
        let relay = self.relays.remove(i);
        cx.net.respond(cx.now, relay.server, &relay.request, status, &Answer::default());
    }
}
