//! What `causeway locate` changes on the live path: the arrival is described instead of observed
//! (a zone and an authentication may be given), peers count as up, and call policy — which the
//! core's security phases evaluate before a live request is located — is evaluated here with the
//! very input those phases build, so the trace shows its verdict where Expressway's would: after
//! the transforms, before the search rules. A refusal ends the decision there, as it does live.

use std::sync::Arc;

use causeway_policy::verdict::Ordering;
use causeway_policy::{PolicyAllowed, PolicySet, Verdict};
use causeway_routing::{Authentication, Decision, Outcome, RejectCause, TraceStep, ZoneClassified};
use causeway_sip::uri::Uri;
use causeway_sip::{Message, StatusCode};
use chrono::{DateTime, Utc};

use crate::locate::LocateError;
use crate::security::{call_policy, policy_input};

/// The dry run's description of a request's arrival.
#[derive(Debug, Clone, Default)]
pub struct DryRun {
    /// The request comes from this zone (`causeway locate --zone`).
    pub zone: Option<String>,
    /// The request counts as authenticated, or not (`causeway locate --authenticated`).
    pub authenticated: Option<bool>,
    /// Call policy and the wall time of the call (CPL time switches).
    pub policy: Option<(Arc<PolicySet>, DateTime<Utc>)>,
}

/// What a `proxy` node does after its attempt, which a dry run cannot know the outcome of: its
/// timer, whether it follows redirects, and the outputs the script continues at (RFC 3880 §6.1).
fn proxy_node(allowed: &PolicyAllowed) -> String {
    let Some(hints) = allowed.proxy() else { return String::new() };
    let timer = hints.ring_limit.map_or_else(|| "no timeout".to_owned(), |s| format!("timeout {s} s"));
    let recurse = if hints.recurse { "follows 3xx" } else { "3xx to the redirection output" };
    let names = hints.outputs.names();
    let outputs = if names.is_empty() { "none (the best response goes upstream)".to_owned() } else { names.join(", ") };
    format!("; {timer}, {recurse}; outputs: {outputs}")
}

/// Evaluates the dry run's call policy over `request` as the live gate does (a CPL `lookup`
/// answered "failed" and the script resumed) and writes its verdict into `decision`'s trace; a
/// request policy does not allow gets its answer, and the search steps go (they would not run).
/// `Ok` carries the verdict that allowed it (its CPL location set, if any); `Ok(None)` without
/// call policy.
pub(crate) fn police(
    dry_run: &DryRun,
    request: &Message,
    classified: &ZoneClassified,
    authentication: &Authentication,
    request_uri: &Uri<'_>,
    decision: &mut Decision,
) -> Result<Option<PolicyAllowed>, LocateError> {
    let Some((set, wall_time)) = dry_run.policy.as_ref() else { return Ok(None) };
    let input = policy_input(request, classified.zone(), authentication, request_uri, *wall_time);
    let (verdict, trace) = call_policy(set, &input, |_| ());
    let (summary, refusal) = match &verdict {
        Verdict::Allow(a) if a.targets().is_empty() => ("allow".to_owned(), None),
        Verdict::Allow(a) => {
            let uris: Vec<&str> = a.locations_to_try().iter().map(|t| t.uri.as_str()).collect();
            let ordering = match a.ordering() {
                Ordering::Parallel => "parallel",
                Ordering::Sequential => "sequential",
                Ordering::FirstOnly => "first-only",
            };
            (format!("proxy ({ordering}) to {}{}", uris.join(", "), proxy_node(a)), None)
        }
        Verdict::Reject(r) => (format!("reject {} {}", r.status, r.reason), Some((r.status, r.reason.clone()))),
        Verdict::Redirect(r) => {
            let status = if r.permanent { StatusCode::MOVED_PERMANENTLY } else { StatusCode::MOVED_TEMPORARILY };
            let contacts: Vec<String> = r.contacts.iter().map(|c| format!("<{}>", c.uri)).collect();
            let summary = format!("redirect {} {} with Contact: {}", status.as_u16(), status.default_reason(), contacts.join(", "));
            (summary, Some((status.as_u16(), status.default_reason().to_owned())))
        }
        // `call_policy` resolves every lookup.
        Verdict::Lookup(_) => ("lookup".to_owned(), None),
    };
    let step = TraceStep::Policy { verdict: summary, decided_by: verdict.decided_by().to_string(), trace };
    let steps = &mut decision.trace.steps;
    let at = steps.iter().position(|s| matches!(s, TraceStep::PolicyNotEvaluated)).unwrap_or(steps.len());
    if refusal.is_some() {
        steps.truncate(at);
    }
    match steps.get_mut(at) {
        Some(slot) => *slot = step,
        None => steps.push(step),
    }
    let Some((status, reason)) = refusal else { return Ok(verdict.allowed().cloned()) };
    decision.outcome = Outcome::Reject { status, reason, cause: RejectCause::Policy };
    Err(LocateError::Rejected { status: StatusCode::new(status).unwrap_or(StatusCode::FORBIDDEN) })
}
