//! What [`crate::locate`] decides: an ordered list of target groups, or a final answer.
//!
//! The caller walks the groups in order. Targets within a group (rules of one priority) are
//! tried in parallel. When every target of a group fails to route the request — no peer up,
//! DNS finds nothing, the zone answers 404, a transport error, a timeout or 503 from all its
//! next hops — the next group is tried; a group marked `last` ends the search (a Stop rule
//! matched at that priority). This is Expressway's "Continue: go on until found; Stop: no
//! further priorities".

use std::fmt;

use serde::Serialize;

use crate::resolve::Resolution;
use crate::trace::{Trace, TraceStep};
use crate::table::ZoneKind;

/// The result of locating one request.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// Where to send it, or the final answer.
    pub outcome: Outcome,
    /// Why.
    pub trace: Trace,
    /// Call policy's verdict when policy ran; its `Allow` carries the proof the forwarding plan
    /// needs, its `Redirect`/`Lookup` the work the caller must do ([`Outcome::Policy`]).
    #[serde(skip)]
    pub policy: Option<causeway_policy::Verdict>,
}

impl Decision {
    /// The target groups (empty unless the outcome is [`Outcome::Route`]).
    pub fn groups(&self) -> &[TargetGroup] {
        match &self.outcome {
            Outcome::Route { groups } => groups,
            _ => &[],
        }
    }

    /// Appends the lookups and next hops of `resolution` (for `causeway locate` with DNS).
    pub fn record_resolution(&mut self, zone: &str, resolution: &Resolution) {
        self.trace.push(TraceStep::Resolution {
            zone: zone.to_owned(),
            lookups: resolution.lookups().to_vec(),
            result: resolution.summary(),
        });
    }
}

/// The decision proper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Try these groups in order.
    Route {
        /// Target groups.
        groups: Vec<TargetGroup>,
    },
    /// Answer with a final response; nothing is forwarded.
    Reject {
        /// Status code.
        status: u16,
        /// Reason phrase.
        reason: String,
        /// Why.
        cause: RejectCause,
    },
    /// Call policy decided where the request goes — a CPL location set to proxy to, a redirect,
    /// or a lookup to perform — instead of the search rules: see [`Decision::policy`].
    Policy,
}

/// Why a request is answered instead of routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectCause {
    /// The Request-URI is not a URI (400).
    BadRequestUri,
    /// Call policy rejected it.
    Policy,
    /// No search rule matched (404).
    NoRuleMatched,
    /// Rules matched, but every target zone is down (503, RFC 3263 §4.3: no server can be
    /// contacted).
    TargetsDown,
}

/// Targets of one priority, tried in parallel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroup {
    /// The rules' priority.
    pub priority: u16,
    /// A Stop rule matched: no group after this one.
    pub last: bool,
    /// The targets.
    pub targets: Vec<ZoneTarget>,
}

/// One zone to search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneTarget {
    /// The search rule that chose it.
    pub rule: String,
    /// Zone name.
    pub zone: String,
    /// Zone kind.
    pub kind: ZoneKind,
    /// The alias searched in that zone (after the rule's behaviour).
    pub alias: String,
    /// The Request-URI to send when it differs from the received one.
    pub request_uri: Option<String>,
    /// Max-Forwards to send: the lower of the received value minus one (RFC 3261 §16.6 step 3)
    /// and the zone's hop count.
    pub max_forwards: u8,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.trace)?;
        match &self.outcome {
            Outcome::Route { groups } => {
                writeln!(f, "targets (groups in order, targets of a group in parallel):")?;
                for group in groups {
                    let last = if group.last { ", last" } else { "" };
                    writeln!(f, "  priority {}{last}:", group.priority)?;
                    for t in &group.targets {
                        write!(f, "    {} ({}, rule \"{}\"): alias {}", t.zone, t.kind, t.rule, t.alias)?;
                        if let Some(uri) = &t.request_uri {
                            write!(f, ", Request-URI {uri}")?;
                        }
                        writeln!(f, ", Max-Forwards {}", t.max_forwards)?;
                    }
                }
                Ok(())
            }
            Outcome::Reject { status, reason, cause } => {
                let why = match cause {
                    RejectCause::BadRequestUri => "the Request-URI is not a URI",
                    RejectCause::Policy => "call policy",
                    RejectCause::NoRuleMatched => "no search rule matched",
                    RejectCause::TargetsDown => "every matching target zone is down",
                };
                writeln!(f, "result: reject {status} {reason} ({why})")
            }
            Outcome::Policy => writeln!(f, "result: carried out by call policy (CPL location set, redirect or lookup)"),
        }
    }
}
