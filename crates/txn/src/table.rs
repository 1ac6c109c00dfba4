//! The transaction table: routes messages to transactions, runs their timers, queues output.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::mem;
use std::time::Instant;

use bytes::Bytes;
use causeway_sip::{Message, Method, StatusCode, Transport};
use slab::Slab;

use crate::config::{ConfigError, TxnConfig};
use crate::error::TxnError;
use crate::invite_client::InviteClient;
use crate::invite_server::InviteServer;
use crate::key::{Digester, KeyBuf, KeyDigest, KeyIndex};
use crate::machine::{Ctx, Machine, Output, Signal};
use crate::message;
use crate::non_invite_client::NonInviteClient;
use crate::non_invite_server::NonInviteServer;
use crate::output::{Event, Transmit, TxnId, TxnKind, TxnState};
use crate::peer::{Heads, Links, PeerKey, NIL};
use crate::timer::{Epoch, Tick, Timer, TimerTable};

/// All transactions of one engine (one shard), keyed per RFC 3261 §17.1.3 / §17.2.3.
///
/// `P` is the TU's own description of the peer (address, transport, flow, ...): given when a
/// transaction starts, handed back unchanged in every [`Transmit`] of that transaction. For a
/// server transaction it is where responses go, so compute it per RFC 3261 §18.2.2
/// (`received`, `rport`, the connection) before calling [`Self::handle_message`].
#[derive(Debug)]
pub struct TransactionTable<P: PeerKey> {
    config: TxnConfig,
    txns: Slab<Entry<P>>,
    /// Each peer key's client transactions, for [`Self::to_peer`].
    by_peer: Heads<P::Key>,
    /// By key digest: a transaction lingers up to 64*T1 after its final response (RFC 6026), so
    /// what it holds is multiplied by every call of the last 32 s.
    keys: KeyIndex,
    digester: Digester,
    /// Deadline hints, at most one live one per transaction (`Entry::scheduled`); entries
    /// that no longer match are skipped when they surface.
    deadlines: BinaryHeap<Reverse<(Tick, u32, u32)>>,
    /// What the deadlines count from: set by the first transaction.
    epoch: Option<Epoch>,
    transmits: VecDeque<Transmit<P>>,
    events: VecDeque<Event<P>>,
    scratch: KeyBuf,
    next_generation: u32,
}

#[derive(Debug)]
struct Entry<P> {
    generation: u32,
    key: KeyDigest,
    machine: Machine,
    timers: TimerTable,
    transport: Transport,
    peer: P,
    /// Neighbours among the client transactions to the same peer key (unused for servers).
    links: Links,
    /// The deadline this transaction has in the heap, if any.
    scheduled: Option<Tick>,
}

