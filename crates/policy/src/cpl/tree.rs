//! The typed CPL tree. Built once at load by `parse`; `exec` walks it per request. Nodes live in
//! one arena and refer to each other by index; an empty output is `None`.

use chrono_tz::Tz;

use super::time::TimeSpec;
use crate::input::PriorityLevel;
use crate::pattern::Pattern;
use crate::verdict::{Ordering, ProxyOutputSet};

/// Index of a node in the arena.
pub(crate) type NodeId = usize;

/// Where an output leads: `None` ends the script (RFC 3880 §11 default behaviour).
pub(crate) type Next = Option<NodeId>;

/// One node and where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    pub(crate) element: &'static str,
    pub(crate) line: u32,
}

/// The node types Causeway executes.
#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    /// RFC 3880 §4.1.
    AddressSwitch { field: AddressField, subfield: Option<Subfield>, outputs: Vec<Output<AddressTest>>, tail: Tail },
    /// RFC 3880 §4.2.
    StringSwitch { field: StringField, outputs: Vec<Output<StringTest>>, tail: Tail },
    /// RFC 3880 §4.4.
    TimeSwitch { tz: Tz, outputs: Vec<Output<TimeSpec>>, tail: Tail },
    /// RFC 3880 §4.5.
    PrioritySwitch { outputs: Vec<Output<PriorityTest>>, tail: Tail },
    /// Expressway `taa:rule-switch`: first rule whose every condition holds.
    RuleSwitch { rules: Vec<Output<TaaRule>>, tail: Tail },
    /// RFC 3880 §5.1 `location` and Expressway `taa:location`.
    Location { url: LocationUrl, priority: Option<f32>, clear: bool, next: Next },
    /// RFC 3880 §5.2 `lookup`.
    Lookup { source: String, timeout: u32, clear: bool, success: Next, notfound: Next, failure: Next },
    /// RFC 3880 §5.3 `remove-location`.
    RemoveLocation { location: Option<String>, next: Next },
    /// RFC 3880 §6.1 `proxy`; `timeout_given`: the script wrote `timeout` (its default applies
    /// only with a `noanswer` or `default` output).
    Proxy { timeout: u32, timeout_given: bool, recurse: bool, ordering: Ordering, outputs: ProxyOutputs },
    /// RFC 3880 §6.2 `redirect`.
    Redirect { permanent: bool },
    /// RFC 3880 §6.3 `reject`.
    Reject { status: u16, reason: String },
    /// RFC 3880 §9 `sub`: control passes to an earlier subaction and does not return.
    Sub { id: String, target: NodeId },
}

/// One output of a switch: its test, where it was written, and where it leads.
#[derive(Debug, Clone)]
pub(crate) struct Output<T> {
    pub(crate) test: T,
    pub(crate) line: u32,
    pub(crate) next: Next,
}

/// `not-present` and `otherwise` outputs of a switch.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tail {
    pub(crate) not_present: Option<Next>,
    pub(crate) otherwise: Option<Next>,
}

/// Outputs of `proxy` (RFC 3880 §6.1).
#[derive(Debug, Clone, Default)]
pub(crate) struct ProxyOutputs {
    pub(crate) busy: Option<Next>,
    pub(crate) noanswer: Option<Next>,
    pub(crate) redirection: Option<Next>,
    pub(crate) failure: Option<Next>,
    pub(crate) default: Option<Next>,
}

impl ProxyOutputs {
    pub(crate) fn is_empty(&self) -> bool {
        [self.busy, self.noanswer, self.redirection, self.failure, self.default].iter().all(Option::is_none)
    }

    /// Which outputs the script wrote, for the caller (`causeway locate` lists them).
    pub(crate) fn present(&self) -> ProxyOutputSet {
        ProxyOutputSet {
            busy: self.busy.is_some(),
            noanswer: self.noanswer.is_some(),
            redirection: self.redirection.is_some(),
            failure: self.failure.is_some(),
            default: self.default.is_some(),
        }
    }
}

/// Which address an `address-switch` looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddressField {
    /// Every claimed identity (From, asserted identities): RFC 3880 `origin`.
    Origin,
    /// Every claimed identity when the request is authenticated, else not present: Expressway's
    /// `authenticated-origin`, and `origin` in scripts with a `taa:routed` section.
    AuthenticatedOrigin,
    /// Every claimed identity, authenticated or not (Expressway's definition).
    UnauthenticatedOrigin,
    /// The alias being routed.
    Destination,
    /// The Request-URI as received.
    OriginalDestination,
    /// The zone name (Expressway `originating-zone`); no subfield.
    OriginatingZone,
}

/// Part of an address (RFC 3880 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subfield {
    AddressType,
    User,
    Host,
    Port,
    Tel,
    Display,
}

/// An `address` output's test.
#[derive(Debug, Clone)]
pub(crate) enum AddressTest {
    Is(String),
    Contains(String),
    SubdomainOf(String),
    Regex(Pattern),
}

/// Which header a `string-switch` looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StringField {
    Subject,
    Organization,
    UserAgent,
    Language,
    Display,
}

/// A `string` output's test.
#[derive(Debug, Clone)]
pub(crate) enum StringTest {
    Is(String),
    Contains(String),
}

/// A `priority` output's test.
#[derive(Debug, Clone)]
pub(crate) enum PriorityTest {
    Less(PriorityLevel),
    Greater(PriorityLevel),
    Equal(PriorityLevel),
}

/// An Expressway `taa:rule`: every present condition must hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaaRule {
    pub(crate) origin: Option<(AddressField, Pattern)>,
    pub(crate) zone: Option<Pattern>,
    pub(crate) destination: Option<Pattern>,
}

/// Where a `location` points.
#[derive(Debug, Clone)]
pub(crate) enum LocationUrl {
    /// A fixed URI.
    Fixed(String),
    /// `taa:location regex= replace=`: the destination alias rewritten (`\1` capture syntax).
    Rewrite { regex: Pattern, replace: String },
}
