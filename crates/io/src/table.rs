//! The connection table, owned by the driver's [`crate::Io`] handle (no lock): which flows are open, and which
//! flow carries traffic to a remote address (RFC 3261 §18: reuse a connection to the same address, port and
//! transport; RFC 5923-style aliases add the peer's advertised sent-by).

use std::collections::HashMap;
use std::net::SocketAddr;

use bytes::Bytes;
use causeway_sip::Transport;
use tokio::sync::mpsc;

use crate::event::FlowId;

pub(crate) struct Flow {
    pub(crate) transport: Transport,
    pub(crate) peer: SocketAddr,
    queue: mpsc::Sender<Bytes>,
    /// Every remote address this flow is registered under (its peer address plus aliases).
    keys: Vec<SocketAddr>,
}

#[derive(Default)]
pub(crate) struct ConnTable {
    flows: HashMap<FlowId, Flow>,
    by_remote: HashMap<(Transport, SocketAddr), FlowId>,
}

impl ConnTable {
    /// Registers a flow; it becomes the one used for its peer address (the newest connection wins).
    pub(crate) fn insert(&mut self, flow: FlowId, transport: Transport, peer: SocketAddr, queue: mpsc::Sender<Bytes>) {
        self.flows.insert(flow, Flow { transport, peer, queue, keys: Vec::new() });
        self.alias(flow, peer);
    }

    /// Makes `flow` the connection used for sending to `remote` over its transport. False if the flow is gone.
    pub(crate) fn alias(&mut self, flow: FlowId, remote: SocketAddr) -> bool {
        let Some(entry) = self.flows.get_mut(&flow) else {
            return false;
        };
        if !entry.keys.contains(&remote) {
            entry.keys.push(remote);
        }
        self.by_remote.insert((entry.transport, remote), flow);
        true
    }

    /// The flow to send on and its queue: `preferred` if still open, else the one registered for `destination`.
    pub(crate) fn find(
        &self,
        transport: Transport,
        preferred: Option<FlowId>,
        destination: SocketAddr,
    ) -> Option<(FlowId, &mpsc::Sender<Bytes>)> {
        let open = |flow: FlowId| self.flows.get(&flow).filter(|f| f.transport == transport).map(|f| (flow, &f.queue));
        preferred.and_then(open).or_else(|| self.by_remote.get(&(transport, destination)).copied().and_then(open))
    }

    /// Stops routing new sends to `flow` (its task has ended) while keeping it known until its close note arrives.
    pub(crate) fn detach(&mut self, flow: FlowId) {
        if let Some(entry) = self.flows.get_mut(&flow) {
            for key in entry.keys.drain(..) {
                if self.by_remote.get(&(entry.transport, key)) == Some(&flow) {
                    self.by_remote.remove(&(entry.transport, key));
                }
            }
        }
    }

    pub(crate) fn remove(&mut self, flow: FlowId) -> Option<Flow> {
        self.detach(flow);
        self.flows.remove(&flow)
    }

    pub(crate) fn len(&self) -> usize {
        self.flows.len()
    }
}
