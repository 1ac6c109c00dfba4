//! Serial failover of a proxied request: the next hop of a target after a timeout, a transport
//! error or 503 (RFC 3263 §4.3), and the next target group after every branch failed to reach
//! anyone (Expressway's search rule "continue": a zone that cannot route the request hands it
//! to the rules of the next priority).
//!
//! A target set whose targets all sit in one group with no alternates — every plain locator's —
//! runs exactly as before: all branches start at once and no state is kept here. Otherwise the
//! context keeps a [`Failover`]: the plan and arrival (later branches are built long after the
//! request arrived), and for each branch the target and hop it serves. [`Core::fail_over`] runs
//! each time the context may complete, before the best response is chosen, and starts:
//!
//! - for each branch that just failed with 408 (Timer B/F, or Timer C without a provisional) or
//!   503 (received, a transport error — RFC 3261 §16.9 — or no way to send it), the next hop of
//!   its target;
//! - when every branch is settled and each failed with 404, 408 or 503, the targets of the next
//!   group (a 404 means "not in that zone", so the next priority may know the alias); for a CPL
//!   `sequential` proxy, after any non-2xx (security/outputs.rs).
//!
//! Nothing more starts once a final response went upstream, a branch answered 6xx (§16.7 step
//! 5: a global failure ends the search) or any branch was cancelled (the caller's CANCEL, Timer
//! C after a provisional).

use std::time::Instant;

use causeway_sip::StatusCode;
use smallvec::SmallVec;

use crate::context::{BranchState, Cancel, CtxId};
use crate::core::Core;
use crate::locate::{Locator, Target};
use crate::plan::{Arrival, ForwardPlan};
use crate::proxying::MAX_BRANCHES;

/// Branches one request may start over its whole life, failover included: with at most
/// [`MAX_BRANCHES`] targets per group and a bounded hop list per target, this only stops a
/// locator bug from looping.
const MAX_ATTEMPTS: usize = 4 * MAX_BRANCHES;

/// The failover state of one context.
#[derive(Debug)]
pub(crate) struct Failover {
    /// The request's plan; its `targets` are every target of every group.
    plan: ForwardPlan,
    /// Where the request came from: later branches take their Record-Route from it.
    arrival: Arrival,
    /// For each branch of the context, in order: the target (index into `plan.targets`) and
    /// the hop (0 for its `next_hop`, `k` for `alternates[k - 1]`) it was sent to, and
    /// whether its failure was already acted on.
    branches: SmallVec<[Attempt; 4]>,
    /// The group running.
    group: u16,
}

#[derive(Debug, Clone, Copy)]
struct Attempt {
    target: usize,
    hop: usize,
    handled: bool,
}

/// RFC 3263 §4.3: the next hop is tried after a timeout, a transport error or 503 (call
/// control's legs fail over by the same rule).
pub fn next_hop_after(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::SERVICE_UNAVAILABLE
}

/// A group that ended with only these lets the next group try (a zone without the alias says
/// 404; one that cannot be reached times out or is unavailable).
fn next_group_after(status: StatusCode) -> bool {
    next_hop_after(status) || status == StatusCode::NOT_FOUND
}

impl Failover {
    /// The hop `hop` of target `t`, as a target of its own.
    fn attempt(&self, t: usize, hop: usize) -> Option<Target> {
        let target = self.plan.targets.get(t)?;
        let next_hop = match hop {
            0 => target.next_hop,
            k => *target.options.alternates.get(k - 1)?,
        };
        Some(Target { next_hop, ..target.clone() })
    }

    /// The lowest group above the running one, if any target has one.
    fn next_group(&self) -> Option<u16> {
        self.plan.targets.iter().map(|t| t.options.group).filter(|g| *g > self.group).min()
    }
}

