//! What the policy engine is told about one request. Plain data: the proxy fills it from the
//! parsed message and its zone classification; `causeway locate` fills it from the command line.

use chrono::{DateTime, Utc};

use crate::address::Address;

/// Everything `evaluate` looks at for one request.
#[derive(Debug, Clone)]
pub struct PolicyInput {
    /// Name of the zone the request was classified into.
    pub zone: String,
    /// Whether the zone's authentication policy vouched for the request (digest checked, mutual
    /// TLS, or "treat as authenticated").
    pub authenticated: bool,
    /// The From address.
    pub from: Address,
    /// P-Asserted-Identity / P-Preferred-Identity values (RFC 3325). The proxy strips them from
    /// unauthenticated requests before forwarding; when any are still present here, source
    /// patterns test them as well as From, so a spoofed identity cannot hide behind an
    /// innocuous From.
    pub asserted: Vec<Address>,
    /// The alias being routed (after pre-search transforms).
    pub destination: Address,
    /// The Request-URI as received, before transforms (CPL `original-destination`).
    pub original_destination: Option<Address>,
    /// The Priority header (RFC 3261 §20.26); absent means `normal`.
    pub priority: Option<String>,
    /// Header values for CPL `string-switch`.
    pub strings: StringFields,
    /// Wall-clock time of the request, for CPL `time-switch`. Passed in: the engine never reads a clock.
    pub wall_time: DateTime<Utc>,
    /// Which CPL top-level action applies (`incoming` or `outgoing`); `taa:routed` applies to both.
    pub direction: Direction,
}

impl PolicyInput {
    /// An unauthenticated, incoming request with no asserted identity or optional headers.
    pub fn new(zone: &str, from: Address, destination: Address, wall_time: DateTime<Utc>) -> Self {
        Self {
            zone: zone.to_owned(),
            authenticated: false,
            from,
            asserted: Vec::new(),
            destination,
            original_destination: None,
            priority: None,
            strings: StringFields::default(),
            wall_time,
            direction: Direction::Incoming,
        }
    }

    /// Every identity the caller claims: From first, then asserted identities.
    pub fn identities(&self) -> impl Iterator<Item = &Address> {
        std::iter::once(&self.from).chain(self.asserted.iter())
    }

    /// The request's priority, RFC 3261 §20.26: missing means `normal`.
    pub fn priority_level(&self) -> PriorityLevel {
        self.priority.as_deref().map_or(PriorityLevel::Normal, PriorityLevel::parse)
    }
}

/// Header values a CPL `string-switch` can test (RFC 3880 §4.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StringFields {
    /// Subject header.
    pub subject: Option<String>,
    /// Organization header.
    pub organization: Option<String>,
    /// User-Agent header.
    pub user_agent: Option<String>,
    /// Accept-Language / Content-Language.
    pub language: Option<String>,
}

/// Which way the call goes, relative to the users the script serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A call arriving for local users (CPL `incoming`).
    Incoming,
    /// A call placed by local users (CPL `outgoing`).
    Outgoing,
}

/// RFC 3261 §20.26 priorities, lowest first, so that `<` means "less urgent".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PriorityLevel {
    /// `non-urgent`.
    NonUrgent,
    /// `normal` (also the value of a missing header).
    Normal,
    /// `urgent`.
    Urgent,
    /// `emergency`.
    Emergency,
    /// Any other token (RFC 6878 registry values or garbage), lower-cased. It equals only
    /// itself, and for `less`/`greater` it ranks as `normal`.
    Other(String),
}

impl PriorityLevel {
    /// Case-insensitive parse.
    pub fn parse(value: &str) -> Self {
        match value.trim().to_ascii_lowercase().as_str() {
            "non-urgent" => Self::NonUrgent,
            "normal" => Self::Normal,
            "urgent" => Self::Urgent,
            "emergency" => Self::Emergency,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The rank used by `less` and `greater`.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Self::NonUrgent => 0,
            Self::Normal | Self::Other(_) => 1,
            Self::Urgent => 2,
            Self::Emergency => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_20_26_missing_priority_is_normal() {
        let input = PolicyInput::new(
            "default",
            Address::sip(Some("a"), "x"),
            Address::sip(Some("b"), "y"),
            DateTime::<Utc>::UNIX_EPOCH,
        );
        assert_eq!(input.priority_level(), PriorityLevel::Normal);
        assert_eq!(PriorityLevel::parse(" EMERGENCY "), PriorityLevel::Emergency);
        assert_eq!(PriorityLevel::parse("x-odd").rank(), PriorityLevel::Normal.rank());
    }
}
