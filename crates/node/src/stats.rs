//! Counters a running node exposes (later served on /metrics): the transport counters, read live, and the
//! proxy core's counters, peer keepalive states and flood-guard bans, published by the driver at most once a
//! second and when it stops.

use causeway_io::{IoStats, IoStatsHandle};
use causeway_policy::flood::FloodStatus;
use causeway_proxy::Counters;
use causeway_routing::keepalive::PeerStatus;
use causeway_routing::HealthSnapshot;
use tokio::sync::watch;

/// The node's counters at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStats {
    pub io: IoStats,
    pub proxy: Counters,
    /// Keepalive state of every monitored peer (`causeway status`).
    pub peers: Vec<PeerStatus>,
    /// Peer states and the addresses their host names resolved to; `None` when no peer is monitored.
    pub health: Option<HealthSnapshot>,
    /// Bans in force and the flood guard's table usage; `None` without a flood guard.
    pub flood: Option<FloodStatus>,
}

/// What the driver publishes of the core.
#[derive(Debug, Clone, Default)]
pub(crate) struct CoreStats {
    pub(crate) counters: Counters,
    pub(crate) peers: Vec<PeerStatus>,
    pub(crate) health: Option<HealthSnapshot>,
    pub(crate) flood: Option<FloodStatus>,
}

/// Reads [`NodeStats`] from any task.
#[derive(Clone)]
pub struct StatsHandle {
    io: IoStatsHandle,
    core: watch::Receiver<CoreStats>,
}

impl StatsHandle {
    pub(crate) fn new(io: IoStatsHandle, core: watch::Receiver<CoreStats>) -> Self {
        Self { io, core }
    }

    pub fn snapshot(&self) -> NodeStats {
        let core = self.core.borrow();
        NodeStats {
            io: self.io.snapshot(),
            proxy: core.counters.clone(),
            peers: core.peers.clone(),
            health: core.health.clone(),
            flood: core.flood.clone(),
        }
    }
}
