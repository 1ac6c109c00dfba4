//! Load-time errors. Each names the place (`file:line:col`) and the reason; nothing is fixed
//! up silently.

use causeway_policy::digest::credentials::Ha1Error;
use causeway_policy::Location;
use causeway_sip::UriError;

use crate::pattern::PatternError;
use crate::schedule::ScheduleError;

/// Why a remote destination or associated identity was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DestinationError {
    /// A URI that does not parse.
    #[error("unparseable URI: {0}")]
    Uri(UriError),
    /// A scheme other than sip, sips or tel.
    #[error("scheme \"{0}\" is not sip, sips or tel")]
    Scheme(String),
    /// Neither a URI nor a dial string.
    #[error("neither a SIP URI nor a number")]
    Neither,
    /// An associated identity must be a `user@host` address.
    #[error("an associated identity is a cloud address user@host, not a number")]
    IdentityNeedsUri,
    /// A SIP URI without a user part.
    #[error("the URI has no user part")]
    NoUser,
}

/// Why a `[callctl]` section was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The TOML itself is malformed, or a key is unknown or of the wrong type.
    #[error("{at}: {message}")]
    Toml {
        /// Where.
        at: Location,
        /// The TOML parser's explanation.
        message: String,
    },
    /// A name given twice where names must be unique.
    #[error("{at}: {what} \"{name}\" is already defined at {first}")]
    Duplicate {
        /// Where the second one is.
        at: Location,
        /// `partition`, `css`, `user`, `device`, `digest username`, `trunk zone`, `remote destination`.
        what: &'static str,
        /// The name.
        name: String,
        /// Where the first one is.
        first: Location,
    },
    /// Two identical patterns (route, translation or DN) in one partition.
    #[error("{at}: pattern \"{pattern}\" is already in partition \"{partition}\" at {first} (two identical patterns in one partition)")]
    DuplicatePattern {
        /// Where the second one is.
        at: Location,
        /// The pattern.
        pattern: String,
        /// The partition.
        partition: String,
        /// Where the first one is.
        first: Location,
    },
    /// A reference to something not defined.
    #[error("{at}: unknown {what} \"{name}\"")]
    Unknown {
        /// Where.
        at: Location,
        /// `partition`, `css`, `user`, `zone`, `line`.
        what: &'static str,
        /// The name as written.
        name: String,
    },
    /// A pattern that does not compile.
    #[error("{at}: pattern \"{pattern}\": {error}")]
    Pattern {
        /// Where.
        at: Location,
        /// The pattern.
        pattern: String,
        /// Why.
        error: PatternError,
    },
    /// A remote destination or associated identity that is not a URI or number.
    #[error("{at}: destination \"{value}\": {error}")]
    Destination {
        /// Where.
        at: Location,
        /// As written.
        value: String,
        /// Why.
        error: DestinationError,
    },
    /// A ring schedule that does not hold.
    #[error("{at}: schedule: {error}")]
    Schedule {
        /// Where.
        at: Location,
        /// Why.
        error: ScheduleError,
    },
    /// A timer outside its range.
    #[error("{at}: {field} = {value} ms is out of range ({min}-{max} ms)")]
    TimerRange {
        /// Where.
        at: Location,
        /// Field name.
        field: &'static str,
        /// Value.
        value: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// answer_too_soon not below answer_too_late.
    #[error("{at}: answer_too_soon_ms ({soon}) must be below answer_too_late_ms ({late})")]
    TimerOrder {
        /// Where.
        at: Location,
        /// answer_too_soon_ms.
        soon: u64,
        /// answer_too_late_ms.
        late: u64,
    },
    /// A number field that is not a dial string.
    #[error("{at}: {field} \"{value}\" is not a number (digits, * and #, with an optional leading +)")]
    Number {
        /// Where.
        at: Location,
        /// Field name.
        field: &'static str,
        /// As written.
        value: String,
    },
    /// A transform field with the wrong syntax.
    #[error("{at}: {field} \"{value}\": {why}")]
    Transform {
        /// Where.
        at: Location,
        /// Field name.
        field: &'static str,
        /// As written.
        value: String,
        /// Why.
        why: &'static str,
    },
    /// A route pattern must say either `zone` or `block`.
    #[error("{at}: a route pattern needs exactly one of zone and block")]
    RouteTarget {
        /// Where.
        at: Location,
    },
    /// A block status outside 400-699.
    #[error("{at}: block status {status} is not a final error status (400-699)")]
    BlockStatus {
        /// Where.
        at: Location,
        /// As written.
        status: u16,
    },
    /// A stored HA1 of the wrong length or not hex.
    #[error("{at}: {error}")]
    Ha1 {
        /// Where.
        at: Location,
        /// Why.
        error: Ha1Error,
    },
    /// Credentials without any HA1.
    #[error("{at}: credentials need ha1_md5 or ha1_sha256")]
    NoHa1 {
        /// Where.
        at: Location,
    },
    /// Device credentials but no `realm`.
    #[error("{at}: device credentials need callctl.realm (the HA1 is bound to a realm)")]
    NoRealm {
        /// Where.
        at: Location,
    },
    /// A device names a DN that exists in several partitions.
    #[error("{at}: DN \"{dn}\" exists in several partitions; write \"{dn} in <partition>\"")]
    AmbiguousLine {
        /// Where.
        at: Location,
        /// The DN.
        dn: String,
    },
    /// A malformed text field (empty name, host, mail, URI, marker, trust mode).
    #[error("{at}: {field} \"{value}\": {why}")]
    Field {
        /// Where.
        at: Location,
        /// Field name.
        field: &'static str,
        /// As written.
        value: String,
        /// Why.
        why: &'static str,
    },
}
