//! Counters a running node exposes (later served on /metrics): the transport counters, read live, and the
//! proxy core's counters, peer keepalive states, flood-guard bans and call control's counters, published by the
//! driver at most once a second and when it stops.

use causeway_b2bua::B2buaCounters;
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
    /// Call control's counters and its call records' writes; `None` without call control.
    pub call_control: Option<CallControlStats>,
}

/// Call control at one moment: the engine's counters and what became of its call records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallControlStats {
    pub counters: B2buaCounters,
    /// Records the store acknowledged as durable.
    pub cdrs_written: u64,
    /// Records handed to the store and not acknowledged yet.
    pub cdrs_pending: u64,
    /// Records the store refused (logged).
    pub cdrs_failed: u64,
}

/// What the driver publishes of the core.
#[derive(Debug, Clone, Default)]
pub(crate) struct CoreStats {
    pub(crate) counters: Counters,
    pub(crate) peers: Vec<PeerStatus>,
    pub(crate) health: Option<HealthSnapshot>,
    pub(crate) flood: Option<FloodStatus>,
    pub(crate) call_control: Option<CallControlStats>,
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
            call_control: core.call_control,
        }
    }
}
