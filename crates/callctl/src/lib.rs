//! causeway-callctl: the call-control engine, the CUCM side of Causeway. It holds the
//! directory (users, lines/DNs, devices with HA1 credentials, remote destinations, associated
//! identities), runs digit analysis over partitions and calling search spaces (CUCM route and
//! translation patterns, closest match, directory URIs, `<digits>@<CFQDN>`), anchors calls
//! that come back from the cloud on the user they belong to, plans the fork of a call to a
//! line, and runs Single Number Reach (delay before ringing, answer too soon, answer too late,
//! forward no answer / busy, first answer wins) as a timer-driven state machine that emits
//! actions and CDR events.
//!
//! It never does I/O: no sockets, no clock reads, no database. Monotonic time (`now:
//! Instant`) and wall time (ring schedules, CDR timestamps) are parameters; registrations
//! come in as a [`ContactSnapshot`], edge routing as a [`ZoneLookup`]. The B2BUA builds SIP
//! messages from the actions; the store writes the [`CallRecord`]s.
//!
//! Main types: [`Cluster`] (loaded with [`Cluster::from_config`]) → [`Cluster::locate`] →
//! [`Decision`] (an [`Outcome`] and a [`Trace`]); [`Cluster::fork_plan`] → [`ForkPlan`] →
//! [`SnrCall`] (`handle`, `handle_timeout`, `poll_action`, `poll_timeout`); [`CdrBuilder`] →
//! [`CallRecord`]; [`DualRingSwitches`].
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod cdr;
mod cluster;
pub mod config;
pub mod dialplan;
pub mod directory;
mod error;
pub mod fork;
mod load;
pub mod origin;
pub mod pattern;
pub mod schedule;
pub mod snr;
mod toggle;

pub use cdr::{CallInfo, CallRecord, CdrBuilder, CdrEvent, LegRecord, Party};
pub use cluster::{Cluster, Decision};
pub use dialplan::{Outcome, Trace, TraceStep};
pub use directory::Directory;
pub use error::{DestinationError, LoadError};
pub use fork::{ContactSnapshot, ForkInput, ForkPlan, LegKind, LegTarget, ZoneLookup};
pub use origin::{CallingIdentity, Origin, Placement, PlacementError, ZoneCall};
pub use snr::{Action, CancelReason, Event, LegId, ReleaseCause, SnrCall, SnrError, SnrTimer};
pub use toggle::DualRingSwitches;
