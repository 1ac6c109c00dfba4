//! The explanation of one routing decision: every step, in order, with why. `Display` is the
//! text `causeway locate` prints; `Serialize` is its `--json`.

use std::fmt;

use serde::Serialize;

use crate::auth::{AuthBasis, IdentityHeaders};
use crate::classify::ClassifiedBy;
use crate::pattern::{PatternType, Rewrite};
use crate::resolve::LookupRecord;
use crate::table::{AuthPolicy, OnMatch, RuleSource};

/// Every step of one decision.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trace {
    /// The steps, in order.
    pub steps: Vec<TraceStep>,
}

impl Trace {
    pub(crate) fn push(&mut self, step: TraceStep) {
        self.steps.push(step);
    }
}

/// One step.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum TraceStep {
    /// The request as received.
    Request {
        /// Request-URI.
        request_uri: String,
        /// From, when known.
        from: Option<String>,
    },
    /// Zone classification.
    Zone {
        /// The zone.
        zone: String,
        /// Why.
        classified: ClassifiedBy,
    },
    /// The zone's authentication policy.
    Authentication {
        /// Policy.
        policy: AuthPolicy,
        /// Outcome.
        authenticated: bool,
        /// Why.
        basis: AuthBasis,
        /// RFC 3325 treatment of P-Asserted-Identity / P-Preferred-Identity.
        identity: IdentityHeaders,
    },
    /// A Request-URI rewrite from outside the rule tables (the Zoom dial-string repair).
    Rewrite {
        /// Who rewrote.
        by: String,
        /// Before.
        from: String,
        /// After.
        to: String,
        /// Their explanation.
        why: String,
    },
    /// A Route header considered for Route-header routing.
    Route {
        /// The Route value.
        route: String,
        /// What was done with it.
        used: RouteUse,
    },
    /// The alias the transforms and search rules see.
    Alias {
        /// The alias.
        alias: String,
        /// `request-uri` or `route`.
        from: AliasFrom,
    },
    /// A pre-search transform.
    Transform {
        /// Its priority.
        priority: u16,
        /// Pattern type.
        pattern_type: PatternType,
        /// Pattern.
        pattern: String,
        /// Behaviour.
        rewrite: Rewrite,
        /// Result.
        result: TransformResult,
    },
    /// Call policy's decision (the policy crate's own trace inside).
    Policy {
        /// `allow`, `reject 403 Forbidden`, `redirect`, `lookup`.
        verdict: String,
        /// The rule or CPL node that decided.
        decided_by: String,
        /// Every rule or node visited.
        trace: causeway_policy::Trace,
    },
    /// Call policy was not part of this run.
    PolicyNotEvaluated,
    /// A search rule.
    Rule {
        /// Name.
        name: String,
        /// Priority.
        priority: u16,
        /// Source.
        source: RuleSource,
        /// Pattern type, `None` for any alias.
        pattern_type: Option<PatternType>,
        /// Pattern.
        pattern: Option<String>,
        /// Only authenticated requests.
        authenticated_only: bool,
        /// Target zone.
        target: String,
        /// Outcome.
        check: RuleCheck,
    },
    /// RFC 3263 lookups and next hops of one target zone (appended by whoever resolves).
    Resolution {
        /// Target zone.
        zone: String,
        /// Each lookup and its answer.
        lookups: Vec<LookupRecord>,
        /// The ordered next hops, or why there are none.
        result: String,
    },
}

/// What a Route header was used for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteUse {
    /// It names this node.
    ThisNode,
    /// Its host is the alias.
    Alias,
    /// It is not a SIP URI with a host.
    NoHost,
    /// The source zone does not honour Route headers.
    NotHonoured,
}

/// Where the alias came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AliasFrom {
    /// The Request-URI.
    RequestUri,
    /// The topmost Route that is not this node.
    Route,
}

/// What a transform did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum TransformResult {
    /// It matched and rewrote; no further transform is tried (Expressway: one per search).
    Applied {
        /// Alias before.
        before: String,
        /// Alias after.
        after: String,
    },
    /// No match.
    NoMatch,
    /// Disabled.
    Disabled,
}