impl<P: Clone + PeerKey> TransactionTable<P> {
    /// An empty table, if `config` passes [`TxnConfig::validate`].
    pub fn new(config: TxnConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            txns: Slab::new(),
            by_peer: Heads::new(),
            keys: KeyIndex::default(),
            digester: Digester::default(),
            deadlines: BinaryHeap::new(),
            epoch: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            scratch: KeyBuf::default(),
            next_generation: 0,
        })
    }

    /// The timer values in force.
    pub fn config(&self) -> &TxnConfig {
        &self.config
    }

    /// Live transactions.
    pub fn len(&self) -> usize {
        self.txns.len()
    }

    /// No live transaction.
    pub fn is_empty(&self) -> bool {
        self.txns.is_empty()
    }

    /// The kind of a live transaction.
    pub fn kind(&self, txn: TxnId) -> Option<TxnKind> {
        self.entry(txn).map(|e| e.machine.kind())
    }

    /// The state of a live transaction (`None` once terminated).
    pub fn state(&self, txn: TxnId) -> Option<TxnState> {
        self.entry(txn).and_then(|e| e.machine.state())
    }

    /// When `timer` of `txn` fires, if it is armed.
    pub fn timer(&self, txn: TxnId, timer: Timer) -> Option<Instant> {
        let epoch = self.epoch?;
        self.entry(txn).and_then(|e| e.timers.get(timer)).map(|at| epoch.instant(at))
    }

    /// The request a client transaction sent, exactly as on the wire, until its final
    /// response: what a CANCEL is built from (RFC 3261 §9.1, `causeway_sip::build::cancel_for`).
    pub fn sent_request(&self, txn: TxnId) -> Option<&Bytes> {
        self.entry(txn).and_then(|e| e.machine.sent_request())
    }

    /// The peer value a live transaction sends to.
    pub fn peer(&self, txn: TxnId) -> Option<&P> {
        self.entry(txn).map(|e| &e.peer)
    }

    /// The live client transactions whose peer has `key`, newest first: those a transport
    /// failure of that destination must reach ([`Self::handle_peer_failure`] ends them, RFC 3261
    /// §17.1.4). Costs what that peer has in flight, not what
    /// the table holds (peer.rs). Server transactions are not listed: a failure to send them a
    /// response ends nothing (§17.2.4), and lingering ones would make every failure cost them all.
    pub fn to_peer(&self, key: &P::Key) -> impl Iterator<Item = (TxnId, &P)> + '_ {
        let mut at = self.by_peer.first(key).unwrap_or(NIL);
        std::iter::from_fn(move || {
            let entry = self.txns.get(at as usize)?;
            let found = (TxnId { index: at, generation: entry.generation }, &entry.peer);
            at = entry.links.next;
            Some(found)
        })
    }

    /// The transport failed for peer `key` (an ICMP unreachable, a refused connection): every
    /// client transaction to it that `reaches` accepts fails as by [`Self::handle_transport_error`].
    pub fn handle_peer_failure(&mut self, now: Instant, key: &P::Key, reaches: impl Fn(&P) -> bool) {
        let failed: Vec<TxnId> = self.to_peer(key).filter(|(_, peer)| reaches(peer)).map(|(txn, _)| txn).collect();
        for txn in failed {
            self.handle_transport_error(now, txn);
        }
    }

    /// Hand in a message received from the network at `now` over `transport` from `from`.
    ///
    /// Responses go to their client transaction (§17.1.3) or become
    /// [`Event::StrayResponse`]. Requests go to their server transaction (§17.2.3) — a
    /// retransmission is absorbed and, where the state says so, answered with the last
    /// response — or start a new one ([`Event::Request`]); ACKs that no transaction absorbs
    /// become [`Event::Ack`].
    pub fn handle_message(&mut self, now: Instant, message: Message, transport: Transport, from: P) -> Result<(), Rejected> {
        match self.key_of(&message) {
            Ok(key) => self.handle_keyed(now, message, key, transport, from),
            Err(error) => Err(Rejected::new(error, message)),
        }
    }

    /// What `message` matches by: a response its client transaction (§17.1.3), a request its
    /// server transaction (§17.2.3, an ACK as the INVITE it acknowledges). A TU that must look
    /// a message up before deciding to hand it in ([`Self::find`]) computes this once and
    /// hands the message in with [`Self::handle_keyed`]: the top Via is parsed and the key
    /// hashed once per message, not once per question.
    pub fn key_of(&mut self, message: &Message) -> Result<MessageKey, TxnError> {
        let key = match message.method() {
            Some(method) => message::server_key(&mut self.scratch, message, method)?,
            None => message::response_key(&mut self.scratch, message)?,
        };
        Ok(MessageKey { digest: self.digester.digest(key), request: message.is_request() })
    }

    /// The live transaction `key` names, with its kind.
    pub fn find(&self, key: MessageKey) -> Option<(TxnId, TxnKind)> {
        let txn = self.lookup(key.digest)?;
        Some((txn, self.kind(txn)?))
    }

    /// [`Self::handle_message`] for a message whose [`Self::key_of`] the TU already has; `key`
    /// must be that message's.
    pub fn handle_keyed(&mut self, now: Instant, message: Message, key: MessageKey, transport: Transport, from: P) -> Result<(), Rejected> {
        match (message.is_request(), key.request) {
            (true, true) => self.handle_request(now, message, key.digest, transport, from),
            (false, false) => self.handle_response(now, message, key.digest, from),
            (true, false) => Err(Rejected::new(TxnError::WrongKind { expected: "response" }, message)),
            (false, true) => Err(Rejected::new(TxnError::WrongKind { expected: "request" }, message)),
        }
    }

    /// Start a client transaction for `request` (already carrying our top Via with a fresh
    /// branch, RFC 3261 §8.1.1.7, §16.6 step 8) and send it to `to` over `transport`.
    pub fn start_client(&mut self, now: Instant, request: Message, transport: Transport, to: P) -> Result<TxnId, TxnError> {
        let method = match request.method() {
            Some(m) => m.clone(),
            None => return Err(TxnError::WrongKind { expected: "request" }),
        };
        let branch = message::request_branch(&request)?;
        self.start_client_bytes(now, message::wire(&request), &method, branch, transport, to)
    }

    /// [`Self::start_client`] for request bytes the TU wrote itself, with the method and top
    /// Via branch it put in them: no parse (a proxy forwarding a request knows both, §16.6).
    pub fn start_client_bytes(
        &mut self,
        now: Instant,
        wire: Bytes,
        method: &Method,
        branch: &str,
        transport: Transport,
        to: P,
    ) -> Result<TxnId, TxnError> {
        if *method == Method::Ack {
            return Err(TxnError::AckStartsNoTransaction);
        }
        let key = self.digester.digest(self.scratch.client(branch, method.as_str()));
        if self.lookup(key).is_some() {
            return Err(TxnError::DuplicateBranch);
        }
        let is_invite = *method == Method::Invite;
        self.insert(now, key, transport, to, |ctx| {
            if is_invite {
                Machine::InviteClient(InviteClient::start(ctx, wire))
            } else {
                Machine::NonInviteClient(NonInviteClient::start(ctx, wire))
            }
        })
    }

    /// The TU answers a server transaction's request with `response`.
    pub fn respond(&mut self, now: Instant, txn: TxnId, response: Message) -> Result<(), TxnError> {
        let status = response.status().ok_or(TxnError::WrongKind { expected: "response" })?;
        self.respond_bytes(now, txn, status, message::wire(&response))
    }

    /// [`Self::respond`] with response bytes the TU wrote itself and their status: no parse
    /// (a proxy relaying a response knows both, §16.7).
    pub fn respond_bytes(&mut self, now: Instant, txn: TxnId, status: StatusCode, wire: Bytes) -> Result<(), TxnError> {
        let entry = self.entry(txn).ok_or(TxnError::NoSuchTransaction(txn))?;
        match &entry.machine {
            Machine::InviteServer(m) => m.check_response(status)?,
            Machine::NonInviteServer(m) => m.check_response(status)?,
            Machine::InviteClient(_) | Machine::NonInviteClient(_) => return Err(TxnError::NotServer(txn)),
        }
        self.step(txn, now, None, |machine, ctx| match machine {
            Machine::InviteServer(m) => Machine::InviteServer(m.respond(ctx, status, wire)),
            Machine::NonInviteServer(m) => Machine::NonInviteServer(m.respond(ctx, status, wire)),
            client => client,
        });
        Ok(())
    }

    /// The transport failed to send a [`Transmit`] of `txn` (RFC 3261 §17.1.4, §17.2.4).
    /// Unknown or terminated ids are ignored: the failure came too late to matter.
    pub fn handle_transport_error(&mut self, now: Instant, txn: TxnId) {
        self.step(txn, now, None, |machine, ctx| match machine {
            Machine::InviteClient(m) => Machine::InviteClient(m.on_transport_error(ctx)),
            Machine::NonInviteClient(m) => Machine::NonInviteClient(m.on_transport_error(ctx)),
            Machine::InviteServer(m) => Machine::InviteServer(m.on_transport_error(ctx)),
            Machine::NonInviteServer(m) => Machine::NonInviteServer(m.on_transport_error(ctx)),
        });
    }

    /// Fire every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(epoch) = self.epoch else { return };
        let tick = epoch.tick(now);
        while let Some(&Reverse((at, index, generation))) = self.deadlines.peek() {
            if at > tick {
                break;
            }
            self.deadlines.pop();
            let txn = TxnId { index, generation };
            let Some(entry) = live(&mut self.txns, txn) else { continue };
            if entry.scheduled != Some(at) {
                continue;
            }
            entry.scheduled = None;
            while let Some(timer) = live(&mut self.txns, txn).and_then(|e| e.timers.pop_expired(tick)) {
                self.step(txn, now, None, |machine, ctx| match machine {
                    Machine::InviteClient(m) => Machine::InviteClient(m.on_timer(ctx, timer)),
                    Machine::NonInviteClient(m) => Machine::NonInviteClient(m.on_timer(ctx, timer)),
                    Machine::InviteServer(m) => Machine::InviteServer(m.on_timer(ctx, timer)),
                    Machine::NonInviteServer(m) => Machine::NonInviteServer(m.on_timer(timer)),
                });
            }
            if let Some(entry) = live(&mut self.txns, txn) {
                reschedule(&mut self.deadlines, txn, entry);
            }
        }
    }

    /// The next bytes to send, oldest first.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit<P>> {
        self.transmits.pop_front()
    }

    /// The next event for the TU, oldest first.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event<P>> {
        self.events.pop_front()
    }

    /// When [`Self::handle_timeout`] must next be called: the earliest armed timer of any
    /// transaction, exactly.
    #[must_use]
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, index, generation))) = self.deadlines.peek() {
            let txn = TxnId { index, generation };
            let current = self.entry(txn).filter(|e| e.scheduled == Some(at)).map(|e| e.timers.next_timeout());
            match current {
                None => {
                    // Stale hint: the transaction is gone or has a newer deadline.
                    self.deadlines.pop();
                }
                Some(next) if next != Some(at) => {
                    // Timers were disarmed or pushed later since this hint: replace it.
                    self.deadlines.pop();
                    if let Some(entry) = live(&mut self.txns, txn) {
                        entry.scheduled = None;
                        reschedule(&mut self.deadlines, txn, entry);
                    }
                }
                Some(_) => return self.epoch.map(|epoch| epoch.instant(at)),
            }
        }
        None
    }

    /// Destroy a live transaction at once, sending nothing more (RFC 3261 §9.1: a client that
    /// sent a CANCEL and got no final response to the INVITE within 64*T1 destroys the INVITE
    /// client transaction, which has no timer of its own in Proceeding). Reports
    /// [`Event::Terminated`]; unknown or stale ids are ignored.
    pub fn terminate(&mut self, txn: TxnId) {
        if self.entry(txn).is_some() {
            self.remove(txn);
        }
    }

    /// Whether `request` belongs to a live server transaction (the RFC 3261 §17.2.3 match):
    /// then it is a retransmission, and [`Self::handle_message`] will absorb it. Lets the TU
    /// skip work a retransmission must not repeat (a digest response is good once).
    pub fn has_server_transaction(&mut self, request: &Message) -> bool {
        let Some(method) = request.method() else { return false };
        let Ok(key) = message::server_key(&mut self.scratch, request, method) else { return false };
        let key = self.digester.digest(key);
        self.lookup(key).is_some_and(|txn| matches!(self.kind(txn), Some(TxnKind::InviteServer | TxnKind::NonInviteServer)))
    }

    /// The INVITE server transaction a CANCEL targets (RFC 3261 §9.2: the §17.2.3 match with
    /// the method taken as INVITE).
    pub fn find_cancelled_invite(&mut self, cancel: &Message) -> Option<TxnId> {
        let key = self.digester.digest(message::server_key(&mut self.scratch, cancel, &Method::Invite).ok()?);
        let txn = self.lookup(key)?;
        (self.kind(txn) == Some(TxnKind::InviteServer)).then_some(txn)
    }


    fn handle_request(&mut self, now: Instant, request: Message, key: KeyDigest, transport: Transport, from: P) -> Result<(), Rejected> {
        let Some(method) = request.method().cloned() else {
            return Err(Rejected::new(TxnError::WrongKind { expected: "request" }, request));
        };
        if let Some(txn) = self.lookup(key) {
            if method == Method::Ack {
                // Completed → Confirmed; Confirmed absorbs; RFC 6026 §7.1: Accepted passes it up.
                let deliver = Event::Ack { txn: Some(txn), request, from };
                self.step(txn, now, Some(deliver), |machine, ctx| match machine {
                    Machine::InviteServer(m) => Machine::InviteServer(m.on_ack(ctx)),
                    other => other,
                });
            } else {
                self.step(txn, now, None, |machine, ctx| match machine {
                    Machine::InviteServer(m) => Machine::InviteServer(m.on_retransmission(ctx)),
                    Machine::NonInviteServer(m) => Machine::NonInviteServer(m.on_retransmission(ctx)),
                    client => client,
                });
            }
            return Ok(());
        }
        if method == Method::Ack {
            // §17.2.3: the ACK for a 2xx has its own branch and matches nothing; it is the TU's.
            self.events.push_back(Event::Ack { txn: None, request, from });
            return Ok(());
        }
        let is_invite = method == Method::Invite;
        match self.insert(now, key, transport, from, |_| {
            if is_invite {
                Machine::InviteServer(InviteServer::start())
            } else {
                Machine::NonInviteServer(NonInviteServer::Trying)
            }
        }) {
            Ok(txn) => {
                self.events.push_back(Event::Request { txn, request });
                Ok(())
            }
            Err(error) => Err(Rejected::new(error, request)),
        }
    }

    fn handle_response(&mut self, now: Instant, response: Message, key: KeyDigest, from: P) -> Result<(), Rejected> {
        let Some(status) = response.status() else {
            return Err(Rejected::new(TxnError::WrongKind { expected: "response" }, response));
        };
        let Some(txn) = self.lookup(key) else {
            self.events.push_back(Event::StrayResponse { response, from });
            return Ok(());
        };
        let out = self.run(txn, now, |machine, ctx| match machine {
            Machine::InviteClient(m) => {
                Machine::InviteClient(m.on_response(ctx, status, |invite| message::ack_for_non2xx(invite, &response)))
            }
            Machine::NonInviteClient(m) => Machine::NonInviteClient(m.on_response(ctx, status)),
            server => server,
        });
        if let Some(out) = out {
            self.finish(txn, out, Some(Event::Response { txn, response }));
        }
        Ok(())
    }

    /// Create a transaction under `key` and run its first step.
    fn insert(
        &mut self,
        now: Instant,
        key: KeyDigest,
        transport: Transport,
        peer: P,
        start: impl FnOnce(&mut Ctx<'_>) -> Machine,
    ) -> Result<TxnId, TxnError> {
        let max = self.config.max_transactions;
        let tick = self.epoch(now).tick(now);
        let vacant = self.txns.vacant_entry();
        let index = match u32::try_from(vacant.key()) {
            Ok(index) if vacant.key() < max => index,
            _ => return Err(TxnError::TableFull { max }),
        };
        let generation = self.next_generation;
        self.next_generation = generation.wrapping_add(1);
        let txn = TxnId { index, generation };
        let mut timers = TimerTable::default();
        let mut ctx = Ctx { now: tick, config: &self.config, reliable: transport.is_reliable(), timers: &mut timers, out: Output::default() };
        let machine = start(&mut ctx);
        let out = ctx.out;
        let (links, old_head) =
            if machine.kind().is_client() { self.by_peer.push(peer.peer_key(), index) } else { (Links::NONE, None) };
        vacant.insert(Entry { generation, key, machine, timers, transport, peer, links, scheduled: None });
        if let Some(old) = old_head.and_then(|i| self.txns.get_mut(i as usize)) {
            old.links.prev = index;
        }
        let txns = &self.txns;
        self.keys.insert(key, index, |i| txns.get(i as usize).map(|e| e.key));
        self.finish(txn, out, None);
        Ok(txn)
    }

    /// Run one step of `txn`'s machine and apply its output.
    fn step(&mut self, txn: TxnId, now: Instant, deliver: Option<Event<P>>, f: impl FnOnce(Machine, &mut Ctx<'_>) -> Machine) {
        if let Some(out) = self.run(txn, now, f) {
            self.finish(txn, out, deliver);
        }
    }

    /// Run one step of `txn`'s machine; `None` if `txn` is not live.
    fn run(&mut self, txn: TxnId, now: Instant, f: impl FnOnce(Machine, &mut Ctx<'_>) -> Machine) -> Option<Output> {
        let tick = self.epoch(now).tick(now);
        let entry = live(&mut self.txns, txn)?;
        let mut ctx = Ctx {
            now: tick,
            config: &self.config,
            reliable: entry.transport.is_reliable(),
            timers: &mut entry.timers,
            out: Output::default(),
        };
        let machine = mem::replace(&mut entry.machine, Machine::NonInviteServer(NonInviteServer::Terminated));
        entry.machine = f(machine, &mut ctx);
        Some(ctx.out)
    }

    /// Queue a step's send and signal (`deliver` is the event a `Signal::Deliver` stands for),
    /// then reschedule the transaction or remove it if it terminated.
    fn finish(&mut self, txn: TxnId, out: Output, deliver: Option<Event<P>>) {
        let Some(entry) = live(&mut self.txns, txn) else { return };
        if let Some(bytes) = out.send {
            self.transmits.push_back(Transmit { txn, bytes, transport: entry.transport, to: entry.peer.clone() });
        }
        let event = match out.signal {
            Some(Signal::Deliver) => deliver,
            Some(Signal::Timeout(timer)) => Some(Event::Timeout { txn, timer }),
            Some(Signal::TransportError) => Some(Event::TransportError { txn }),
            None => None,
        };
        if let Some(event) = event {
            self.events.push_back(event);
        }
        if entry.machine.is_terminated() {
            self.remove(txn);
        } else {
            reschedule(&mut self.deadlines, txn, entry);
        }
    }

    /// Removes a live transaction from the table, its key index and its peer's list.
    fn remove(&mut self, txn: TxnId) {
        let entry = self.txns.remove(txn.index as usize);
        self.keys.remove(entry.key, txn.index);
        if entry.machine.kind().is_client() {
            self.unlink(&entry);
        }
        self.events.push_back(Event::Terminated { txn });
    }

    /// Takes a removed client transaction out of its peer's list.
    fn unlink(&mut self, entry: &Entry<P>) {
        let Links { prev, next } = entry.links;
        match self.txns.get_mut(prev as usize) {
            Some(before) => before.links.next = next,
            None => self.by_peer.replace(&entry.peer.peer_key(), next),
        }
        if let Some(after) = self.txns.get_mut(next as usize) {
            after.links.prev = prev;
        }
    }

    /// The clock deadlines count from, started at the first `now` the table is given.
    fn epoch(&mut self, now: Instant) -> Epoch {
        *self.epoch.get_or_insert_with(|| Epoch::new(now))
    }

    fn entry(&self, txn: TxnId) -> Option<&Entry<P>> {
        self.txns.get(txn.index as usize).filter(|e| e.generation == txn.generation)
    }

    /// The live transaction whose key has digest `key`.
    fn lookup(&self, key: KeyDigest) -> Option<TxnId> {
        let txns = &self.txns;
        let index = self.keys.find(key, |i| txns.get(i as usize).map(|e| e.key))?;
        txns.get(index as usize).map(|e| TxnId { index, generation: e.generation })
    }
}

/// The key a received message matches by ([`TransactionTable::key_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageKey {
    digest: KeyDigest,
    request: bool,
}

/// A message the table could not take, handed back with the reason so the TU can still
/// answer it (a stateless 400 or 503, say).
#[derive(Debug)]
pub struct Rejected {
    /// Why.
    pub error: TxnError,
    /// The message, untouched.
    pub message: Box<Message>,
}

impl Rejected {
    fn new(error: TxnError, message: Message) -> Self {
        Self { error, message: Box::new(message) }
    }
}

fn live<P>(txns: &mut Slab<Entry<P>>, txn: TxnId) -> Option<&mut Entry<P>> {
    txns.get_mut(txn.index as usize).filter(|e| e.generation == txn.generation)
}

/// Give the transaction a heap entry for its earliest timer unless an earlier or equal one
/// is already there (a later-than-needed hint is corrected when it surfaces).
fn reschedule<P>(deadlines: &mut BinaryHeap<Reverse<(Tick, u32, u32)>>, txn: TxnId, entry: &mut Entry<P>) {
    let Some(next) = entry.timers.next_timeout() else { return };
    if entry.scheduled.is_none_or(|s| next < s) {
        entry.scheduled = Some(next);
        deadlines.push(Reverse((next, txn.index, txn.generation)));
    }
}

#[cfg(test)]
mod layout {
    /// A lingering transaction is mostly this entry; with a proxy's 88-byte peer it was 256
    /// bytes before timers became ticks, 208 before the peer links (peer.rs) added 16.
    #[test]
    fn an_entry_with_a_proxy_sized_peer_takes_224_bytes() {
        assert_eq!(std::mem::size_of::<super::Entry<[u64; 11]>>(), 224);
    }
}
