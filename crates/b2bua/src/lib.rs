//! causeway-b2bua: the SIP user agent that lives in a node next to the proxy core. It is the
//! registrar (RFC 3261 §10: digest-authenticated REGISTER, several contacts, expiry, `*`,
//! RFC 5626 flow reuse) of the devices in call control's directory, and the back-to-back user
//! agent of calls to and from hybrid users: each call gets callctl's dial plan (the caller's
//! calling search space, anchoring, `<digits>@<CFQDN>`), and its fork plan runs on real dialogs
//! through callctl's Single Number Reach state machine — a dialog of its own per leg (Call-ID,
//! tags, CSeq, Contact, route set), first 2xx wins with CANCEL `Reason: SIP;cause=200;text="Call
//! completed elsewhere"`, answer-too-soon release, answer-too-late cancel, forwards, early
//! media, re-INVITE/UPDATE relayed across, BYE from either side ending both, RFC 4028 session
//! timers carried through and enforced, SDP passed unchanged, and one CDR per call.
//!
//! It never does I/O: no sockets, no clock reads, no database. Messages come in through the
//! proxy core's [`causeway_proxy::Agent`] hook, time as `now: Instant` (wall time through a
//! [`WallClock`]), and what must be persisted leaves as [`Event`]s the node writes to the store.
//!
//! Main types: [`B2bua`] (`offer` via the agent hook, `handle_timeout`, `poll_transmit`,
//! `poll_timeout`, `poll_event`, `poll_resolve`, `counters`), [`B2buaConfig`], [`B2buaCounters`], [`Registrar`], [`BindingRecord`], [`Zones`]
//! (what edge routing tells call control), [`Event`] (bindings, CDRs, dual-ringing switches to
//! persist).
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod call;
mod clock;
mod config;
mod counters;
mod dialog;
mod engine;
mod ids;
mod local;
mod net;
pub mod registrar;
mod route;
mod zones;

pub use clock::{FixedClock, WallClock};
pub use config::{B2buaConfig, ConfigError, RegistrarConfig};
pub use counters::B2buaCounters;
pub use engine::{B2bua, Event};
pub use registrar::{BindingRecord, Flow, Registrar};
pub use zones::Zones;
