//! A CPL `proxy` node in the live call (RFC 3880 §6.1): its outputs, its `timeout` and `recurse`.
//!
//! A request call policy allowed at a `proxy` node gets a [`CplAttempt`] in its response context:
//! the gate's clearance (with the policy input and the script's continuation), the plan its
//! branches are built from, and the node's timer. When every branch has settled without a 2xx —
//! where RFC 3261 §16.7 step 6 would pick the best response — the attempt decides first:
//!
//! - a 3xx with `recurse="yes"` (the default): its Contacts become the targets of a new round
//!   (RFC 3261 §16.5: a URI joins the target set once), each routed by the search rules;
//! - otherwise, when the node has outputs, the script resumes at the output the result names
//!   ([`Outcome::of_final`]: busy, noanswer, redirection, failure, or default) — resumed, never
//!   rerun — and what it does there decides: `reject` and `redirect` answer the caller, more
//!   `location`s and a `proxy` start a new round of targets in the same context;
//! - no output for the result, or a caller's CANCEL: the best response goes upstream as for any
//!   proxied request.
//!
//! The node's `timeout` is a timer of the context: when it runs out the pending branches are
//! CANCELled (RFC 3326 Reason `SIP;cause=480`), the ones without a provisional given up (RFC 3261
//! §9.1 forbids cancelling them yet), and the attempt counts as "noanswer" whatever they answer.
//! Memory stays bounded: a script cannot loop (RFC 3880 §9 and the node budget carried in the
//! continuation), a request runs at most [`MAX_ROUNDS`] rounds, of which [`MAX_RECURSIONS`]
//! recursions, and each round at most `MAX_BRANCHES` branches.

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use causeway_policy::cpl::Outcome;
use causeway_policy::verdict::{Ordering, Target};
use causeway_policy::{resume, PolicyAllowed, Verdict};
use causeway_sip::build::ResponseBuilder;
use causeway_sip::uri::Uri;
use causeway_sip::{Message, StatusCode};

use super::gate::{refusal, settle_lookups};
use super::Clearance;
use crate::best::BestResponse;
use crate::context::{ctx_in, BranchState, Cancel, CancelReason, Candidate, CtxId};
use crate::core::Core;
use crate::locate::{Locator, RequestCtx};
use crate::plan::{Arrival, ForwardPlan, LocalReply};
use crate::proxying::MAX_BRANCHES;

/// The branch index under which a context's CPL timer sits in the core's deadline heap.
pub(crate) const CPL_TIMER: usize = usize::MAX;
/// Rounds one request may run after its first (outputs that proxy again, recursions).
const MAX_ROUNDS: u8 = 8;
/// Of those, rounds started by following a 3xx.
const MAX_RECURSIONS: u8 = 3;

/// The CPL `proxy` attempt of one response context.
#[derive(Debug)]
pub(crate) struct CplAttempt {
    /// The gate's clearance; its policy is the current round's (node, locations, continuation).
    clearance: Clearance,
    /// The request's plan without targets: each round's branches are built from it.
    plan: ForwardPlan,
    arrival: Arrival,
    /// When the node's `timeout` ends the round, if it has one.
    deadline: Option<Instant>,
    /// The timer ran out: the round ends as "noanswer".
    timed_out: bool,
    /// The caller CANCELled: nothing more is tried, the 487 goes upstream.
    caller_cancelled: bool,
    rounds: u8,
    recursions: u8,
    /// URIs already tried, so that a recursion never adds one twice (RFC 3261 §16.5).
    tried: Vec<String>,
}

impl CplAttempt {
    fn allowed(&self) -> Option<&PolicyAllowed> {
        self.clearance.policy()
    }

    /// The node's `ordering` is `sequential`: failover goes on after any failure.
    pub(crate) fn is_sequential(&self) -> bool {
        self.allowed().is_some_and(|a| a.ordering() == Ordering::Sequential)
    }

