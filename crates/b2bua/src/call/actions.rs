//! SnrCall's actions carried out as SIP: a leg's INVITE on a new dialog, CANCEL (RFC 3261 §9.1)
//! with the RFC 3326 Reason the state machine chose, ACK + BYE of an answered leg that is let
//! go, the caller's provisional and final responses, and BYE to the caller.

use std::borrow::Cow;
use std::time::Duration;

use causeway_callctl::{Action, Event, LegId};
use causeway_sip::build::cancel_for;
use causeway_sip::{HeaderName, Message, Method, StatusCode};

use super::{body_of, passed_on, session_expires, AwaitAck, Call, Cx, Leg, Session, Side, PASSED_ON_RESPONSES};
use crate::net::{Answer, Client};

/// Appends `"Name" <sip:user@host>` to `out`: a display name quoted with `"` and `\` escaped
/// (RFC 3261 §25.1).
pub(crate) fn write_name_addr(out: &mut String, display: Option<&str>, uri: std::fmt::Arguments<'_>) {
    use std::fmt::Write;
    if let Some(d) = display.filter(|d| !d.is_empty()) {
        out.push('"');
        for c in d.chars() {
            if matches!(c, '\\' | '"') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push_str("\" ");
    }
    // Writing into a String cannot fail.
    let _ = write!(out, "<{uri}>");
}

impl Call {
    /// Carries out every action the state machine has queued (and those its reactions queue).
    pub(crate) fn drive(&mut self, cx: &mut Cx<'_>) {
        while let Some(action) = self.snr.poll_action() {
            cx.counters.action(&action);
            match action {
                Action::StartLeg { leg, target, .. } => self.start_leg(cx, leg, &target),
                Action::CancelLeg { leg, reason } => self.cancel_leg(cx, leg, reason.reason_header()),
                Action::ReleaseLeg { leg, cause } => self.release_leg(cx, leg, cause.reason_header()),
                Action::Provisional { leg, status, early_media } => self.relay_provisional(cx, leg, status, early_media),
                Action::AnswerCaller { leg } => self.answer_caller(cx, leg),
                Action::RejectCaller { status } => self.reject_caller(cx, status),
                Action::ReleaseCaller => self.release_caller(cx),
                // One deadline per call is kept from poll_timeout(); these are for wheel drivers.
                Action::SetTimer { .. } | Action::CancelTimer { .. } => {}
                Action::Cdr(event) => {
                    if let Err(error) = self.cdr.apply(event) {
                        tracing::warn!(%error, "CDR event out of order");
                    }
                }
            }
        }
    }

    /// Tells the state machine something and carries out what follows.
    pub(crate) fn tell(&mut self, cx: &mut Cx<'_>, event: Event) {
        if let Err(error) = self.snr.handle(cx.now, event) {
            tracing::debug!(%error, "event refused by the call");
        }
        self.drive(cx);
    }

    fn cancel_leg(&mut self, cx: &mut Cx<'_>, id: LegId, reason: Option<&'static str>) {
        if self.abandon_lookup(cx, id) {
            return;
        }
        let Some(leg) = self.leg_mut(id) else { return };
        if leg.txn.is_none() || leg.cancel_sent {
            return;
        }
        if leg.provisional {
            send_cancel(cx, leg, reason);
        } else {
            // §9.1: no CANCEL before a provisional; it goes when one comes (Timer C bounds it).
            leg.cancel_pending = Some(reason);
        }
    }

    fn release_leg(&mut self, cx: &mut Cx<'_>, id: LegId, reason: Option<&'static str>) {
        let Some(leg) = self.leg_mut(id) else { return };
        ack_leg(cx, leg, None);
        let hop = leg.dialog.hop;
        let extra: Vec<(&str, &str)> = reason.map(|r| ("Reason", r)).into_iter().collect();
        let dialog = &mut leg.dialog;
        cx.net.send_request(cx.now, hop, &Method::Bye, Client::Fire, |via| dialog.request(Method::Bye, via, None, &extra, None));
    }

    /// The caller's response headers: our Contact and its Record-Route (RFC 3261 §12.1.1).
    /// The caller's response headers, borrowed from the caller's side and from the leg's
    /// response `from`: our Contact and its Record-Route (RFC 3261 §12.1.1), what is passed on.
    fn caller_headers<'a>(&'a self, from: &'a Message) -> Vec<(&'static str, Cow<'a, str>)> {
        let mut headers = vec![("Contact", Cow::Borrowed(self.caller.dialog.contact.as_str()))];
        headers.extend(self.caller.invite.values(HeaderName::RecordRoute).filter_map(Result::ok).map(|r| ("Record-Route", Cow::Borrowed(r.text))));
        headers.extend(passed_on(from, &PASSED_ON_RESPONSES));
        headers
    }

    fn relay_provisional(&mut self, cx: &mut Cx<'_>, id: LegId, status: u16, early_media: bool) {
        let Some(status) = StatusCode::new(status) else { return };
        let Some(provisional) = self.leg(id).and_then(|l| l.last_provisional.as_ref()) else { return };
        let body = if early_media { body_of(provisional) } else { None };
        let answer = Answer {
            reason: provisional.reason_phrase(),
            to_tag: Some(self.caller.tag()),
            headers: self.caller_headers(provisional),
            body: body.as_ref().map(|(ct, b)| (ct.as_ref(), &b[..])),
        };
        cx.net.respond(cx.now, self.caller.server, &self.caller.invite, status, &answer);
        self.early_peer = Some(id);
    }

    fn answer_caller(&mut self, cx: &mut Cx<'_>, id: LegId) {
        let Some(ok) = self.leg(id).and_then(|l| l.answer.as_ref()) else { return };
        let status = ok.status().unwrap_or(StatusCode::OK);
        let session = session_expires(ok);
        let body = body_of(ok);
        let answer = Answer {
            reason: ok.reason_phrase(),
            to_tag: Some(self.caller.tag()),
            headers: self.caller_headers(ok),
            body: body.as_ref().map(|(ct, b)| (ct.as_ref(), &b[..])),
        };
        let Some(response) = cx.net.respond(cx.now, self.caller.server, &self.caller.invite, status, &answer) else { return };
        let t1 = cx.net.config.timers.t1;
        let unreliable = !self.caller.dialog.hop.transport.is_reliable();
        self.await_ack = Some(AwaitAck {
            answered: Side::Caller,
            server: self.caller.server,
            status,
            response,
            resend: unreliable.then_some((cx.now + t1, t1)),
            give_up: cx.now + t1 * 64,
            ack_to: Side::Leg(id),
            ack_cseq: 1,
        });
        if let Some(interval) = session {
            self.session = Some(Session { interval, expires: cx.now + interval });
        }
    }

    fn reject_caller(&mut self, cx: &mut Cx<'_>, status: u16) {
        let status = StatusCode::new(status).unwrap_or(StatusCode::SERVER_INTERNAL_ERROR);
        let answer = Answer { to_tag: Some(self.caller.tag()), ..Answer::default() };
        cx.net.respond(cx.now, self.caller.server, &self.caller.invite, status, &answer);
    }

    pub(crate) fn release_caller(&mut self, cx: &mut Cx<'_>) {
        let hop = self.caller.dialog.hop;
        let dialog = &mut self.caller.dialog;
        cx.net.send_request(cx.now, hop, &Method::Bye, Client::Fire, |via| dialog.request(Method::Bye, via, None, &[], None));
    }
}

