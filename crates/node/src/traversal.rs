//! The internal end of traversal zones: this node dials out to each peer of a traversal-client zone (the edge)
//! and keeps the connection open with CRLF keep-alives, reconnecting after failures (causeway-io's kept flows),
//! so the edge can send requests for this node down it. The zone's OPTIONS keepalive runs over the same
//! connection, which is how the edge learns which connection serves the zone.

use std::net::IpAddr;
use std::time::Duration;

use causeway_io::KeptFlow;
use causeway_routing::{RoutingTable, ZoneKind};
use causeway_sip::Transport;

/// RFC 5626 §4.4.1: a CRLF ping at least every 120 s on TCP/TLS; the zone's keepalive interval when shorter.
const MAX_PING_INTERVAL: Duration = Duration::from_secs(120);
/// First wait before dialling the edge again; doubled per quick failure up to [`RETRY_MAX`]. Shorter than
/// RFC 5626 §4.5's 30 s base: the edge is this node's own partner, and every second down is a second no call
/// reaches the internal side.
const RETRY_BASE: Duration = Duration::from_secs(1);
/// Longest wait before dialling the edge again.
const RETRY_MAX: Duration = Duration::from_secs(60);

/// The connections to keep open for `table`'s traversal-client zones. Peers must be IP addresses (a host name
/// would need a lookup before the first connection; it is skipped with a warning).
pub(crate) fn kept_flows(table: &RoutingTable) -> Vec<KeptFlow> {
    let mut out = Vec::new();
    for zone in table.zones().filter(|z| z.kind == ZoneKind::TraversalClient) {
        let ping_interval = zone.keepalive.map_or(MAX_PING_INTERVAL, |k| k.interval.min(MAX_PING_INTERVAL));
        for peer in &zone.peers {
            let Ok(ip) = peer.host.parse::<IpAddr>() else {
                tracing::warn!(zone = %zone.name, peer = %peer.key(), "traversal peers must be IP addresses; not dialled");
                continue;
            };
            if peer.transport == Transport::Udp {
                tracing::warn!(zone = %zone.name, peer = %peer.key(), "a traversal connection needs TCP or TLS; not dialled");
                continue;
            }
            out.push(KeptFlow {
                transport: peer.transport,
                destination: std::net::SocketAddr::new(ip, peer.port),
                server_name: None,
                ping_interval,
                retry_base: RETRY_BASE,
                retry_max: RETRY_MAX,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_client_peers_become_kept_flows_pinged_at_most_every_120_s() {
        let table = causeway_routing::config::load(
            r#"
[[zone]]
name = "edge"
kind = "traversal"
role = "client"
keepalive = { interval_secs = 30 }
[[zone.peer]]
address = "192.0.2.1:5061"
[[zone.peer]]
address = "edge.example.com:5061"

[[zone]]
name = "edge-slow"
kind = "traversal"
role = "client"
keepalive = { interval_secs = 600, timeout_secs = 10 }
[[zone.peer]]
address = "192.0.2.2:5061"
transport = "tcp"

[[zone]]
name = "cucm"
kind = "neighbor"
[[zone.peer]]
address = "192.0.2.3:5061"
"#,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let kept: Vec<_> = kept_flows(&table).into_iter().map(|k| (k.destination.to_string(), k.transport, k.ping_interval.as_secs())).collect();
        assert_eq!(kept, [("192.0.2.1:5061".to_owned(), Transport::Tls, 30), ("192.0.2.2:5061".to_owned(), Transport::Tcp, 120)]);
    }
}
