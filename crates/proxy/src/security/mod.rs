//! The edge's protections, run as phases of the core (issue 4, docs/policy.md): the flood guard
//! before a message is even parsed, then — for every request that does not follow our own sealed
//! Record-Route — the zone's authentication policy and call policy, before it is located or
//! handed to call control.
//!
//! ```text
//! bytes ─▶ screen: zone (routing's classify) ─▶ flood guard ──banned──▶ dropped, no answer
//!   ─▶ parse ─▶ agent offer: responses, ACK/CANCEL, REGISTER for the registrar, requests in the
//!              agent's dialogs, retransmissions (already the agent's; the registrar digests itself)
//!   ─▶ validate (§16.3), loop, Route (§16.4), OPTIONS to us   (plan.rs)
//!   ─▶ gate: authenticate (zone policy; digest 401 for REGISTER, 407 otherwise; a username
//!            under a brute-force ban is dropped) ─▶ call policy (every method but REGISTER)
//!            ─▶ Clearance { zone, authentication, policy verdict, Route honoured? }
//!   ─▶ the agent wants this initial request? ─▶ take_initial(request, Clearance)  (call control)
//!   ─▶ preloaded Routes: removed (zone does not honour them) or an alias for the search
//!   ─▶ locate (the edge router reads the clearance) ─▶ forward, P-Asserted-Identity stripped
//!      from unauthenticated requests (RFC 3325 §5), Record-Route sealed
//! ```
//!
//! Our Record-Route entries carry a seal (`cws=`, HMAC-SHA256 under a key drawn at start-up over
//! the Call-ID and the entry's flow token, truncated to 64 bits). A request inside a dialog whose
//! Route to us — or, after a strict router, whose Request-URI — carries its dialog's seal was
//! cleared when the dialog was created (§16.12) and is not checked again; any other request,
//! forged "in-dialog" ones included, goes through the gate, and a Route it brought is never a next
//! hop of its own. Every refusal and ban is logged once (target `causeway::audit`, fields zone,
//! source, from, to, rule) and counted ([`SecurityCounters`], with the proxy's counters).

mod gate;
mod outputs;
mod screen;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use causeway_policy::audit::{AuditRecord, PolicyCounters};
use causeway_policy::digest::credentials::CredentialTable;
use causeway_policy::digest::nonce::NonceSecret;
use causeway_policy::digest::{DigestAuth, DigestConfig};
use causeway_policy::flood::{FloodConfig, FloodGuard, FloodStatus};
use causeway_policy::seal::RouteKey;
use causeway_policy::{PolicyAllowed, PolicyInput, PolicySet};
use causeway_routing::{Authentication, HealthSnapshot, IdentityHeaders, RoutingTable, ZoneClassified};
use causeway_sip::{HeaderField, HeaderName, Message};
use smallvec::SmallVec;
use chrono::{DateTime, Utc};

use crate::core::Core;
use crate::locate::{Locator, Target};

pub(crate) use gate::{call_policy, policy_input, Gate, GateOutcome};
pub(crate) use outputs::{CplAttempt, CPL_TIMER};

/// What the security phases run with. `causeway-node` builds it from the validated
/// configuration; the same `zones` table should serve the edge router.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// Zones: classification of each request and its zone's authentication policy. A table
    /// without zones holds only the default zone.
    pub zones: Arc<RoutingTable>,
    /// Call policy (a rule table, a CPL script, or off).
    pub policy: Arc<PolicySet>,
    /// Digest settings; needed by zones that check credentials.
    pub digest: Option<DigestConfig>,
    /// HA1 hashes by username, for the digest realm.
    pub credentials: Arc<CredentialTable>,
    /// Flood and brute-force limits; `None` turns the guard off.
    pub flood: Option<FloodConfig>,
    /// The key of the stateless nonces (32 random bytes, drawn at start-up, or shared by the
    /// nodes of a cluster).
    pub nonce_secret: NonceSecret,
    /// The key that seals our Record-Route entries (32 random bytes drawn at start-up): only a
    /// request whose Route carries its dialog's seal passes without the gate.
    pub route_key: RouteKey,
}

