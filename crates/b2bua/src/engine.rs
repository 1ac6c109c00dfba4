//! [`B2bua`]: the engine and its calling contract, quinn-proto style.
//!
//! The node lends it to the proxy core for every received message
//! ([`causeway_proxy::Core::handle_inbound_with`]); the core offers it each parsed message
//! ([`Agent::offer`]) and asks it for registered contacts ([`Agent::contacts`]). Besides that the
//! node calls [`B2bua::handle_timeout`] when [`B2bua::poll_timeout`] says, reports failed sends
//! with [`B2bua::handle_transport_error`], and after every call drains [`B2bua::poll_transmit`]
//! into the sockets and [`B2bua::poll_event`] into the store.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use causeway_callctl::Cluster;
use causeway_proxy::{Agent, Arrived, FlowId, NextHop, RequestCtx, Target, Transmit, TransportFailure};
use causeway_sip::build::ResponseBuilder;
use causeway_sip::{Message, Method, StatusCode, Transport, Uri};
use causeway_txn::{Event as TxnEvent, TransactionTable, TxnConfig, TxnId};

use crate::clock::WallClock;
use crate::config::{B2buaConfig, ConfigError};
use crate::ids::{Ids, BRANCH_PREFIX};
use crate::registrar::{BindingRecord, Flow, Refusal, Registrar};

/// What the node must persist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The address of record's bindings are now exactly these (empty: unregistered).
    Bindings {
        /// The AOR (`sip:<username>@<realm>`).
        aor: String,
        /// Its bindings.
        bindings: Vec<BindingRecord>,
    },
}

/// Where a transaction sends: the `P` of the transaction table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Peer {
    pub(crate) transport: Transport,
    pub(crate) local: SocketAddr,
    pub(crate) destination: SocketAddr,
    pub(crate) flow: Option<FlowId>,
}

impl Peer {
    fn transmit(self, bytes: bytes::Bytes) -> Transmit {
        Transmit { bytes, transport: self.transport, local: self.local, destination: self.destination, flow: self.flow }
    }
}

/// The registrar and back-to-back user agent of one node.
pub struct B2bua {
    pub(crate) config: B2buaConfig,
    pub(crate) cluster: Arc<Cluster>,
    pub(crate) clock: Box<dyn WallClock + Send>,
    pub(crate) ids: Ids,
    pub(crate) txns: TransactionTable<Peer>,
    pub(crate) registrar: Registrar,
    /// Our live transactions (server and client), for matching transport failures.
    pub(crate) live: HashSet<TxnId>,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<Event>,
}

impl std::fmt::Debug for B2bua {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("B2bua").field("transactions", &self.txns.len()).finish_non_exhaustive()
    }
}

