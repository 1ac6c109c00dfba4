//! CPL (RFC 3880) as the second way to write call policy: parsed and validated once into a typed
//! tree ([`CplScript`]), then executed per request without touching XML.
//!
//! Executed: `address-switch`, `string-switch`, `time-switch` (RFC 5545 recurrences),
//! `priority-switch`, Expressway's `taa:rule-switch`, `location` / `taa:location`, `lookup`,
//! `remove-location`, `proxy`, `redirect`, `reject`, `sub`. A `lookup`, and a `proxy` with
//! outputs, hand a [`Continuation`] to the caller, which performs the I/O and calls
//! [`crate::resume`]. Subactions may only call earlier subactions (RFC 3880 §9), so scripts
//! cannot loop; a node-visit budget bounds every run anyway.

mod exec;
mod parse;
mod switches;
mod time;
mod tree;

use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use crate::input::{Direction, PolicyInput};
use crate::source::{Location, SourceText};
use crate::verdict::{Target, Trace, Verdict};
use tree::{Next, Node, NodeId};

/// Default node-visit budget per request.
pub const DEFAULT_NODE_BUDGET: u32 = 1000;

/// Gives every loaded script a distinct identity, so a continuation cannot be resumed against
/// a script loaded later (hot reload).
static NEXT_SCRIPT_ID: AtomicU64 = AtomicU64::new(1);

/// A validated CPL script.
#[derive(Debug, Clone)]
pub struct CplScript {
    nodes: Vec<Node>,
    incoming: Option<Next>,
    outgoing: Option<Next>,
    routed: Option<Next>,
    root_line: u32,
    budget: u32,
    id: u64,
}

impl CplScript {
    /// Parses and validates `src`. `zones` are the zone names an `originating-zone is=` may use.
    pub fn parse(src: SourceText<'_>, zones: &[&str]) -> Result<Self, CplError> {
        let parsed = parse::parse(src, zones)?;
        Ok(Self {
            nodes: parsed.nodes,
            incoming: parsed.incoming,
            outgoing: parsed.outgoing,
            routed: parsed.routed,
            root_line: parsed.root_line,
            budget: DEFAULT_NODE_BUDGET,
            id: NEXT_SCRIPT_ID.fetch_add(1, AtomicOrdering::Relaxed),
        })
    }

    /// Sets the node-visit budget per request (at least 1).
    #[must_use]
    pub fn with_budget(mut self, budget: u32) -> Self {
        self.budget = budget.max(1);
        self
    }

    /// Number of nodes (the script's end counts as node `node_count()` for counters).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The section that applies: `taa:routed` when present, else `incoming` / `outgoing`.
    fn start(&self, input: &PolicyInput) -> Option<Next> {
        self.routed.or(match input.direction {
            Direction::Incoming => self.incoming,
            Direction::Outgoing => self.outgoing,
        })
    }

    pub(crate) fn evaluate(&self, input: &PolicyInput, trace: &mut Trace) -> Verdict {
        let start = self.start(input).flatten();
        exec::Run::new(self, input, Vec::new(), 0, trace).run(start)
    }

    pub(crate) fn resume(
        &self,
        input: &PolicyInput,
        continuation: Continuation,
        outcome: Outcome,
        trace: &mut Trace,
    ) -> Result<Option<Verdict>, ResumeError> {
        if continuation.script != self.id {
            return Err(ResumeError::OtherScript);
        }
        exec::resume(self, input, continuation, outcome, trace)
    }
}

/// Where a paused script continues (after `lookup`, or after `proxy` when it has outputs).
#[derive(Debug, Clone)]
pub struct Continuation {
    script: u64,
    node: NodeId,
    locations: Vec<Target>,
    visits: u32,
}

/// What happened to the `lookup` or `proxy` the script asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `lookup` found these locations.
    Found(Vec<Target>),
    /// `lookup` found nothing.
    NotFound,
    /// `lookup` could not be performed (timeout, error).
    LookupFailed,
    /// `proxy`: every branch was busy.
    Busy,
    /// `proxy`: nobody answered within the timeout.
    NoAnswer,
    /// `proxy`: a 3xx came back with these contacts (`recurse="no"`).
    Redirected(Vec<Target>),
    /// `proxy`: any other failure.
    Failed,
}

impl Outcome {
    /// The outcome of a proxy attempt that ended with final response `status` (not 2xx: a 2xx
    /// ends the script's part in the call), RFC 3880 §6.1: "busy" is 486 Busy Here or 600 Busy
    /// Everywhere; "noanswer" a timeout — 408 Request Timeout (ours when a branch never
    /// answered, or the callee's) or 480 Temporarily Unavailable (no answer from the user);
    /// "redirection" a 3xx, with its Contacts (taken only with `recurse="no"`: the caller
    /// recurses otherwise); "failure" any other final response.
    pub fn of_final(status: u16, contacts: Vec<Target>) -> Self {
        match status {
            486 | 600 => Self::Busy,
            408 | 480 => Self::NoAnswer,
            300..=399 => Self::Redirected(contacts),
            _ => Self::Failed,
        }
    }
}

/// Why [`crate::resume`] refused a continuation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResumeError {
    /// The continuation came from another policy (reloaded since).
    #[error("the continuation belongs to another policy (reloaded since it was issued)")]
    OtherScript,
    /// A lookup outcome for a proxy node, or the reverse.
    #[error("the outcome does not fit the node that paused the script")]
    WrongOutcome,
    /// The policy is not a CPL script.
    #[error("the policy is not a CPL script")]
    NotCpl,
}

