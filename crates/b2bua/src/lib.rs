//! causeway-b2bua: the SIP user agent that lives in a node next to the proxy core. It is the
//! registrar (RFC 3261 §10: digest-authenticated REGISTER, several contacts, expiry, `*`,
//! RFC 5626 flow reuse) of the devices in call control's directory.
//!
//! It never does I/O: no sockets, no clock reads, no database. Messages come in through the
//! proxy core's [`causeway_proxy::Agent`] hook, time as `now: Instant` (wall time through a
//! [`WallClock`]), and what must be persisted leaves as [`Event`]s the node writes to the store.
//!
//! Main types: [`B2bua`] (`offer` via the agent hook, `handle_timeout`, `poll_transmit`,
//! `poll_timeout`, `poll_event`), [`B2buaConfig`], [`Registrar`], [`BindingRecord`], [`Event`].
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod clock;
mod config;
mod engine;
mod ids;
pub mod registrar;

pub use clock::{FixedClock, WallClock};
pub use config::{B2buaConfig, ConfigError, RegistrarConfig};
pub use engine::{B2bua, Event};
pub use registrar::{BindingRecord, Flow, Registrar};
