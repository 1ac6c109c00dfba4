//! The raw serde shapes of a configuration file, exactly as written.
//!
//! Every table rejects unknown keys, and every value that a later semantic check may complain about is
//! wrapped in [`Spanned`], so that the error can name the line it came from. Defaults are applied during
//! validation ([`crate::validate`]), not here, so a span always points at text the user wrote.

use causeway_policy::rules::config::PolicyConfig;
use causeway_policy::security::SecurityConfig;
use causeway_routing::config::raw::{SearchRuleConfig, TransformConfig, ZoneConfig};
use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    /// `[node]`: who this node is.
    #[serde(default)]
    pub(crate) node: RawNode,
    /// `[[listener]]`: sockets to listen on.
    #[serde(default, rename = "listener")]
    pub(crate) listeners: Vec<Spanned<RawListener>>,
    /// `[outbound]`: connections this node opens.
    #[serde(default)]
    pub(crate) outbound: RawOutbound,
    /// `[transaction]`: RFC 3261 §17 timer values.
    #[serde(default)]
    pub(crate) transaction: RawTransaction,
    /// `[limits]`: bounds on messages and connections.
    #[serde(default)]
    pub(crate) limits: RawLimits,
    /// `[log]`: log level and format.
    #[serde(default)]
    pub(crate) log: RawLog,
    /// `[[route]]`: the simple routing table (compiled into zones and search rules).
    #[serde(default, rename = "route")]
    pub(crate) routes: Vec<Spanned<RawRoute>>,
    /// `[[zone]]`: the edge's zones, in the routing crate's own shape.
    #[serde(default, rename = "zone")]
    pub(crate) zones: Vec<Spanned<ZoneConfig>>,
    /// `[[transform]]`: pre-search alias rewrites.
    #[serde(default, rename = "transform")]
    pub(crate) transforms: Vec<Spanned<TransformConfig>>,
    /// `[[search_rule]]`: where requests go.
    #[serde(default, rename = "search_rule")]
    pub(crate) search_rules: Vec<Spanned<SearchRuleConfig>>,
    /// `[policy]`: call policy, in the policy crate's own shape (absent: no call policy).
    pub(crate) policy: Option<PolicyConfig>,
    /// `[security]`: Server header, digest settings, flood guard, in the policy crate's own shape.
    #[serde(default)]
    pub(crate) security: SecurityConfig,
    /// `[[credential]]`: users the edge authenticates, as HA1 hashes.
    #[serde(default, rename = "credential")]
    pub(crate) credentials: Vec<Spanned<RawCredential>>,
    /// `[admin]`: the loopback status endpoint (absent: none).
    pub(crate) admin: Option<RawAdmin>,
    /// `[dns]`: name servers for RFC 3263 lookups (absent: the system's).
    #[serde(default)]
    pub(crate) dns: RawDns,
    /// `[meetings]`: the meetings service this node runs in-process (room bookings for the Zoom repair).
    pub(crate) meetings: Option<RawMeetings>,
    /// `[callctl]`: call control (directory, dial plan, Single Number Reach), in the callctl crate's shape.
    pub(crate) callctl: Option<causeway_callctl::config::CallCtlConfig>,
    /// `[store]`: where durable state is kept (CDRs, registrations, dual-ringing switches).
    pub(crate) store: Option<RawStore>,
    /// `[registrar]`: registration times and the digest algorithms offered to devices.
    #[serde(default)]
    pub(crate) registrar: RawRegistrar,
}

/// `[registrar]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRegistrar {
    pub(crate) min_expires_secs: Option<Spanned<u64>>,
    pub(crate) max_expires_secs: Option<Spanned<u64>>,
    pub(crate) default_expires_secs: Option<Spanned<u64>>,
    pub(crate) max_contacts: Option<Spanned<u64>>,
    /// Digest algorithms offered in 401 challenges, most preferred first (`SHA-256`, `MD5`).
    pub(crate) digest_algorithms: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[store]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStore {
    /// `sqlite:///path/to/file.db` or `postgres://user@host/db`.
    pub(crate) url: Spanned<String>,
}

