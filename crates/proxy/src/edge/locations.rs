//! A CPL location set as the target set (RFC 3880 §6.1): a script that added locations and
//! proxies sends the request to them instead of the destination the search rules would find.
//! Each location is routed as the edge routes any alias — transforms, search rules, the zone's
//! next hops — with the location as the branch's Request-URI (RFC 3261 §16.6 step 2), so a
//! script cannot reach a place the zones do not. `parallel` forks to all at once, `sequential`
//! gives each location a later target group (the core starts the next one only when every branch
//! so far failed), `first-only` keeps the highest-priority location. Live traffic and
//! `causeway locate` run this same function.

use causeway_policy::verdict::Ordering;
use causeway_policy::PolicyAllowed;
use causeway_routing::{Authentication, Decision, HealthSnapshot, Outcome, TraceStep, ZoneClassified};
use causeway_sip::uri::Uri;
use causeway_sip::{Message, StatusCode};
use rand::RngCore;

use super::request::RequestView;
use super::{hops, EdgeRouter};
use crate::locate::{LocateError, RequestCtx, Target};

/// The routing inputs one decision shares.
pub(super) struct Routed<'a> {
    pub(super) request: &'a Message,
    pub(super) ctx: &'a RequestCtx<'a>,
    pub(super) classified: &'a ZoneClassified,
    pub(super) authentication: &'a Authentication,
    pub(super) health: &'a HealthSnapshot,
}

/// The targets of `allowed`'s location set; `decision` (the request's own) ends with each
/// location's search and is marked as carried out by call policy.
pub(super) fn targets(
    router: &EdgeRouter,
    routed: &Routed<'_>,
    allowed: &PolicyAllowed,
    decision: &mut Decision,
    rng: &mut dyn RngCore,
) -> Result<Vec<Target>, LocateError> {
    let steps = &mut decision.trace.steps;
    // The destination's own search does not run: a location set replaces it.
    let policy_at = steps.iter().position(|s| matches!(s, TraceStep::Policy { .. } | TraceStep::PolicyNotEvaluated));
    steps.truncate(policy_at.map_or(steps.len(), |at| at + 1));
    decision.outcome = Outcome::Policy;
    let sequential = allowed.ordering() == Ordering::Sequential;
    let mut out: Vec<Target> = Vec::new();
    let mut unanswered = Vec::new();
    let mut failure = None;
    for location in allowed.locations_to_try() {
        let Ok(uri) = Uri::parse(&location.uri) else {
            // A script's location is checked when it is built (`taa:location` rewrites too).
            failure = Some(StatusCode::SERVER_INTERNAL_ERROR);
            continue;
        };
        // The location is the Request-URI now; Route headers the request brought are not aliases
        // for it.
        let ctx = RequestCtx { request_uri: uri, route: None, ..*routed.ctx };
        let view = RequestView::of(routed.request, &ctx);
        let mut found = router.locate(&view, routed.classified, routed.authentication, routed.health);
        let result = match &found.outcome {
            Outcome::Route { .. } => {
                hops::targets(router.table(), &mut found, Some(routed.request), routed.authentication, routed.health, rng)
            }
            Outcome::Reject { status, .. } => {
                Err(LocateError::Rejected { status: StatusCode::new(*status).unwrap_or(StatusCode::NOT_FOUND) })
            }
            Outcome::Policy => Err(LocateError::Rejected { status: StatusCode::SERVER_INTERNAL_ERROR }),
        };
        decision.trace.steps.extend(found.trace.steps.into_iter().filter(|s| !matches!(s, TraceStep::Zone { .. } | TraceStep::Authentication { .. })));
        let base = match out.iter().map(|t| t.options.group).max() {
            Some(last) if sequential => last.saturating_add(1),
            _ => 0,
        };
        match result {
            Ok(targets) => out.extend(targets.into_iter().map(|mut t| {
                t.request_uri.get_or_insert_with(|| location.uri.clone());
                t.options.group = t.options.group.saturating_add(base);
                t
            })),
            Err(LocateError::Lookup { queries }) => unanswered.extend(queries),
            Err(e) => failure = failure.or(Some(e.status())),
        }
    }
    if !unanswered.is_empty() {
        return Err(LocateError::Lookup { queries: unanswered });
    }
    if out.is_empty() {
        return Err(failure.map_or(LocateError::NoRoute, |status| LocateError::Rejected { status }));
    }
    Ok(out)
}
