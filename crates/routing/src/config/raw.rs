//! The serde shapes of `[[zone]]`, `[[transform]]` and `[[search_rule]]`, exactly as written.
//!
//! Every table rejects unknown keys (a misspelt `on_mach` must not silently become the
//! default), and every value a later check may complain about is [`Spanned`], so that the error
//! names its line. Defaults are applied by [`super::RoutingConfig::compile`], not here, so a span
//! always points at text the administrator wrote.

use serde::Deserialize;
use toml::Spanned;

/// One `[[zone]]`: a class of peers with its own transport, authentication policy and options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// Unique name, used by search rules, call policy and `causeway status`.
    pub name: Spanned<String>,
    /// `neighbor`, `dns`, `trunk`, `traversal` or `default`.
    pub kind: Spanned<ZoneKindConfig>,
    /// `[[zone.peer]]`: fixed peers (neighbor, trunk, traversal client); at most 6, as Expressway.
    #[serde(default, rename = "peer")]
    pub peers: Vec<Spanned<PeerConfig>>,
    /// OPTIONS keepalive; on by default for neighbor, trunk and traversal-client zones.
    pub keepalive: Option<Spanned<KeepaliveConfig>>,
    /// `check-credentials`, `treat-as-authenticated` or `do-not-check` (the default, as Expressway).
    pub authentication: Option<Spanned<AuthPolicyConfig>>,
    /// Certificate subject names (exact or `*.` one-label wildcard) that classify a mutual-TLS
    /// request into this zone; with any set, the zone admits nobody by address or listener alone.
    #[serde(default)]
    pub tls_verify_subject: Vec<Spanned<String>>,
    /// Route requests from this zone by their topmost Route that is not this node (flow F2).
    #[serde(default)]
    pub honor_route_header: bool,
    /// Which headers requests sent to this zone keep.
    pub sip_profile: Option<Spanned<SipProfileConfig>>,
    /// DNS zones: look up this domain instead of the destination's ("modify DNS request").
    pub search_domain: Option<Spanned<String>>,
    /// DNS zones: the only transport to look up (skips NAPTR, RFC 3263 §4.1).
    pub transport: Option<Spanned<TransportConfig>>,
    /// DNS zones: fall back to A/AAAA records when there is no SRV record (Expressway default off).
    pub include_address_record: Option<Spanned<bool>>,
    /// Max-Forwards ceiling for requests sent to this zone (1-255, default 15).
    pub hop_count: Option<Spanned<u64>>,
    /// `name=value` or `name`: never route a request whose Contact carries this parameter to
    /// this zone (e.g. `call-type=squared`, the Webex loop marker).
    #[serde(default)]
    pub loop_contact_params: Vec<Spanned<String>>,
    /// Listener addresses (`ip:port`) whose requests belong to this zone.
    #[serde(default)]
    pub listeners: Vec<Spanned<String>>,
    /// Trunk zones: this node's FQDN, written in Contact and Record-Route (Teams Direct Routing
    /// refuses IP addresses there).
    pub local_fqdn: Option<Spanned<String>>,
    /// Traversal zones: `server` (the internal node dials in) or `client` (we dial out).
    pub role: Option<Spanned<TraversalRoleConfig>>,
}

/// Zone kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneKindConfig {
    /// Fixed peers with keepalive and failover.
    Neighbor,
    /// Peers found by RFC 3263 lookups.
    Dns,
    /// A neighbor with an SBC profile (Teams Direct Routing).
    Trunk,
    /// A connection kept up by the internal node.
    Traversal,
    /// Where unrecognised requests land.
    Default,
}

/// Traversal zone roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraversalRoleConfig {
    /// The edge: requests for the zone go down the connection the client keeps up.
    Server,
    /// The internal node: dials out to the peers.
    Client,
}

/// Transports in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportConfig {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS.
    Tls,
}

/// One `[[zone.peer]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// `host[:port]` (IPv6 as `[::1]:5060`); the port defaults to the transport's.
    pub address: Spanned<String>,
    /// Default `tls` (Expressway's neighbor default).
    pub transport: Option<Spanned<TransportConfig>>,
    /// Lower is tried first (0-65535, default 1).
    pub priority: Option<Spanned<u64>>,
    /// Share among peers of equal priority (RFC 2782 weights, 0-65535, default 1).
    pub weight: Option<Spanned<u64>>,
}

