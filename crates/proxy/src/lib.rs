//! causeway-proxy: the sans-IO call engine. It runs an RFC 3261 §16 stateful proxy over the
//! §17 transactions of causeway-txn: request validation (§16.3), Route processing (§16.4),
//! target location through the [`Locator`] seam (§16.5), forwarding with Via, Record-Route and
//! Max-Forwards edits (§16.6), response selection and forking (§16.7), CANCEL (§16.10) and a
//! stateless path (§16.11). It contains no networking code and reads no clock: bytes and the
//! time come in through [`Core::handle_inbound`] and [`Core::handle_timeout`], messages to
//! send come out of [`Core::poll_transmit`], and [`Core::poll_timeout`] says when to call back.
//! Randomness (branches, tags) comes from a seed, so a run is reproducible.
//!
//! Main types: [`Core`], [`ProxyConfig`], [`Inbound`], [`Transmit`], [`Locator`],
//! [`StaticRoutes`], [`Counters`].
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod api;
mod best;
pub mod branch;
mod config;
mod context;
mod core;
mod counters;
mod forward;
mod identity;
mod locate;
mod plan;
mod proxying;
mod ratelog;
mod reply;
mod response;
mod stateless;

pub use api::{FlowId, Inbound, Transmit, TransportFailure};
pub use crate::core::Core;
pub use config::{ConfigError, ListenerConfig, ProxyConfig, Timers, MIN_TIMER_C};
pub use counters::{CodeCounts, Counters, MethodCounts};
pub use locate::{direct_next_hop, LocateError, Locator, NextHop, RequestCtx, RouteMatch, StaticRoute, StaticRoutes, Target};
