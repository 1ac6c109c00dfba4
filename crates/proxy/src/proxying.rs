//! Forwarding a request statefully (RFC 3261 §16.6): the response context, one client
//! transaction per target, Timer C (§16.6 step 11), and cancelling branches (§16.10, §9.1).

use std::cmp::Reverse;
use std::time::Instant;

use causeway_sip::build::{cancel_for, ResponseBuilder};
use causeway_sip::{Message, Method, StatusCode};
use causeway_txn::TxnId;
use smallvec::SmallVec;

use crate::best::BestResponse;
use crate::context::{ctx_in, Branch, BranchState, Cancel, CancelReason, Candidate, CtxId, Peer, ProxyCtx};
use crate::core::Core;
use crate::forward::{forward_request, BranchEdits};
use crate::identity::RrSeal;
use crate::locate::{Locator, Target};
use crate::plan::{Arrival, ForwardPlan};
use crate::security::CPL_TIMER;

/// Most branches one request forks to at once; the rest of a larger target set is ignored,
/// so a locator bug cannot multiply one request without bound.
pub(crate) const MAX_BRANCHES: usize = 16;

impl<L: Locator> Core<L> {
    /// A new server transaction for a request that the phases decided to forward.
    pub(crate) fn start_proxying(&mut self, now: Instant, server: TxnId, request: Message, mut plan: ForwardPlan) {
        let is_invite = request.method() == Some(&Method::Invite);
        if is_invite {
            // §16.2 / §17.2.1: a stateful proxy answers an INVITE with 100 at once, so the
            // caller stops retransmitting while we look for the callee.
            let mut trying = ResponseBuilder::new(&request, StatusCode::TRYING);
            if let Some(server) = &self.config.server {
                // Every response we originate names us, without a version (RFC 3261 §20.35).
                trying = trying.header("Server", server);
            }
            if let Ok(trying) = trying.build() {
                if self.txns.respond_bytes(now, server, StatusCode::TRYING, trying.into_bytes()).is_ok() {
                    self.counters.responses_sent.add(StatusCode::TRYING);
                }
            }
        }
        let upstream_stream = self.arrival.as_ref().is_some_and(|a| a.transport.is_stream());
        let generation = self.next_generation();
        let index = self.ctxs.insert(ProxyCtx {
            generation,
            server,
            request,
            is_invite,
            upstream_stream,
            branches: SmallVec::new(),
            best: BestResponse::default(),
            challenges: Vec::new(),
            final_sent: false,
            failover: None,
            cpl: None,
        });
        let id = CtxId { index: u32::try_from(index).unwrap_or(u32::MAX), generation };
        self.by_server.insert(server, id);
        if let Some(arrival) = self.arrival.clone() {
            self.cpl_begin(now, id, &mut plan, &arrival);
            self.start_targets(now, id, plan, arrival);
        }
        self.maybe_complete(now, id);
    }

