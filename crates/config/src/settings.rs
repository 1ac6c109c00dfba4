//! Validated settings: what the rest of Causeway reads. Every value here has been checked and defaulted;
//! nothing refers back to TOML. `causeway-node` turns these into engine and transport configs.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use causeway_policy::digest::credentials::CredentialTable;
use causeway_policy::digest::DigestConfig;
use causeway_policy::flood::FloodConfig;
use causeway_policy::seal::RouteKey;
use causeway_policy::PolicySet;
use causeway_routing::RoutingTable;

pub use causeway_sip::Transport;

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[node]`.
    pub node: NodeSettings,
    /// `[[listener]]`, in file order (at least one).
    pub listeners: Vec<Listener>,
    /// `[outbound]`.
    pub outbound: Outbound,
    /// `[transaction]`.
    pub timers: Timers,
    /// `[limits]`.
    pub limits: Limits,
    /// `[log]`.
    pub log: LogSettings,
    /// `[[route]]`, as written (the routing table below holds them as zones and search rules).
    pub routes: RouteTable,
    /// `[[zone]]`, `[[transform]]` and `[[search_rule]]` compiled (or `[[route]]` compiled into zones
    /// and search rules): what the edge routes with.
    pub routing: Routing,
    /// `[policy]`, `[security]` and `[[credential]]`.
    pub security: SecuritySettings,
    /// `[admin]`: the status endpoint, when configured.
    pub admin: Option<AdminSettings>,
    /// `[dns]`.
    pub dns: DnsSettings,
    /// `[meetings]`, when this node runs the meetings service.
    pub meetings: Option<MeetingsLink>,
    /// `[callctl]`, when this node runs call control (registrar and back-to-back user agent).
    pub call_control: Option<CallControl>,
    /// `[store] url`: the database CDRs, registrations and switches are kept in; `None`: nothing is kept.
    pub store: Option<String>,
    /// `[registrar]`.
    pub registrar: RegistrarSettings,
}

/// `[registrar]`: how long devices' registrations may run (RFC 3261 §10.2.1.1, §10.3 step 7) and what their
/// digest challenges offer (RFC 8760 §2.4: most preferred first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarSettings {
    /// Shortest registration accepted (shorter: 423 with Min-Expires), seconds.
    pub min_expires: u32,
    /// Longest granted, seconds.
    pub max_expires: u32,
    /// Granted when a REGISTER asks for none, seconds.
    pub default_expires: u32,
    /// Most contacts bound to one address of record.
    pub max_contacts: usize,
    /// Algorithms offered, most preferred first.
    pub digest_algorithms: Vec<causeway_policy::digest::credentials::Algorithm>,
}

impl Default for RegistrarSettings {
    fn default() -> Self {
        use causeway_policy::digest::credentials::Algorithm;
        Self { min_expires: 60, max_expires: 3600, default_expires: 3600, max_contacts: 10, digest_algorithms: vec![Algorithm::Sha256, Algorithm::Md5] }
    }
}

/// A loaded call-control snapshot, shared by every call (`Arc`).
#[derive(Clone)]
pub struct CallControl {
    cluster: Arc<causeway_callctl::Cluster>,
    /// What it was loaded from, printed: the directory and dial plan have no equality of their own, so two
    /// are equal when this is.
    printed: Arc<str>,
}

impl CallControl {
    pub(crate) fn new(cluster: causeway_callctl::Cluster) -> Self {
        let printed = format!("{cluster:?}").into();
        Self { cluster: Arc::new(cluster), printed }
    }

    /// The snapshot calls run with.
    pub fn cluster(&self) -> &Arc<causeway_callctl::Cluster> {
        &self.cluster
    }
}

impl PartialEq for CallControl {
    fn eq(&self, other: &Self) -> bool {
        self.printed == other.printed
    }
}

impl Eq for CallControl {}

impl fmt::Debug for CallControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cluster.fmt(f)
    }
}

/// `[meetings]`: `causeway serve` runs the meetings service of this file in-process (CalDAV polling, the
/// bookings API) and its routing repairs Zoom dial strings from the room bookings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingsLink {
    /// The meetings config file, resolved against the main config's directory; read by causeway-meetings.
    pub config: PathBuf,
}

/// `[admin]`: where `GET /status` (and `causeway status`) is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminSettings {
    /// A loopback `ip:port`; port 0 picks a free port.
    pub listen: SocketAddr,
}

/// `[dns]`: how the node looks names up (RFC 3263 for DNS zones, peer host names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSettings {
    /// Name servers in order; empty: the system's (`/etc/resolv.conf`).
    pub servers: Vec<SocketAddr>,
    /// Time one attempt may take (default 2 s); a lookup that runs out of attempts is a timeout (504).
    pub timeout: Duration,
    /// Attempts per lookup (default 2).
    pub attempts: usize,
}

impl Default for DnsSettings {
    fn default() -> Self {
        Self { servers: Vec::new(), timeout: Duration::from_secs(2), attempts: 2 }
    }
}

/// Who this node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSettings {
    /// Name in logs (default `causeway`).
    pub name: String,
    /// Host name written into Via and Record-Route in place of the listener's IP address, when set.
    pub advertised_host: Option<String>,
    /// Server/User-Agent header value (default `Causeway`, without a version: a version helps attackers
    /// pick exploits and tells a peer nothing it needs).
    pub server_header: String,
}

/// One socket to listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// UDP, TCP or TLS.
    pub transport: Transport,
    /// Address to bind; port 0 asks the kernel for a free port.
    pub address: SocketAddr,
    /// Certificate, key and client checking; `Some` exactly when `transport` is TLS.
    pub tls: Option<ListenerTls>,
}

/// TLS material of a listener. Paths are resolved against the config file's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerTls {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// Client certificate checking (mutual TLS), when configured.
    pub mutual_tls: Option<MutualTls>,
}

/// Client certificates are checked against `ca`; their subject names later classify the peer into a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutualTls {
    /// PEM bundle of trusted client CAs.
    pub ca: PathBuf,
    /// Whether a client without a certificate is refused (`true`) or accepted as unverified (`false`).
    pub required: bool,
}

/// Settings for connections this node opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// PEM bundles of CAs trusted to sign next hops' certificates; empty means outbound TLS is impossible.
    pub tls_roots: Vec<PathBuf>,
    /// Certificate chain and key presented to a next hop that asks for one.
    pub client_cert: Option<ClientCert>,
    /// Time allowed for a TCP connect plus TLS handshake (default 5 s).
    pub connect_timeout: Duration,
}

/// A client certificate for outbound mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// RFC 3261 §17 timer values (defaults from §17.1.1.1 and Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// T1, RTT estimate (default 500 ms).
    pub t1: Duration,
    /// T2, maximum retransmit interval for non-INVITE requests and INVITE responses (default 4 s).
    pub t2: Duration,
    /// T4, maximum duration a message remains in the network (default 5 s).
    pub t4: Duration,
    /// Timer C, proxy INVITE transaction timeout; RFC 3261 §16.6 step 11 requires more than 3 minutes
    /// (default 200 s).
    pub timer_c: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_millis(4000),
            t4: Duration::from_millis(5000),
            timer_c: Duration::from_secs(200),
        }
    }
}

/// Bounds that keep a peer from exhausting the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest SIP message accepted, in bytes (default 65535).
    pub max_message_bytes: usize,
    /// A TCP/TLS connection idle this long is closed (default 600 s).
    pub tcp_idle: Duration,
    /// Accepted connections open at once (default 10000).
    pub max_connections: usize,
    /// Accepted connections open at once from one IP address (default 100).
    pub max_connections_per_ip: usize,
    /// Time allowed for an accepted TLS handshake (default 10 s).
    pub tls_handshake: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 65_535,
            tcp_idle: Duration::from_secs(600),
            max_connections: 10_000,
            max_connections_per_ip: 100,
            tls_handshake: Duration::from_secs(10),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// A tracing-subscriber filter (`info`, `warn,causeway_proxy=debug`); already checked to parse.
    /// The environment variables `CAUSEWAY_LOG`, then `RUST_LOG`, override it at start-up.
    pub level: String,
    /// Text or JSON.
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { level: "info".to_owned(), format: LogFormat::Text }
    }
}

/// The static routing table of issue 2: the proxy's `StaticRoutes` sends an initial request to the first
/// domain or prefix route that matches, in file order, else to the default route. The edge-routing zones
/// and search rules replace it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteTable {
    /// Routes in file order.
    pub routes: Vec<Route>,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Which requests it takes.
    pub matcher: RouteMatch,
    /// Where they go.
    pub next_hop: NextHop,
}

/// What a route matches in the Request-URI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RouteMatch {
    /// The host equals this domain (lower-cased; RFC 3261 §19.1.4 compares hosts case-insensitively).
    Domain(String),
    /// The user part starts with these dialled digits.
    Prefix(String),
    /// Anything no other route takes.
    Default,
}

/// A next hop: where to send, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// The URI as written, for logs and `Route` headers.
    pub uri: String,
    /// IP address and port (the URI's port, or the transport's default).
    pub address: SocketAddr,
    /// Transport from `transport=`, or UDP for `sip:` and TLS for `sips:` (RFC 3263 §4.1 for a numeric host).
    pub transport: Transport,
}

/// The edge's protections: call policy, digest authentication and the flood guard (docs/policy.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuritySettings {
    /// `[policy]`: the compiled rule table or CPL script; off when the section is absent.
    pub policy: CallPolicy,
    /// `[security.digest]`: realm, algorithms and nonce lifetime, when configured.
    pub digest: Option<DigestConfig>,
    /// `[security.flood]`: limits, bans and the allow-list (defaults when the section is absent: the guard
    /// is always on).
    pub flood: FloodConfig,
    /// `[[credential]]`: HA1 hashes by username, for the realm of `digest`.
    pub credentials: CredentialTable,
    /// `[security] record_route_key_file`: the Record-Route seal key shared by a cluster's nodes and kept
    /// across restarts; `None`: the node draws one at each start (Debug shows `<redacted>`).
    pub route_key: Option<RouteKey>,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            policy: CallPolicy::off(),
            digest: None,
            flood: FloodConfig::default(),
            credentials: CredentialTable::default(),
            route_key: None,
        }
    }
}

/// The compiled routing table, shared by every request (`Arc`, swapped whole on reload).
#[derive(Clone)]
pub struct Routing {
    table: Arc<RoutingTable>,
    /// The table printed: compiled patterns have no equality of their own, so two tables are equal when
    /// this is.
    printed: Arc<str>,
}

impl Routing {
    pub(crate) fn new(table: RoutingTable) -> Self {
        let printed = format!("{table:?}").into();
        Self { table: Arc::new(table), printed }
    }

    /// The table to route with.
    pub fn table(&self) -> &Arc<RoutingTable> {
        &self.table
    }
}

impl PartialEq for Routing {
    fn eq(&self, other: &Self) -> bool {
        self.printed == other.printed
    }
}

impl Eq for Routing {}

impl fmt::Debug for Routing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.table.fmt(f)
    }
}

/// A compiled call policy, shared by every request handler (`Arc`, swapped whole on reload).
#[derive(Clone)]
pub struct CallPolicy {
    set: Arc<PolicySet>,
    /// What it was compiled from, printed (rules with their patterns and places, or the CPL tree): compiled
    /// regexes and CPL trees have no equality of their own, so two policies are equal when this is.
    printed: Arc<str>,
}

impl CallPolicy {
    /// No call policy: every request is allowed.
    pub fn off() -> Self {
        Self::new(PolicySet::off())
    }

    pub(crate) fn new(set: PolicySet) -> Self {
        let printed = format!("{set:?}").into();
        Self { set: Arc::new(set), printed }
    }

    /// The policy to evaluate.
    pub fn set(&self) -> &Arc<PolicySet> {
        &self.set
    }
}

impl PartialEq for CallPolicy {
    fn eq(&self, other: &Self) -> bool {
        self.printed == other.printed
    }
}

impl Eq for CallPolicy {}

impl fmt::Debug for CallPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.set.fmt(f)
    }
}
