//! The edge routing engine behind the proxy's [`Locator`] seam: causeway-routing's zones,
//! authentication policy, transforms and search rules decide where each initial request goes,
//! and the same [`EdgeRouter::route`] answers `causeway locate` (the dry run).
//!
//! ```text
//! classify (listener, source, mTLS names) ─▶ ZoneClassified
//!   ─▶ authentication policy ─▶ Authentication
//!   ─▶ rewriter (Zoom repair) ─▶ transforms ─▶ search rules ─▶ Decision (target groups + Trace)
//!   ─▶ next hops per target (peers up, RFC 3263 order; a lookup not answered yet parks the
//!      request: LocateError::Lookup) ─▶ Targets: first hop, alternates, group, Max-Forwards
//!      (hop count), fields left out (RFC 3325 identity, SIP profile)
//! ```
//!
//! The proof tokens flow in that order: only the classifier makes a [`ZoneClassified`], only the
//! zone's authentication policy an [`Authentication`] from it, and only routing's locate the
//! [`Decision`] the targets come from. When the core runs its security phases
//! ([`crate::Core::with_security`]) they classify, authenticate (digest for `check-credentials`
//! zones) and apply call policy first, and this router routes with their [`crate::Clearance`];
//! without them it classifies and applies the zone's policy itself, and refuses (403) a zone that
//! checks credentials rather than let its requests through unauthenticated. The core fails over
//! along the targets (RFC 3263 §4.3 for the hops of a target, the next group when a whole group
//! fails: a search rule's `continue`).

mod dry_run;
mod hops;
mod locations;
mod request;
mod zoom;

use std::fmt;
use std::sync::Arc;

use causeway_routing::{
    authenticate, classify, AliasRewriter, AuthRequirement, Authentication, ClassifyInput, Decision, HealthSnapshot,
    Locate, RoutingTable, ZoneClassified,
};
use causeway_sip::{Message, StatusCode};
use rand::SeedableRng;

pub use dry_run::DryRun;
pub use hops::{drive, Resolved};
pub use zoom::{WallClock, ZoomRepair};

use crate::locate::{LocateError, Locator, RequestCtx, Target};
use request::RequestView;

/// A rewriter that may be shared with the node's tasks.
pub type SharedRewriter = Arc<dyn AliasRewriter + Send + Sync>;

/// The routing engine as the proxy's locator.
#[derive(Clone)]
pub struct EdgeRouter {
    table: Arc<RoutingTable>,
    local_hosts: Vec<String>,
    rewriter: Option<SharedRewriter>,
    seed: u64,
}

/// Where one request goes, and why.
#[derive(Debug)]
pub struct EdgeDecision {
    /// The request's zone.
    pub classified: ZoneClassified,
    /// Routing's decision, its trace ending with each target's next hops; `None` when the
    /// request was refused before the search (credentials it could not check).
    pub decision: Option<Decision>,
    /// The proxy's target set, or the final answer.
    pub outcome: Result<Vec<Target>, LocateError>,
}

impl EdgeRouter {
    /// A router over `table`.
    pub fn new(table: Arc<RoutingTable>) -> Self {
        Self { table, local_hosts: Vec::new(), rewriter: None, seed: 0 }
    }

    /// This node's names (`host` or `host:port`): Route headers naming them are not aliases.
    #[must_use]
    pub fn with_local_hosts(mut self, hosts: Vec<String>) -> Self {
        self.local_hosts = hosts;
        self
    }

    /// A Request-URI rewriter run before the transforms (the Zoom repair).
    #[must_use]
    pub fn with_rewriter(mut self, rewriter: SharedRewriter) -> Self {
        self.rewriter = Some(rewriter);
        self
    }

    /// Seeds the weighted order of equal-priority peers (RFC 2782); per request it is mixed
    /// with the Call-ID, so retransmissions and replays pick the same order.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The compiled table.
    pub fn table(&self) -> &Arc<RoutingTable> {
        &self.table
    }

