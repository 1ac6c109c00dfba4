//! causeway-node: the driver that runs the sans-IO proxy core (`causeway_proxy::Core`) over the tokio transports
//! (`causeway_io::Io`). One task receives, calls `handle_inbound(now, ..)`, drains `poll_transmit()` into the
//! sockets and keeps one timer armed from `poll_timeout()`; it owns the clock the core sees. It also turns a
//! validated `causeway_config::Config` into the transport and proxy configs, publishes counters, and stops on
//! SIGINT/SIGTERM.
//!
//! It holds no SIP logic and no socket code of its own: everything it does is conversion and scheduling.
//!
//! Main types: [`Node`] (`build`, `listeners`, `run`), [`NodeConfig`], [`NodeStats`] / [`StatsHandle`],
//! [`shutdown_signal`], [`edge_router`] (the routing engine a node builds, for `causeway locate`).

mod callctl;
mod dns;
mod driver;
mod routing;
mod settings;
mod signal;
mod stats;
mod traversal;

pub use callctl::CallControlConfig;
pub use dns::{look_up, DnsConfig};
pub use driver::{BuildError, Node};
pub use routing::edge_router;
pub use settings::NodeConfig;
pub use signal::shutdown_signal;
pub use stats::{CallControlStats, NodeStats, StatsHandle};
