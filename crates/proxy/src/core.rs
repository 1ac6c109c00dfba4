//! [`Core`]: the sans-IO proxy engine and its calling contract.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use causeway_sip::header::via::Via;
use causeway_sip::{Message, Method, ParseLimits};
use causeway_txn::{Event, TransactionTable, TxnConfig, TxnMap};
use slab::Slab;

use crate::agent::{Agent, Arrived, ContactsFirst, NoAgent};
use crate::api::{Inbound, Transmit, TransportFailure};
use crate::branch::BranchGenerator;
use crate::config::{ConfigError, ProxyConfig};
use crate::context::{CtxId, Peer, ProxyCtx};
use crate::counters::Counters;
use crate::dns::Lookups;
use crate::identity::Identity;
use crate::keepalive::PeerMonitor;
use crate::locate::{Locator, StaticRoutes};
use crate::plan::{Arrival, Decision, ForwardPlan, Phases};
use crate::ratelog::RateLimitedLog;

/// The stateful proxy engine of one shard.
///
/// It performs no I/O. The caller (causeway-node) feeds it and drains it, always in this
/// order after any `handle_*` call:
///
/// 1. [`Core::handle_inbound`] for each received message, [`Core::handle_timeout`] when the
///    time from [`Core::poll_timeout`] has come, [`Core::handle_transport_error`] when a
///    send failed;
/// 2. [`Core::poll_transmit`] until `None`, sending each [`Transmit`];
/// 3. [`Core::poll_timeout`] to re-arm the one timer.
///
/// Every decision is a function of the inputs, the `now` values and the seed given to
/// [`Core::new`], so a run can be replayed exactly.
#[derive(Debug)]
pub struct Core<L = StaticRoutes> {
    pub(crate) config: ProxyConfig,
    pub(crate) identity: Identity,
    pub(crate) locator: L,
    pub(crate) txns: TransactionTable<Peer>,
    pub(crate) ctxs: Slab<ProxyCtx>,
    pub(crate) by_server: TxnMap<CtxId>,
    pub(crate) by_client: TxnMap<(CtxId, usize)>,
    /// Timer C and the CANCEL give-up time of branches (lazy: stale entries are skipped).
    pub(crate) deadlines: BinaryHeap<Reverse<(Instant, CtxId, usize)>>,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) counters: Counters,
    pub(crate) ids: BranchGenerator,
    pub(crate) malformed_log: RateLimitedLog,
    /// The message being handled and where it came from (events it causes refer to it).
    pub(crate) arrival: Option<Arrival>,
    /// The plan of the request just handed to the transaction layer, consumed when the new
    /// server transaction is reported (a retransmission is absorbed and leaves it unused).
    pending: Option<ForwardPlan>,
    pub(crate) scratch: Scratch,
    /// OPTIONS keepalive of the routing table's peers, once [`Core::monitor_peers`] ran.
    pub(crate) monitor: Option<PeerMonitor>,
    /// DNS lookups waiting for the I/O layer ([`Core::poll_resolve`]).
    pub(crate) lookups: Lookups,
    /// The edge's protections, once [`Core::with_security`] ran.
    pub(crate) security: Option<Box<crate::security::Security>>,
    next_generation: u32,
    next_timeout: Option<Instant>,
    limits: ParseLimits,
}

/// Reused text buffers, so building Via and Record-Route values does not allocate per message.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) via: String,
    pub(crate) record_route: String,
    pub(crate) number: String,
}

impl<L: Locator> Core<L> {
    /// A core for `config` that locates targets with `locator`; `seed` makes branches and
    /// tags (use a random seed in production, a fixed one in tests).
    pub fn new(config: ProxyConfig, locator: L, seed: u64) -> Result<Self, ConfigError> {
        config.validate()?;
        let txn_config = TxnConfig {
            t1: config.timers.t1,
            t2: config.timers.t2,
            t4: config.timers.t4,
            max_transactions: config.max_transactions,
            ..TxnConfig::default()
        };
        Ok(Self {
            identity: Identity::new(&config),
            locator,
            txns: TransactionTable::new(txn_config)?,
            ctxs: Slab::new(),
            by_server: TxnMap::default(),
            by_client: TxnMap::default(),
            deadlines: BinaryHeap::new(),
            transmits: VecDeque::new(),
            counters: Counters::default(),
            ids: BranchGenerator::new(seed),
            malformed_log: RateLimitedLog::new(config.malformed_log_interval),
            arrival: None,
            pending: None,
            scratch: Scratch::default(),
            monitor: None,
            lookups: Lookups::default(),
            security: None,
            next_generation: 0,
            next_timeout: None,
            limits: ParseLimits { max_message_bytes: config.max_message_bytes, ..ParseLimits::default() },
            config,
        })
    }

    /// The counters, current as of the last `handle_*` call.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The locator in use.
    pub fn locator(&self) -> &L {
        &self.locator
    }

    /// A message arrived at `now`.
    pub fn handle_inbound(&mut self, now: Instant, inbound: Inbound) {
        self.handle_inbound_with(now, inbound, &mut NoAgent);
    }

