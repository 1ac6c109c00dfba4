//! The seam to a user agent that runs in the same node as the proxy: causeway-b2bua's
//! registrar and call control. The node owns the agent and lends it to
//! [`Core::handle_inbound_with`](crate::Core::handle_inbound_with); the core then
//!
//! 1. offers the agent every message that parsed, before anything else looks at it
//!    ([`Agent::offer`]): the agent keeps what is already its own — responses to its requests,
//!    ACK and CANCEL of its transactions and retransmissions of requests it took, REGISTERs for
//!    its registrar (which authenticates them itself), requests in its dialogs — and hands the
//!    rest back;
//! 2. runs an initial request (no To tag) through the request phases and the security gate
//!    exactly as a proxied one — validation, zone, authentication policy with its digest
//!    challenge, call policy, bans — and only then asks the agent whether it takes it
//!    ([`Agent::wants_initial`]); if so the agent gets it with the gate's [`Clearance`]
//!    ([`Agent::take_initial`]), so a call to call control is policed like any other;
//! 3. asks it, before locating an initial request it did not take (RFC 3261 §16.5), whether the
//!    Request-URI is an address of record with registered contacts ([`Agent::contacts`]); those
//!    contacts become the target set, so the core forks to them in parallel as to any targets.
//!
//! The agent sends, times and reports through its own `poll_*` calls, which the node drains
//! beside the core's. The core never depends on the agent's crate.

use std::net::SocketAddr;
use std::time::Instant;

use causeway_sip::uri::SipUri;
use causeway_sip::{Message, Transport};

use crate::api::FlowId;
use crate::identity::Identity;
use crate::locate::{LocateError, Locator, RequestCtx, Target};
use crate::Clearance;

/// Where a message came from, and how to tell whether a URI names this node.
#[derive(Clone, Copy)]
pub struct Arrived<'a> {
    /// Transport it came over.
    pub transport: Transport,
    /// Listener it arrived on.
    pub local: SocketAddr,
    /// Source address.
    pub peer: SocketAddr,
    /// Connection it came on (stream transports).
    pub flow: Option<FlowId>,
    /// Subject names of the peer's TLS certificate (mutual TLS only).
    pub tls_peer_names: Option<&'a [String]>,
    identity: &'a Identity,
}

impl Arrived<'_> {
    /// True if `uri` names this node: one of its listeners (address or advertised name, with
    /// the port) or one of its configured domains (RFC 3261 §16.4).
    pub fn names_us(&self, uri: &SipUri<'_>) -> bool {
        self.identity.is_ours(uri)
    }
}

impl std::fmt::Debug for Arrived<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arrived")
            .field("transport", &self.transport)
            .field("local", &self.local)
            .field("peer", &self.peer)
            .field("flow", &self.flow)
            .finish_non_exhaustive()
    }
}

/// A user agent living beside the proxy core (see the module docs).
pub trait Agent {
    /// Takes `message` if it is already the agent's (returns `None`), or hands it back. A new
    /// initial request must be handed back: it goes through the gate first.
    fn offer(&mut self, now: Instant, message: Message, arrived: &Arrived<'_>) -> Option<Message>;

    /// Whether the agent takes `request`, an initial request the gate let through;
    /// `clearance` is the gate's verdict (`None`: the core runs no security phases).
    fn wants_initial(&self, now: Instant, request: &Message, arrived: &Arrived<'_>, clearance: Option<&Clearance>) -> bool;

    /// Takes a request [`Agent::wants_initial`] said it takes, with the same clearance.
    fn take_initial(&mut self, now: Instant, request: Message, arrived: &Arrived<'_>, clearance: Option<&Clearance>);

    /// The registered contacts of the address of record an initial request is addressed to,
    /// as targets (Request-URI = contact, next hop = the binding's flow), or `None` when the
    /// Request-URI is not a registered address.
    fn contacts(&self, now: Instant, request: &Message, ctx: &RequestCtx<'_>) -> Option<Vec<Target>>;
}

/// No agent: the plain proxy ([`Core::handle_inbound`](crate::Core::handle_inbound)).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAgent;

impl Agent for NoAgent {
    fn offer(&mut self, _now: Instant, message: Message, _arrived: &Arrived<'_>) -> Option<Message> {
        Some(message)
    }

    fn wants_initial(&self, _now: Instant, _request: &Message, _arrived: &Arrived<'_>, _clearance: Option<&Clearance>) -> bool {
        false
    }

    fn take_initial(&mut self, _now: Instant, _request: Message, _arrived: &Arrived<'_>, _clearance: Option<&Clearance>) {}

    fn contacts(&self, _now: Instant, _request: &Message, _ctx: &RequestCtx<'_>) -> Option<Vec<Target>> {
        None
    }
}

impl<'a> Arrived<'a> {
    pub(crate) fn new(
        identity: &'a Identity,
        transport: Transport,
        local: SocketAddr,
        peer: SocketAddr,
        flow: Option<FlowId>,
        tls_peer_names: Option<&'a [String]>,
    ) -> Self {
        Self { transport, local, peer, flow, tls_peer_names, identity }
    }
}

/// The locator the phases use while an agent is lent: the agent's registered contacts first,
/// then the core's own locator.
pub(crate) struct ContactsFirst<'a, L> {
    pub(crate) now: Instant,
    pub(crate) agent: &'a dyn Agent,
    pub(crate) locator: &'a L,
}

impl<L: Locator> Locator for ContactsFirst<'_, L> {
    fn locate(&self, request: &Message, ctx: &RequestCtx<'_>) -> Result<Vec<Target>, LocateError> {
        match self.agent.contacts(self.now, request, ctx) {
            Some(targets) => Ok(targets),
            None => self.locator.locate(request, ctx),
        }
    }
}
