//! Requests inside a call's dialogs (RFC 3261 §12.2.2): BYE ends both sides; ACK for a 2xx we
//! relayed is passed to the side that sent it; everything else (re-INVITE, UPDATE, INFO,
//! MESSAGE, NOTIFY, ...) is relayed to the other side on its own dialog, with the body and the
//! session-timer fields unchanged (RFC 4028), and its answer relayed back.

use causeway_callctl::Event;
use causeway_sip::{Message, Method, StatusCode};
use causeway_txn::TxnId;

use super::actions::ack_leg;
use super::{body_of, passed_on, relayable, session_expires, AwaitAck, Call, Cx, Relay, Session, Side, PASSED_ON_REQUESTS, PASSED_ON_RESPONSES};
use crate::net::{Answer, Client};

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
        let Some(other) = self.other(side) else {
            // Not connected yet (or no longer): nothing to relay to.
            cx.net.refuse(cx.now, txn, request, StatusCode::REQUEST_PENDING, "call not connected", Vec::new());
            return;
        };
        if !relayable(&method) {
            cx.net.refuse(cx.now, txn, request, StatusCode::METHOD_NOT_ALLOWED, "", Vec::new());
            return;
        }
        let invite_pending = self.await_ack.is_some() || self.relays.iter().any(|r| r.request.method() == Some(&Method::Invite));
        if method == Method::Invite && invite_pending {
            // RFC 3261 §14.2: one INVITE transaction at a time in a dialog.
            cx.net.refuse(cx.now, txn, request, StatusCode::REQUEST_PENDING, "", vec![("Retry-After", "1".to_owned())]);
            return;
        }
        let extra = passed_on(request, &PASSED_ON_REQUESTS);
        let extra: Vec<(&str, &str)> = extra.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let body = body_of(request);
        let key = self.key;
        let Some(target) = self.dialog_mut(other) else { return };
        let hop = target.hop;
        let sent = cx.net.send_request(cx.now, hop, &method, Client::Relay(key), |via| {
            target.request(method.clone(), via, None, &extra, body.as_ref().map(|(ct, b)| (ct.as_str(), &b[..])))
        });
        match sent {
            Some((client, _)) => self.relays.push(Relay { from: side, server: txn, request: request.clone(), to: other, client }),
            None => cx.net.refuse(cx.now, txn, request, StatusCode::SERVICE_UNAVAILABLE, "", Vec::new()),
        }
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
                let bytes = dialog.request(Method::Ack, &via, Some(wait.ack_cseq), &[], body.as_ref().map(|(ct, b)| (ct.as_str(), &b[..])));
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
                dialog.on_response(response);
            }
            if let Some(interval) = session_expires(response).or(self.session.map(|s| s.interval)) {
                // RFC 4028 §10: a 2xx to a refresh restarts the session.
                self.session = Some(Session { interval, expires: cx.now + interval });
            }
        }
        let mut headers = passed_on(response, &PASSED_ON_RESPONSES);
        if refreshes && status.as_u16() > 100 && status.as_u16() < 300 {
            if let Some(dialog) = self.dialog_mut(relay.from) {
                headers.push(("Contact", format!("<{}>", dialog.contact)));
            }
        }
        let body = body_of(response);
        let answer = Answer {
            reason: response.reason_phrase(),
            to_tag: None,
            headers,
            body: body.as_ref().map(|(ct, b)| (ct.as_str(), &b[..])),
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