/// What the security phases established about an initial request: its zone, whether it is
/// authenticated, and call policy's proof that it may be routed. The locator gets it in
/// [`crate::RequestCtx::clearance`]; only the gate builds one.
#[derive(Debug, Clone)]
pub struct Clearance {
    zone: ZoneClassified,
    authentication: Authentication,
    policy: Option<PolicyAllowed>,
    honours_route_header: bool,
    /// What call policy saw, kept when it allowed the request at a CPL `proxy` node: the node's
    /// outputs resume the script with it (outputs.rs).
    input: Option<Box<PolicyInput>>,
}

impl Clearance {
    /// The zone the request was classified into.
    pub fn zone(&self) -> &ZoneClassified {
        &self.zone
    }

    /// The zone's authentication policy applied to it (digest checked, trusted, or not checked).
    pub fn authentication(&self) -> &Authentication {
        &self.authentication
    }

    /// Call policy's verdict: the rule or CPL node that allowed it, and a CPL location set;
    /// `None` for a REGISTER (registrations are authenticated, not call-policed).
    pub fn policy(&self) -> Option<&PolicyAllowed> {
        self.policy.as_ref()
    }

    /// Whether the zone honours preloaded Route headers (`honor_route_header`, Expressway's
    /// "preloaded SIP routes support"): then the topmost Route that is not this node is the
    /// alias search rules match (flow F2); otherwise such Routes are removed and the request is
    /// routed by its Request-URI.
    pub fn honours_route_header(&self) -> bool {
        self.honours_route_header
    }

    /// The same clearance for another round of the request's CPL `proxy` attempt.
    pub(crate) fn with_policy(&self, allowed: PolicyAllowed) -> Self {
        Self { policy: Some(allowed), ..self.clone() }
    }

    /// RFC 3325 §5: P-Asserted-Identity and P-Preferred-Identity leave the trust domain only on
    /// authenticated requests; for the others they are left out of every branch.
    pub(crate) fn strip_untrusted_identity(&self, msg: &Message, targets: &mut [Target]) {
        if self.authentication.identity_headers() == IdentityHeaders::Keep {
            return;
        }
        let identity = |h: &HeaderField<'_>| matches!(h.name, HeaderName::PAssertedIdentity | HeaderName::PPreferredIdentity);
        let fields: SmallVec<[usize; 4]> = msg.headers().filter(identity).map(|h| h.index()).collect();
        for target in targets {
            let removed = &mut target.options.remove_fields;
            for field in &fields {
                if !removed.contains(field) {
                    removed.push(*field);
                }
            }
        }
    }
}

/// What the security phases did, since start. Monotonic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityCounters {
    /// Requests the flood guard dropped unparsed (their source is banned).
    pub flood_dropped: u64,
    /// Requests the gate dropped unanswered: the failure that started a brute-force ban, and
    /// any attempt on a banned username.
    pub auth_dropped: u64,
    /// Bans started (sources and usernames).
    pub bans_started: u64,
    /// Challenges sent (401/407), including the first one of every client.
    pub challenges: u64,
    /// Digest responses that were wrong or named an unknown user.
    pub auth_failures: u64,
    /// Requests authenticated by digest.
    pub authenticated: u64,
    /// Credentials refused as malformed (400).
    pub malformed_credentials: u64,
    /// Call policy's decisions per rule, CPL node and default action.
    pub policy: PolicyCounters,
}

/// `flood_dropped=0 auth_dropped=0 … malformed_credentials=0`, then one `; policy <decider>: allowed=…`
/// part per rule, CPL node or default that decided anything, in table order (the node's final log line).
impl fmt::Display for SecurityCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "flood_dropped={} auth_dropped={} bans_started={} challenges={} auth_failures={} authenticated={} \
             malformed_credentials={}",
            self.flood_dropped,
            self.auth_dropped,
            self.bans_started,
            self.challenges,
            self.auth_failures,
            self.authenticated,
            self.malformed_credentials
        )?;
        for (decider, c) in self.policy.snapshot() {
            write!(f, "; policy {decider}: allowed={} rejected={} redirected={}", c.allowed, c.rejected, c.redirected)?;
        }
        Ok(())
    }
}