impl B2bua {
    /// An engine for `cluster` started at `now`; `seed` makes tags, branches, Call-IDs and the
    /// digest nonce key (random in production, fixed in tests).
    pub fn new(
        config: B2buaConfig,
        cluster: Arc<Cluster>,
        clock: Box<dyn WallClock + Send>,
        seed: u64,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let txn_config = TxnConfig {
            t1: config.timers.t1,
            t2: config.timers.t2,
            t4: config.timers.t4,
            max_transactions: config.max_transactions,
            ..TxnConfig::default()
        };
        let mut ids = Ids::new(seed);
        let registrar = Registrar::new(config.registrar.clone(), cluster.directory().realm(), ids.key(), now);
        Ok(Self {
            txns: TransactionTable::new(txn_config)?,
            config,
            cluster,
            clock,
            ids,
            registrar,
            live: HashSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// The registrar (bindings, lookups).
    pub fn registrar(&self) -> &Registrar {
        &self.registrar
    }

    /// Takes the bindings the store kept (at start); returns how many are live.
    pub fn load_bindings(&mut self, now: Instant, records: impl IntoIterator<Item = (String, BindingRecord)>) -> usize {
        let wall = self.clock.wall(now);
        self.registrar.load(now, wall, records, &self.cluster)
    }

    /// The time from [`B2bua::poll_timeout`] has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.txns.handle_timeout(now);
        self.drain(now);
    }

    /// A send failed (RFC 3261 §17.1.4, §18.4): the transactions sending there fail.
    pub fn handle_transport_error(&mut self, now: Instant, failure: TransportFailure) {
        let failed: Vec<TxnId> = self.txns_to(failure);
        for txn in failed {
            self.txns.handle_transport_error(now, txn);
        }
        self.drain(now);
    }

    fn txns_to(&self, failure: TransportFailure) -> Vec<TxnId> {
        self.live
            .iter()
            .copied()
            .filter(|txn| {
                self.txns.peer(*txn).is_some_and(|p| {
                    p.transport == failure.transport
                        && p.destination == failure.destination
                        && (failure.flow.is_none() || p.flow.is_none() || p.flow == failure.flow)
                })
            })
            .collect()
    }

    /// The next message to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// When [`B2bua::handle_timeout`] must next be called.
    #[must_use]
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.txns.poll_timeout()
    }

    /// The next thing to persist.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Run the transaction layer's output until it has nothing more to say.
    pub(crate) fn drain(&mut self, now: Instant) {
        loop {
            while let Some(t) = self.txns.poll_transmit() {
                self.transmits.push_back(t.to.transmit(t.bytes));
            }
            let Some(event) = self.txns.poll_event() else { break };
            match event {
                TxnEvent::Request { txn, request } => {
                    self.live.insert(txn);
                    self.on_request(now, txn, &request);
                }
                TxnEvent::Terminated { txn } => {
                    self.live.remove(&txn);
                }
                TxnEvent::Response { .. }
                | TxnEvent::Ack { .. }
                | TxnEvent::StrayResponse { .. }
                | TxnEvent::Timeout { .. }
                | TxnEvent::TransportError { .. } => {}
            }
        }
    }

    fn on_request(&mut self, now: Instant, txn: TxnId, request: &Message) {
        let Some(peer) = self.txns.peer(txn).copied() else { return };
        match request.method() {
            Some(Method::Register) => self.on_register(now, txn, request, peer),
            _ => self.respond(now, txn, request, &Refusal::new(StatusCode::NOT_IMPLEMENTED, "")),
        }
    }

    fn on_register(&mut self, now: Instant, txn: TxnId, request: &Message, peer: Peer) {
        let flow = Flow { transport: peer.transport, source: peer.destination, local: peer.local, flow: peer.flow };
        let wall = self.clock.wall(now);
        match self.registrar.register(now, wall, request, flow, &self.cluster) {
            Err(refusal) => self.respond(now, txn, request, &refusal),
            Ok(registered) => {
                let contacts: Vec<String> =
                    registered.contacts.iter().map(|(uri, left)| format!("<{uri}>;expires={left}")).collect();
                let mut ok = Refusal::new(StatusCode::OK, "");
                for contact in contacts {
                    ok = ok.with_header("Contact", contact);
                }
                for path in registered.path {
                    ok = ok.with_header("Path", path);
                }
                if registered.outbound {
                    ok = ok.with_header("Require", "outbound".to_owned());
                }
                self.respond(now, txn, request, &ok);
                if let Some((aor, bindings)) = registered.changed {
                    self.events.push_back(Event::Bindings { aor, bindings });
                }
            }
        }
    }

    /// Answers a server transaction with `status`, our To tag, the detail in the reason phrase
    /// and the extra header fields.
    pub(crate) fn respond(&mut self, now: Instant, txn: TxnId, request: &Message, answer: &Refusal) {
        let tag = self.ids.tag();
        let reason = match answer.detail.as_str() {
            "" => answer.status.default_reason().to_owned(),
            detail => format!("{} ({detail})", answer.status.default_reason()),
        };
        let mut builder = ResponseBuilder::new(request, answer.status).reason(&reason).to_tag(&tag);
        for (name, value) in &answer.headers {
            builder = builder.header(name, value);
        }
        if let Some(server) = &self.config.server {
            builder = builder.header("Server", server);
        }
        match builder.build() {
            Ok(built) => {
                if let Err(error) = self.txns.respond_bytes(now, txn, answer.status, built.into_bytes()) {
                    tracing::debug!(%error, "response not sent");
                }
            }
            Err(error) => tracing::debug!(%error, "cannot build a response"),
        }
        self.drain(now);
    }

    /// Whether a REGISTER's Request-URI names this registrar: a cluster FQDN, the realm, or
    /// this node.
    fn is_registrar_uri(&self, msg: &Message, arrived: &Arrived<'_>) -> bool {
        let Some(uri) = msg.request_uri_str().and_then(|s| Uri::parse(s).ok()) else { return false };
        let Some(sip) = uri.as_sip() else { return false };
        let host = sip.host_str();
        self.cluster.is_cfqdn(host)
            || self.cluster.directory().realm().is_some_and(|r| r.eq_ignore_ascii_case(host))
            || arrived.names_us(sip)
    }

    /// Hands a message we keep to our transaction layer.
    fn take(&mut self, now: Instant, msg: Message, arrived: &Arrived<'_>) {
        let peer = if msg.is_request() {
            Peer { transport: arrived.transport, local: arrived.local, destination: reply_address(&msg, arrived), flow: arrived.flow }
        } else {
            Peer { transport: arrived.transport, local: arrived.local, destination: arrived.peer, flow: arrived.flow }
        };
        if let Err(rejected) = self.txns.handle_message(now, msg, arrived.transport, peer) {
            tracing::debug!(error = %rejected.error, "message refused by the transaction layer");
        }
        self.drain(now);
    }
}

/// Where responses to a request go (RFC 3261 §18.2.2 with RFC 3581 §4): back over the
/// connection for a stream; over UDP to the source IP, at the source port when the top Via
/// asked for `rport`, else at the Via's port.
fn reply_address(msg: &Message, arrived: &Arrived<'_>) -> SocketAddr {
    match msg.top_via() {
        Ok(via) if !arrived.transport.is_reliable() && via.rport().is_none() => {
            SocketAddr::new(arrived.peer.ip(), via.port().unwrap_or(arrived.transport.default_port()))
        }
        _ => arrived.peer,
    }
}

impl Agent for B2bua {
    fn offer(&mut self, now: Instant, message: Message, arrived: &Arrived<'_>) -> Option<Message> {
        let ours = match message.method() {
            Some(Method::Register) => self.is_registrar_uri(&message, arrived),
            Some(_) => false,
            None => message.top_via().ok().and_then(|v| v.branch()).is_some_and(|b| b.starts_with(BRANCH_PREFIX)),
        };
        if !ours {
            return Some(message);
        }
        self.take(now, message, arrived);
        None
    }

    fn contacts(&self, now: Instant, _request: &Message, ctx: &RequestCtx<'_>) -> Option<Vec<Target>> {
        let uri = ctx.request_uri.as_sip()?;
        let user = uri.user()?;
        let ours = ctx.uri_is_ours || self.cluster.is_cfqdn(uri.host_str());
        if !ours || !Registrar::is_aor_user(user, &self.cluster) {
            return None;
        }
        // RFC 3261 §16.5: a request for an address of record goes to every contact bound to
        // it; with none bound the target set is empty and the core answers 404.
        let targets: Vec<Target> = self
            .registrar
            .lookup(user, now, &self.cluster)
            .into_iter()
            .map(|(contact, flow)| {
                let next_hop = NextHop { transport: flow.transport, address: flow.source, flow: flow.flow };
                Target { request_uri: Some(contact), ..Target::to(next_hop) }
            })
            .collect();
        Some(targets)
    }
}
