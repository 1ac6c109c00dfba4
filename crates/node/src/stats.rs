//! Counters a running node exposes (later served on /metrics): the transport counters, read live, and the
//! proxy core's counters, published by the driver at most once a second and when it stops.

use causeway_io::{IoStats, IoStatsHandle};
use causeway_proxy::Counters;
use tokio::sync::watch;

/// The node's counters at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStats {
    pub io: IoStats,
    pub proxy: Counters,
}

/// Reads [`NodeStats`] from any task.
#[derive(Clone)]
pub struct StatsHandle {
    io: IoStatsHandle,
    proxy: watch::Receiver<Counters>,
}

impl StatsHandle {
    pub(crate) fn new(io: IoStatsHandle, proxy: watch::Receiver<Counters>) -> Self {
        Self { io, proxy }
    }

    pub fn snapshot(&self) -> NodeStats {
        NodeStats { io: self.io.snapshot(), proxy: self.proxy.borrow().clone() }
    }
}
