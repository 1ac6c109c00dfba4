//! causeway-admin: the admin HTTP endpoint of a node, on loopback only — `GET /status` lists
//! the zones, their peers with keepalive state and the time of the last change, the proxy
//! counters and call control's, as JSON — and the client that `causeway status` uses to print it.
//!
//! It reads what the node publishes (`causeway_node::StatsHandle`) and the compiled routing
//! table; it never reaches into the running core, and it never listens on a non-loopback
//! address (the endpoint has no authentication).
//!
//! Main types: [`StatusReport`] (the JSON document, also printable as text), [`StatusSource`],
//! [`router`], [`AdminServer`], [`fetch`].

#![warn(missing_docs)]

mod callctl;
mod report;
mod server;

pub use callctl::{CallControlReport, CallOutcomes};
pub use report::{Clock, ConnectionReport, CounterReport, PeerReport, StatusReport, ZoneReport};
pub use axum::Router;
pub use server::{fetch, router, AdminError, AdminServer, ClientError, StatusSource};
