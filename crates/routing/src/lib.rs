//! causeway-routing: the edge routing engine — what Expressway calls zones, transforms and search
//! rules — as pure functions over a compiled [`RoutingTable`] and a description of the request.
//!
//! A request is classified into a zone ([`classify()`]: listener, source address, mutual-TLS
//! subject → [`ZoneClassified`]), its zone's authentication policy applied ([`authenticate`]:
//! digest via the policy crate, or trust → [`Authentication`], with RFC 3325 identity
//! handling), then located ([`locate()`]): the alias (Request-URI, or the topmost foreign Route
//! for zones that honour Route headers), one pre-search transform, call policy, and the search
//! rules in priority order, giving a [`Decision`] — ordered fallback groups of zone targets — and
//! a [`Trace`] of every step. Each target's next hops come from a [`Resolution`] (peers in
//! priority/weight order, RFC 3263 lookups as data), and peer health from a [`Keepalive`] state
//! machine in simulated time. The same code answers live traffic and `causeway locate`.
//!
//! It never does I/O: no sockets, no DNS, no clock reads, no randomness of its own. DNS is a
//! [`ResolveStep::Query`] the caller answers; time is an `Instant` parameter; randomness is an
//! injected `RngCore`; peer health is a [`HealthSnapshot`].
//!
//! Main types: [`RoutingConfig`] (raw TOML sections) → [`RoutingTable`]; [`ZoneClassified`],
//! [`Authentication`], [`LocateInput`] → [`Decision`] ([`Outcome`], [`TargetGroup`],
//! [`ZoneTarget`], [`Trace`]); [`Resolution`]; [`Keepalive`].

#![warn(missing_docs)]

mod alias;
pub mod auth;
pub mod classify;
pub mod config;
mod decision;
mod health;
pub mod keepalive;
pub mod pattern;
pub mod resolve;
mod search;
pub mod subject;
mod table;
mod trace;

pub use alias::address_of;
pub use auth::{
    authenticate, AuthBasis, AuthRequirement, AuthStep, Authentication, CredentialCheck, DigestCheck, IdentityHeaders,
};
pub use classify::{classify, ClassifiedBy, ClassifyInput, ZoneClassified};
pub use config::{RoutingConfig, RoutingConfigError};
pub use decision::{Decision, Outcome, RejectCause, TargetGroup, ZoneTarget};
pub use health::{HealthSnapshot, PeerHealth, PeerState, TraversalConnection};
pub use keepalive::Keepalive;
pub use resolve::{Resolution, ResolveStep};
pub use search::{locate, name_addr_address, AliasRewriter, ExternalRewrite, Locate, LocateInput};
pub use table::{
    AuthPolicy, ContactParam, DnsSettings, KeepaliveSettings, OnMatch, Peer, RoutingTable, RuleSource, SearchRule,
    SipProfile, Transform, Zone, ZoneKind, CORE_HEADERS, DEFAULT_HOP_COUNT, DEFAULT_ZONE,
};
pub use trace::{AliasFrom, RouteUse, RuleCheck, Trace, TraceStep, TransformResult};

use causeway_sip::Transport;

/// Transports serialize as their `transport=` parameter value (`udp`, `tcp`, `tls`).
fn serialize_transport<S: serde::Serializer>(t: &Transport, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.uri_param())
}

fn serialize_opt_transport<S: serde::Serializer>(t: &Option<Transport>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(t.uri_param()),
        None => s.serialize_none(),
    }
}