/// `[meetings]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMeetings {
    /// The meetings config file (`[meetings]` with rooms and CalDAV collections, as `causeway meetings`
    /// reads it), relative to this file.
    pub(crate) config: Spanned<String>,
}

/// `[admin]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdmin {
    /// `ip:port` of the status endpoint; loopback only.
    pub(crate) listen: Spanned<String>,
}

/// `[dns]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDns {
    /// `ip:port` of each name server, tried in order.
    #[serde(default)]
    pub(crate) servers: Vec<Spanned<String>>,
    /// Time one attempt may take.
    pub(crate) timeout_ms: Option<Spanned<u64>>,
    /// Attempts per lookup.
    pub(crate) attempts: Option<Spanned<u64>>,
}

/// One `[[credential]]`: a username and its HA1 hashes (RFC 7616 §3.4.2: `H(username:realm:password)`,
/// hex), never a password.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCredential {
    pub(crate) username: Spanned<String>,
    pub(crate) ha1_md5: Option<Spanned<String>>,
    pub(crate) ha1_sha256: Option<Spanned<String>>,
}

/// `[node]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNode {
    /// Name used in logs and, later, in cluster membership.
    pub(crate) name: Option<Spanned<String>>,
    /// Host name written into Via and Record-Route instead of the listener's IP address.
    pub(crate) advertised_host: Option<Spanned<String>>,
    /// Value of the Server and User-Agent headers this node generates.
    pub(crate) server_header: Option<Spanned<String>>,
}

/// Transport names accepted in `transport = "…"`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawTransport {
    Udp,
    Tcp,
    Tls,
}

/// One `[[listener]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawListener {
    pub(crate) transport: Spanned<RawTransport>,
    /// `ip:port`; port 0 binds an ephemeral port.
    pub(crate) address: Spanned<String>,
    /// PEM certificate chain (TLS only).
    pub(crate) cert: Option<Spanned<String>>,
    /// PEM private key (TLS only).
    pub(crate) key: Option<Spanned<String>>,
    /// Client certificate checking (TLS only).
    pub(crate) mutual_tls: Option<Spanned<RawMutualTls>>,
}

/// `mutual_tls = { ca = "…", required = true }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMutualTls {
    /// PEM bundle of the CAs that sign client certificates.
    pub(crate) ca: Spanned<String>,
    /// Reject clients without a certificate (default true).
    pub(crate) required: Option<bool>,
}

/// `[outbound]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutbound {
    /// PEM bundles of CAs trusted for next hops' certificates.
    #[serde(default)]
    pub(crate) tls_roots: Vec<Spanned<String>>,
    /// Client certificate chain presented to next hops that ask for one.
    pub(crate) tls_cert: Option<Spanned<String>>,
    /// Private key for `tls_cert`.
    pub(crate) tls_key: Option<Spanned<String>>,
    /// Time allowed for a TCP connect plus TLS handshake.
    pub(crate) connect_timeout_secs: Option<Spanned<u64>>,
}

/// `[transaction]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTransaction {
    pub(crate) t1_ms: Option<Spanned<u64>>,
    pub(crate) t2_ms: Option<Spanned<u64>>,
    pub(crate) t4_ms: Option<Spanned<u64>>,
    pub(crate) timer_c_secs: Option<Spanned<u64>>,
}

/// `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub(crate) max_message_bytes: Option<Spanned<u64>>,
    pub(crate) tcp_idle_secs: Option<Spanned<u64>>,
    pub(crate) max_connections: Option<Spanned<u64>>,
    pub(crate) max_connections_per_ip: Option<Spanned<u64>>,
    pub(crate) tls_handshake_secs: Option<Spanned<u64>>,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawLogFormat {
    Text,
    Json,
}

/// `[log]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLog {
    /// A tracing filter: `info`, or `info,causeway_proxy=debug`.
    pub(crate) level: Option<Spanned<String>>,
    pub(crate) format: Option<RawLogFormat>,
}

/// One `[[route]]`: exactly one of `domain`, `prefix` or `default = true`, and a `next_hop`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub(crate) domain: Option<Spanned<String>>,
    pub(crate) prefix: Option<Spanned<String>>,
    pub(crate) default: Option<Spanned<bool>>,
    pub(crate) next_hop: Spanned<String>,
}