impl<L: Locator> Core<L> {
    /// Starts the first group of `plan`'s targets for context `id`, keeping failover state
    /// when later hops or groups exist.
    pub(crate) fn start_targets(&mut self, now: Instant, id: CtxId, plan: ForwardPlan, arrival: Arrival) {
        let first = plan.targets.iter().map(|t| t.options.group).min().unwrap_or(0);
        let serial = plan.targets.iter().any(|t| t.options.group != first || !t.options.alternates.is_empty());
        if !serial {
            for target in plan.targets.iter().take(MAX_BRANCHES) {
                self.start_branch(now, id, &plan, &arrival, target);
            }
            return;
        }
        let mut failover = Box::new(Failover { plan, arrival, branches: SmallVec::new(), group: first });
        let starts: Vec<(usize, usize)> =
            failover.plan.targets.iter().enumerate().filter(|(_, t)| t.options.group == first).map(|(i, _)| (i, 0)).collect();
        self.start_attempts(now, id, &mut failover, &starts);
        if let Some(ctx) = self.ctx_mut(id) {
            ctx.failover = Some(failover);
        }
    }

    /// Starts what failed branches leave to try; see the module doc.
    pub(crate) fn fail_over(&mut self, now: Instant, id: CtxId) {
        let Some(ctx) = self.ctx_mut(id) else { return };
        if ctx.final_sent || ctx.failover.is_none() {
            return;
        }
        let stopped = ctx.cpl.as_ref().is_some_and(|c| c.is_over())
            || ctx.branches.iter().any(|b| {
                b.cancel != Cancel::No || matches!(b.state, BranchState::Done(status) if status.class() == 6)
            });
        let Some(mut failover) = ctx.failover.take() else { return };
        if stopped {
            ctx.failover = Some(failover);
            return;
        }
        loop {
            let Some(ctx) = self.ctx_mut(id) else { return };
            let mut starts: Vec<(usize, usize)> = Vec::new();
            for (branch, attempt) in ctx.branches.iter().zip(failover.branches.iter_mut()) {
                let BranchState::Done(status) = branch.state else { continue };
                if attempt.handled || !next_hop_after(status) {
                    continue;
                }
                attempt.handled = true;
                if failover.plan.targets.get(attempt.target).is_some_and(|t| attempt.hop < t.options.alternates.len()) {
                    starts.push((attempt.target, attempt.hop + 1));
                }
            }
            // A CPL `sequential` proxy goes on after any failure (RFC 3880 §6.1: "until one
            // succeeds or the set is exhausted").
            let any_failure = ctx.cpl.as_ref().is_some_and(|c| c.is_sequential());
            let group_failed = starts.is_empty()
                && ctx.all_settled()
                && ctx.branches.iter().all(|b| {
                    matches!(b.state, BranchState::Done(status) if next_group_after(status) || (any_failure && !status.is_success()))
                });
            if group_failed {
                if let Some(group) = failover.next_group() {
                    failover.group = group;
                    let targets = failover.plan.targets.iter().enumerate();
                    starts = targets.filter(|(_, t)| t.options.group == group).map(|(i, _)| (i, 0)).collect();
                }
            }
            if starts.is_empty() || failover.branches.len() >= MAX_ATTEMPTS {
                break;
            }
            self.start_attempts(now, id, &mut failover, &starts);
        }
        if let Some(ctx) = self.ctx_mut(id) {
            ctx.failover = Some(failover);
        }
    }

    /// Starts one branch per `(target, hop)`, recording which branch serves which.
    fn start_attempts(&mut self, now: Instant, id: CtxId, failover: &mut Failover, starts: &[(usize, usize)]) {
        for &(t, hop) in starts.iter().take(MAX_BRANCHES) {
            let Some(target) = failover.attempt(t, hop) else { continue };
            let before = self.ctx_mut(id).map_or(0, |c| c.branches.len());
            self.start_branch(now, id, &failover.plan, &failover.arrival, &target);
            let after = self.ctx_mut(id).map_or(0, |c| c.branches.len());
            if after > before {
                failover.branches.push(Attempt { target: t, hop, handled: false });
            }
        }
    }
}