    /// [`Core::handle_inbound`] with `agent` lent for this message: the agent is offered the
    /// parsed message first (what is already its own), is handed an initial request it takes
    /// only after the gate cleared it, and is asked for registered contacts before an initial
    /// request is located (see [`Agent`]).
    pub fn handle_inbound_with(&mut self, now: Instant, inbound: Inbound, agent: &mut dyn Agent) {
        let arrival = Arrival {
            transport: inbound.transport,
            local: inbound.local,
            peer: inbound.peer,
            flow: inbound.flow,
            tls_peer_names: inbound.tls_peer_names,
            listener: self.identity.arrival(inbound.local, inbound.transport),
        };
        // A request handled again after its DNS lookups was admitted the first time.
        if !self.lookups.is_replaying() && !self.screen(now, &inbound.bytes, &arrival) {
            return;
        }
        self.note_flow(&arrival);
        let raw = inbound.bytes.clone();
        match Message::parse_with(inbound.bytes, &self.limits) {
            Err(error) => self.on_malformed(now, &raw, &error, &arrival),
            Ok(msg) => {
                let span = tracing::debug_span!("sip", call = call_hash(&msg));
                let _entered = span.enter();
                let names = arrival.tls_peer_names.as_deref();
                let arrived = Arrived::new(&self.identity, arrival.transport, arrival.local, arrival.peer, arrival.flow, names);
                let Some(msg) = agent.offer(now, msg, &arrived) else {
                    self.after_input();
                    return;
                };
                self.arrival = Some(arrival);
                if msg.is_request() {
                    self.on_request(now, msg, agent);
                } else {
                    self.on_response(now, msg);
                }
                self.drain(now);
                self.pending = None;
                self.arrival = None;
            }
        }
        self.after_input();
    }