/// The state of the security phases in one core.
#[derive(Debug)]
pub(crate) struct Security {
    zones: Arc<RoutingTable>,
    policy: Arc<PolicySet>,
    digest: Option<DigestAuth>,
    /// The digest realm: credentials for other realms are not ours (RFC 3261 §22.3).
    realm: String,
    credentials: Arc<CredentialTable>,
    flood: Option<FloodGuard>,
    started: (Instant, DateTime<Utc>),
    /// For cores that monitor no peers: classification goes by addresses and listeners alone.
    no_health: HealthSnapshot,
    /// The zone of the message being handled, classified before it was parsed.
    zone: Option<ZoneClassified>,
    route_key: RouteKey,
}

impl Security {
    fn new(now: Instant, wall_clock: DateTime<Utc>, config: SecurityConfig) -> Self {
        let SecurityConfig { zones, policy, digest, credentials, flood, nonce_secret, route_key } = config;
        Self {
            zones,
            policy,
            realm: digest.as_ref().map(|d| d.realm.clone()).unwrap_or_default(),
            digest: digest.map(|d| DigestAuth::new(d, nonce_secret, now)),
            credentials,
            flood: flood.map(FloodGuard::new),
            started: (now, wall_clock),
            no_health: HealthSnapshot::default(),
            zone: None,
            route_key,
        }
    }

    /// The key of our Record-Route seals.
    pub(crate) fn route_key(&self) -> &RouteKey {
        &self.route_key
    }

    /// Whether `zone` honours preloaded Route headers (the default zone never does).
    fn honours_route_header(&self, zone: &ZoneClassified) -> bool {
        self.zones.zone(zone.zone()).is_some_and(|z| z.honor_route_header)
    }

    /// The wall-clock time of `now`.
    fn wall_time(&self, now: Instant) -> DateTime<Utc> {
        let (instant, wall) = self.started;
        let elapsed = chrono::Duration::from_std(now.saturating_duration_since(instant)).unwrap_or(chrono::Duration::zero());
        wall + elapsed
    }
}

impl<L: Locator> Core<L> {
    /// Runs the edge's security phases from now on: the flood guard on every message, digest
    /// authentication and call policy on every request that is not inside a dialog through us.
    /// `now` is the time nonces count from, and `wall_clock` the calendar time at `now`: CPL
    /// `time-switch` reads a request's time from them and the request's `now`, never from a clock.
    #[must_use]
    pub fn with_security(mut self, now: Instant, wall_clock: DateTime<Utc>, config: SecurityConfig) -> Self {
        self.security = Some(Box::new(Security::new(now, wall_clock, config)));
        self
    }

    /// Bans in force and the flood guard's table usage, for `causeway status`; `None` without
    /// a flood guard.
    pub fn flood_status(&self, now: Instant) -> Option<FloodStatus> {
        self.security.as_ref().and_then(|s| s.flood.as_ref()).map(|f| f.status(now))
    }

    /// Lends the security phases to [`crate::plan::Phases::decide`] (which borrows the rest of
    /// the core); give them back with [`Core::return_gate`].
    pub(crate) fn lend_gate(&mut self, now: Instant) -> Gate {
        Gate::new(now, self.security.take(), std::mem::take(&mut self.counters.security))
    }

    /// Takes the security phases back after a request was decided.
    pub(crate) fn return_gate(&mut self, gate: Gate) {
        let (security, counters) = gate.into_parts();
        self.security = security;
        self.counters.security = counters;
    }
}

/// Logs one audit record: a refusal or a ban, once per event.
fn audit(record: &AuditRecord) {
    let source = record.source.map(|ip: IpAddr| ip.to_string()).unwrap_or_default();
    tracing::warn!(
        target: "causeway::audit",
        zone = %record.zone,
        source = %source,
        from = %record.from,
        to = %record.to,
        rule = %record.decided_by,
        "{record}"
    );
}
