//! [`B2bua`]: the engine and its calling contract, quinn-proto style.
//!
//! The node lends it to the proxy core for every received message
//! ([`causeway_proxy::Core::handle_inbound_with`]); the core offers it each parsed message
//! ([`Agent::offer`]: what is already the engine's), hands it a new call only after the edge's
//! gate cleared it ([`Agent::wants_initial`], [`Agent::take_initial`]: zone, digest, call
//! policy, the gate's verdict with it) and asks it for registered contacts ([`Agent::contacts`]). Besides that the
//! node calls [`B2bua::handle_timeout`] when [`B2bua::poll_timeout`] says, reports failed sends
//! with [`B2bua::handle_transport_error`], and after every call drains [`B2bua::poll_transmit`]
//! into the sockets and [`B2bua::poll_event`] into the store.
//!
//! What the engine keeps (the rest goes to the proxy core):
//! - REGISTER whose Request-URI names a cluster FQDN, the realm or this node;
//! - a new INVITE the gate cleared, from a registered device's flow, or to a cluster FQDN (in
//!   the Request-URI or, from a zone that honours Route headers, the topmost Route that is not
//!   this node, flow F2) or a `tel:` URI — unless it is addressed to a device's own address of
//!   record, which the location service forks to;
//! - requests in its dialogs (Request-URI = one of its Contacts), ACK and CANCEL of its INVITE
//!   server transactions, and responses to its requests (its Via branch).

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use causeway_callctl::{CallInfo, CallRecord, CdrBuilder, Cluster, DualRingSwitches, SnrCall};
use causeway_proxy::{Agent, Arrived, Clearance, NextHop, RequestCtx, Resolve, ResolveId, Target, Transmit, TransportFailure};
use causeway_routing::resolve::DnsAnswer;
use causeway_routing::HealthSnapshot;
use causeway_sip::{Message, Method, StatusCode, Uri};
use causeway_txn::{Event as TxnEvent, MessageKey, TransactionTable, TxnConfig, TxnId, TxnKind, TxnMap};
use slab::Slab;

use crate::call::start::{decide, unsupported, Now, Source, Start, ZoneOrigin};
use crate::call::{parse_token, Call, CallKey, Caller, Cx, Side, Token};
use crate::clock::WallClock;
use crate::counters::B2buaCounters;
use crate::config::{B2buaConfig, ConfigError};
use crate::dialog::{Dialog, Hop};
use crate::ids::{Ids, BRANCH_PREFIX};
use crate::local::Locals;
use crate::net::{Answer, Client, Net, Peer};
use crate::registrar::{BindingRecord, Flow, Registrar};
use crate::route::Lookups;
use crate::zones::Zones;

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
    /// A call ended: its record, complete (write it durably).
    CallRecord(Box<CallRecord>),
    /// The dual-ringing overrides are now exactly these (user id, on).
    DualRing(Vec<(String, bool)>),
}

/// The registrar and back-to-back user agent of one node.
pub struct B2bua {
    net: Net,
    cluster: Arc<Cluster>,
    clock: Box<dyn WallClock + Send>,
    registrar: Registrar,
    zones: Zones,
    switches: DualRingSwitches,
    calls: Slab<Call>,
    next_generation: u32,
    /// Initial INVITE server transactions → their call (CANCEL).
    by_server: TxnMap<CallKey>,
    /// One entry per call at its next deadline (stale entries are skipped).
    deadlines: BinaryHeap<Reverse<(Instant, CallKey)>>,
    events: VecDeque<Event>,
    counters: B2buaCounters,
    /// The origin of the new INVITE being handed to the transaction layer.
    pending: Option<Source>,
}

impl std::fmt::Debug for B2bua {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("B2bua").field("transactions", &self.net.txns.len()).field("calls", &self.calls.len()).finish_non_exhaustive()
    }
}

