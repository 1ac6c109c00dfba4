//! What `causeway locate` changes on the live path: the arrival is described instead of observed
//! (a zone and an authentication may be given), peers count as up, and call policy — which the
//! core's security phases evaluate before a live request is located — is evaluated here with the
//! very input those phases build, so the trace shows its verdict where Expressway's would: after
//! the transforms, before the search rules. A refusal ends the decision there, as it does live.

use std::sync::Arc;

use causeway_policy::{PolicySet, Verdict};
use causeway_routing::{Authentication, Decision, Outcome, RejectCause, TraceStep, ZoneClassified};
use causeway_sip::uri::Uri;
use causeway_sip::{Message, StatusCode};
use chrono::{DateTime, Utc};

use crate::locate::LocateError;
use crate::security::policy_input;

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

/// Evaluates the dry run's call policy over `request` and writes its verdict into `decision`'s
/// trace; a request policy does not allow gets its answer, and the search steps go (they would
/// not run).
pub(crate) fn police(
    dry_run: &DryRun,
    request: &Message,
    classified: &ZoneClassified,
    authentication: &Authentication,
    request_uri: &Uri<'_>,
    decision: &mut Decision,
) -> Option<LocateError> {
    let (set, wall_time) = dry_run.policy.as_ref()?;
    let input = policy_input(request, classified.zone(), authentication, request_uri, *wall_time);
    let (verdict, trace) = causeway_policy::evaluate(&input, set);
    let (summary, refusal) = match &verdict {
        Verdict::Allow(_) => ("allow".to_owned(), None),
        Verdict::Reject(r) => (format!("reject {} {}", r.status, r.reason), Some((r.status, r.reason.clone()))),
        Verdict::Redirect(r) => {
            let status = if r.permanent { StatusCode::MOVED_PERMANENTLY } else { StatusCode::MOVED_TEMPORARILY };
            ("redirect".to_owned(), Some((status.as_u16(), status.default_reason().to_owned())))
        }
        // The node answers a CPL lookup "failed" and resumes the script; the dry run shows where
        // the script stopped.
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
    let (status, reason) = refusal?;
    decision.outcome = Outcome::Reject { status, reason, cause: RejectCause::Policy };
    Some(LocateError::Rejected { status: StatusCode::new(status).unwrap_or(StatusCode::FORBIDDEN) })
}
