//! Responses from branches (RFC 3261 §16.7): provisionals relayed at once (except 100), 2xx
//! relayed at once and the other branches cancelled, 6xx cancels the rest, every other final
//! held until all branches are done, then the best one is sent (§16.7 step 6), with the
//! challenges of every 401/407 gathered into it (step 7) and a 503 turned into 500.

use std::time::Instant;

use bytes::Bytes;
use causeway_sip::{HeaderName, Message, Method, StatusCode};
use causeway_txn::TxnId;

use crate::best::upstream_code;
use crate::context::{ctx_in, BranchState, Cancel, CancelReason, Candidate, CtxId};
use crate::core::Core;
use crate::forward::relay_response;
use crate::locate::Locator;

impl<L: Locator> Core<L> {
    /// A response arrived on a client transaction.
    pub(crate) fn on_branch_response(&mut self, now: Instant, txn: TxnId, response: Message) {
        let Some(status) = response.status() else { return };
        let Some(&(id, b)) = self.by_client.get(&txn) else {
            // The context is gone: only a further 2xx to an INVITE still matters (RFC 6026
            // §8.4: forked or retransmitted 2xx are forwarded like stray responses, §16.7).
            if status.is_success() && response.cseq().is_ok_and(|c| c.method == Method::Invite) {
                self.forward_response_stateless(&response);
            }
            return;
        };
        let timer_c = self.config.timers.timer_c;
        let Some(ctx) = ctx_in(&mut self.ctxs, id) else { return };
        let is_invite = ctx.is_invite;
        let Some(branch) = ctx.branches.get_mut(b) else { return };
        if status.is_provisional() {
            if branch.state == BranchState::Calling {
                branch.state = BranchState::Proceeding;
            }
            // §16.7 step 2: a provisional restarts Timer C (not while a CANCEL is out).
            if is_invite && matches!(branch.cancel, Cancel::No | Cancel::Pending(_)) {
                branch.arm(now + timer_c, id, b, &mut self.deadlines);
            }
            let pending = match &branch.cancel {
                Cancel::Pending(reason) => Some(reason.clone()),
                Cancel::No | Cancel::Sent => None,
            };
            let relay = status != StatusCode::TRYING && !ctx.final_sent;
            if let Some(reason) = pending {
                self.send_cancel(now, id, b, &reason);
            }
            if relay {
                self.relay_upstream(now, id, &response, &[]);
            }
            return;
        }
        branch.state = BranchState::Done(status);
        branch.deadline = None;
        if status.is_success() {
            // §16.7 step 5: every 2xx goes upstream at once; the other branches of an INVITE
            // are cancelled (RFC 3326 Reason: the callee answered elsewhere).
            self.relay_upstream(now, id, &response, &[]);
            if let Some(ctx) = self.ctx_mut(id) {
                ctx.final_sent = true;
            }
            if is_invite {
                self.cancel_branches(now, id, &CancelReason::CompletedElsewhere, Some(b));
            }
        } else {
            if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::PROXY_AUTHENTICATION_REQUIRED) {
                // §16.7 step 7: keep the challenges to merge into the response chosen.
                let found: Vec<(usize, HeaderName, Bytes)> = [HeaderName::WwwAuthenticate, HeaderName::ProxyAuthenticate]
                    .into_iter()
                    .flat_map(|name| response.headers_named(name).map(move |h| (name, h.value)))
                    .map(|(name, v)| (b, name, Bytes::copy_from_slice(v)))
                    .collect();
                ctx.challenges.extend(found);
            }
            let global = status.class() == 6;
            ctx.best.offer(status, Candidate::Received(b, Box::new(response)));
            if global && is_invite {
                // §16.7 step 5: a 6xx is not forwarded yet, but ends the search.
                self.cancel_branches(now, id, &CancelReason::GlobalFailure(status), Some(b));
            }
        }
        self.maybe_complete(now, id);
    }

    /// A client transaction gave up (Timer B/F: 408) or could not send (§16.9: 503).
    pub(crate) fn on_branch_failure(&mut self, now: Instant, txn: TxnId, status: StatusCode) {
        let Some(&(id, b)) = self.by_client.get(&txn) else { return };
        let Some(ctx) = self.ctx_mut(id) else { return };
        let Some(branch) = ctx.branches.get_mut(b) else { return };
        if matches!(branch.state, BranchState::Done(_)) {
            return;
        }
        branch.state = BranchState::Done(status);
        branch.deadline = None;
        ctx.best.offer(status, Candidate::Local);
        self.maybe_complete(now, id);
    }

    /// A transaction ended.
    pub(crate) fn on_terminated(&mut self, now: Instant, txn: TxnId) {
        if let Some((id, b)) = self.by_client.remove(&txn) {
            if let Some(branch) = self.ctx_mut(id).and_then(|c| c.branches.get_mut(b)) {
                branch.txn = None;
                if !matches!(branch.state, BranchState::Done(_)) {
                    branch.state = BranchState::Done(StatusCode::REQUEST_TIMEOUT);
                    if let Some(ctx) = self.ctx_mut(id) {
                        ctx.best.offer(StatusCode::REQUEST_TIMEOUT, Candidate::Local);
                    }
                }
            }
            self.maybe_complete(now, id);
        }
    }

    /// §16.7 step 6: once every branch is settled (and failover has nothing left to try) and
    /// nothing went upstream yet, send the best response; then drop the context when it has
    /// nothing left to do.
    pub(crate) fn maybe_complete(&mut self, now: Instant, id: CtxId) {
        self.fail_over(now, id);
        // A CPL `proxy` attempt that ended without a 2xx: the script's output decides, before
        // the best response would (RFC 3880 §6.1); each new round it starts is bounded.
        while self.cpl_take_over(now, id) {
            self.fail_over(now, id);
        }
        let Some(ctx) = self.ctx_mut(id) else { return };
        if !ctx.final_sent && ctx.all_settled() {
            ctx.final_sent = true;
            let chosen = ctx.best.take();
            let challenges = std::mem::take(&mut ctx.challenges);
            match chosen {
                Some((status, Candidate::Received(chosen_branch, response))) if upstream_code(status) == status => {
                    // Step 7: add the other branches' challenges to a 401/407.
                    let extra: Vec<(HeaderName, Bytes)> = if matches!(
                        status,
                        StatusCode::UNAUTHORIZED | StatusCode::PROXY_AUTHENTICATION_REQUIRED
                    ) {
                        challenges.into_iter().filter(|(b, _, _)| *b != chosen_branch).map(|(_, n, v)| (n, v)).collect()
                    } else {
                        Vec::new()
                    };
                    self.relay_upstream(now, id, &response, &extra);
                }
                Some((status, _)) => self.respond_ctx_local(now, id, upstream_code(status)),
                // No branch at all (every target refused before sending).
                None => self.respond_ctx_local(now, id, StatusCode::SERVER_INTERNAL_ERROR),
            }
        }
        let finished = self.ctx_mut(id).is_some_and(|c| c.is_finished());
        if finished {
            self.remove_ctx(id);
        }
    }

    fn remove_ctx(&mut self, id: CtxId) {
        if self.ctx_mut(id).is_none() {
            return;
        }
        let ctx = self.ctxs.remove(id.index as usize);
        self.by_server.remove(&ctx.server);
        for txn in ctx.branches.iter().filter_map(|b| b.txn) {
            self.by_client.remove(&txn);
        }
    }

    /// Relay a branch's response upstream through the server transaction.
    fn relay_upstream(&mut self, now: Instant, id: CtxId, response: &Message, extra: &[(HeaderName, Bytes)]) {
        let Some(ctx) = self.ctx_mut(id) else { return };
        let (server, stream) = (ctx.server, ctx.upstream_stream);
        let Some(status) = response.status() else { return };
        match relay_response(response, stream, extra) {
            Ok(out) => match self.txns.respond_bytes(now, server, status, out) {
                Ok(()) => self.counters.responses_sent.add(status),
                Err(error) => tracing::debug!(%error, "response not relayed"),
            },
            Err(error) => tracing::warn!(%error, "cannot relay a response"),
        }
    }

    /// Answer the context's request with a response we generate (408, 500, ...).
    fn respond_ctx_local(&mut self, now: Instant, id: CtxId, status: StatusCode) {
        let Some(ctx) = self.ctx_mut(id) else { return };
        let (server, request) = (ctx.server, ctx.request.clone());
        self.respond_local(now, server, &request, status);
    }
}
