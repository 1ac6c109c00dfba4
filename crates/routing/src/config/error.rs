//! Load errors of the routing sections: a byte span into the file and a typed reason. The
//! configuration loader turns the span into `file:line:col` ([`RoutingConfigError::location`]).

use std::fmt;
use std::ops::Range;

use causeway_policy::{Location, SourceText};

use crate::pattern::PatternError;
use crate::subject::SubjectError;

/// One problem in `[[zone]]`, `[[transform]]` or `[[search_rule]]`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct RoutingConfigError {
    /// Byte offsets of the offending text in the file.
    pub span: Range<usize>,
    /// What is wrong.
    pub reason: ConfigReason,
}

impl RoutingConfigError {
    pub(crate) fn new(span: Range<usize>, reason: ConfigReason) -> Self {
        Self { span, reason }
    }

    /// Where the error is, in `source`.
    pub fn location(&self, source: SourceText<'_>) -> Location {
        source.locate(&self.span)
    }

    /// `file:line:col: reason`.
    pub fn display_in(&self, source: SourceText<'_>) -> String {
        format!("{}: {}", self.location(source), self.reason)
    }
}

/// What is wrong at a place in the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigReason {
    /// TOML syntax or shape (unknown key, wrong type, missing field), in toml's words.
    #[error("{0}")]
    Toml(String),
    /// A name that is empty or has characters that cannot be printed on one line.
    #[error("a {what} name must be non-empty printable text without spaces")]
    BadName {
        /// `zone` or `search rule`.
        what: &'static str,
    },
    /// A zone named like a rule source keyword.
    #[error("`{0}` is reserved (a search rule source keyword); choose another zone name")]
    ReservedZoneName(String),
    /// Two zones with one name.
    #[error("zone `{0}` is already defined")]
    DuplicateZone(String),
    /// More than one `kind = "default"` zone.
    #[error("only one zone may be of kind `default`")]
    SecondDefaultZone,
    /// A key that has no meaning for this kind of zone.
    #[error("`{key}` does not apply to a {kind} zone")]
    KeyNotForKind {
        /// The key.
        key: &'static str,
        /// The zone kind.
        kind: &'static str,
    },
    /// A key this kind of zone needs.
    #[error("a {kind} zone needs `{key}`")]
    MissingForKind {
        /// The key.
        key: &'static str,
        /// The zone kind.
        kind: &'static str,
    },
    /// More peers than Expressway's six.
    #[error("a zone has at most {max} peers")]
    TooManyPeers {
        /// The limit.
        max: usize,
    },
    /// A peer address that is not `host[:port]`.
    #[error("peer address `{0}` is not host[:port] (e.g. 10.0.0.1:5061, cucm.example.com, [2001:db8::1]:5060)")]
    BadPeerAddress(String),
    /// The same peer twice in a zone.
    #[error("peer `{0}` is already listed in this zone")]
    DuplicatePeer(String),
    /// A number outside its range.
    #[error("`{key}` must be {min}-{max} (got {value})")]
    OutOfRange {
        /// The key.
        key: &'static str,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
        /// Given.
        value: u64,
    },
    /// A host name that is not one.
    #[error("`{key}` must be a host name (got `{value}`)")]
    BadHostName {
        /// The key.
        key: &'static str,
        /// Given.
        value: String,
    },
    /// A bad `tls_verify_subject` entry.
    #[error("tls_verify_subject `{subject}`: {problem}")]
    BadSubject {
        /// Given.
        subject: String,
        /// Why.
        problem: SubjectError,
    },
    /// A `loop_contact_params` entry that is not `name` or `name=value`.
    #[error("loop_contact_params entry `{0}` must be `name` or `name=value` (e.g. call-type=squared)")]
    BadContactParam(String),
    /// A listener that is not `ip:port`.
    #[error("listener `{0}` is not ip:port")]
    BadListener(String),
    /// Two zones claiming one listener.
    #[error("listener {0} already belongs to another zone")]
    DuplicateListener(String),
    /// Not a header name.
    #[error("`{0}` is not a header name")]
    BadHeaderName(String),
    /// A header a forwarded request cannot do without.
    #[error("`{0}` cannot be stripped: a forwarded request needs it (RFC 3261 §16.6)")]
    CoreHeader(String),
    /// A header both stripped and passed.
    #[error("`{0}` is both in strip_headers and pass_headers")]
    HeaderInBothLists(String),
    /// A pattern or replacement that cannot work.
    #[error("{0}")]
    Pattern(PatternError),
    /// A key required by the chosen behaviour or mode.
    #[error("`{key}` is required {because}")]
    MissingKey {
        /// The missing key.
        key: &'static str,
        /// e.g. `with behaviour = "replace"`.
        because: &'static str,
    },
    /// A key that the chosen behaviour or mode ignores.
    #[error("`{key}` has no effect {because}; remove it")]
    UselessKey {
        /// The key.
        key: &'static str,
        /// e.g. `with mode = "any-alias"`.
        because: &'static str,
    },
    /// Two transforms with one priority (only one transform can apply per search).
    #[error("transform priority {0} is already used by another transform")]
    DuplicateTransformPriority(u16),
    /// Over Expressway's limits.
    #[error("at most {max} {what} are allowed")]
    TooMany {
        /// `transforms` or `search rules`.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// Two rules with one name.
    #[error("search rule `{0}` is already defined")]
    DuplicateRule(String),
    /// A rule naming a zone that does not exist.
    #[error("unknown zone `{0}`")]
    UnknownZone(String),
    /// A rule that targets the default zone, which has nothing to route to.
    #[error("the default zone `{0}` cannot be a search target: it has no peers")]
    TargetIsDefaultZone(String),
    /// A rule whose source is its own target, without `allow_source_zone`.
    #[error("rule `{rule}` only sees requests from zone `{zone}` and targets it: loop prevention skips it every time (set allow_source_zone = true if that is meant)")]
    RuleLoops {
        /// The rule.
        rule: String,
        /// The zone.
        zone: String,
    },
    /// A rule an earlier catch-all Stop rule always stops the search before.
    #[error("rule `{rule}` can never match: rule `{by}` (priority {by_priority}) matches every request it would see and stops the search")]
    Shadowed {
        /// The unreachable rule.
        rule: String,
        /// The catch-all rule.
        by: String,
        /// Its priority.
        by_priority: u16,
    },
}

impl From<PatternError> for ConfigReason {
    fn from(e: PatternError) -> Self {
        Self::Pattern(e)
    }
}

/// Several errors, one per line, each located in `source`.
pub struct DisplayErrors<'a> {
    /// The errors.
    pub errors: &'a [RoutingConfigError],
    /// The file they came from.
    pub source: SourceText<'a>,
}

impl fmt::Display for DisplayErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&e.display_in(self.source))?;
        }
        Ok(())
    }
}
