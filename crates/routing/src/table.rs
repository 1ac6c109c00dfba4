//! The compiled routing table: an immutable snapshot built by
//! [`RoutingConfig::compile`](crate::config::RoutingConfig::compile) and shared (`Arc`) by every
//! request until a reload swaps it. Fields are public for reading; only compilation builds one.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use causeway_sip::Transport;
use serde::Serialize;

use crate::pattern::{AliasPattern, Rewrite};
use crate::subject::SubjectPattern;

/// Name of the default zone when the configuration does not define one.
pub const DEFAULT_ZONE: &str = "default";

/// Expressway's default hop count (Max-Forwards ceiling) per zone.
pub const DEFAULT_HOP_COUNT: u8 = 15;

/// Zones, transforms and search rules, validated and ordered.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    pub(crate) zones: Vec<Zone>,
    pub(crate) default_zone: Zone,
    pub(crate) transforms: Vec<Transform>,
    pub(crate) rules: Vec<SearchRule>,
}

impl RoutingTable {
    /// Every zone in configuration order, the default zone last.
    pub fn zones(&self) -> impl Iterator<Item = &Zone> {
        self.zones.iter().chain(std::iter::once(&self.default_zone))
    }

    /// The zone called `name`.
    pub fn zone(&self, name: &str) -> Option<&Zone> {
        self.zones().find(|z| z.name == name)
    }

    /// Where unrecognised requests land.
    pub fn default_zone(&self) -> &Zone {
        &self.default_zone
    }

    /// Zone names, for validating other sections (call policy's `source_zone`).
    pub fn zone_names(&self) -> Vec<&str> {
        self.zones().map(|z| z.name.as_str()).collect()
    }

    /// Pre-search transforms, highest priority (lowest number) first.
    pub fn transforms(&self) -> &[Transform] {
        &self.transforms
    }

    /// Search rules by priority, configuration order within a priority.
    pub fn search_rules(&self) -> &[SearchRule] {
        &self.rules
    }
}

/// A class of peers with its own transport, authentication policy and options.
#[derive(Debug, Clone, Serialize)]
pub struct Zone {
    /// Unique name.
    pub name: String,
    /// What kind of peers it holds.
    pub kind: ZoneKind,
    /// Fixed peers, in configuration order.
    pub peers: Vec<Peer>,
    /// OPTIONS keepalive, when monitored.
    pub keepalive: Option<KeepaliveSettings>,
    /// What the zone's requests must prove.
    pub authentication: AuthPolicy,
    /// Certificate names that classify a mutual-TLS request into this zone.
    pub tls_verify_subject: Vec<SubjectPattern>,
    /// Requests from this zone are routed by their topmost foreign Route (flow F2).
    pub honor_route_header: bool,
    /// Headers requests sent to this zone keep.
    pub sip_profile: SipProfile,
    /// RFC 3263 settings (DNS zones).
    pub dns: Option<DnsSettings>,
    /// Max-Forwards ceiling for requests sent to this zone.
    pub hop_count: u8,
    /// Contact parameters that keep a request out of this zone (loop prevention).
    pub loop_contact_params: Vec<ContactParam>,
    /// Listeners whose requests belong to this zone.
    pub listeners: Vec<SocketAddr>,
    /// This node's FQDN for Contact and Record-Route (trunk zones).
    pub local_fqdn: Option<String>,
}

impl Zone {
    /// The default zone with Expressway's defaults: no peers, do not check credentials.
    pub(crate) fn implicit_default() -> Self {
        Self {
            name: DEFAULT_ZONE.to_owned(),
            kind: ZoneKind::Default,
            peers: Vec::new(),
            keepalive: None,
            authentication: AuthPolicy::DoNotCheck,
            tls_verify_subject: Vec::new(),
            honor_route_header: false,
            sip_profile: SipProfile { strip_headers: Vec::new(), pass_headers: Vec::new() },
            dns: None,
            hop_count: DEFAULT_HOP_COUNT,
            loop_contact_params: Vec::new(),
            listeners: Vec::new(),
            local_fqdn: None,
        }
    }

    /// Whether a peer must have answered a keepalive before requests go to it. Trunks to Teams
    /// Direct Routing count a proxy only once it has answered OPTIONS (ANCHORS §A3).
    pub fn requires_answered_keepalive(&self) -> bool {
        self.kind == ZoneKind::Trunk && self.keepalive.is_some()
    }
}

/// Zone kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneKind {
    /// Fixed peers with keepalive and failover.
    Neighbor,
    /// Peers found by RFC 3263 lookups of the destination (or a fixed search domain).
    Dns,
    /// A neighbor with an SBC profile (Teams Direct Routing).
    Trunk,
    /// The edge end of a traversal connection the internal node keeps up.
    TraversalServer,
    /// The internal end of a traversal connection: dials out to its peers.
    TraversalClient,
    /// Anything unrecognised.
    Default,
}

impl std::fmt::Display for ZoneKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Neighbor => "neighbor",
            Self::Dns => "dns",
            Self::Trunk => "trunk",
            Self::TraversalServer => "traversal server",
            Self::TraversalClient => "traversal client",
            Self::Default => "default",
        })
    }
}

