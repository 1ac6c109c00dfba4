//! Raw → validated: defaults, ranges, cross-field checks, TLS files, next hops. Every problem is collected
//! (not only the first) with the span of the value that caused it.

mod callctl;
mod routing;
mod security;
mod services;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use crate::error::{ConfigError, Reason};
use crate::next_hop;
use crate::raw::{
    RawConfig, RawLimits, RawListener, RawLog, RawLogFormat, RawNode, RawOutbound, RawRoute, RawTransaction,
    RawTransport,
};
use crate::settings::{
    ClientCert, Config, Limits, Listener, ListenerTls, LogFormat, LogSettings, MutualTls, NodeSettings, Outbound,
    Route, RouteMatch, RouteTable, Timers, Transport,
};

/// Collects errors against one source text.
pub(crate) struct Validator<'a> {
    file: &'a str,
    source: &'a str,
    /// Directory relative TLS paths are resolved against.
    base_dir: &'a Path,
    errors: Vec<ConfigError>,
}

impl<'a> Validator<'a> {
    pub(crate) fn new(file: &'a str, source: &'a str, base_dir: &'a Path) -> Self {
        Self { file, source, base_dir, errors: Vec::new() }
    }

    fn error(&mut self, span: Range<usize>, reason: Reason) {
        self.errors.push(ConfigError::at(self.file, self.source, span, reason));
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        crate::error::line_col(self.source, span.start).0
    }

    /// Validate everything; `Err` holds every problem found, in file order.
    pub(crate) fn run(mut self, raw: RawConfig) -> Result<Config, Vec<ConfigError>> {
        let node_server_header = raw.node.server_header.as_ref().map(Spanned::span);
        let mut node = self.node(raw.node);
        let listeners = self.listeners(raw.listeners);
        let outbound = self.outbound(raw.outbound);
        let timers = self.timers(raw.transaction);
        let limits = self.limits(raw.limits);
        let log = self.log(raw.log);
        let route_spans: Vec<Range<usize>> = raw.routes.iter().map(Spanned::span).collect();
        let routes = self.routes(raw.routes);
        let spanned: Vec<(Route, Range<usize>)> = routes.routes.iter().cloned().zip(route_spans).collect();
        let checking = security::checking_zones(&raw.zones);
        let sections = routing::RawRouting { zones: raw.zones, transforms: raw.transforms, search_rules: raw.search_rules };
        let routing = self.routing(sections, &spanned);
        let zones = routing.as_ref().map_or_else(|| vec![causeway_routing::DEFAULT_ZONE], |r| r.table().zone_names());
        let sections =
            security::RawSecurity { policy: raw.policy, security: raw.security, credentials: raw.credentials, checking };
        let (security, server_header) = self.security(sections, node_server_header, &zones);
        let admin = raw.admin.and_then(|a| self.admin(a));
        let dns = self.dns(raw.dns);
        let meetings = raw.meetings.and_then(|m| self.meetings(m));
        let call_control = raw.callctl.as_ref().and_then(|c| self.call_control(c, &zones));
        let store = raw.store.and_then(|s| self.store(s));
        let registrar = self.registrar(raw.registrar);
        if let Some(value) = server_header {
            node.server_header = value;
        }
        match (self.errors.is_empty(), routing) {
            (true, Some(routing)) => {
                Ok(Config {
                    node,
                    listeners,
                    outbound,
                    timers,
                    limits,
                    log,
                    routes,
                    routing,
                    security,
                    admin,
                    dns,
                    meetings,
                    call_control,
                    store,
                    registrar,
                })
            }
            _ => {
                self.errors.sort_by_key(|e| (e.line, e.column));
                Err(self.errors)
            }
        }
    }

    fn node(&mut self, raw: RawNode) -> NodeSettings {
        let name = self.text("name", raw.name, "causeway");
        let server_header = self.text("server_header", raw.server_header, "Causeway");
        let advertised_host = raw.advertised_host.and_then(|host| {
            let span = host.span();
            let host = host.into_inner();
            let valid = next_hop::is_host(&host);
            if valid {
                Some(host)
            } else {
                self.error(span, Reason::BadAdvertisedHost { host });
                None
            }
        });
        NodeSettings { name, advertised_host, server_header }
    }

    /// A header-safe text value: non-empty, no control characters (so it cannot break a header line).
    fn text(&mut self, key: &'static str, value: Option<Spanned<String>>, default: &str) -> String {
        let Some(value) = value else { return default.to_owned() };
        let span = value.span();
        let value = value.into_inner();
        if value.trim().is_empty() || value.chars().any(char::is_control) {
            self.error(span, Reason::BadText { key });
        }
        value
    }

