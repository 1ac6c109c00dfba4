//! [`NodeConfig`]: the engine configs a node runs with, and how a validated `causeway_config::Config` becomes one.

use causeway_config as cfg;
use causeway_io::{ClientAuth, ClientCert, ClientConfig, IoConfig, Limits, ListenerConfig, TlsServerConfig};
use std::sync::Arc;

use causeway_proxy::edge::ZoomRepair;
use causeway_policy::digest::nonce::NonceSecret;
use causeway_policy::seal::RouteKey;
use causeway_proxy::{ProxyConfig, SecurityConfig, StaticRoute, StaticRoutes, Timers};
use causeway_routing::RoutingTable;

use crate::dns::DnsConfig;

/// Everything [`crate::Node::build`] needs, as typed engine settings. Tests build it directly; the binary gets it
/// from a validated config file with [`NodeConfig::from_config`].
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Listeners, outbound TLS and limits. Listener `i` here becomes proxy listener `i`.
    pub io: IoConfig,
    /// The proxy core's settings. Its `listeners` are replaced at build time by the sockets actually bound
    /// (port 0 becomes the real port), each advertised under `advertised_host` when set.
    pub proxy: ProxyConfig,
    /// Host name written in Via and Record-Route instead of a listener's IP address.
    pub advertised_host: Option<String>,
    /// The static routing table, used only when there is no `routing` table (nodes built in code).
    pub routes: StaticRoutes,
    /// Seed for branch and tag generation; `None` draws one at random (tests fix it to replay a run).
    pub seed: Option<u64>,
    /// The edge's protections (flood guard, zone authentication, call policy), from start-up. `None`: none.
    pub security: Option<SecurityConfig>,
    /// Name servers for the core's RFC 3263 lookups (DNS zones, peer host names).
    pub dns: DnsConfig,
    /// The edge's zones, transforms and search rules: every initial request is routed by them (the
    /// `routes` are then unused), their peers get OPTIONS keepalive from start-up, and trunk zones'
    /// `local_fqdn` names this node (OPTIONS to it are answered). Every config file has one. `None`: route
    /// with `routes`.
    pub routing: Option<Arc<RoutingTable>>,
    /// The Zoom dial-string repair over the room bookings, run before the transforms (`[meetings]`).
    pub zoom_repair: Option<ZoomRepair>,
    /// Call control (`[callctl]`): the registrar of its devices and the B2BUA of its users' calls.
    pub call_control: Option<crate::CallControlConfig>,
}

impl NodeConfig {
    /// A node on `listeners` that routes with `routes`, every other setting at its default.
    pub fn new(listeners: Vec<ListenerConfig>, routes: Vec<StaticRoute>) -> Self {
        Self {
            io: IoConfig { listeners, ..IoConfig::default() },
            proxy: ProxyConfig::default(),
            advertised_host: None,
            routes: StaticRoutes::new(routes),
            seed: None,
            security: None,
            dns: DnsConfig::default(),
            routing: None,
            zoom_repair: None,
            call_control: None,
        }
    }

    /// Turns a validated configuration into engine settings. Infallible: `causeway-config` has already checked
    /// every value; what only binding can reveal (a port in use) is reported by [`crate::Node::build`].
    pub fn from_config(config: &cfg::Config) -> Self {
        let limits = Limits {
            max_message_size: config.limits.max_message_bytes,
            max_connections: config.limits.max_connections,
            max_connections_per_ip: config.limits.max_connections_per_ip,
            idle_timeout: config.limits.tcp_idle,
            tls_handshake_timeout: config.limits.tls_handshake,
            ..Limits::default()
        };
        let client = ClientConfig {
            tls_roots: config.outbound.tls_roots.clone(),
            client_cert: config
                .outbound
                .client_cert
                .as_ref()
                .map(|c| ClientCert { cert_chain: c.cert.clone(), private_key: c.key.clone() }),
            connect_timeout: config.outbound.connect_timeout,
        };
        let io = IoConfig { listeners: config.listeners.iter().map(listener).collect(), client, limits };
        let timers = &config.timers;
        let server = Some(config.node.server_header.clone()).filter(|s| !s.is_empty());
        let proxy = ProxyConfig {
            server,
            timers: Timers { t1: timers.t1, t2: timers.t2, t4: timers.t4, timer_c: timers.timer_c },
            max_message_bytes: config.limits.max_message_bytes,
            ..ProxyConfig::default()
        };
        Self {
            io,
            proxy,
            advertised_host: config.node.advertised_host.clone(),
            routes: StaticRoutes::default(),
            seed: None,
            security: Some(security(config)),
            dns: DnsConfig { servers: config.dns.servers.clone(), timeout: config.dns.timeout, attempts: config.dns.attempts },
            routing: Some(config.routing.table().clone()),
            zoom_repair: None,
            call_control: config.call_control.as_ref().map(|cc| crate::CallControlConfig {
                cluster: cc.cluster().clone(),
                registrar: registrar(&config.registrar),
            }),
        }
    }
}