    /// Failover must not start anything more: the round timed out or the caller gave up.
    pub(crate) fn is_over(&self) -> bool {
        self.timed_out || self.caller_cancelled
    }

    fn note_tried(&mut self, allowed: &PolicyAllowed) {
        let cap = usize::from(MAX_ROUNDS + 1) * MAX_BRANCHES;
        let uris = allowed.targets().iter().map(|t| t.uri.clone());
        self.tried.extend(uris.take(cap.saturating_sub(self.tried.len())));
    }
}

/// The Contacts of a 3xx we received, as locations (q-value as priority, RFC 3261 §20.10).
fn redirect_contacts(status: StatusCode, candidate: &Candidate) -> Vec<Target> {
    match candidate {
        Candidate::Received(_, response) if status.class() == 3 => response
            .contacts()
            .filter_map(Result::ok)
            .filter(|c| !c.is_star())
            .map(|c| Target { uri: c.uri_str().to_owned(), priority: c.q().map(|q| f32::from(q) / 1000.0) })
            .take(MAX_BRANCHES)
            .collect(),
        _ => Vec::new(),
    }
}

impl<L: Locator> Core<L> {
    /// Keeps the CPL attempt of a request allowed at a `proxy` node, and arms its timer.
    pub(crate) fn cpl_begin(&mut self, now: Instant, id: CtxId, plan: &mut ForwardPlan, arrival: &Arrival) {
        let Some(clearance) = plan.cpl.take() else { return };
        let mut attempt = Box::new(CplAttempt {
            clearance: *clearance,
            plan: ForwardPlan { targets: Vec::new(), ..plan.clone() },
            arrival: arrival.clone(),
            deadline: None,
            timed_out: false,
            caller_cancelled: false,
            rounds: 0,
            recursions: 0,
            tried: Vec::new(),
        });
        if let Some(allowed) = attempt.clearance.policy().cloned() {
            attempt.note_tried(&allowed);
        }
        self.arm_cpl_timer(now, id, &mut attempt);
        if let Some(ctx) = self.ctx_mut(id) {
            ctx.cpl = Some(attempt);
        }
    }

    /// RFC 3880 §6.1 `timeout`: "the time […] to wait for the call to be completed or rejected;
    /// after this time has elapsed, the call attempt is terminated and the noanswer branch is
    /// taken." Only an INVITE can be cancelled, so only an INVITE gets the timer.
    fn arm_cpl_timer(&mut self, now: Instant, id: CtxId, attempt: &mut CplAttempt) {
        let is_invite = self.ctxs.get(id.index as usize).is_some_and(|c| c.is_invite);
        let limit = attempt.allowed().and_then(PolicyAllowed::proxy).and_then(|h| h.ring_limit).filter(|_| is_invite);
        attempt.deadline = limit.map(|secs| now + Duration::from_secs(u64::from(secs)));
        if let Some(at) = attempt.deadline {
            self.deadlines.push(Reverse((at, id, CPL_TIMER)));
        }
    }

    /// The CPL timer of context `id`, queued for `at`, is due.
    pub(crate) fn cpl_timer(&mut self, now: Instant, id: CtxId, at: Instant) {
        let Some(ctx) = ctx_in(&mut self.ctxs, id) else { return };
        if ctx.final_sent {
            return;
        }
        let Some(attempt) = ctx.cpl.as_deref_mut().filter(|a| a.deadline == Some(at)) else { return };
        attempt.deadline = None;
        attempt.timed_out = true;
        // A branch that sent no provisional yet may not be CANCELled (RFC 3261 §9.1); as for
        // Timer C without a provisional (§16.6 step 11), it is given up as if it answered 408.
        let mut given_up = Vec::new();
        for branch in ctx.branches.iter_mut().filter(|b| b.state == BranchState::Calling && b.cancel == Cancel::No) {
            branch.state = BranchState::Done(StatusCode::REQUEST_TIMEOUT);
            branch.deadline = None;
            given_up.extend(branch.txn.take());
            ctx.best.offer(StatusCode::REQUEST_TIMEOUT, Candidate::Local);
        }
        for txn in given_up {
            self.by_client.remove(&txn);
            self.txns.terminate(txn);
        }
        // RFC 3326: the CANCEL says why the callee stops ringing.
        self.cancel_branches(now, id, &CancelReason::NoAnswer, None);
        self.maybe_complete(now, id);
    }