    /// The time from [`Core::poll_timeout`] has come (or passed).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.txns.handle_timeout(now);
        self.drain(now);
        self.fire_deadlines(now);
        self.drain(now);
        self.keepalive_timeout(now);
        self.drain(now);
        self.after_input();
    }

    /// A [`Transmit`] could not be sent (RFC 3261 §17.1.4, §18.4): every client transaction
    /// sending to that place fails, and its branch counts as a 503 (§16.9).
    pub fn handle_transport_error(&mut self, now: Instant, failure: TransportFailure) {
        self.counters.transport_errors += 1;
        self.txns.handle_peer_failure(now, &(failure.transport, failure.destination), |p| failure.reaches(p.flow));
        self.drain(now);
        self.after_input();
    }

    /// The next message to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// When [`Core::handle_timeout`] must next be called, as of the last `handle_*` call.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_timeout
    }

    pub(crate) fn after_input(&mut self) {
        let txn = self.txns.poll_timeout();
        let branch = self.deadlines.peek().map(|Reverse((at, _, _))| *at);
        let keepalive = self.keepalive_deadline();
        self.next_timeout = [txn, branch, keepalive].into_iter().flatten().min();
        self.counters.transactions_alive = self.txns.len() as u64;
        self.counters.contexts_alive = self.ctxs.len() as u64;
    }

    fn on_request(&mut self, now: Instant, msg: Message, agent: &mut dyn Agent) {
        let Some(method) = msg.method() else { return };
        self.counters.requests_received.add(method);
        match method {
            // ACKs and CANCELs are matched first (§17.2.3, §16.10); their events carry on.
            Method::Ack => {
                let Some(arrival) = &self.arrival else { return };
                let peer = arrival_peer(arrival);
                self.hand_to_transactions(now, msg, peer);
            }
            Method::Cancel => {
                let Some(arrival) = &self.arrival else { return };
                let peer = response_peer(&msg, arrival);
                self.hand_to_transactions(now, msg, peer);
            }
            _ => {
                let Some(arrival) = self.arrival.clone() else { return };
                if self.txns.has_server_transaction(&msg) {
                    // RFC 3261 §17.2.3: a retransmission is its server transaction's to absorb
                    // (the last response is sent again). It is never decided again: the gate would
                    // see its digest response a second time and refuse it as a replay.
                    let peer = response_peer(&msg, &arrival);
                    self.hand_to_transactions(now, msg, peer);
                    return;
                }
                if self.lookups.is_parked(&msg) {
                    // A retransmission of a request that waits for DNS: its lookups are under way.
                    return;
                }
                let mut gate = self.lend_gate(now);
                gate.resume(self.lookups.take_clearance());
                let lent: &dyn Agent = agent;
                let phases = Phases {
                    identity: &self.identity,
                    locator: &ContactsFirst { now, agent: lent, locator: &self.locator },
                    ids: &self.ids,
                    record_route: self.config.record_route,
                    health: self.health(),
                    agent: Some((lent, now)),
                };
                let decision = phases.decide(&msg, &arrival, Some(&mut gate));
                self.return_gate(gate);
                match decision {
                    Decision::Agent(clearance) => {
                        let names = arrival.tls_peer_names.as_deref();
                        let arrived = Arrived::new(&self.identity, arrival.transport, arrival.local, arrival.peer, arrival.flow, names);
                        agent.take_initial(now, msg, &arrived, clearance.as_deref());
                    }
                    Decision::Reply(reply) => self.reply_stateless(&msg, &arrival, &reply),
                    Decision::OptionsOk => self.reply_options(&msg, &arrival),
                    Decision::Drop => self.counters.dropped += 1,
                    Decision::Lookup(queries, clearance) => self.park(now, &msg, &arrival, queries, clearance),
                    Decision::Forward(plan) => {
                        let peer = plan.reply_to;
                        self.pending = Some(plan);
                        self.hand_to_transactions(now, msg, peer);
                    }
                }
            }
        }
    }

    fn on_response(&mut self, now: Instant, msg: Message) {
        if let Some(status) = msg.status() {
            self.counters.responses_received.add(status);
        }
        let Some(arrival) = &self.arrival else { return };
        let peer = arrival_peer(arrival);
        self.hand_to_transactions(now, msg, peer);
    }

    /// Hand a message to the transaction layer. A request's `peer` is where its responses go
    /// (RFC 3261 §18.2.2 with RFC 3581 `rport`).
    fn hand_to_transactions(&mut self, now: Instant, msg: Message, peer: Peer) {
        let Some(arrival) = self.arrival.clone() else { return };
        if let Err(rejected) = self.txns.handle_message(now, msg, arrival.transport, peer) {
            self.on_rejected(now, &rejected.message, &rejected.error, &arrival);
        }
    }

    /// Run the transaction layer's output until it has nothing more to say.
    pub(crate) fn drain(&mut self, now: Instant) {
        loop {
            while let Some(t) = self.txns.poll_transmit() {
                self.transmits.push_back(t.to.transmit(t.bytes));
            }
            let Some(event) = self.txns.poll_event() else { break };
            self.on_event(now, event);
        }
    }

    fn on_event(&mut self, now: Instant, event: Event<Peer>) {
        let Some(event) = self.keepalive_event(now, event) else { return };
        match event {
            Event::Request { txn, request } => {
                if request.method() == Some(&Method::Cancel) {
                    self.cpl_caller_cancelled(&request);
                    self.on_cancel(now, txn, &request);
                } else if let Some(plan) = self.pending.take() {
                    self.start_proxying(now, txn, request, plan);
                } else {
                    self.reply_internal_error(now, txn, &request);
                }
            }
            Event::Response { txn, response } => self.on_branch_response(now, txn, response),
            Event::Ack { request, .. } => self.on_ack(now, &request),
            // RFC 6026 §8.9 (replacing RFC 3261 §16.7's "as a stateless proxy"): a response no
            // client transaction matches is discarded; the Accepted state already carries late
            // 2xx, so forwarding strays would only make the proxy a reflector.
            Event::StrayResponse { .. } => self.counters.dropped += 1,
            Event::Timeout { txn, .. } => self.on_branch_failure(now, txn, causeway_sip::StatusCode::REQUEST_TIMEOUT),
            Event::TransportError { txn } => self.on_branch_failure(now, txn, causeway_sip::StatusCode::SERVICE_UNAVAILABLE),
            Event::Terminated { txn } => self.on_terminated(now, txn),
        }
    }

    /// A fresh context generation.
    pub(crate) fn next_generation(&mut self) -> u32 {
        self.next_generation = self.next_generation.wrapping_add(1);
        self.next_generation
    }

    pub(crate) fn ctx_mut(&mut self, id: CtxId) -> Option<&mut ProxyCtx> {
        crate::context::ctx_in(&mut self.ctxs, id)
    }
}

/// Where responses to a request go (RFC 3261 §18.2.2).
pub(crate) fn response_peer(msg: &Message, arrival: &Arrival) -> Peer {
    reply_peer(msg.top_via().ok().as_ref(), arrival)
}

/// Where responses go given the request's top Via: back over the connection for a stream
/// transport; over UDP to the source address, with the source port when the Via asked for
/// `rport` (RFC 3581 §4) and the Via's port otherwise (§18.2.2).
pub(crate) fn reply_peer(top_via: Option<&Via<'_>>, arrival: &Arrival) -> Peer {
    let destination = match top_via {
        Some(via) if !arrival.transport.is_reliable() && via.rport().is_none() => {
            SocketAddr::new(arrival.peer.ip(), via.port().unwrap_or(arrival.transport.default_port()))
        }
        _ => arrival.peer,
    };
    Peer { transport: arrival.transport, local: arrival.local, destination, flow: arrival.flow }
}

/// The peer a message came from (ACKs and responses get no answer from us through the
/// transaction layer; the value only labels strays).
fn arrival_peer(arrival: &Arrival) -> Peer {
    Peer { transport: arrival.transport, local: arrival.local, destination: arrival.peer, flow: arrival.flow }
}

/// A short, stable id for a call in logs: a hash of its Call-ID (the Call-ID itself may be
/// long or carry addresses).
fn call_hash(msg: &Message) -> u64 {
    let mut h = crate::branch::KeyedHasher::new(0);
    h.field(msg.call_id().unwrap_or_default().as_bytes());
    h.finish()
}