    fn listeners(&mut self, raw: Vec<Spanned<RawListener>>) -> Vec<Listener> {
        if raw.is_empty() {
            self.error(0..0, Reason::NoListener);
        }
        // (socket kind, address) → line of the first listener on it.
        let mut bound: HashMap<(&'static str, SocketAddr), usize> = HashMap::new();
        let mut listeners = Vec::with_capacity(raw.len());
        for listener in raw {
            let table_span = listener.span();
            let listener = listener.into_inner();
            let transport = transport(*listener.transport.get_ref());
            let address_span = listener.address.span();
            let address = match listener.address.get_ref().parse::<SocketAddr>() {
                Ok(address) => Some(address),
                Err(_) => {
                    let address = listener.address.into_inner();
                    self.error(address_span.clone(), Reason::BadListenerAddress { address });
                    None
                }
            };
            let tls = self.listener_tls(transport, table_span, listener.cert, listener.key, listener.mutual_tls);
            let Some(address) = address else { continue };
            // TLS listens on a TCP socket, so TCP and TLS on one address clash; UDP is a separate socket.
            let socket = if transport.is_stream() { "tcp" } else { "udp" };
            if address.port() != 0 {
                let line = self.line_of(&address_span);
                if let Some(&first_line) = bound.get(&(socket, address)) {
                    self.error(address_span, Reason::DuplicateListener { address, socket, first_line });
                } else {
                    bound.insert((socket, address), line);
                }
            }
            listeners.push(Listener { transport, address, tls });
        }
        listeners
    }

    fn listener_tls(
        &mut self,
        transport: Transport,
        table_span: Range<usize>,
        cert: Option<Spanned<String>>,
        key: Option<Spanned<String>>,
        mutual: Option<Spanned<crate::raw::RawMutualTls>>,
    ) -> Option<ListenerTls> {
        if transport != Transport::Tls {
            for (name, span) in [
                ("cert", cert.as_ref().map(Spanned::span)),
                ("key", key.as_ref().map(Spanned::span)),
                ("mutual_tls", mutual.as_ref().map(Spanned::span)),
            ] {
                if let Some(span) = span {
                    self.error(span, Reason::TlsKeyOnPlainListener { key: name });
                }
            }
            return None;
        }
        let cert = match cert {
            Some(cert) => self.pem_file(cert, "certificate chain", PemKind::Certificate),
            None => {
                self.error(table_span.clone(), Reason::TlsMaterialMissing { missing: "cert" });
                None
            }
        };
        let key = match key {
            Some(key) => self.pem_file(key, "private key", PemKind::PrivateKey),
            None => {
                self.error(table_span, Reason::TlsMaterialMissing { missing: "key" });
                None
            }
        };
        let mutual_tls = match mutual {
            Some(mutual) => {
                let mutual = mutual.into_inner();
                let required = mutual.required.unwrap_or(true);
                Some(self.pem_file(mutual.ca, "CA bundle", PemKind::Certificate).map(|ca| MutualTls { ca, required }))
            }
            None => None,
        };
        match (cert, key, mutual_tls) {
            (Some(cert), Some(key), None) => Some(ListenerTls { cert, key, mutual_tls: None }),
            (Some(cert), Some(key), Some(Some(mutual))) => Some(ListenerTls { cert, key, mutual_tls: Some(mutual) }),
            _ => None,
        }
    }

    /// Resolve `path` against the config's directory and check that it holds at least one PEM item of `kind`.
    fn pem_file(&mut self, path: Spanned<String>, what: &'static str, kind: PemKind) -> Option<PathBuf> {
        let span = path.span();
        let resolved = self.base_dir.join(path.into_inner());
        let bytes = match std::fs::read(&resolved) {
            Ok(bytes) => bytes,
            Err(source) => {
                self.error(span, Reason::TlsFileUnreadable { what, path: resolved, source });
                return None;
            }
        };
        let found = rustls_pemfile::read_all(&mut bytes.as_slice()).flatten().any(|item| kind.matches(&item));
        if found {
            Some(resolved)
        } else {
            self.error(span, Reason::TlsFileNoPem { what, path: resolved, expected: kind.label() });
            None
        }
    }

    fn outbound(&mut self, raw: RawOutbound) -> Outbound {
        let tls_roots = raw
            .tls_roots
            .into_iter()
            .filter_map(|root| self.pem_file(root, "CA bundle", PemKind::Certificate))
            .collect();
        let client_cert = match (raw.tls_cert, raw.tls_key) {
            (Some(cert), Some(key)) => {
                let cert = self.pem_file(cert, "certificate chain", PemKind::Certificate);
                let key = self.pem_file(key, "private key", PemKind::PrivateKey);
                cert.zip(key).map(|(cert, key)| ClientCert { cert, key })
            }
            (Some(cert), None) => {
                self.error(cert.span(), Reason::HalfClientCert { given: "tls_cert", missing: "tls_key" });
                None
            }
            (None, Some(key)) => {
                self.error(key.span(), Reason::HalfClientCert { given: "tls_key", missing: "tls_cert" });
                None
            }
            (None, None) => None,
        };
        let connect_timeout = self.secs("connect_timeout_secs", raw.connect_timeout_secs, 5, 1, "at least 1");
        Outbound { tls_roots, client_cert, connect_timeout }
    }

    fn timers(&mut self, raw: RawTransaction) -> Timers {
        let defaults = Timers::default();
        let t1 = self.number("t1_ms", raw.t1_ms.as_ref(), millis(defaults.t1), 1, "at least 1");
        let t2 = self.number("t2_ms", raw.t2_ms.as_ref(), millis(defaults.t2), 1, "at least 1");
        if t2 < t1 {
            let span = raw.t2_ms.as_ref().or(raw.t1_ms.as_ref()).map_or(0..0, Spanned::span);
            self.error(span, Reason::T2BelowT1 { t1, t2 });
        }
        let t4 = self.number("t4_ms", raw.t4_ms.as_ref(), millis(defaults.t4), 1, "at least 1");
        // RFC 3261 §16.6 step 11: "The timer MUST be larger than 3 minutes."
        let timer_c = self.secs(
            "timer_c_secs",
            raw.timer_c_secs,
            defaults.timer_c.as_secs(),
            181,
            "more than 180 (RFC 3261 §16.6 step 11)",
        );
        Timers {
            t1: Duration::from_millis(t1),
            t2: Duration::from_millis(t2),
            t4: Duration::from_millis(t4),
            timer_c,
        }
    }

    fn limits(&mut self, raw: RawLimits) -> Limits {
        let defaults = Limits::default();
        let max_message_bytes = self.count(
            "max_message_bytes",
            raw.max_message_bytes,
            defaults.max_message_bytes,
            1024,
            "at least 1024",
        );
        let tcp_idle = self.secs("tcp_idle_secs", raw.tcp_idle_secs, defaults.tcp_idle.as_secs(), 1, "at least 1");
        let max_connections =
            self.count("max_connections", raw.max_connections, defaults.max_connections, 1, "at least 1");
        let max_connections_per_ip = self.count(
            "max_connections_per_ip",
            raw.max_connections_per_ip,
            defaults.max_connections_per_ip,
            1,
            "at least 1",
        );
        let tls_handshake = self.secs(
            "tls_handshake_secs",
            raw.tls_handshake_secs,
            defaults.tls_handshake.as_secs(),
            1,
            "at least 1",
        );
        Limits { max_message_bytes, tcp_idle, max_connections, max_connections_per_ip, tls_handshake }
    }

    /// A number with a default and a minimum.
    fn number(&mut self, key: &'static str, raw: Option<&Spanned<u64>>, default: u64, min: u64, rule: &'static str) -> u64 {
        match raw {
            None => default,
            Some(value) if *value.get_ref() >= min => *value.get_ref(),
            Some(value) => {
                self.error(value.span(), Reason::OutOfRange { key, rule, value: *value.get_ref() });
                default
            }
        }
    }

    fn secs(&mut self, key: &'static str, raw: Option<Spanned<u64>>, default: u64, min: u64, rule: &'static str) -> Duration {
        Duration::from_secs(self.number(key, raw.as_ref(), default, min, rule))
    }

    fn count(&mut self, key: &'static str, raw: Option<Spanned<u64>>, default: usize, min: u64, rule: &'static str) -> usize {
        let default = u64::try_from(default).unwrap_or(u64::MAX);
        usize::try_from(self.number(key, raw.as_ref(), default, min, rule)).unwrap_or(usize::MAX)
    }

    fn log(&mut self, raw: RawLog) -> LogSettings {
        let format = match raw.format {
            Some(RawLogFormat::Json) => LogFormat::Json,
            Some(RawLogFormat::Text) | None => LogFormat::Text,
        };
        let level = match raw.level {
            None => LogSettings::default().level,
            Some(level) => {
                let span = level.span();
                let level = level.into_inner();
                if let Err(source) = tracing_subscriber::EnvFilter::builder().parse(&level) {
                    self.error(span, Reason::BadLogFilter { level: level.clone(), source });
                } else if let Some(word) = level.split(',').map(str::trim).find(|d| is_unknown_bare_level(d)) {
                    let word = word.to_owned();
                    self.error(span, Reason::UnknownLogLevel { word });
                }
                level
            }
        };
        LogSettings { level, format }
    }

    fn routes(&mut self, raw: Vec<Spanned<RawRoute>>) -> RouteTable {
        let mut seen: HashMap<RouteMatch, usize> = HashMap::new();
        let mut routes = Vec::with_capacity(raw.len());
        for route in raw {
            let table_span = route.span();
            let route = route.into_inner();
            let matcher = self.route_match(table_span, route.domain, route.prefix, route.default);
            let hop_span = route.next_hop.span();
            let next_hop = match next_hop::parse(route.next_hop.get_ref()) {
                Ok(hop) => Some(hop),
                Err(reason) => {
                    self.error(hop_span, reason);
                    None
                }
            };
            let Some((matcher, matcher_span)) = matcher else { continue };
            let line = self.line_of(&matcher_span);
            if let Some(&first_line) = seen.get(&matcher) {
                self.error(matcher_span, Reason::DuplicateRoute { matcher: describe(&matcher), first_line });
                continue;
            }
            seen.insert(matcher.clone(), line);
            if let Some(next_hop) = next_hop {
                routes.push(Route { matcher, next_hop });
            }
        }
        RouteTable { routes }
    }

    /// Exactly one of `domain`, `prefix`, `default = true`; returns it with the span of the key's value.
    fn route_match(
        &mut self,
        table_span: Range<usize>,
        domain: Option<Spanned<String>>,
        prefix: Option<Spanned<String>>,
        default: Option<Spanned<bool>>,
    ) -> Option<(RouteMatch, Range<usize>)> {
        let found = usize::from(domain.is_some()) + usize::from(prefix.is_some()) + usize::from(default.is_some());
        if found != 1 {
            self.error(table_span, Reason::RouteMatcherCount { found });
            return None;
        }
        if let Some(domain) = domain {
            let span = domain.span();
            let domain = domain.into_inner();
            if next_hop::is_hostname(&domain) {
                return Some((RouteMatch::Domain(domain.to_ascii_lowercase()), span));
            }
            self.error(span, Reason::BadDomain { domain });
            return None;
        }
        if let Some(prefix) = prefix {
            let span = prefix.span();
            let prefix = prefix.into_inner();
            if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'*' | b'#' | b'+')) {
                return Some((RouteMatch::Prefix(prefix), span));
            }
            self.error(span, Reason::BadPrefix { prefix });
            return None;
        }
        let default = default?;
        if *default.get_ref() {
            Some((RouteMatch::Default, default.span()))
        } else {
            self.error(default.span(), Reason::DefaultFalse);
            None
        }
    }
}

