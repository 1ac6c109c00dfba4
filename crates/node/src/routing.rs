//! The locator the core runs with: the edge routing engine (causeway-proxy's `EdgeRouter`) over the node's
//! routing table — every configuration file has one, its `[[route]]`s compiled into zones — or, for a node
//! built in code without a table ([`crate::NodeConfig::new`]), the static routes it was given. The dry run
//! (`causeway locate`) gets the very router a node would build, from [`edge_router`].

use std::sync::Arc;

use causeway_io::ListenerKind;
use causeway_proxy::edge::{EdgeRouter, ZoomRepair};
use causeway_proxy::{ListenerConfig, Locator, StaticRoutes};
use causeway_routing::RoutingTable;
use causeway_sip::Transport;

use crate::settings::NodeConfig;

/// A locator the node's task owns.
pub(crate) type NodeLocator = Box<dyn Locator + Send + Sync>;

/// The edge router over `table` when there is one, else `routes`. `listeners` are the bound ones and
/// `domains` the other names of this node.
pub(crate) fn locator(
    table: Option<&Arc<RoutingTable>>,
    routes: StaticRoutes,
    zoom_repair: Option<ZoomRepair>,
    listeners: &[ListenerConfig],
    domains: &[String],
    seed: u64,
) -> NodeLocator {
    match table {
        Some(table) => Box::new(router(table, zoom_repair, listeners, domains, seed)),
        None => Box::new(routes),
    }
}

/// The router a node built from `config` would use, with the listeners as configured (a port 0 stays 0):
/// for `causeway locate`. `None` for a config without a routing table.
pub fn edge_router(config: &NodeConfig) -> Option<EdgeRouter> {
    let table = config.routing.as_ref()?;
    let listeners: Vec<ListenerConfig> = config
        .io
        .listeners
        .iter()
        .map(|l| {
            let transport = match l.kind {
                ListenerKind::Udp => Transport::Udp,
                ListenerKind::Tcp => Transport::Tcp,
                ListenerKind::Tls(_) => Transport::Tls,
            };
            ListenerConfig { advertised_host: config.advertised_host.clone(), ..ListenerConfig::new(transport, l.addr) }
        })
        .collect();
    let domains = domains(&config.proxy.domains, Some(table));
    Some(router(table, config.zoom_repair.clone(), &listeners, &domains, config.seed.unwrap_or(0)))
}

/// This node's domains: the configured ones and each trunk zone's `local_fqdn` (Teams Direct Routing
/// addresses the SBC by it).
pub(crate) fn domains(configured: &[String], table: Option<&Arc<RoutingTable>>) -> Vec<String> {
    let mut domains = configured.to_vec();
    for fqdn in table.into_iter().flat_map(|t| t.zones().filter_map(|z| z.local_fqdn.clone())) {
        if !domains.contains(&fqdn) {
            domains.push(fqdn);
        }
    }
    domains
}

fn router(
    table: &Arc<RoutingTable>,
    zoom_repair: Option<ZoomRepair>,
    listeners: &[ListenerConfig],
    domains: &[String],
    seed: u64,
) -> EdgeRouter {
    let router = EdgeRouter::new(table.clone()).with_local_hosts(local_hosts(listeners, domains)).with_seed(seed);
    match zoom_repair {
        Some(repair) => router.with_rewriter(Arc::new(repair)),
        None => router,
    }
}

/// `ip:port` of every listener, `advertised-host:port` when it has one, and each domain (any port): Route
/// headers naming them are not routing aliases.
fn local_hosts(listeners: &[ListenerConfig], domains: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for l in listeners {
        let port = l.advertised_port.unwrap_or(l.local.port());
        for host in [Some(l.local.to_string()), l.advertised_host.as_ref().map(|h| format!("{h}:{port}"))].into_iter().flatten() {
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
    }
    hosts.extend(domains.iter().cloned());
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hosts_name_every_listener_once_and_the_domains() {
        let udp = ListenerConfig::new(Transport::Udp, "127.0.0.1:5060".parse().expect("addr"));
        let tcp = ListenerConfig { advertised_host: Some("edge.ent-pa.com".into()), ..ListenerConfig::new(Transport::Tcp, udp.local) };
        let hosts = local_hosts(&[udp, tcp], &["sbc.ent-pa.com".to_owned()]);
        assert_eq!(hosts, ["127.0.0.1:5060", "edge.ent-pa.com:5060", "sbc.ent-pa.com"]);
    }
}