/// Why a search rule matched or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "check", rename_all = "kebab-case")]
pub enum RuleCheck {
    /// The target is searched with this alias.
    Matched {
        /// Alias sent to the target zone.
        alias: String,
        /// Continue or stop.
        on_match: OnMatch,
    },
    /// Matched, but the target zone cannot route now (no peer up); the rule still stops the
    /// search if it says stop.
    TargetDown {
        /// Continue or stop.
        on_match: OnMatch,
    },
    /// Disabled.
    Disabled,
    /// The request comes from another zone (or is not authenticated, for `any-authenticated`).
    SourceMismatch,
    /// The rule needs an authenticated request.
    NotAuthenticated,
    /// The alias does not match the pattern.
    PatternMiss,
    /// `any-alias` does not match IP addresses (Expressway's "Any alias (not IP)").
    IpAddressAlias,
    /// The target is the zone the request came from (loop prevention).
    SourceZoneLoop,
    /// The target zone refuses requests whose Contact carries this parameter (loop prevention).
    ContactParam {
        /// The parameter.
        param: String,
    },
    /// A higher-priority rule stopped the search.
    NotReached {
        /// The rule that stopped it.
        stopped_by: String,
        /// Its priority.
        priority: u16,
    },
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}

impl fmt::Display for TraceStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request { request_uri, from: Some(from) } => write!(f, "request: {request_uri} from {from}"),
            Self::Request { request_uri, from: None } => write!(f, "request: {request_uri}"),
            Self::Zone { zone, classified } => write!(f, "zone: {zone} ({classified})"),
            Self::Authentication { policy, authenticated, basis, identity } => {
                let state = if *authenticated { "authenticated" } else { "not authenticated" };
                let identity = match identity {
                    IdentityHeaders::Keep => "P-Asserted-Identity kept",
                    IdentityHeaders::Strip => "P-Asserted-Identity/P-Preferred-Identity stripped (RFC 3325)",
                };
                write!(f, "authentication: {state} ({policy}: {basis}); {identity}")
            }
            Self::Rewrite { by, from, to, why } => write!(f, "{by}: {from} → {to} ({why})"),
            Self::Route { route, used } => {
                let what = match used {
                    RouteUse::ThisNode => "names this node, skipped",
                    RouteUse::Alias => "topmost foreign Route: its host is the alias",
                    RouteUse::NoHost => "names no SIP host, ignored",
                    RouteUse::NotHonoured => "ignored: the zone does not honour Route headers",
                };
                write!(f, "route {route}: {what}")
            }
            Self::Alias { alias, from } => {
                let from = match from {
                    AliasFrom::RequestUri => "Request-URI",
                    AliasFrom::Route => "Route header",
                };
                write!(f, "alias: {alias} (from the {from})")
            }
            Self::Transform { priority, pattern_type, pattern, rewrite, result } => {
                write!(f, "transform {priority} ({pattern_type} '{pattern}', {rewrite}): ")?;
                match result {
                    TransformResult::Applied { before, after } => write!(f, "applied, {before} → {after}"),
                    TransformResult::NoMatch => f.write_str("no match"),
                    TransformResult::Disabled => f.write_str("disabled"),
                }
            }
            Self::Policy { verdict, decided_by, trace } => {
                write!(f, "call policy: {verdict} by {decided_by}")?;
                for step in &trace.steps {
                    write!(f, "\n  {step}")?;
                }
                Ok(())
            }
            Self::PolicyNotEvaluated => f.write_str("call policy: not evaluated here"),
            Self::Rule { name, priority, source, pattern_type, pattern, authenticated_only, target, check } => {
                write!(f, "search rule \"{name}\" (priority {priority}, source {source}")?;
                if *authenticated_only {
                    f.write_str(", authenticated only")?;
                }
                match (pattern_type, pattern) {
                    (Some(t), Some(p)) => write!(f, ", {t} '{p}'")?,
                    _ => f.write_str(", any alias")?,
                }
                write!(f, " → {target}): {check}")
            }
            Self::Resolution { zone, lookups, result } => {
                write!(f, "resolve {zone}:")?;
                for lookup in lookups {
                    write!(f, "\n  {lookup}")?;
                }
                write!(f, "\n  → {result}")
            }
        }
    }
}

impl fmt::Display for RuleCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Matched { alias, on_match } => write!(f, "match, search with alias {alias}, {on_match}"),
            Self::TargetDown { on_match } => write!(f, "match, but the target zone is down (no peer up), {on_match}"),
            Self::Disabled => f.write_str("disabled"),
            Self::SourceMismatch => f.write_str("source does not match"),
            Self::NotAuthenticated => f.write_str("request not authenticated"),
            Self::PatternMiss => f.write_str("pattern does not match"),
            Self::IpAddressAlias => f.write_str("any-alias does not match an IP address"),
            Self::SourceZoneLoop => f.write_str("skipped: target is the zone the request came from (loop prevention)"),
            Self::ContactParam { param } => write!(f, "skipped: Contact carries {param}, refused by the target zone (loop prevention)"),
            Self::NotReached { stopped_by, priority } => {
                write!(f, "not tried: \"{stopped_by}\" stopped the search at priority {priority}")
            }
        }
    }
}
