//! Load-time errors. Each names the place (`file:line:col`) and the reason; nothing is fixed up
//! silently.

use crate::cpl::CplError;
use crate::source::Location;

/// Why a policy configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The TOML itself is malformed, or a key is unknown or of the wrong type.
    #[error("{at}: {message}")]
    Toml {
        /// Where.
        at: Location,
        /// The TOML parser's explanation.
        message: String,
    },
    /// A pattern does not compile.
    #[error("{at}: rule \"{rule}\": invalid {field} pattern: {error}")]
    InvalidPattern {
        /// Where.
        at: Location,
        /// Rule name.
        rule: String,
        /// `source` or `destination`.
        field: &'static str,
        /// The regex compiler's explanation.
        error: regex::Error,
    },
    /// A rule names a zone that the configuration does not define.
    #[error("{at}: rule \"{rule}\": unknown zone \"{zone}\"")]
    UnknownZone {
        /// Where.
        at: Location,
        /// Rule name.
        rule: String,
        /// The zone as written.
        zone: String,
    },
    /// An earlier catch-all makes the rule unreachable.
    #[error("{at}: rule \"{rule}\" can never match: rule \"{earlier}\" at {earlier_at} matches everything it would")]
    Shadowed {
        /// Where the unreachable rule is.
        at: Location,
        /// Its name.
        rule: String,
        /// The earlier rule that shadows it.
        earlier: String,
        /// Where that one is.
        earlier_at: Location,
    },
    /// Two rules share a name.
    #[error("{at}: rule name \"{name}\" is already used at {first}")]
    DuplicateName {
        /// Where the second one is.
        at: Location,
        /// The name.
        name: String,
        /// Where the first one is.
        first: Location,
    },
    /// A rule name is empty.
    #[error("{at}: rule name must not be empty")]
    EmptyName {
        /// Where.
        at: Location,
    },
    /// A reject status outside 400–699.
    #[error("{at}: status {status} is not a final error status (400-699)")]
    BadStatus {
        /// Where.
        at: Location,
        /// The status as written.
        status: u16,
    },
    /// A reason phrase with characters a SIP status line cannot carry.
    #[error("{at}: reason phrase must be printable text without line breaks")]
    BadReason {
        /// Where.
        at: Location,
    },
    /// `status` or `reason` on an `allow`.
    #[error("{at}: status and reason apply only to action = \"reject\"")]
    StatusOnAllow {
        /// Where.
        at: Location,
    },
    /// Both a CPL script and a rule table.
    #[error("{at}: policy has both `cpl` and rule-table settings (rule, default); use one of them")]
    CplAndRules {
        /// Where `cpl` is.
        at: Location,
    },
    /// `cpl_node_budget` in a policy that has no CPL script.
    #[error("{at}: cpl_node_budget applies only with `cpl`")]
    BudgetWithoutCpl {
        /// Where.
        at: Location,
    },
    /// A CPL node budget of zero.
    #[error("{at}: cpl_node_budget must be at least 1")]
    ZeroBudget {
        /// Where.
        at: Location,
    },
    /// The CPL file could not be read by the caller's loader.
    #[error("{at}: cannot read CPL script \"{path}\": {source}")]
    CplRead {
        /// Where `cpl` is.
        at: Location,
        /// The path as written.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A `server_header` value that cannot go in a header.
    #[error("{at}: {error}")]
    ServerHeader {
        /// Where.
        at: Location,
        /// Why.
        error: crate::server_header::ServerHeaderError,
    },
    /// A digest algorithm other than SHA-256 and MD5, listed twice, or an empty list.
    #[error("{at}: digest algorithms are \"SHA-256\" and \"MD5\", each at most once (got \"{value}\")")]
    BadAlgorithm {
        /// Where.
        at: Location,
        /// As written.
        value: String,
    },
    /// An empty realm, or one with control characters.
    #[error("{at}: realm must be non-empty printable text")]
    BadRealm {
        /// Where.
        at: Location,
    },
    /// A zero value where a positive one is needed.
    #[error("{at}: {field} must be positive")]
    NotPositive {
        /// Where.
        at: Location,
        /// Which field.
        field: &'static str,
    },
    /// `max_ban_secs` below `ban_secs`.
    #[error("{at}: max_ban_secs is below ban_secs")]
    MaxBanBelowBan {
        /// Where.
        at: Location,
    },
    /// A trusted CIDR that does not parse.
    #[error("{at}: {error}")]
    BadCidr {
        /// Where.
        at: Location,
        /// Why.
        error: crate::flood::CidrError,
    },
    /// A trusted zone that the configuration does not define.
    #[error("{at}: unknown zone \"{zone}\" in trusted_zones")]
    UnknownTrustedZone {
        /// Where.
        at: Location,
        /// As written.
        zone: String,
    },
    /// The CPL script was refused.
    #[error(transparent)]
    Cpl(#[from] CplError),
}