    /// The whole decision for `request` arriving as `ctx` (the live path passes no dry run).
    pub fn route(&self, request: &Message, ctx: &RequestCtx<'_>, dry_run: Option<&DryRun>) -> EdgeDecision {
        let assumed_up;
        let health = match (ctx.health, dry_run) {
            (Some(h), _) => h,
            (None, Some(_)) => {
                assumed_up = HealthSnapshot::assume_up();
                &assumed_up
            }
            (None, None) => {
                assumed_up = HealthSnapshot::default();
                &assumed_up
            }
        };
        // The core's security phases, when they run, have classified and authenticated the
        // request already (digest included): route with their verdict.
        let cleared = ctx.clearance.filter(|_| dry_run.is_none());
        let classified = match (cleared, dry_run.and_then(|d| d.zone.as_deref())) {
            (Some(clearance), _) => Some(clearance.zone().clone()),
            (None, Some(zone)) => causeway_routing::classify::assume(&self.table, zone),
            (None, None) => None,
        };
        let classified = classified.unwrap_or_else(|| {
            let input = ClassifyInput {
                listener: ctx.local,
                source: ctx.peer,
                transport: ctx.transport,
                tls_peer_names: ctx.tls_peer_names,
            };
            classify(&input, &self.table, health)
        });
        let given = dry_run.and_then(|d| d.authenticated);
        let authentication = match (cleared, given, authenticate(&classified, &self.table)) {
            (Some(clearance), _, _) => clearance.authentication().clone(),
            (None, Some(given), _) => causeway_routing::auth::assume(&classified, &self.table, given),
            (None, None, AuthRequirement::Decided(a)) => a,
            (None, None, AuthRequirement::CheckCredentials(_)) => {
                let outcome = Err(LocateError::Rejected { status: StatusCode::FORBIDDEN });
                return EdgeDecision { classified, decision: None, outcome };
            }
        };
        let view = RequestView::of(request, ctx);
        let mut decision = self.locate(&view, &classified, &authentication, health);
        // Call policy's verdict: the gate's (live), or the dry run's, evaluated the same way.
        let allowed = match dry_run {
            Some(d) => match dry_run::police(d, request, &classified, &authentication, &ctx.request_uri, &mut decision) {
                Ok(allowed) => allowed,
                Err(refused) => return EdgeDecision { classified, decision: Some(decision), outcome: Err(refused) },
            },
            None => cleared.and_then(crate::Clearance::policy).cloned(),
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(self.seed ^ call_hash(request));
        if let Some(allowed) = allowed.filter(|a| !a.targets().is_empty()) {
            // A CPL location set replaces the search (RFC 3880 §6.1).
            let routed = locations::Routed { request, ctx, classified: &classified, authentication: &authentication, health };
            let outcome = locations::targets(self, &routed, &allowed, &mut decision, &mut rng);
            return EdgeDecision { classified, decision: Some(decision), outcome };
        }
        let outcome = match decision.outcome {
            causeway_routing::Outcome::Route { .. } => {
                hops::targets(&self.table, &mut decision, Some(request), &authentication, health, &mut rng)
            }
            causeway_routing::Outcome::Reject { status, .. } => {
                Err(LocateError::Rejected { status: StatusCode::new(status).unwrap_or(StatusCode::FORBIDDEN) })
            }
            // Only routing's own call-policy phase gives this outcome, and this router does not
            // run it (the gate does; a location set is routed above).
            causeway_routing::Outcome::Policy => Err(LocateError::Rejected { status: StatusCode::SERVER_INTERNAL_ERROR }),
        };
        EdgeDecision { classified, decision: Some(decision), outcome }
    }

    fn locate(&self, view: &RequestView, classified: &ZoneClassified, auth: &Authentication, health: &HealthSnapshot) -> Decision {
        let input = view.input(classified, auth, &self.local_hosts);
        let mut locate = Locate::new(&self.table, health);
        if let Some(rewriter) = &self.rewriter {
            locate = locate.with_rewriter(rewriter.as_ref());
        }
        locate.run(&input)
    }
}

impl fmt::Debug for EdgeRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdgeRouter")
            .field("zones", &self.table.zone_names())
            .field("local_hosts", &self.local_hosts)
            .field("rewriter", &self.rewriter.as_ref().map(|r| r.name().to_owned()))
            .finish_non_exhaustive()
    }
}

impl Locator for EdgeRouter {
    fn locate(&self, request: &Message, ctx: &RequestCtx<'_>) -> Result<Vec<Target>, LocateError> {
        let decided = self.route(request, ctx, None);
        if tracing::enabled!(tracing::Level::DEBUG) {
            match &decided.decision {
                Some(decision) => tracing::debug!(zone = decided.classified.zone(), "routing decision:\n{decision}"),
                None => tracing::debug!(zone = decided.classified.zone(), "refused: the zone checks credentials"),
            }
        }
        decided.outcome
    }
}

/// A stable hash of the Call-ID (per-request randomness that replays reproduce).
fn call_hash(request: &Message) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    request.call_id().unwrap_or_default().hash(&mut h);
    h.finish()
}