impl B2bua {
    /// An engine for `cluster` and the edge's `zones`, started at `now`; `seed` makes tags,
    /// branches, Call-IDs and the digest nonce key (random in production, fixed in tests).
    pub fn new(
        config: B2buaConfig,
        cluster: Arc<Cluster>,
        zones: Zones,
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
        let net = Net {
            locals: Locals::new(&config.listeners),
            txns: TransactionTable::new(txn_config)?,
            config,
            ids,
            transmits: VecDeque::new(),
            clients: TxnMap::default(),
            lookups: Lookups::default(),
        };
        Ok(Self {
            net,
            cluster,
            clock,
            registrar,
            zones,
            switches: DualRingSwitches::new(),
            calls: Slab::new(),
            next_generation: 0,
            by_server: TxnMap::default(),
            deadlines: BinaryHeap::new(),
            events: VecDeque::new(),
            counters: B2buaCounters::default(),
            pending: None,
        })
    }

    /// The registrar (bindings, lookups).
    pub fn registrar(&self) -> &Registrar {
        &self.registrar
    }

    /// The dual-ringing switches.
    pub fn switches(&self) -> &DualRingSwitches {
        &self.switches
    }

    /// Calls in progress.
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// What call control did since start, with calls and registrations active at `now`.
    pub fn counters(&self, now: Instant) -> B2buaCounters {
        let gauge = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        B2buaCounters { calls_active: gauge(self.calls.len()), registrations_active: gauge(self.registrar.bound(now)), ..self.counters }
    }

    /// Takes the bindings the store kept (at start); returns how many are live.
    pub fn load_bindings(&mut self, now: Instant, records: impl IntoIterator<Item = (String, BindingRecord)>) -> usize {
        let wall = self.clock.wall(now);
        self.registrar.load(now, wall, records, &self.cluster)
    }

    /// Takes the dual-ringing overrides the store kept (at start); unknown users are skipped.
    pub fn load_dual_ring(&mut self, overrides: impl IntoIterator<Item = (String, bool)>) {
        let directory = self.cluster.directory();
        for (userid, on) in overrides {
            if let Some(user) = directory.user_by_userid(&userid).and_then(|u| directory.user(u)) {
                self.switches.set(user, on);
            }
        }
    }

