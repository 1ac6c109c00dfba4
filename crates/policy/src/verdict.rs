//! What `evaluate` decides, who decided it, and the trace of every rule or CPL node visited.

use std::fmt;

use serde::Serialize;

use crate::cpl::Continuation;

/// The outcome of call policy for one request.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Route the request (normally, or to the CPL location set).
    Allow(PolicyAllowed),
    /// Answer with a final error response; nothing is forwarded.
    Reject(Rejection),
    /// Answer 301/302 with the CPL location set as Contacts.
    Redirect(Redirection),
    /// CPL `lookup`: the caller looks the source up (registrar, location service) and calls
    /// [`crate::resume`] with the result. Policy never does I/O itself.
    Lookup(LookupRequest),
}

impl Verdict {
    /// Who made the decision (rule, default, CPL node).
    pub fn decided_by(&self) -> &Decider {
        match self {
            Self::Allow(a) => &a.decided_by,
            Self::Reject(r) => &r.decided_by,
            Self::Redirect(r) => &r.decided_by,
            Self::Lookup(l) => &l.decided_by,
        }
    }

    /// `Some` when the request may be forwarded.
    pub fn allowed(&self) -> Option<&PolicyAllowed> {
        match self {
            Self::Allow(a) => Some(a),
            _ => None,
        }
    }
}

/// Proof that call policy allowed the request (STYLE §6.5): only this crate can build one, so a
/// forwarding plan that requires it cannot be built without a policy check.
#[derive(Debug, Clone)]
pub struct PolicyAllowed {
    decided_by: Decider,
    targets: Vec<Target>,
    proxy: Option<ProxyHints>,
    continuation: Option<Continuation>,
}

impl PolicyAllowed {
    pub(crate) fn new(decided_by: Decider, targets: Vec<Target>) -> Self {
        Self { decided_by, targets, proxy: None, continuation: None }
    }

    pub(crate) fn with_proxy(mut self, hints: ProxyHints, continuation: Option<Continuation>) -> Self {
        self.proxy = Some(hints);
        self.continuation = continuation;
        self
    }

    /// The rule or node that allowed the request.
    pub fn decided_by(&self) -> &Decider {
        &self.decided_by
    }

    /// CPL location set; empty means "route the destination as usual".
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// CPL `proxy` parameters, when the script ended in a `proxy` node.
    pub fn proxy(&self) -> Option<&ProxyHints> {
        self.proxy.as_ref()
    }

    /// The location set in the order a `proxy` node tries it (RFC 3880 §6.1): highest priority
    /// first, a location without a priority counting as 1.0 and script order kept among equals;
    /// `ordering="first-only"` keeps only the first. Empty: route the destination as usual.
    pub fn locations_to_try(&self) -> Vec<&Target> {
        let mut ordered: Vec<&Target> = self.targets.iter().collect();
        ordered.sort_by(|a, b| b.priority.unwrap_or(1.0).total_cmp(&a.priority.unwrap_or(1.0)));
        if self.ordering() == Ordering::FirstOnly {
            ordered.truncate(1);
        }
        ordered
    }

    /// How the locations are tried: the `proxy` node's `ordering`, or all at once when the
    /// script ended without one (RFC 3880 §6.1's default, `parallel`).
    pub fn ordering(&self) -> Ordering {
        self.proxy.map_or(Ordering::Parallel, |p| p.ordering)
    }

    /// Present when the `proxy` node has outputs (busy, noanswer, …): on that outcome the caller
    /// calls [`crate::resume`] to learn what the script does next.
    pub fn continuation(&self) -> Option<&Continuation> {
        self.continuation.as_ref()
    }

    /// The same proxy attempt recursing on a 3xx (RFC 3880 §6.1 `recurse="yes"`, RFC 3261
    /// §16.5: the redirect's Contacts become the targets): the node, its parameters and its
    /// continuation stay; only the location set changes. Policy allowed the attempt, and a
    /// recursed target is still routed by the search rules like any location.
    #[must_use]
    pub fn recursed(&self, contacts: Vec<Target>) -> Self {
        Self { targets: contacts, ..self.clone() }
    }
}

/// A final error response chosen by policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// SIP status, 400–699.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// The rule or node that rejected.
    pub decided_by: Decider,
}

/// A CPL `redirect`.
#[derive(Debug, Clone, PartialEq)]
pub struct Redirection {
    /// Contacts for the 3xx response.
    pub contacts: Vec<Target>,
    /// `permanent="yes"`: 301 instead of 302.
    pub permanent: bool,
    /// The `redirect` node.
    pub decided_by: Decider,
}

/// A CPL `lookup` for the caller to perform.
#[derive(Debug, Clone)]
pub struct LookupRequest {
    /// What to look up in (`registration` or a URI), as written in the script.
    pub source: String,
    /// Seconds the lookup may take (RFC 3880 default 30).
    pub timeout: u32,
    /// `clear="yes"`: found locations replace the current set.
    pub clear: bool,
    /// Pass this to [`crate::resume`] with the result.
    pub continuation: Continuation,
    /// The `lookup` node.
    pub decided_by: Decider,
}

