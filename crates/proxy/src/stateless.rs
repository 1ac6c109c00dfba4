//! The stateless path (RFC 3261 §16.11): messages that need no transaction. The ACK for a 2xx
//! (a transaction of its own that gets no response, §17.1.1.3) is forwarded along its route
//! set; a 2xx retransmission that arrives after its response context ended is forwarded
//! along its Via, after checking that the top Via is ours and the next one is no broadcast
//! address (RFC 4475 §3.3.10). Responses no client transaction claims at all are discarded
//! (RFC 6026 §8.9), not forwarded as RFC 3261 §16.7 once said.

use std::net::SocketAddr;
use std::time::Instant;

use causeway_sip::header::via::ViaTransport;
use causeway_sip::validate::proxy_response_check;
use causeway_sip::{Message, Method};

use crate::context::Peer;
use crate::core::Core;
use crate::forward::{forward_request, relay_response, BranchEdits};
use crate::locate::Locator;
use crate::plan::{Decision, Phases};

impl<L: Locator> Core<L> {
    /// An ACK no transaction absorbed.
    pub(crate) fn on_ack(&mut self, now: Instant, request: &Message) {
        let Some(arrival) = self.arrival.clone() else { return };
        // The ACK for a response we generated carries our To tag: it ends here.
        if request.to_tag().ok().flatten().is_some_and(|t| self.ids.is_our_tag(t)) {
            return;
        }
        // The gate only lends the seal check: an ACK is never authenticated or policed.
        let mut gate = self.lend_gate(now);
        let phases = Phases {
            identity: &self.identity,
            locator: &self.locator,
            ids: &self.ids,
            record_route: false,
            health: self.health(),
            agent: None,
        };
        let decision = phases.decide(request, &arrival, Some(&mut gate));
        self.return_gate(gate);
        let plan = match decision {
            Decision::Forward(plan) => plan,
            Decision::Reply(_) | Decision::OptionsOk | Decision::Drop | Decision::Lookup(..) | Decision::Agent(_) => {
                self.counters.dropped += 1;
                return;
            }
        };
        let Some(target) = plan.targets.first() else { return };
        let transport = target.next_hop.transport;
        let Some(listener) = self
            .identity
            .egress(transport, plan.egress_listener.or(arrival.listener))
            .and_then(|i| self.identity.listener(i))
        else {
            self.counters.dropped += 1;
            return;
        };
        // §16.11: the branch is a function of the incoming ACK, so its retransmissions (one
        // per 2xx retransmission) get the same branch.
        let incoming = request.top_via().ok().and_then(|v| v.branch()).unwrap_or_default();
        let branch = self.ids.stateless_branch(plan.loop_hash, incoming.as_bytes());
        let scratch = &mut self.scratch;
        scratch.via.clear();
        scratch.via.push_str(&listener.via_prefix);
        scratch.via.push_str(branch.as_str());
        let edits = BranchEdits { via: &scratch.via, record_route: None, stream: transport.is_stream() };
        match forward_request(request, &plan, target, &edits, &mut scratch.number) {
            Ok(bytes) => {
                let peer = Peer { transport, local: listener.local, destination: target.next_hop.address, flow: target.next_hop.flow };
                self.transmits.push_back(peer.transmit(bytes));
                self.counters.requests_sent.add(&Method::Ack);
                self.counters.stateless_forwarded += 1;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot forward an ACK");
                self.counters.dropped += 1;
            }
        }
    }

    /// A response with no client transaction: forwarded to the address in the next Via
    /// (`received`, `rport`, RFC 3261 §18.2.2, RFC 3581 §4), or dropped.
    pub(crate) fn forward_response_stateless(&mut self, response: &Message) {
        match self.stateless_response_target(response) {
            Some((peer, bytes)) => {
                self.transmits.push_back(peer.transmit(bytes));
                if let Some(status) = response.status() {
                    self.counters.responses_sent.add(status);
                }
                self.counters.stateless_forwarded += 1;
            }
            None => self.counters.dropped += 1,
        }
    }

    fn stateless_response_target(&self, response: &Message) -> Option<(Peer, bytes::Bytes)> {
        let top = response.top_via().ok()?;
        let ViaTransport::Known(top_transport) = top.transport() else { return None };
        // §18.1.2: a response whose top Via is not ours is not ours to forward.
        let ours = self.identity.sent_by_listener(&top.host(), top.port(), top_transport)?;
        if let Err(drop) = proxy_response_check(response) {
            tracing::debug!(%drop, "response not forwarded");
            return None;
        }
        let next = response.vias().nth(1)?.ok()?;
        let ViaTransport::Known(transport) = next.transport() else { return None };
        // A name without `received` needs DNS, which the core does not do.
        let ip = next.received().or_else(|| next.host().ip())?;
        let port = match next.rport() {
            Some(Some(port)) => port,
            _ => next.port().unwrap_or(transport.default_port()),
        };
        let listener = self.identity.egress(transport, Some(ours)).and_then(|i| self.identity.listener(i))?;
        let bytes = relay_response(response, transport.is_stream(), &[]).ok()?;
        let peer = Peer { transport, local: listener.local, destination: SocketAddr::new(ip, port), flow: None };
        Some((peer, bytes))
    }
}