    /// The caller CANCELled the INVITE `cancel` names: its CPL attempt ends with the 487.
    pub(crate) fn cpl_caller_cancelled(&mut self, cancel: &Message) {
        let Some(invite) = self.txns.find_cancelled_invite(cancel) else { return };
        let Some(id) = self.by_server.get(&invite).copied() else { return };
        if let Some(attempt) = self.ctx_mut(id).and_then(|c| c.cpl.as_deref_mut()) {
            attempt.caller_cancelled = true;
        }
    }

    /// Context `id` settled without a 2xx: lets its CPL attempt decide (module doc). `true` when
    /// a new round started; `false` when the attempt answered the caller itself or leaves the
    /// best response to go upstream.
    pub(crate) fn cpl_take_over(&mut self, now: Instant, id: CtxId) -> bool {
        let Some(ctx) = ctx_in(&mut self.ctxs, id) else { return false };
        if ctx.final_sent || !ctx.all_settled() {
            return false;
        }
        let Some(attempt) = ctx.cpl.as_deref_mut().filter(|a| !a.caller_cancelled) else { return false };
        let Some((status, candidate)) = ctx.best.peek() else { return false };
        let Some(allowed) = attempt.allowed().cloned() else { return false };
        let Some(hints) = allowed.proxy().copied() else { return false };
        let outcome = if attempt.timed_out {
            Outcome::NoAnswer
        } else {
            Outcome::of_final(status.as_u16(), redirect_contacts(status, candidate))
        };
        if let (Outcome::Redirected(contacts), true) = (&outcome, hints.recurse) {
            // RFC 3880 §6.1 `recurse="yes"`: the redirect is followed, never handed to the script.
            let tried = &attempt.tried;
            let fresh: Vec<Target> =
                contacts.iter().filter(|c| !tried.iter().any(|t| t.eq_ignore_ascii_case(&c.uri))).cloned().collect();
            if fresh.is_empty() || attempt.recursions >= MAX_RECURSIONS {
                return false;
            }
            attempt.recursions += 1;
            tracing::debug!(contacts = fresh.len(), "CPL proxy: recursing on a {status}");
            return self.cpl_round(now, id, allowed.recursed(fresh));
        }
        let Some(continuation) = allowed.continuation().cloned() else { return false };
        let Some(input) = attempt.clearance.input.clone() else { return false };
        let source = attempt.arrival.peer.ip();
        let Some(policy) = self.security.as_deref().map(|s| std::sync::Arc::clone(&s.policy)) else { return false };
        let (verdict, trace) = match resume(&input, &policy, continuation, outcome) {
            Ok((Some(verdict), trace)) => {
                let counters = &mut self.counters.security.policy;
                settle_lookups(&policy, &input, (verdict, trace), |v| counters.record(v))
            }
            Ok((None, trace)) => {
                tracing::debug!("CPL proxy result without an output:\n{trace}");
                return false;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot resume the CPL script");
                return false;
            }
        };
        tracing::debug!("CPL proxy result, script resumed:\n{trace}");
        match verdict {
            Verdict::Allow(next) if !next.targets().is_empty() => self.cpl_round(now, id, next),
            // The script ended with nothing more to try: the best response stands.
            Verdict::Allow(_) => false,
            refused => {
                let reply = refusal(&input, source, &refused);
                self.cpl_reply(now, id, &reply);
                false
            }
        }
    }

