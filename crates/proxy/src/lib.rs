//! causeway-proxy: the sans-IO call engine. It runs an RFC 3261 §16 stateful proxy over the
//! §17 transactions of causeway-txn: request validation (§16.3), Route processing (§16.4),
//! target location through the [`Locator`] seam (§16.5), forwarding with Via, Record-Route and
//! Max-Forwards edits (§16.6), response selection and forking (§16.7), CANCEL (§16.10) and a
//! stateless path (§16.11). It contains no networking code and reads no clock: bytes and the
//! time come in through [`Core::handle_inbound`] and [`Core::handle_timeout`], messages to
//! send come out of [`Core::poll_transmit`], and [`Core::poll_timeout`] says when to call back.
//! Randomness (branches, tags) comes from a seed, so a run is reproducible. It never resolves
//! names (a next hop is an address; DNS is the I/O layer's), never blocks, never panics on
//! input.
//!
//! Main types: [`Core`], [`ProxyConfig`], [`Inbound`], [`Transmit`], [`Locator`],
//! [`StaticRoutes`], [`Counters`]; [`edge::EdgeRouter`] puts the edge routing engine (zones,
//! search rules, causeway-routing) behind the same [`Locator`] seam; [`Core::with_security`]
//! ([`SecurityConfig`]) adds the edge's protections — flood guard, the zone's authentication,
//! call policy — whose verdict reaches the locator as a [`Clearance`].
//!
//! # The path of a request
//!
//! ```text
//! bytes ─▶ flood guard (banned source: dropped unparsed) ─▶ parse ──(error)──▶ 400/505/513 or drop
//!            │
//!            ├─ response ─▶ client transaction? ─▶ §16.7 response context ─▶ server transaction
//!            │                    └─ none ─▶ §16.11 stateless: next Via (never a broadcast)
//!            ├─ ACK ─▶ server transaction absorbs it (non-2xx) │ else route it statelessly (2xx)
//!            ├─ CANCEL ─▶ 200, cancel the branches of the INVITE (§16.10); 481 if unknown
//!            └─ other ─▶ validate (§16.3) ─▶ loop? ─▶ Route (§16.4) ─▶ OPTIONS to us? ─▶ gate ─▶ locate
//!                          └ 400 416 420 483   └ 482               └ 200    401/407/403 ┘    └ 404
//!                        ─▶ server transaction, 100 Trying ─▶ one client transaction per target
//!                           (Via, Record-Route, Max-Forwards, received/rport; Timer C)
//! ```
//!
//! # Choices this crate makes where the RFCs leave room
//!
//! - Record-Route: our URI with `lr` and an explicit `transport`; two entries when a request
//!   changes listener (RFC 5658 §3.3 style), the one facing the callee first. The entry facing
//!   a caller on a connection carries it as a flow token (`cwf-<id>` user part, RFC 5626 §5.3
//!   style), so requests towards that caller reuse its connection.
//! - Best response (§16.7 step 6): within a class, challenges first (as the RFC says), then
//!   answers that say more about the callee (busy, unavailable) over "not here" and timeouts;
//!   see `best.rs`.
//! - A branch is cancelled only after it sent a provisional (§9.1); a branch that rings after
//!   another answered is cancelled at once, so no branch is left ringing.
//! - A CANCEL matching no INVITE gets 481: every INVITE is proxied statefully here, so there
//!   is nothing to forward it along.
//! - A response matching no client transaction is forwarded along its next Via when the top
//!   Via is ours (RFC 3261 §16.7, §16.11), as Kamailio does; RFC 6026 would discard it.
//!   Late 2xx retransmissions match the RFC 6026 Accepted state before that.
//! - [`StaticRoutes`]: a Request-URI for a foreign domain that no rule takes is its own target
//!   when its host is an IP address (§16.5), 404 otherwise (no DNS in the core).
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod agent;
mod api;
mod best;
pub mod branch;
mod config;
mod context;
mod core;
mod counters;
mod dns;
pub mod edge;
mod failover;
mod forward;
mod identity;
mod keepalive;
mod locate;
mod plan;
mod proxying;
mod ratelog;
mod reply;
mod response;
mod security;
mod stateless;
mod traversal;

pub use crate::core::Core;
pub use agent::{Agent, Arrived, NoAgent};
pub use api::{FlowId, Inbound, Transmit, TransportFailure};
pub use config::{ConfigError, ListenerConfig, ProxyConfig, Timers, MIN_TIMER_C};
pub use counters::{CodeCounts, Counters, MethodCounts};
pub use dns::{Resolve, ResolveId, MAX_PENDING};
pub use failover::next_hop_after;
pub use security::{Clearance, SecurityConfig, SecurityCounters};
pub use locate::{
    direct_next_hop, LocateError, Locator, NextHop, RecordRouteHosts, RequestCtx, RouteMatch, StaticRoute, StaticRoutes, Target,
    TargetOptions,
};