/// Why a CPL script was refused at load.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CplError {
    /// Not well-formed XML.
    #[error("{at}: not well-formed XML: {message}")]
    Xml {
        /// Where.
        at: Location,
        /// The XML parser's explanation.
        message: String,
    },
    /// The file is larger than scripts may be.
    #[error("{file}: CPL script larger than {limit} bytes")]
    TooLarge {
        /// File name.
        file: String,
        /// The limit.
        limit: usize,
    },
    /// An element where it does not belong.
    #[error("{at}: <{element}> is not allowed in {context}")]
    UnexpectedElement {
        /// Where.
        at: Location,
        /// Element name.
        element: String,
        /// Where it was found.
        context: &'static str,
    },
    /// An attribute the element does not have.
    #[error("{at}: <{element}> has no attribute `{attribute}`")]
    UnknownAttribute {
        /// Where.
        at: Location,
        /// Element.
        element: String,
        /// Attribute.
        attribute: String,
    },
    /// A required attribute is missing.
    #[error("{at}: <{element}> needs attribute `{attribute}`")]
    MissingAttribute {
        /// Where.
        at: Location,
        /// Element.
        element: String,
        /// Attribute.
        attribute: &'static str,
    },
    /// An attribute value out of range or of the wrong form.
    #[error("{at}: <{element} {attribute}=\"{value}\">: expected {expected}")]
    BadValue {
        /// Where.
        at: Location,
        /// Element.
        element: String,
        /// Attribute.
        attribute: &'static str,
        /// Value as written.
        value: String,
        /// What would be accepted.
        expected: &'static str,
    },
    /// A CPL feature a proxy cannot honour.
    #[error("{at}: {what} is not supported by Causeway")]
    Unsupported {
        /// Where.
        at: Location,
        /// What.
        what: String,
    },
    /// A regex that does not compile.
    #[error("{at}: invalid regex: {error}")]
    InvalidPattern {
        /// Where.
        at: Location,
        /// The regex compiler's explanation.
        error: regex::Error,
    },
    /// `originating-zone is=` names an unknown zone.
    #[error("{at}: unknown zone \"{zone}\"")]
    UnknownZone {
        /// Where.
        at: Location,
        /// The zone.
        zone: String,
    },
    /// An unknown `tzid`.
    #[error("{at}: unknown time zone \"{tzid}\" (use an IANA name such as Europe/Paris)")]
    UnknownTimeZone {
        /// Where.
        at: Location,
        /// As written.
        tzid: String,
    },
    /// A `time` element that cannot be evaluated.
    #[error("{at}: <time> attribute `{attribute}` {reason}")]
    BadTime {
        /// Where.
        at: Location,
        /// Attribute.
        attribute: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// An output with more than one node.
    #[error("{at}: <{container}> may hold only one node")]
    ExtraNode {
        /// Where the second node is.
        at: Location,
        /// The container element.
        container: String,
    },
    /// An output other than `otherwise` placed after `otherwise`.
    #[error("{at}: outputs after <otherwise> can never be taken")]
    AfterOtherwise {
        /// Where.
        at: Location,
    },
    /// An `address`/`string`/`priority` output with zero or several match operators.
    #[error("{at}: an output needs exactly one match operator")]
    OneMatchOperator {
        /// Where.
        at: Location,
    },
    /// A section or output given twice.
    #[error("{at}: <{element}> given twice")]
    Duplicate {
        /// Where.
        at: Location,
        /// Element.
        element: String,
    },
    /// Text where only elements belong.
    #[error("{at}: unexpected text")]
    StrayText {
        /// Where.
        at: Location,
    },
    /// A script with no `incoming`, `outgoing` or `taa:routed` section.
    #[error("{at}: the script has no incoming, outgoing or taa:routed section")]
    NoAction {
        /// Where.
        at: Location,
    },
    /// A subaction with no node.
    #[error("{at}: subaction \"{id}\" is empty")]
    EmptySubaction {
        /// Where.
        at: Location,
        /// Its id.
        id: String,
    },
    /// Two subactions with one id.
    #[error("{at}: subaction \"{id}\" is already defined at {first}")]
    DuplicateSubaction {
        /// Where.
        at: Location,
        /// The id.
        id: String,
        /// The first definition.
        first: Location,
    },
    /// RFC 3880 §9: a subaction calling itself.
    #[error("{at}: <sub ref=\"{id}\"> inside subaction \"{id}\": recursion is not allowed")]
    RecursiveSub {
        /// Where.
        at: Location,
        /// The id.
        id: String,
    },
    /// RFC 3880 §9: a reference to a subaction defined later.
    #[error("{at}: <sub ref=\"{id}\"> refers to a subaction defined later (it must be defined before use)")]
    LaterSub {
        /// Where.
        at: Location,
        /// The id.
        id: String,
    },
    /// A reference to no subaction.
    #[error("{at}: <sub ref=\"{id}\"> refers to no subaction")]
    UnknownSub {
        /// Where.
        at: Location,
        /// The id.
        id: String,
    },
    /// Nodes nested too deeply.
    #[error("{at}: nodes nested deeper than {limit}")]
    TooDeep {
        /// Where.
        at: Location,
        /// The limit.
        limit: usize,
    },
    /// Too many nodes.
    #[error("{at}: more than {limit} nodes")]
    TooManyNodes {
        /// Where.
        at: Location,
        /// The limit.
        limit: usize,
    },
}
