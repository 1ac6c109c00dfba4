//! Configuration errors, each printed as `file:line:col: reason`.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file itself could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The path as given.
        file: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file was read but is not a valid configuration; every problem found is listed, one per line.
    #[error("{}", DisplayAll(.0))]
    Invalid(Vec<ConfigError>),
}

struct DisplayAll<'a>(&'a [ConfigError]);

impl fmt::Display for DisplayAll<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// One problem in a configuration file, with the place it was found.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {reason}")]
pub struct ConfigError {
    /// The file name as given on the command line (or `<built-in example>`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub reason: Reason,
}

impl ConfigError {
    /// Locate `span` (byte offsets into `source`) and attach it to `reason`.
    pub(crate) fn at(file: &str, source: &str, span: Range<usize>, reason: Reason) -> Self {
        let (line, column) = line_col(source, span.start);
        Self { file: file.to_owned(), line, column, reason }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `source`. An offset past the end or inside
/// a multi-byte character is clamped to the nearest character boundary before it.
pub(crate) fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = source.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

/// What is wrong at a place in the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// TOML syntax or shape error (unknown key, wrong type, missing field), in toml's own words.
    #[error("{message}")]
    Toml {
        /// toml's description, e.g. ``unknown field `prot`, expected one of …``.
        message: String,
    },
    /// The file defines no `[[listener]]`, so the node could not receive anything.
    #[error("no [[listener]] defined; a node needs at least one")]
    NoListener,
    /// `address` is not `ip:port`.
    #[error("listener address `{address}` is not ip:port (e.g. 127.0.0.1:5060 or [::1]:5060)")]
    BadListenerAddress {
        /// The text given.
        address: String,
    },
    /// Two listeners would bind the same socket (UDP and TCP/TLS sockets are separate; port 0 never clashes).
    #[error("duplicate listener: {address} over {socket} is already used by the listener at line {first_line}")]
    DuplicateListener {
        /// The address both use.
        address: SocketAddr,
        /// `udp` or `tcp` (TLS listens on a TCP socket).
        socket: &'static str,
        /// Line of the first listener.
        first_line: usize,
    },
    /// A TLS listener without `cert` or `key`.
    #[error("a tls listener needs `{missing}` (a PEM file)")]
    TlsMaterialMissing {
        /// `cert` or `key`.
        missing: &'static str,
    },
    /// `cert`, `key` or `mutual_tls` on a UDP or TCP listener.
    #[error("`{key}` is only allowed on a tls listener")]
    TlsKeyOnPlainListener {
        /// The misplaced key.
        key: &'static str,
    },
    /// `tls_cert` without `tls_key` in `[outbound]`, or the reverse.
    #[error("`{given}` needs `{missing}` beside it")]
    HalfClientCert {
        /// The key that is present.
        given: &'static str,
        /// The key that is missing.
        missing: &'static str,
    },
    /// A TLS file named in the config cannot be read.
    #[error("cannot read {what} `{}`: {source}", path.display())]
    TlsFileUnreadable {
        /// What the file should hold: `certificate chain`, `private key`, `CA bundle`.
        what: &'static str,
        /// The path, resolved against the config file's directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A TLS file holds no PEM item of the kind needed.
    #[error("{what} `{}` holds no PEM {expected}", path.display())]
    TlsFileNoPem {
        /// What the file should hold.
        what: &'static str,
        /// The path, resolved against the config file's directory.
        path: PathBuf,
        /// The PEM item looked for.
        expected: &'static str,
    },
    /// A `[[route]]` with none, or more than one, of `domain`, `prefix`, `default = true`.
    #[error("a [[route]] needs exactly one of `domain`, `prefix` or `default = true` (found {found})")]
    RouteMatcherCount {
        /// How many were given.
        found: usize,
    },
    /// `default = false`.
    #[error("`default = false` matches nothing; write `default = true` or remove the key")]
    DefaultFalse,
    /// A domain that is not a host name.
    #[error("route domain `{domain}` is not a host name (letters, digits, `-` and `.`)")]
    BadDomain {
        /// The text given.
        domain: String,
    },
    /// A prefix with characters a dialled number cannot hold.
    #[error("route prefix `{prefix}` must be one or more of 0-9 * # + (a dialled-number prefix)")]
    BadPrefix {
        /// The text given.
        prefix: String,
    },
    /// A problem in `[[zone]]`, `[[transform]]` or `[[search_rule]]`, in the routing crate's words.
    #[error("{0}")]
    Routing(causeway_routing::config::ConfigReason),
    /// `[[route]]` in a file that also has `[[zone]]` or `[[search_rule]]`: two routing tables, neither of
    /// which would know the other.
    #[error("[[route]] is the simple form of routing; beside [[zone]] and [[search_rule]] write it as a search rule")]
    RouteBesideZones,
    /// Two routes with the same matcher; the second could never be chosen.
    #[error("duplicate route: {matcher} is already routed at line {first_line}")]
    DuplicateRoute {
        /// `domain example.com`, `prefix 9`, `default`.
        matcher: String,
        /// Line of the first route.
        first_line: usize,
    },
    /// `next_hop` is not a SIP URI this table can use.
    #[error("bad next_hop `{uri}`: {problem}")]
    BadNextHop {
        /// The text given.
        uri: String,
        /// What is wrong with it.
        problem: NextHopProblem,
    },
    /// `next_hop` names a host this node cannot turn into an address without DNS, which the static table does
    /// not do (the edge-routing zones will).
    #[error("unresolvable route target `{host}`: the static route table needs an IP address, not a host name")]
    UnresolvableNextHop {
        /// The host given.
        host: String,
    },
    /// A timer or limit of zero or out of its allowed range.
    #[error("`{key}` must be {rule} (got {value})")]
    OutOfRange {
        /// The key.
        key: &'static str,
        /// The rule, e.g. `at least 1`, `> 180 (RFC 3261 §16.6 step 11)`.
        rule: &'static str,
        /// The value given.
        value: u64,
    },
    /// `t2_ms` smaller than `t1_ms`.
    #[error("`t2_ms` ({t2}) must not be below `t1_ms` ({t1}) (RFC 3261 §17.1.2.2)")]
    T2BelowT1 {
        /// T1 in ms.
        t1: u64,
        /// T2 in ms.
        t2: u64,
    },
    /// `[log] level` is not a tracing filter.
    #[error("log level `{level}` is not a filter like `info` or `info,causeway_proxy=debug`: {source}")]
    BadLogFilter {
        /// The text given.
        level: String,
        /// tracing-subscriber's explanation.
        source: tracing_subscriber::filter::ParseError,
    },
    /// A bare word in `[log] level` that is not a level (tracing would read it as a target name and log
    /// nothing, which is never what a typo like `inof` meant).
    #[error("`{word}` is not a log level (trace, debug, info, warn, error, off); for a target write `{word}=info`")]
    UnknownLogLevel {
        /// The word given.
        word: String,
    },
    /// `server_header` or `name` empty, or with characters that cannot go into a header value.
    #[error("`{key}` must be non-empty printable text without line breaks")]
    BadText {
        /// The key.
        key: &'static str,
    },
    /// A problem the policy crate found in `[policy]`, `[security]` or a CPL script (placed by it).
    #[error("{message}")]
    Policy {
        /// Its explanation, without the place.
        message: String,
    },
    /// `server_header` in both `[node]` and `[security]`.
    #[error("server_header is already set in [node] at line {first_line}; keep one (the one in [security])")]
    ServerHeaderTwice {
        /// Line of `[node] server_header`.
        first_line: usize,
    },
    /// A zone that checks credentials, without `[security.digest]` to check them with.
    #[error("zone `{zone}` checks credentials: it needs [security.digest] (realm, algorithms) and [[credential]]s")]
    CheckWithoutDigest {
        /// The zone.
        zone: String,
    },
    /// `[security] record_route_key_file` cannot be read.
    #[error("cannot read the Record-Route key file `{}`: {source}", path.display())]
    RouteKeyUnreadable {
        /// The path, resolved against the config file's directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The Record-Route key file may be read by others than its owner.
    #[error("the Record-Route key file `{}` is readable by its group or others (mode {mode:04o}): a leaked key lets anyone forge in-dialog requests; chmod 600 it", path.display())]
    RouteKeyExposed {
        /// The path, resolved against the config file's directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The Record-Route key file does not hold a key (the message never shows its content).
    #[error("the Record-Route key file `{}`: {error}", path.display())]
    RouteKeyInvalid {
        /// The path, resolved against the config file's directory.
        path: PathBuf,
        /// What is wrong.
        error: causeway_policy::seal::RouteKeyError,
    },
    /// `[[credential]]` without `[security.digest]`, whose realm the HA1 hashes are computed for.
    #[error("a [[credential]] needs [security.digest] with the realm its HA1 hashes were computed for")]
    CredentialWithoutRealm,
    /// Two `[[credential]]` with one username.
    #[error("duplicate credential: username `{username}` is already defined at line {first_line}")]
    DuplicateCredential {
        /// The username.
        username: String,
        /// Line of the first one.
        first_line: usize,
    },
    /// A `[[credential]]` with neither `ha1_md5` nor `ha1_sha256`.
    #[error("credential `{username}` needs ha1_md5 and/or ha1_sha256 (hex of H(username:realm:password)); passwords are never stored")]
    CredentialWithoutHa1 {
        /// The username.
        username: String,
    },
    /// An HA1 that is not hex of the algorithm's length.
    #[error("{error}")]
    BadHa1 {
        /// The policy crate's explanation.
        error: causeway_policy::digest::credentials::Ha1Error,
    },
    /// A problem call control found in `[callctl]` (placed by it).
    #[error("{message}")]
    CallControl {
        /// Its explanation, without the place.
        message: String,
    },
    /// `[registrar]` times out of order.
    #[error("registration times must satisfy min_expires_secs ({min}) <= default_expires_secs ({default}) <= max_expires_secs ({max})")]
    RegistrarTimes {
        /// Minimum.
        min: u64,
        /// Default.
        default: u64,
        /// Maximum.
        max: u64,
    },
    /// A digest algorithm other than MD5 and SHA-256, given twice, or none at all.
    #[error("digest_algorithms: `{value}` {why}")]
    BadDigestAlgorithm {
        /// The value.
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `[store] url` is neither a SQLite nor a PostgreSQL URL.
    #[error("store url `{url}` is neither sqlite:///path nor postgres://…")]
    BadStoreUrl {
        /// The value.
        url: String,
    },
    /// `[meetings] config` names a file that cannot be read.
    #[error("cannot read the meetings config `{}`: {source}", path.display())]
    MeetingsFileUnreadable {
        /// The path, resolved against the config file's directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// `advertised_host` is not a host name or IP address.
    #[error("advertised_host `{host}` is not a host name or IP address")]
    BadAdvertisedHost {
        /// The text given.
        host: String,
    },
    /// `[admin] listen` is not a loopback address: the admin endpoint has no authentication.
    #[error("admin endpoint address `{address}` is not a loopback address (127.0.0.0/8 or ::1)")]
    AdminNotLoopback {
        /// The address given.
        address: SocketAddr,
    },
    /// A socket address (`[admin] listen`, `[dns] servers`) that is not `ip:port`.
    #[error("`{key}` value `{value}` is not ip:port (e.g. 127.0.0.1:8180)")]
    BadSocketAddress {
        /// The key.
        key: &'static str,
        /// The text given.
        value: String,
    },
}

/// What is wrong with a `next_hop` URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NextHopProblem {
    /// Not a URI by RFC 3261 §19.1 / §25.1, in causeway-sip's words.
    #[error("malformed URI: {0}")]
    Syntax(causeway_sip::UriError),
    /// Not `sip:` or `sips:`.
    #[error("the scheme must be sip or sips")]
    Scheme,
    /// A user part (`sip:user@host`) in a next hop: the Request-URI is kept, only the host is used.
    #[error("a next hop names a host, not a user (remove `user@`)")]
    UserPart,
    /// Port 0.
    #[error("the port must be 1-65535")]
    Port,
    /// `transport=` names something other than udp, tcp or tls.
    #[error("transport must be udp, tcp or tls")]
    Transport,
    /// `sips:` with a transport other than TLS (RFC 3261 §26.2.2).
    #[error("a sips URI needs transport=tls")]
    SipsNotTls,
    /// URI headers (`?…`) have no meaning in a next hop.
    #[error("URI headers (`?…`) are not allowed")]
    Headers,
}