    /// §16.6 for one target of a request that came as `arrival`: build the copy, start its
    /// client transaction, arm Timer C.
    pub(crate) fn start_branch(&mut self, now: Instant, id: CtxId, plan: &ForwardPlan, arrival: &Arrival, target: &Target) {
        let Some(ctx) = self.ctxs.get(id.index as usize).filter(|c| c.generation == id.generation) else { return };
        let transport = target.next_hop.transport;
        let listener = self
            .identity
            .egress(transport, plan.egress_listener.or(arrival.listener))
            .and_then(|i| self.identity.listener(i).map(|l| (i, l)));
        let Some((egress_index, listener)) = listener else {
            tracing::warn!(transport = %transport, "no listener for the next hop's transport");
            self.add_failed_branch(id, target, StatusCode::SERVICE_UNAVAILABLE);
            return;
        };
        let branch = self.ids.next_branch(plan.loop_hash);
        let scratch = &mut self.scratch;
        scratch.via.clear();
        scratch.via.push_str(&listener.via_prefix);
        scratch.via.push_str(branch.as_str());
        scratch.record_route.clear();
        if plan.record_route {
            // §16.6 step 4: our URI with `lr`; two entries when the request changes listener
            // (e.g. UDP in, TLS out) or the two sides know the node by different names (a
            // trunk's FQDN), the one facing the callee first, so in-dialog requests from either
            // side reach the listener on their side by the name it knows (RFC 5658 §3.3).
            let hosts = &target.options.record_route_hosts;
            let (callee_host, caller_host) = (hosts.callee.as_deref(), hosts.caller.as_deref());
            let inbound = arrival.listener.and_then(|i| self.identity.listener(i).map(|l| (i, l)));
            let inbound_flow = arrival.flow.filter(|_| arrival.transport.is_stream());
            // The entry facing the callee carries the connection the branch goes down when it
            // is one the callee opened (a traversal zone's): in-dialog requests from the caller
            // side reuse it (RFC 5626 §5.3), since nothing can connect to the callee.
            let outbound_flow = target.next_hop.flow.filter(|_| transport.is_stream());
            // With the edge's security phases every entry carries the dialog's seal (plan.rs).
            let call_id = ctx.request.call_id().unwrap_or_default().as_bytes();
            let seal = self.security.as_deref().map(|s| RrSeal { key: s.route_key(), call_id });
            let seal = seal.as_ref();
            match inbound {
                Some((i, l)) if i == egress_index && callee_host == caller_host => {
                    l.write_record_route(caller_host, inbound_flow, seal, &mut scratch.record_route);
                }
                Some((_, l)) => {
                    listener.write_record_route(callee_host, outbound_flow, seal, &mut scratch.record_route);
                    scratch.record_route.push_str(", ");
                    l.write_record_route(caller_host, inbound_flow, seal, &mut scratch.record_route);
                }
                None => listener.write_record_route(callee_host, outbound_flow, seal, &mut scratch.record_route),
            }
        }
        let edits = BranchEdits {
            via: &scratch.via,
            record_route: plan.record_route.then_some(scratch.record_route.as_str()),
            stream: transport.is_stream(),
        };
        let outgoing = match forward_request(&ctx.request, plan, target, &edits, &mut scratch.number) {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%error, "cannot build the forwarded request");
                self.add_failed_branch(id, target, StatusCode::SERVER_INTERNAL_ERROR);
                return;
            }
        };
        let peer = Peer {
            transport,
            local: listener.local,
            destination: target.next_hop.address,
            flow: target.next_hop.flow,
        };
        let is_invite = ctx.is_invite;
        let Some(method) = ctx.request.method() else { return };
        match self.txns.start_client_bytes(now, outgoing, method, branch.as_str(), transport, peer) {
            Ok(txn) => {
                self.counters.requests_sent.add(method);
                let timer_c = now + self.config.timers.timer_c;
                let Some(ctx) = ctx_in(&mut self.ctxs, id) else { return };
                let b = ctx.branches.len();
                let mut branch =
                    Branch { txn: Some(txn), peer, state: BranchState::Calling, cancel: Cancel::No, deadline: None, queued: None };
                if is_invite {
                    branch.arm(timer_c, id, b, &mut self.deadlines);
                }
                ctx.branches.push(branch);
                self.by_client.insert(txn, (id, b));
            }
            Err(error) => {
                tracing::warn!(%error, "cannot start a client transaction");
                self.add_failed_branch(id, target, StatusCode::SERVICE_UNAVAILABLE);
            }
        }
    }

    /// A branch that failed before anything was sent: it counts as a response `status`
    /// generated by us (§16.9: a transport failure is a 503).
    fn add_failed_branch(&mut self, id: CtxId, target: &Target, status: StatusCode) {
        let Some(ctx) = self.ctx_mut(id) else { return };
        let peer = Peer {
            transport: target.next_hop.transport,
            local: target.next_hop.address,
            destination: target.next_hop.address,
            flow: None,
        };
        ctx.branches.push(Branch { txn: None, peer, state: BranchState::Done(status), cancel: Cancel::No, deadline: None, queued: None });
        ctx.best.offer(status, Candidate::Local);
    }

    /// Cancel every branch still owing a final response (§16.7 step 5, §16.10), except `except`.
    pub(crate) fn cancel_branches(&mut self, now: Instant, id: CtxId, reason: &CancelReason, except: Option<usize>) {
        let Some(ctx) = self.ctx_mut(id) else { return };
        if !ctx.is_invite {
            // Only INVITE can be cancelled (RFC 3261 §9: CANCEL for other methods is useless).
            return;
        }
        let mut now_cancel: SmallVec<[usize; 4]> = SmallVec::new();
        for (i, b) in ctx.branches.iter_mut().enumerate() {
            if Some(i) == except || b.is_settled() || b.cancel != Cancel::No {
                continue;
            }
            match b.state {
                BranchState::Proceeding => now_cancel.push(i),
                // §9.1: no CANCEL before a provisional response; it goes out when one comes.
                BranchState::Calling => b.cancel = Cancel::Pending(reason.clone()),
                BranchState::Done(_) => {}
            }
        }
        for i in now_cancel {
            self.send_cancel(now, id, i, reason);
        }
    }

    /// Send a CANCEL for branch `b` (§9.1: same Request-URI, Call-ID, To, From, CSeq number,
    /// top Via and Route as the INVITE; RFC 3326 Reason) and give it 64*T1 to end.
    pub(crate) fn send_cancel(&mut self, now: Instant, id: CtxId, b: usize, reason: &CancelReason) {
        let give_up = now + self.txns.config().t1_x64();
        let Some(ctx) = ctx_in(&mut self.ctxs, id) else { return };
        let Some(branch) = ctx.branches.get_mut(b) else { return };
        let Some(sent) = branch.txn.and_then(|t| self.txns.sent_request(t)).cloned() else { return };
        let cancel = Message::parse(sent)
            .and_then(|invite| cancel_for(&invite, reason.header().as_deref()))
            .and_then(|c| c.into_message());
        branch.cancel = Cancel::Sent;
        branch.arm(give_up, id, b, &mut self.deadlines);
        let peer = branch.peer;
        match cancel {
            Ok(cancel) => match self.txns.start_client(now, cancel, peer.transport, peer) {
                Ok(_) => self.counters.requests_sent.add(&Method::Cancel),
                Err(error) => tracing::warn!(%error, "cannot start the CANCEL transaction"),
            },
            Err(error) => tracing::warn!(%error, "cannot build a CANCEL"),
        }
    }

    /// §16.10: a CANCEL from upstream. It is answered 200 at once; the INVITE it names has
    /// its pending branches cancelled, and their 487s make the INVITE's final response. A
    /// CANCEL for nothing we know gets 481: we keep state for every INVITE we forward, so
    /// there is nothing to forward it along (§16.10 foresees stateless forwarding only for
    /// requests forwarded statelessly).
    pub(crate) fn on_cancel(&mut self, now: Instant, txn: TxnId, cancel: &Message) {
        let invite = self.txns.find_cancelled_invite(cancel);
        let status = if invite.is_some() { StatusCode::OK } else { StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST };
        self.respond_local(now, txn, cancel, status);
        let Some(id) = invite.and_then(|inv| self.by_server.get(&inv).copied()) else { return };
        let reasons: Vec<&str> = cancel
            .headers_named(causeway_sip::HeaderName::Reason)
            .filter_map(|h| std::str::from_utf8(h.value).ok())
            .collect();
        let reason = CancelReason::Upstream((!reasons.is_empty()).then(|| reasons.join(", ")));
        self.cancel_branches(now, id, &reason, None);
        self.maybe_complete(now, id);
    }

    /// Timer C and CANCEL give-up times that are due.
    pub(crate) fn fire_deadlines(&mut self, now: Instant) {
        while let Some(&Reverse((at, id, b))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            if b == CPL_TIMER {
                self.cpl_timer(now, id, at);
                continue;
            }
            let Some(ctx) = ctx_in(&mut self.ctxs, id) else { continue };
            let Some(branch) = ctx.branches.get_mut(b) else { continue };
            if branch.queued != Some(at) {
                continue;
            }
            branch.queued = None;
            match branch.deadline {
                _ if branch.is_settled() => continue,
                None => continue,
                Some(later) if later > now => {
                    branch.arm(later, id, b, &mut self.deadlines);
                    continue;
                }
                Some(_) => branch.deadline = None,
            }
            let cancel_now = branch.state == BranchState::Proceeding && !matches!(branch.cancel, Cancel::Sent);
            if cancel_now {
                // §16.6 step 11: Timer C with a provisional received: CANCEL the branch.
                self.send_cancel(now, id, b, &CancelReason::TimerC);
                continue;
            }
            // §16.6 step 11 without a provisional, or §9.1 after the CANCEL: give up on the
            // branch as if it had answered 408.
            branch.state = BranchState::Done(StatusCode::REQUEST_TIMEOUT);
            let txn = branch.txn.take();
            ctx.best.offer(StatusCode::REQUEST_TIMEOUT, Candidate::Local);
            if let Some(txn) = txn {
                self.by_client.remove(&txn);
                self.txns.terminate(txn);
            }
            self.maybe_complete(now, id);
        }
    }

    /// Answer a server transaction with a response we generate.
    pub(crate) fn respond_local(&mut self, now: Instant, txn: TxnId, request: &Message, status: StatusCode) {
        let tag = self.ids.next_tag();
        let mut builder = ResponseBuilder::new(request, status).to_tag(tag.as_str());
        if let Some(server) = &self.config.server {
            builder = builder.header("Server", server);
        }
        match builder.build() {
            Ok(response) => match self.txns.respond_bytes(now, txn, status, response.into_bytes()) {
                Ok(()) => self.counters.responses_sent.add(status),
                Err(error) => tracing::debug!(%error, "response not sent"),
            },
            Err(error) => tracing::debug!(%error, "cannot build a response"),
        }
    }

    /// A new server transaction with no plan: cannot happen for requests the core hands in
    /// itself; answered 500 rather than left to hang.
    pub(crate) fn reply_internal_error(&mut self, now: Instant, txn: TxnId, request: &Message) {
        self.respond_local(now, txn, request, StatusCode::SERVER_INTERNAL_ERROR);
    }
}