/// A directive with no `=`, `[` or `::` is meant as a level; tracing would silently take it as a target.
fn is_unknown_bare_level(directive: &str) -> bool {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    !directive.is_empty()
        && !directive.contains(['=', '[', ':'])
        && !LEVELS.iter().any(|level| level.eq_ignore_ascii_case(directive))
}

fn describe(matcher: &RouteMatch) -> String {
    match matcher {
        RouteMatch::Domain(domain) => format!("domain {domain}"),
        RouteMatch::Prefix(prefix) => format!("prefix {prefix}"),
        RouteMatch::Default => "default".to_owned(),
    }
}

fn transport(raw: RawTransport) -> Transport {
    match raw {
        RawTransport::Udp => Transport::Udp,
        RawTransport::Tcp => Transport::Tcp,
        RawTransport::Tls => Transport::Tls,
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The PEM item a TLS file must hold.
#[derive(Clone, Copy)]
enum PemKind {
    Certificate,
    PrivateKey,
}

impl PemKind {
    fn matches(self, item: &rustls_pemfile::Item) -> bool {
        use rustls_pemfile::Item;
        match self {
            Self::Certificate => matches!(item, Item::X509Certificate(_)),
            Self::PrivateKey => matches!(item, Item::Pkcs1Key(_) | Item::Pkcs8Key(_) | Item::Sec1Key(_)),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Certificate => "CERTIFICATE",
            Self::PrivateKey => "PRIVATE KEY",
        }
    }
}