/// One fixed peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peer {
    /// Host name or IP address as configured.
    pub host: String,
    /// Port (the transport's default when not configured).
    pub port: u16,
    /// Transport.
    #[serde(serialize_with = "crate::serialize_transport")]
    pub transport: Transport,
    /// Lower first.
    pub priority: u16,
    /// RFC 2782 weight among equal priorities.
    pub weight: u16,
    /// [`Peer::key`], written once: classification and routing look peers up by it for
    /// every request.
    #[serde(skip)]
    key: String,
    /// The host when it is an IP address (classification compares it with each source).
    #[serde(skip)]
    ip: Option<IpAddr>,
}

impl Peer {
    /// A peer at `host` (a name or an IP address) and `port`.
    pub fn new(host: String, port: u16, transport: Transport, priority: u16, weight: u16) -> Self {
        let key = if host.contains(':') && !host.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        let ip = host.parse().ok();
        Self { host, port, transport, priority, weight, key, ip }
    }

    /// `host:port`, the key of this peer in a [`crate::HealthSnapshot`].
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The configured host, if it is an IP address.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }
}

/// OPTIONS keepalive settings of a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeepaliveSettings {
    /// Time between probes.
    pub interval: Duration,
    /// Time to wait for a probe's response.
    pub timeout: Duration,
    /// Consecutive failures that mark an up peer down.
    pub failures_before_down: u32,
    /// Consecutive successes that mark a peer up.
    pub successes_before_up: u32,
}

/// Authentication policies (Expressway names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthPolicy {
    /// Challenge with digest (RFC 3261 §22, RFC 8760); authenticated once the response checks.
    CheckCredentials,
    /// Every request from the zone is authenticated.
    TreatAsAuthenticated,
    /// Nothing is checked and nothing is vouched for.
    DoNotCheck,
}

impl std::fmt::Display for AuthPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::CheckCredentials => "check-credentials",
            Self::TreatAsAuthenticated => "treat-as-authenticated",
            Self::DoNotCheck => "do-not-check",
        })
    }
}

/// Which headers a request sent to a zone keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SipProfile {
    /// Removed, lower-case.
    pub strip_headers: Vec<String>,
    /// When non-empty, the only non-core headers kept, lower-case.
    pub pass_headers: Vec<String>,
}

/// Headers a proxy cannot forward a request without (RFC 3261 §8.1.1, §16.6, §20), full and
/// compact forms; a profile never removes them.
pub const CORE_HEADERS: &[&str] = &[
    "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq", "max-forwards", "contact", "m", "route",
    "record-route", "content-length", "l", "content-type", "c", "proxy-require", "require", "supported", "k",
];

impl SipProfile {
    /// Whether a header named `name` goes to the zone.
    pub fn keeps(&self, name: &str) -> bool {
        let name = name.trim().to_ascii_lowercase();
        if CORE_HEADERS.contains(&name.as_str()) {
            return true;
        }
        !self.strip_headers.contains(&name) && (self.pass_headers.is_empty() || self.pass_headers.contains(&name))
    }
}

/// RFC 3263 settings of a DNS zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsSettings {
    /// Domain looked up instead of the destination's ("modify DNS request"); the Request-URI is
    /// not changed.
    pub search_domain: Option<String>,
    /// The only transport looked up (SRV for it directly, no NAPTR).
    #[serde(serialize_with = "crate::serialize_opt_transport")]
    pub transport: Option<Transport>,
    /// Fall back to A/AAAA records when there is no SRV record.
    pub include_address_record: bool,
}

/// `name` or `name=value`: a Contact parameter that keeps a request out of a zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactParam {
    /// Parameter name, lower-case.
    pub name: String,
    /// Required value (compared ignoring case); `None` matches any value.
    pub value: Option<String>,
}

impl std::fmt::Display for ContactParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{}={v}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A compiled pre-search transform.
#[derive(Debug, Clone)]
pub struct Transform {
    /// 1-65534, unique.
    pub priority: u16,
    /// Free text.
    pub description: Option<String>,
    /// What it matches.
    pub pattern: AliasPattern,
    /// What it does.
    pub rewrite: Rewrite,
    /// Disabled transforms are reported but never applied.
    pub enabled: bool,
}

/// A compiled search rule.
#[derive(Debug, Clone)]
pub struct SearchRule {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Lower first; equal priorities are tried in parallel.
    pub priority: u16,
    /// Which requests it applies to.
    pub source: RuleSource,
    /// Only authenticated requests match.
    pub request_must_be_authenticated: bool,
    /// `None`: any alias; otherwise the pattern.
    pub pattern: Option<AliasPattern>,
    /// The alias sent to the target zone.
    pub rewrite: Rewrite,
    /// Whether lower-priority rules may still be tried.
    pub on_match: OnMatch,
    /// Target zone name.
    pub target: String,
    /// Disabled rules are reported but never match.
    pub enabled: bool,
    /// The rule may send a request back to the zone it came from.
    pub allow_source_zone: bool,
}

/// Which requests a search rule applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleSource {
    /// Every request.
    Any,
    /// Authenticated requests from any zone.
    AnyAuthenticated,
    /// Requests classified into this zone.
    Zone(String),
}

impl std::fmt::Display for RuleSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::AnyAuthenticated => f.write_str("any-authenticated"),
            Self::Zone(z) => write!(f, "zone {z}"),
        }
    }
}

/// What a match does to the rest of the search (Expressway "on successful match").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnMatch {
    /// If the target does not route the request, lower priorities are tried.
    Continue,
    /// Rules of lower priority are not tried (rules of the same priority still are).
    Stop,
}

impl std::fmt::Display for OnMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Continue => "continue",
            Self::Stop => "stop",
        })
    }
}