/// One entry of the CPL location set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// The URI to try.
    pub uri: String,
    /// CPL priority 0.0–1.0 (higher first); `None` when the script gave none.
    pub priority: Option<f32>,
}

/// How a CPL `proxy` node asks for the location set to be tried (RFC 3880 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyHints {
    /// `timeout` as written, or 20.
    pub timeout: u32,
    /// Seconds after which the attempt ends as `noanswer`: `timeout` when the script wrote it
    /// or the node has a `noanswer` or `default` output (RFC 3880 §6.1), else `None` (the call
    /// rings as long as the proxy lets any call ring).
    pub ring_limit: Option<u32>,
    /// The outputs the node has.
    pub outputs: ProxyOutputSet,
    /// Follow 3xx responses (default yes).
    pub recurse: bool,
    /// Parallel / sequential / first-only.
    pub ordering: Ordering,
}

/// Which outputs a CPL `proxy` node has (RFC 3880 §6.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyOutputSet {
    /// `busy`.
    pub busy: bool,
    /// `noanswer`.
    pub noanswer: bool,
    /// `redirection`.
    pub redirection: bool,
    /// `failure`.
    pub failure: bool,
    /// `default`.
    pub default: bool,
}

impl ProxyOutputSet {
    /// The names of the outputs present, in RFC 3880 order.
    pub fn names(&self) -> Vec<&'static str> {
        let all = [
            (self.busy, "busy"),
            (self.noanswer, "noanswer"),
            (self.redirection, "redirection"),
            (self.failure, "failure"),
            (self.default, "default"),
        ];
        all.into_iter().filter(|(present, _)| *present).map(|(_, name)| name).collect()
    }
}

/// CPL `proxy ordering`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// All locations at once (default).
    Parallel,
    /// One after another, highest priority first.
    Sequential,
    /// Only the highest-priority location.
    FirstOnly,
}

/// Who made a decision: printed by `causeway locate`, written to the audit trail, counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Decider {
    /// Call policy is off: everything is allowed.
    NoPolicy,
    /// The rule table's default action (no rule matched).
    DefaultAction,
    /// A rule of the table.
    Rule {
        /// 0-based position in the table.
        index: usize,
        /// The rule's name.
        name: String,
    },
    /// A CPL node (the script's end counts as its last node).
    CplNode {
        /// Node number inside the script (dense, for counters).
        id: usize,
        /// Element name, e.g. `reject`.
        element: &'static str,
        /// Line of the element in the script.
        line: u32,
    },
}

impl fmt::Display for Decider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoPolicy => f.write_str("no call policy"),
            Self::DefaultAction => f.write_str("default action"),
            Self::Rule { index, name } => write!(f, "rule {} \"{name}\"", index + 1),
            Self::CplNode { element, line, .. } => write!(f, "CPL <{element}> at line {line}"),
        }
    }
}

/// Every step policy took for one request, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trace {
    /// The steps.
    pub steps: Vec<TraceStep>,
}

impl Trace {
    pub(crate) fn push(&mut self, step: TraceStep) {
        self.steps.push(step);
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}

/// One step of a policy evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum TraceStep {
    /// Call policy is off.
    PolicyOff,
    /// A rule was considered.
    Rule {
        /// 0-based position.
        index: usize,
        /// Name.
        name: String,
        /// Why it matched or not.
        check: RuleCheck,
    },
    /// No rule matched: the default action applied.
    DefaultAction {
        /// Whether the default allows.
        allow: bool,
    },
    /// A CPL node was visited.
    Cpl {
        /// Element name.
        element: &'static str,
        /// Line in the script.
        line: u32,
        /// What happened there (which output was taken, what was added to the location set…).
        note: String,
    },
}

impl fmt::Display for TraceStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PolicyOff => f.write_str("call policy off: allow"),
            Self::Rule { index, name, check } => write!(f, "rule {} \"{name}\": {check}", index + 1),
            Self::DefaultAction { allow } => {
                write!(f, "no rule matched: default action {}", if *allow { "allow" } else { "reject" })
            }
            Self::Cpl { element, line, note } => write!(f, "CPL line {line} <{element}>: {note}"),
        }
    }
}

/// Why a rule did or did not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleCheck {
    /// Every condition held: the rule decides.
    Matched {
        /// The identity that matched the source pattern (`None` when the rule has none).
        identity: Option<String>,
    },
    /// The request came from another zone.
    ZoneDiffers,
    /// The rule applies only to unauthenticated callers and this one is authenticated.
    CallerAuthenticated,
    /// The rule applies only to authenticated callers and this one is not.
    CallerUnauthenticated,
    /// No claimed identity matched the source pattern.
    SourceDiffers,
    /// The destination alias did not match.
    DestinationDiffers,
}

impl fmt::Display for RuleCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Matched { identity: Some(id) } => write!(f, "matched (source {id})"),
            Self::Matched { identity: None } => f.write_str("matched"),
            Self::ZoneDiffers => f.write_str("zone differs"),
            Self::CallerAuthenticated => f.write_str("caller is authenticated"),
            Self::CallerUnauthenticated => f.write_str("caller is not authenticated"),
            Self::SourceDiffers => f.write_str("source pattern does not match"),
            Self::DestinationDiffers => f.write_str("destination pattern does not match"),
        }
    }
}