/// CANCELs a leg's INVITE (§9.1: its Request-URI, Call-ID, From, To, CSeq number and top Via)
/// and gives it 64*T1 to end.
pub(crate) fn send_cancel(cx: &mut Cx<'_>, leg: &mut Leg, reason: Option<&str>) {
    leg.cancel_sent = true;
    leg.cancel_pending = None;
    let t1x64: Duration = cx.net.config.timers.t1 * 64;
    leg.deadline = Some(cx.now + t1x64);
    let hop = leg.dialog.hop;
    // The CANCEL's branch is the INVITE's (§9.1): the bytes go to the transaction layer as built,
    // not parsed again.
    let cancel = Message::parse(leg.invite.clone()).and_then(|invite| {
        let branch = invite.top_via()?.branch().map(str::to_owned).unwrap_or_default();
        Ok((cancel_for(&invite, reason)?.into_bytes(), branch))
    });
    match cancel {
        Ok((cancel, branch)) => match cx.net.txns.start_client_bytes(cx.now, cancel, &Method::Cancel, &branch, hop.transport, hop.into()) {
            Ok(txn) => {
                cx.net.clients.insert(txn, Client::Fire);
            }
            Err(error) => tracing::warn!(%error, "cannot start the CANCEL transaction"),
        },
        Err(error) => tracing::warn!(%error, "cannot build a CANCEL"),
    }
}

/// ACKs a leg's 2xx (RFC 3261 §13.2.2.4), once; `body` answers an offer the 2xx made.
pub(crate) fn ack_leg(cx: &mut Cx<'_>, leg: &mut Leg, body: Option<(Cow<'_, str>, bytes::Bytes)>) {
    if leg.answer.is_none() || leg.ack.is_some() {
        return;
    }
    let hop = leg.dialog.hop;
    let Some(via) = cx.net.via(&hop) else { return };
    let ack = leg.dialog.request(Method::Ack, &via, Some(1), &[], body.as_ref().map(|(ct, b)| (ct.as_ref(), &b[..])));
    leg.ack = Some(ack.clone());
    cx.net.send_raw(hop, ack);
}