    /// Starts a new round of context `id` with `allowed`'s location set, each location routed by
    /// the locator as in the first round. A location set that cannot be routed answers the
    /// caller with the locator's status (404 when no search rule takes it).
    fn cpl_round(&mut self, now: Instant, id: CtxId, allowed: PolicyAllowed) -> bool {
        let Some(ctx) = ctx_in(&mut self.ctxs, id) else { return false };
        let Some(attempt) = ctx.cpl.as_deref_mut().filter(|a| a.rounds < MAX_ROUNDS) else { return false };
        attempt.rounds += 1;
        let clearance = attempt.clearance.with_policy(allowed);
        let (request, arrival) = (ctx.request.clone(), attempt.arrival.clone());
        let Some(request_uri) = request.request_uri_str().and_then(|u| Uri::parse(u).ok()) else { return false };
        let located = {
            let rctx = RequestCtx {
                transport: arrival.transport,
                local: arrival.local,
                peer: arrival.peer,
                flow: arrival.flow,
                tls_peer_names: arrival.tls_peer_names.as_deref(),
                request_uri,
                uri_is_ours: false,
                route: None,
                health: self.health(),
                clearance: Some(&clearance),
            };
            self.locator.locate(&request, &rctx)
        };
        let mut targets = match located {
            Ok(targets) if !targets.is_empty() => targets,
            Ok(_) => {
                self.cpl_reply(now, id, &LocalReply { status: StatusCode::NOT_FOUND, detail: None, extra: Vec::new() });
                return false;
            }
            // A later round whose locations need DNS lookups first is answered like one that
            // cannot be routed (see docs/policy.md).
            Err(error) => {
                self.cpl_reply(now, id, &LocalReply { status: error.status(), detail: None, extra: Vec::new() });
                return false;
            }
        };
        clearance.strip_untrusted_identity(&request, &mut targets);
        let Some(ctx) = ctx_in(&mut self.ctxs, id) else { return false };
        // The settled branches of the last round are forgotten: their transactions absorb
        // retransmissions on their own, and the new round's branches start from index 0.
        for branch in ctx.branches.drain(..) {
            if let Some(txn) = branch.txn {
                self.by_client.remove(&txn);
            }
        }
        ctx.best = BestResponse::default();
        ctx.challenges.clear();
        ctx.failover = None;
        let Some(mut attempt) = ctx.cpl.take() else { return false };
        if let Some(allowed) = clearance.policy().cloned() {
            attempt.note_tried(&allowed);
        }
        attempt.clearance = clearance;
        attempt.timed_out = false;
        let plan = ForwardPlan { targets, ..attempt.plan.clone() };
        self.arm_cpl_timer(now, id, &mut attempt);
        if let Some(ctx) = self.ctx_mut(id) {
            ctx.cpl = Some(attempt);
        }
        self.start_targets(now, id, plan, arrival);
        true
    }

    /// Answers the caller with what the script decided (a `reject`, a `redirect` with its
    /// Contacts, or the status of a round that could not start), through the server transaction.
    fn cpl_reply(&mut self, now: Instant, id: CtxId, reply: &LocalReply) {
        let Some(ctx) = ctx_in(&mut self.ctxs, id) else { return };
        ctx.final_sent = true;
        let (server, request) = (ctx.server, ctx.request.clone());
        let tag = self.ids.next_tag();
        let reason = reply.detail.as_deref().unwrap_or(reply.status.default_reason());
        let mut builder = ResponseBuilder::new(&request, reply.status).reason(reason).to_tag(tag.as_str());
        for (name, value) in &reply.extra {
            builder = builder.header(name.as_str(), value);
        }
        if let Some(server_header) = &self.config.server {
            builder = builder.header("Server", server_header);
        }
        match builder.build() {
            Ok(response) => match self.txns.respond_bytes(now, server, reply.status, response.into_bytes()) {
                Ok(()) => self.counters.responses_sent.add(reply.status),
                Err(error) => tracing::debug!(%error, "CPL answer not sent"),
            },
            Err(error) => tracing::debug!(%error, "cannot build the CPL answer"),
        }
    }
}