    /// The time from [`B2bua::poll_timeout`] has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.zones.expire(now);
        self.net.txns.handle_timeout(now);
        self.drain(now);
        while let Some(&Reverse((at, key))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            let current = self.calls.get_mut(key.index as usize).filter(|c| c.key == key && c.queued == Some(at));
            let Some(call) = current else { continue };
            call.queued = None;
            self.with_call(now, key, |call, cx| call.on_timeout(cx));
        }
        self.drain(now);
    }

    /// A send failed (RFC 3261 §17.1.4, §18.4): the transactions sending there fail.
    pub fn handle_transport_error(&mut self, now: Instant, failure: TransportFailure) {
        self.net.txns.handle_peer_failure(now, &(failure.transport, failure.destination), |p| failure.reaches(p.flow));
        self.drain(now);
    }

    /// The next message to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.net.transmits.pop_front()
    }

    /// When [`B2bua::handle_timeout`] must next be called.
    #[must_use]
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let calls = self.deadlines.peek().map(|Reverse((at, _))| *at);
        [self.net.txns.poll_timeout(), calls, self.zones.next_expiry()].into_iter().flatten().min()
    }

    /// The keepalive's latest peer health from the proxy core ([`causeway_proxy::Core::health`]):
    /// legs through a zone skip peers marked down, as the core's own requests do. The node
    /// hands it over when a peer's state changes.
    pub fn set_health(&mut self, health: HealthSnapshot) {
        self.zones.set_health(health);
    }

    /// The peer health legs are routed with: the core's last snapshot with the answers to call
    /// control's own lookups held in it. Its [`HealthSnapshot::host_of`] names the host a leg's
    /// destination was found under — the server name a new TLS connection there must verify
    /// (RFC 5922 §4), as for the core's own sends.
    pub fn health(&self) -> &HealthSnapshot {
        self.zones.health()
    }

    /// The next DNS lookup a leg waits for (RFC 3263 through a DNS zone, a peer's host name);
    /// answer it with [`B2bua::handle_resolved`]. Drain after every call, like
    /// [`B2bua::poll_transmit`].
    #[must_use]
    pub fn poll_resolve(&mut self) -> Option<Resolve> {
        self.net.lookups.poll()
    }

    /// The answer to a lookup from [`B2bua::poll_resolve`] ([`DnsAnswer::Failed`] when the
    /// resolver gave up). Unknown ids are ignored.
    pub fn handle_resolved(&mut self, now: Instant, id: ResolveId, answer: DnsAnswer) {
        self.zones.expire(now);
        if let Some((key, leg, query)) = self.net.lookups.finish(id) {
            self.zones.remember(now, query, &answer);
            self.with_call(now, key, |c, cx| c.on_resolved(cx, leg, id, answer));
        }
        self.drain(now);
    }

    /// The next thing to persist.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Runs `f` on a live call with its context, then drops the call if it is over (writing its
    /// record) or re-queues its next deadline.
    fn with_call(&mut self, now: Instant, key: CallKey, f: impl FnOnce(&mut Call, &mut Cx<'_>)) {
        let Self { net, calls, registrar, zones, counters, .. } = self;
        let Some(call) = calls.get_mut(key.index as usize).filter(|c| c.key == key) else { return };
        let mut cx = Cx { now, counters, net, registrar, zones };
        f(call, &mut cx);
        if call.is_over() {
            let call = self.calls.remove(key.index as usize);
            self.by_server.remove(&call.caller.server);
            let record = call.cdr.into_record();
            self.counters.call_ended(&record);
            self.events.push_back(Event::CallRecord(Box::new(record)));
            return;
        }
        if let Some(at) = call.next_deadline() {
            if call.queued.is_none_or(|q| at < q) {
                self.deadlines.push(Reverse((at, key)));
                call.queued = Some(at);
            }
        }
    }

    /// Run the transaction layer's output until it has nothing more to say.
    fn drain(&mut self, now: Instant) {
        loop {
            while let Some(t) = self.net.txns.poll_transmit() {
                self.net.transmits.push_back(t.to.transmit(t.bytes));
            }
            let Some(event) = self.net.txns.poll_event() else { break };
            match event {
                TxnEvent::Request { txn, request } => self.on_request(now, txn, &request),
                TxnEvent::Response { txn, response } => match self.net.clients.get(&txn).copied() {
                    Some(Client::Invite(key, leg)) => self.with_call(now, key, |c, cx| c.on_leg_response(cx, leg, response)),
                    Some(Client::Relay(key)) => self.with_call(now, key, |c, cx| c.on_relay_response(cx, txn, &response)),
                    Some(Client::Fire) | None => {}
                },
                TxnEvent::Ack { request, .. } => {
                    if let Some((key, side)) = dialog_of(&request) {
                        self.with_call(now, key, |c, cx| c.on_ack(cx, side, &request));
                    }
                }
                TxnEvent::Timeout { txn, .. } => self.on_client_failure(now, txn, StatusCode::REQUEST_TIMEOUT),
                TxnEvent::TransportError { txn } => self.on_client_failure(now, txn, StatusCode::SERVICE_UNAVAILABLE),
                TxnEvent::Terminated { txn } => {
                    if let Some(Client::Invite(key, leg)) = self.net.clients.remove(&txn) {
                        let call = self.calls.get_mut(key.index as usize).filter(|c| c.key == key);
                        if let Some(l) = call.and_then(|c| c.leg_mut(leg)).filter(|l| l.txn == Some(txn)) {
                            l.txn = None;
                        }
                    }
                }
                TxnEvent::StrayResponse { .. } => {}
            }
        }
    }

    fn on_client_failure(&mut self, now: Instant, txn: TxnId, status: StatusCode) {
        match self.net.clients.get(&txn).copied() {
            Some(Client::Invite(key, leg)) => self.with_call(now, key, |c, cx| c.on_leg_failure(cx, leg, status)),
            Some(Client::Relay(key)) => self.with_call(now, key, |c, cx| c.on_relay_failure(cx, txn, status)),
            Some(Client::Fire) | None => {}
        }
    }

    fn on_request(&mut self, now: Instant, txn: TxnId, request: &Message) {
        match request.method() {
            Some(Method::Register) => self.on_register(now, txn, request),
            Some(Method::Cancel) => self.on_cancel(now, txn, request),
            Some(Method::Invite) if request.to_tag().ok().flatten().is_none() => self.on_invite(now, txn, request),
            _ => match dialog_of(request) {
                Some((key, side)) if self.calls.get(key.index as usize).is_some_and(|c| c.key == key) => {
                    self.with_call(now, key, |c, cx| c.on_request(cx, side, txn, request));
                }
                _ => self.net.refuse(now, txn, request, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST, "", Vec::new()),
            },
        }
    }

    fn on_register(&mut self, now: Instant, txn: TxnId, request: &Message) {
        let Some(peer) = self.net.txns.peer(txn).copied() else { return };
        let flow = Flow { transport: peer.transport, source: peer.destination, local: peer.local, flow: peer.flow };
        let wall = self.clock.wall(now);
        match self.registrar.register(now, wall, request, flow, &self.cluster) {
            Err(refusal) => self.net.refuse(now, txn, request, refusal.status, &refusal.detail, refusal.headers),
            Ok(registered) => {
                let mut headers: Vec<(&str, Cow<'_, str>)> =
                    registered.contacts.iter().map(|(uri, left)| ("Contact", Cow::Owned(format!("<{uri}>;expires={left}")))).collect();
                headers.extend(registered.path.into_iter().map(|p| ("Path", Cow::Owned(p))));
                if registered.outbound {
                    headers.push(("Require", Cow::Borrowed("outbound")));
                }
                self.net.respond(now, txn, request, StatusCode::OK, &Answer { headers, ..Answer::default() });
                if let Some((aor, bindings)) = registered.changed {
                    self.events.push_back(Event::Bindings { aor, bindings });
                }
            }
        }
    }

    /// RFC 3261 §9.2: 200 to the CANCEL, then the call gives up ringing (the caller gets 487).
    fn on_cancel(&mut self, now: Instant, txn: TxnId, cancel: &Message) {
        let key = self.net.txns.find_cancelled_invite(cancel).and_then(|invite| self.by_server.get(&invite).copied());
        let status = if key.is_some() { StatusCode::OK } else { StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST };
        self.net.respond(now, txn, cancel, status, &Answer::default());
        if let Some(key) = key {
            self.with_call(now, key, |c, cx| c.tell(cx, causeway_callctl::Event::CallerCancelled));
        }
    }

    fn on_invite(&mut self, now: Instant, txn: TxnId, invite: &Message) {
        let Some(source) = self.pending.take() else {
            self.net.refuse(now, txn, invite, StatusCode::SERVER_INTERNAL_ERROR, "", Vec::new());
            return;
        };
        let Some(peer) = self.net.txns.peer(txn).copied() else { return };
        // §16.2 / §17.2.1: 100 at once while the dial plan and the legs run.
        self.net.respond(now, txn, invite, StatusCode::TRYING, &Answer::default());
        let required = unsupported(invite);
        if !required.is_empty() {
            self.net.refuse(now, txn, invite, StatusCode::BAD_EXTENSION, "", vec![("Unsupported", required.join(", "))]);
            return;
        }
        let max_forwards = invite.max_forwards().ok().flatten().unwrap_or(70);
        if max_forwards == 0 {
            self.net.refuse(now, txn, invite, StatusCode::TOO_MANY_HOPS, "", Vec::new());
            return;
        }
        let wall = self.clock.wall(now);
        let contacts = self.registrar.snapshot(now);
        let at = Now { wall, switches: &self.switches, contacts: &contacts, zones: &self.zones };
        let (decision, plan, line) = match decide(invite, &source, &self.cluster, &at) {
            Start::Refuse(status, detail) => {
                self.net.refuse(now, txn, invite, status, &detail, Vec::new());
                return;
            }
            Start::Toggle { userid } => {
                self.toggle(now, txn, invite, &userid);
                return;
            }
            Start::Call { decision, plan, line } => (decision, plan, line),
        };
        let entry = self.calls.vacant_entry();
        self.next_generation = self.next_generation.wrapping_add(1);
        let key = CallKey { index: u32::try_from(entry.key()).unwrap_or(u32::MAX), generation: self.next_generation };
        let arrival = Hop { transport: peer.transport, destination: peer.destination, flow: peer.flow, local: peer.local };
        let Some(local) = self.net.local_for(&arrival) else { return };
        let contact = local.contact(Token(key, Side::Caller));
        let tag = self.net.ids.tag();
        let Some(dialog) = Dialog::uas(invite, &tag, contact, arrival) else {
            self.net.refuse(now, txn, invite, StatusCode::BAD_REQUEST, "INVITE without a usable Contact", Vec::new());
            return;
        };
        let info = CallInfo {
            call_id: invite.call_id().unwrap_or_default().to_owned(),
            calling: decision.calling.clone(),
            called: invite.request_uri_str().unwrap_or_default().to_owned(),
            line: line.clone(),
            anchored_user: decision.anchored_user.clone(),
        };
        let directory = self.cluster.directory();
        let domain = self.cluster.cfqdns().first().map(String::as_str).or(directory.realm()).unwrap_or("causeway.invalid").to_owned();
        let call = Call {
            key,
            snr: SnrCall::new(now, plan),
            cdr: CdrBuilder::new(info, now, wall),
            calling: decision.calling,
            domain,
            to_line: line,
            caller: Caller { server: txn, invite: invite.clone(), dialog },
            legs: Vec::new(),
            waiting: Vec::new(),
            max_forwards: max_forwards.saturating_sub(1).min(70),
            await_ack: None,
            relays: Vec::new(),
            early_peer: None,
            session: None,
            queued: None,
        };
        entry.insert(call);
        self.by_server.insert(txn, key);
        self.with_call(now, key, |c, cx| c.drive(cx));
    }

    /// The dual-ringing feature code: the user's switch flips, and the phone is told the new
    /// state in a final response's reason phrase (`603 Dual Ringing Off`): nothing to connect.
    fn toggle(&mut self, now: Instant, txn: TxnId, invite: &Message, userid: &str) {
        let directory = self.cluster.directory();
        let Some(user) = directory.user_by_userid(userid).and_then(|u| directory.user(u)) else {
            self.net.refuse(now, txn, invite, StatusCode::NOT_FOUND, "", Vec::new());
            return;
        };
        let on = self.switches.toggle(user);
        let reason = if on { "Dual Ringing On" } else { "Dual Ringing Off" };
        self.net.respond(now, txn, invite, StatusCode::DECLINE, &Answer { reason: Some(reason), ..Answer::default() });
        let overrides = self.switches.overrides().map(|(u, on)| (u.to_owned(), on)).collect();
        self.events.push_back(Event::DualRing(overrides));
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

    /// Whether a new INVITE is call control's, and where it comes from.
    fn new_call(&self, now: Instant, invite: &Message, arrived: &Arrived<'_>, clearance: Option<&Clearance>) -> Option<Source> {
        let uri = Uri::parse(invite.request_uri_str()?).ok()?;
        let sip = uri.as_sip();
        let uri_names_us = sip.is_some_and(|u| arrived.names_us(u));
        let to_cluster = match sip {
            Some(u) => self.cluster.is_cfqdn(u.host_str()),
            None => uri.scheme().eq_ignore_ascii_case("tel"),
        };
        let aor = sip.and_then(|u| u.user()).is_some_and(|user| Registrar::is_aor_user(user, &self.cluster));
        if aor && (uri_names_us || to_cluster) {
            // A device's own address: the location service forks to its contacts.
            return None;
        }
        // Flow F2: the cloud names the cluster in a Route after this node's own — from a zone
        // that honours Route headers; elsewhere such a Route is not the caller's to set.
        let honours_route = clearance.is_none_or(Clearance::honours_route_header);
        let routed_to_cluster = honours_route
            && invite
            .routes()
            .filter_map(Result::ok)
            .filter_map(|r| r.uri().ok().and_then(|u| u.as_sip().copied()))
            .find(|u| !arrived.names_us(u))
            .is_some_and(|u| self.cluster.is_cfqdn(u.host_str()));
        let device = self.registrar.device_at(arrived.transport, arrived.peer, now).map(str::to_owned);
        if device.is_none() && !to_cluster && !routed_to_cluster {
            return None;
        }
        Some(Source { device, zone: ZoneOrigin::of(clearance), uri_names_us })
    }

    /// Hands a message that is the engine's to its transaction layer, with its transaction key
    /// when [`Agent::offer`] already computed it.
    fn take(&mut self, now: Instant, message: Message, key: Option<MessageKey>, arrived: &Arrived<'_>) {
        let peer = if message.is_request() {
            Peer { transport: arrived.transport, local: arrived.local, destination: reply_address(&message, arrived), flow: arrived.flow }
        } else {
            Peer { transport: arrived.transport, local: arrived.local, destination: arrived.peer, flow: arrived.flow }
        };
        let handled = match key {
            Some(key) => self.net.txns.handle_keyed(now, message, key, arrived.transport, peer),
            None => self.net.txns.handle_message(now, message, arrived.transport, peer),
        };
        if let Err(rejected) = handled {
            tracing::debug!(error = %rejected.error, "message refused by the transaction layer");
        }
        self.drain(now);
        self.pending = None;
    }
}

/// The call and side a request's Request-URI (one of our Contacts) names.
fn dialog_of(request: &Message) -> Option<(CallKey, Side)> {
    let uri = Uri::parse(request.request_uri_str()?).ok()?;
    parse_token(uri.as_sip()?.user()?)
}

impl Agent for B2bua {
    fn offer(&mut self, now: Instant, message: Message, arrived: &Arrived<'_>) -> Option<Message> {
        // Responses, and the INVITEs and ACKs that may be an INVITE server transaction's, are
        // looked up by their transaction key, which the transaction layer then reuses.
        let key = match message.method() {
            None | Some(Method::Invite | Method::Ack) => self.net.txns.key_of(&message).ok(),
            Some(_) => None,
        };
        let txn = key.and_then(|k| self.net.txns.find(k));
        let ours = match message.method() {
            // A response to one of our requests, or a late one (our branch) that no transaction wants any more.
            None => {
                txn.is_some() || message.top_via().ok().and_then(|v| v.branch()).is_some_and(|b| b.starts_with(BRANCH_PREFIX))
            }
            Some(Method::Register) => self.is_registrar_uri(&message, arrived),
            Some(method) => {
                let ours_txn = match method {
                    Method::Invite | Method::Ack => txn.is_some_and(|(_, kind)| kind == TxnKind::InviteServer),
                    Method::Cancel => self.net.txns.find_cancelled_invite(&message).is_some(),
                    _ => false,
                };
                let in_dialog = Uri::parse(message.request_uri_str().unwrap_or_default())
                    .ok()
                    .and_then(|u| u.as_sip().copied())
                    .is_some_and(|u| arrived.names_us(&u) && u.user().and_then(parse_token).is_some());
                ours_txn || in_dialog
            }
        };
        if !ours {
            return Some(message);
        }
        self.take(now, message, key, arrived);
        None
    }

    /// A new INVITE is call control's when it comes from a registered device or is addressed
    /// to a cluster FQDN (see [`B2bua::new_call`]); the core asks only after the gate cleared it.
    fn wants_initial(&self, now: Instant, request: &Message, arrived: &Arrived<'_>, clearance: Option<&Clearance>) -> bool {
        request.method() == Some(&Method::Invite) && self.new_call(now, request, arrived, clearance).is_some()
    }

    fn take_initial(&mut self, now: Instant, request: Message, arrived: &Arrived<'_>, clearance: Option<&Clearance>) {
        self.pending = self.new_call(now, &request, arrived, clearance);
        self.take(now, request, None, arrived);
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
        let targets = self
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

/// Where responses to a request go (RFC 3261 §18.2.2 with RFC 3581 §4): back over the
/// connection for a stream; over UDP to the source IP, at the source port when the top Via
/// asked for `rport`, else at the Via's port.
fn reply_address(msg: &Message, arrived: &Arrived<'_>) -> std::net::SocketAddr {
    match msg.top_via() {
        Ok(via) if !arrived.transport.is_reliable() && via.rport().is_none() => {
            std::net::SocketAddr::new(arrived.peer.ip(), via.port().unwrap_or(arrived.transport.default_port()))
        }
        _ => arrived.peer,
    }
}
