//! Placing a leg: a registered contact goes over its binding's flow; a leg through a zone goes
//! where [`LegRoute`] says (the proxy core's next hops: keepalive health, RFC 3263 for DNS
//! zones), waits for the DNS lookups it needs, and on 408/503 tries the next hop before the
//! call hears of the failure (RFC 3263 §4.3). Each attempt is a new INVITE on a new dialog.

use causeway_callctl::{Event, LegId, LegTarget};
use causeway_proxy::ResolveId;
use causeway_routing::resolve::{DnsAnswer, DnsFailure};
use causeway_sip::{Method, StatusCode};

use std::borrow::Cow;

use super::actions::write_name_addr;
use super::{body_of, passed_on, Call, Cx, Leg, Side, Token, Waiting, PASSED_ON_REQUESTS};
use crate::dialog::{Dialog, Hop};
use crate::net::Client;
use crate::route::{next_hop_after, LegRoute, Next};

impl Call {
    pub(crate) fn start_leg(&mut self, cx: &mut Cx<'_>, id: LegId, target: &LegTarget) {
        match target {
            LegTarget::Contact { contact } => {
                let Some(flow) = cx.registrar.flow_of(contact, cx.now) else {
                    self.tell(cx, Event::Failed { leg: id, status: 480, reason: None });
                    return;
                };
                let hop = Hop { transport: flow.transport, destination: flow.source, flow: flow.flow, local: flow.local };
                let to = match &self.to_line {
                    Some(dn) => format!("<sip:{dn}@{}>", self.domain),
                    None => format!("<{contact}>"),
                };
                if self.send_invite(cx, id, hop, contact.clone(), to, None).is_err() {
                    self.tell(cx, Event::Failed { leg: id, status: 503, reason: None });
                }
            }
            LegTarget::Zone { zone, destination, avoid } => {
                let route = LegRoute::new(cx.zones, zone, destination, avoid, self.max_forwards, cx.net.ids.rng());
                let Some(route) = route else {
                    tracing::warn!(%zone, "no such zone: leg not placed");
                    self.tell(cx, Event::Failed { leg: id, status: 503, reason: None });
                    return;
                };
                self.advance(cx, id, Box::new(route), StatusCode::SERVICE_UNAVAILABLE);
            }
        }
    }

    /// Sends leg `id` to the next hop of `route`, or waits for a lookup; `last` is the failure
    /// reported when no hop is left.
    fn advance(&mut self, cx: &mut Cx<'_>, id: LegId, mut route: Box<LegRoute>, last: StatusCode) {
        loop {
            match route.next(cx.zones, cx.net.ids.rng()) {
                Next::Hop(next) => {
                    let Some(local) = cx.net.locals.egress(next.transport, None).map(|l| l.local) else { continue };
                    let hop = Hop { transport: next.transport, destination: next.address, flow: next.flow, local };
                    let uri = route.request_uri(next.address);
                    let to = format!("<{uri}>");
                    match self.send_invite(cx, id, hop, uri, to, Some(route)) {
                        Ok(()) => return,
                        // Not even sent (no room for a transaction): that hop is unavailable.
                        Err(Some(r)) => route = r,
                        Err(None) => break,
                    }
                }
                Next::Lookup(query) => {
                    let Some(lookup) = cx.net.lookups.start(query, self.key, id) else {
                        route.answer(DnsAnswer::Failed(DnsFailure::ServerFailure), cx.net.ids.rng());
                        continue;
                    };
                    self.waiting.push(Waiting { leg: id, lookup, route, last });
                    return;
                }
                Next::Failed(status) => {
                    self.tell(cx, Event::Failed { leg: id, status: status.as_u16(), reason: None });
                    return;
                }
                Next::Exhausted => break,
            }
        }
        self.tell(cx, Event::Failed { leg: id, status: last.as_u16(), reason: None });
    }

    /// The answer to a lookup leg `id` waits for.
    pub(crate) fn on_resolved(&mut self, cx: &mut Cx<'_>, id: LegId, lookup: ResolveId, answer: DnsAnswer) {
        let Some(i) = self.waiting.iter().position(|w| w.leg == id && w.lookup == lookup) else { return };
        let mut waiting = self.waiting.swap_remove(i);
        waiting.route.answer(answer, cx.net.ids.rng());
        self.advance(cx, id, waiting.route, waiting.last);
    }

