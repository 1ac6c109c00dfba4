//! The edge end of traversal zones (issue 3 item 1, `traversal`): the internal node dials out
//! to this node and keeps the connection open; requests for the zone go down that connection
//! (RFC 5626 §5: a flow the peer opened is reused to reach it, since the edge cannot connect
//! in). A connection belongs to a traversal-server zone when it classifies into one —
//! normally by the internal node's client certificate (the zone's `tls_verify_subject`) — which
//! is decided once, on the first message it carries. The newest connection of a zone is the
//! one used; when it closes, the one before it, if still open.

use std::collections::HashMap;

use causeway_routing::{classify, ClassifyInput, RoutingTable, TraversalConnection, ZoneKind};

use crate::api::FlowId;
use crate::core::Core;
use crate::locate::Locator;
use crate::plan::Arrival;

/// Connections remembered at most (the I/O layer's connection limit is far lower).
const MAX_FLOWS: usize = 65_536;

/// Which connections carry which traversal-server zone.
#[derive(Debug)]
pub(crate) struct Traversal {
    /// The routing table, kept only when it has traversal-server zones.
    table: Option<RoutingTable>,
    /// Flows already classified: their zone, or `None` for flows of no traversal zone.
    seen: HashMap<FlowId, Option<String>>,
    /// Open connections per zone, oldest first.
    by_zone: HashMap<String, Vec<TraversalConnection>>,
}

impl Traversal {
    pub(crate) fn new(table: &RoutingTable) -> Self {
        let has_servers = table.zones().any(|z| z.kind == ZoneKind::TraversalServer);
        Self { table: has_servers.then(|| table.clone()), seen: HashMap::new(), by_zone: HashMap::new() }
    }
}

impl<L: Locator> Core<L> {
    /// A message arrived on `arrival`: if it is the first on a connection that belongs to a
    /// traversal-server zone, that connection now carries the zone's requests.
    pub(crate) fn note_flow(&mut self, arrival: &Arrival) {
        let Some(monitor) = self.monitor.as_mut() else { return };
        let (Some(flow), Some(table)) = (arrival.flow, monitor.traversal.table.as_ref()) else { return };
        if !arrival.transport.is_stream() || monitor.traversal.seen.contains_key(&flow) {
            return;
        }
        let input = ClassifyInput {
            listener: arrival.local,
            source: arrival.peer,
            transport: arrival.transport,
            tls_peer_names: arrival.tls_peer_names.as_deref(),
        };
        let classified = classify(&input, table, &monitor.health);
        let zone = table.zone(classified.zone()).filter(|z| z.kind == ZoneKind::TraversalServer).map(|z| z.name.clone());
        if monitor.traversal.seen.len() >= MAX_FLOWS {
            monitor.traversal.seen.retain(|_, zone| zone.is_some());
        }
        monitor.traversal.seen.insert(flow, zone.clone());
        let Some(zone) = zone else { return };
        let connection = TraversalConnection { flow: flow.0, address: arrival.peer, transport: arrival.transport };
        tracing::info!(%zone, peer = %arrival.peer, flow = flow.0, "traversal connection up");
        monitor.traversal.by_zone.entry(zone.clone()).or_default().push(connection);
        monitor.health.set_traversal_connection(&zone, Some(connection));
    }

    /// The I/O layer closed connection `flow`: a traversal zone it carried falls back to its
    /// previous connection, or is down until the internal node connects again.
    pub fn handle_flow_closed(&mut self, flow: FlowId) {
        let Some(monitor) = self.monitor.as_mut() else { return };
        let Some(Some(zone)) = monitor.traversal.seen.remove(&flow) else { return };
        let connections = monitor.traversal.by_zone.entry(zone.clone()).or_default();
        connections.retain(|c| c.flow != flow.0);
        let current = connections.last().copied();
        if current.is_none() {
            tracing::info!(%zone, "traversal connection down");
        }
        monitor.health.set_traversal_connection(&zone, current);
    }

    /// The connection a traversal-server zone's requests go down now, if any.
    pub fn traversal_connection(&self, zone: &str) -> Option<TraversalConnection> {
        self.health().and_then(|h| h.traversal_connection(zone)).copied()
    }
}