/// `keepalive = { … }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeepaliveConfig {
    /// `false` turns monitoring off: every peer counts as reachable.
    pub enabled: Option<bool>,
    /// Seconds between OPTIONS (default 60, as CUBE and Teams).
    pub interval_secs: Option<Spanned<u64>>,
    /// Seconds to wait for a response (default 10).
    pub timeout_secs: Option<Spanned<u64>>,
    /// Consecutive failures that mark an up peer down (default 3).
    pub failures_before_down: Option<Spanned<u64>>,
    /// Consecutive successes that mark a peer up (default 1).
    pub successes_before_up: Option<Spanned<u64>>,
}

/// Authentication policies (Expressway names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthPolicyConfig {
    /// Challenge with digest (RFC 3261 §22).
    CheckCredentials,
    /// Vouch for every request from this zone.
    TreatAsAuthenticated,
    /// Neither challenge nor vouch.
    DoNotCheck,
}

/// `sip_profile = { strip_headers = […], pass_headers = […] }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipProfileConfig {
    /// Headers removed from requests sent to this zone.
    #[serde(default)]
    pub strip_headers: Vec<Spanned<String>>,
    /// When given, the only non-core headers kept (a pass list); core RFC 3261 headers always pass.
    #[serde(default)]
    pub pass_headers: Vec<Spanned<String>>,
}

/// Pattern types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatternTypeConfig {
    /// The whole alias.
    Exact,
    /// The start of the alias.
    Prefix,
    /// The end of the alias.
    Suffix,
    /// A regular expression over the whole alias (anchored, case-insensitive).
    Regex,
}

/// One `[[transform]]`: a pre-search alias rewrite.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformConfig {
    /// 1-65534, unique, 1 first.
    pub priority: Spanned<u64>,
    /// Free text.
    pub description: Option<String>,
    /// How `pattern` is matched.
    pub pattern_type: Spanned<PatternTypeConfig>,
    /// The pattern.
    pub pattern: Spanned<String>,
    /// `strip`, `replace`, `add-prefix` or `add-suffix`.
    pub behaviour: Spanned<TransformBehaviourConfig>,
    /// `replace`: the replacement (`\1`…`\9` for regex groups).
    pub replace: Option<Spanned<String>>,
    /// `add-prefix` / `add-suffix`: the text added.
    pub text: Option<Spanned<String>>,
    /// Disabled transforms are listed by `locate` but never applied (default true).
    pub enabled: Option<bool>,
}

/// Transform behaviours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransformBehaviourConfig {
    /// Remove the matched prefix or suffix.
    Strip,
    /// Replace the matched part.
    Replace,
    /// Put `text` in front.
    AddPrefix,
    /// Put `text` at the end.
    AddSuffix,
}

/// One `[[search_rule]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchRuleConfig {
    /// Unique name.
    pub name: Spanned<String>,
    /// Free text.
    pub description: Option<String>,
    /// 1-65534, default 100; lower first, equal priorities are tried in parallel.
    pub priority: Option<Spanned<u64>>,
    /// `any` (default), `any-authenticated` or a zone name.
    pub source: Option<Spanned<String>>,
    /// Only authenticated requests match.
    #[serde(default)]
    pub request_must_be_authenticated: bool,
    /// `alias-pattern-match` (default) or `any-alias`.
    pub mode: Option<Spanned<ModeConfig>>,
    /// How `pattern` is matched (required with `alias-pattern-match`).
    pub pattern_type: Option<Spanned<PatternTypeConfig>>,
    /// The pattern (required with `alias-pattern-match`).
    pub pattern: Option<Spanned<String>>,
    /// `leave` (default), `strip` or `replace`: the alias sent to the target zone.
    pub behaviour: Option<Spanned<RuleBehaviourConfig>>,
    /// `replace`: the replacement (`\1`…`\9` for regex groups).
    pub replace: Option<Spanned<String>>,
    /// `continue` (default) or `stop`.
    pub on_match: Option<Spanned<OnMatchConfig>>,
    /// The zone to search.
    pub target: Spanned<String>,
    /// Disabled rules are listed by `locate` but never match (default true).
    pub enabled: Option<bool>,
    /// Allow targeting the zone the request came from (refused by default: loop prevention).
    #[serde(default)]
    pub allow_source_zone: bool,
}

/// Search rule modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeConfig {
    /// Every alias.
    AnyAlias,
    /// Aliases matching the pattern.
    AliasPatternMatch,
}

/// Search rule behaviours (Expressway's zone transform).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleBehaviourConfig {
    /// Send the alias unchanged.
    Leave,
    /// Remove the matched prefix or suffix.
    Strip,
    /// Replace the matched part.
    Replace,
}

/// What a match does to the rest of the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnMatchConfig {
    /// Lower-priority rules are tried if this target does not route the request.
    Continue,
    /// No rule of a lower priority is tried.
    Stop,
}