    /// Leg `id` is cancelled while it waits for a lookup: it ends as cancelled at once.
    pub(crate) fn abandon_lookup(&mut self, cx: &mut Cx<'_>, id: LegId) -> bool {
        let Some(i) = self.waiting.iter().position(|w| w.leg == id) else { return false };
        self.waiting.swap_remove(i);
        self.tell(cx, Event::Failed { leg: id, status: StatusCode::REQUEST_TERMINATED.as_u16(), reason: None });
        true
    }

    /// RFC 3263 §4.3: leg `id` failed with `status`; when that calls for the next hop and the
    /// leg still should ring (not answered, not being cancelled), its next attempt starts and
    /// `true` is returned.
    pub(crate) fn fail_over(&mut self, cx: &mut Cx<'_>, id: LegId, status: StatusCode) -> bool {
        let Some(leg) = self.leg_mut(id) else { return false };
        let ringing = !leg.reported && !leg.cancel_sent && leg.cancel_pending.is_none() && leg.answer.is_none();
        if !ringing || !next_hop_after(status) {
            return false;
        }
        let Some(route) = leg.route.take() else { return false };
        if let Some(txn) = leg.txn.take() {
            // What that attempt still says (a retransmission, a late answer) is ignored.
            cx.net.clients.insert(txn, Client::Fire);
        }
        tracing::info!(leg = id.0, %status, "leg failed on one hop: trying the next (RFC 3263 §4.3)");
        self.legs.retain(|l| l.id != id);
        self.advance(cx, id, route, status);
        true
    }

    /// Sends a leg's INVITE to `hop` on a new dialog; when it cannot be sent, the route comes back.
    fn send_invite(
        &mut self,
        cx: &mut Cx<'_>,
        id: LegId,
        hop: Hop,
        uri: String,
        to: String,
        route: Option<Box<LegRoute>>,
    ) -> Result<(), Option<Box<LegRoute>>> {
        let Some(local) = cx.net.local_for(&hop) else { return Err(route) };
        let contact = local.contact(Token(self.key, Side::Leg(id)));
        let display = self.calling.display_name.as_deref();
        let tag = cx.net.ids.tag();
        let mut from = String::with_capacity(64);
        match (&self.calling.number, &self.calling.uri) {
            (Some(number), _) => write_name_addr(&mut from, display, format_args!("sip:{number}@{}", self.domain)),
            (None, Some(uri)) => write_name_addr(&mut from, display, format_args!("sip:{uri}")),
            (None, None) => write_name_addr(&mut from, display, format_args!("sip:anonymous@anonymous.invalid")),
        }
        from.push_str(";tag=");
        from.push_str(&tag);
        let call_id = cx.net.ids.call_id();
        let mut dialog = Dialog::uac(call_id.as_str().to_owned(), from, to, uri, contact, self.max_forwards, hop);
        let mut extra = passed_on(&self.caller.invite, &PASSED_ON_REQUESTS);
        if let Some(uri) = &self.calling.uri {
            // RFC 3325: the identity call control vouches for (anchored calls: the user's).
            let mut asserted = String::with_capacity(64);
            write_name_addr(&mut asserted, display, format_args!("sip:{uri}"));
            extra.push(("P-Asserted-Identity", Cow::Owned(asserted)));
        }
        if let Some(server) = &cx.net.config.server {
            extra.push(("User-Agent", Cow::Owned(server.clone())));
        }
        let body = body_of(&self.caller.invite);
        let extra: Vec<(&str, &str)> = extra.iter().map(|(n, v)| (*n, v.as_ref())).collect();
        let sent = cx.net.send_request(cx.now, hop, &Method::Invite, Client::Invite(self.key, id), |via| {
            dialog.request(Method::Invite, via, Some(1), &extra, body.as_ref().map(|(ct, b)| (ct.as_ref(), &b[..])))
        });
        let Some((txn, invite)) = sent else { return Err(route) };
        self.legs.push(Leg {
            id,
            dialog,
            invite,
            txn: Some(txn),
            provisional: false,
            cancel_pending: None,
            cancel_sent: false,
            deadline: Some(cx.now + cx.net.config.timers.timer_c),
            last_provisional: None,
            early_media: false,
            answer: None,
            ack: None,
            reported: false,
            route,
        });
        Ok(())
    }
}