/// The security phases over the config's zones, with a fresh nonce key: nonces do not outlive the process,
/// and clients retry a nonce from before a restart without asking the user (`stale=true`).
fn security(config: &cfg::Config) -> SecurityConfig {
    let settings = &config.security;
    // One credential table for the gate: `[[credential]]` and call control's devices.
    let mut credentials = settings.credentials.clone();
    if let Some(cc) = &config.call_control {
        let added = crate::callctl::merge_device_credentials(&mut credentials, cc.cluster().directory());
        tracing::debug!(devices = added, "device credentials accepted by zones that check credentials");
    }
    SecurityConfig {
        zones: config.routing.table().clone(),
        policy: settings.policy.set().clone(),
        digest: settings.digest.clone(),
        credentials: Arc::new(credentials),
        flood: Some(settings.flood.clone()),
        nonce_secret: NonceSecret::new(rand::random()),
        // `[security] record_route_key_file` lets dialogs outlive a restart and cross a cluster's nodes; without
        // it in-dialog requests of dialogs set up before this start are checked by the gate as unsealed.
        route_key: settings.route_key.clone().unwrap_or_else(|| RouteKey::new(rand::random())),
    }
}

/// `[registrar]` as the registrar's own settings.
fn registrar(r: &cfg::RegistrarSettings) -> causeway_b2bua::RegistrarConfig {
    causeway_b2bua::RegistrarConfig {
        min_expires: r.min_expires,
        max_expires: r.max_expires,
        default_expires: r.default_expires,
        max_contacts: r.max_contacts,
        algorithms: r.digest_algorithms.clone(),
        ..causeway_b2bua::RegistrarConfig::default()
    }
}

fn listener(l: &cfg::Listener) -> ListenerConfig {
    match &l.tls {
        None if l.transport == cfg::Transport::Udp => ListenerConfig::udp(l.address),
        None => ListenerConfig::tcp(l.address),
        Some(tls) => {
            let client_auth = match &tls.mutual_tls {
                None => ClientAuth::None,
                Some(m) if m.required => ClientAuth::Required { ca_bundle: m.ca.clone() },
                Some(m) => ClientAuth::Optional { ca_bundle: m.ca.clone() },
            };
            ListenerConfig::tls(
                l.address,
                TlsServerConfig { cert_chain: tls.cert.clone(), private_key: tls.key.clone(), client_auth },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_io::ListenerKind;
    use causeway_sip::Transport;

    #[test]
    fn builtin_example_becomes_udp_and_tcp_listeners_and_a_routing_table_with_its_default_route() {
        let config = cfg::Config::builtin().expect("the built-in example is valid");
        let node = NodeConfig::from_config(&config);
        let kinds: Vec<_> = node.io.listeners.iter().map(|l| (l.addr, matches!(l.kind, ListenerKind::Udp))).collect();
        let addr = "127.0.0.1:5060".parse().expect("addr");
        assert_eq!(kinds, [(addr, true), (addr, false)]);
        let table = node.routing.as_ref().expect("a config file always has a routing table");
        let zone = table.zone("route-default").expect("the [[route]] default = true zone");
        let peers: Vec<_> = zone.peers.iter().map(|p| (p.key(), p.transport)).collect();
        assert_eq!(peers, [("127.0.0.1:5080", Transport::Udp)]);
        assert!(node.routes.routes().is_empty(), "the static table is not used");
        assert_eq!(node.proxy.server.as_deref(), Some("Causeway"));
        assert_eq!(node.io.limits.max_message_size, config.limits.max_message_bytes);
        assert_eq!(node.proxy.timers.timer_c, config.timers.timer_c);
    }
}
