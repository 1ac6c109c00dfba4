//! DNS as actions (STYLE.md §7, `Action::Resolve`): the core never resolves a name itself.
//! Whatever part of it needs a lookup queues a [`DnsQuery`] here and names itself as the
//! lookup's owner; the I/O layer takes the query from [`Core::poll_resolve`], performs it
//! (hickory-resolver in causeway-node, a table in tests) and hands the answer back with
//! [`Core::handle_resolved`], which routes it to the owner.
//!
//! A request for a DNS zone (RFC 3263: NAPTR, then SRV, then A/AAAA) is located in rounds:
//! the locator says which lookups it lacks ([`LocateError::Lookup`](crate::LocateError)), the
//! request is parked — no transaction yet, so a retransmission meanwhile is simply dropped and
//! the next one finds the answer — and each answer goes into the health snapshot the locator
//! reads, kept for its TTL (failures and empty answers for a short while, so that the request
//! that asked sees them: a timeout becomes 504, NXDOMAIN 404). When a parked request's lookups
//! are all answered it is handled again from its bytes.
//!
//! Everything is bounded: [`MAX_PENDING`] lookups, [`MAX_PARKED`] parked requests,
//! [`MAX_ROUNDS`] rounds per request, [`MAX_ANSWERS`] answers held; past a bound a request is
//! answered 503 and a lookup fails at once as a server failure.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_routing::resolve::{DnsAnswer, DnsFailure, DnsQuery, QueryKind};
use causeway_sip::{Message, StatusCode};

use crate::core::Core;
use crate::locate::Locator;
use crate::plan::{Arrival, LocalReply};
use crate::{Clearance, Inbound};

/// Lookups that may wait for an answer at once.
pub const MAX_PENDING: usize = 4096;
/// Requests that may wait for lookups at once.
pub(crate) const MAX_PARKED: usize = 1024;
/// Times one request may be parked (NAPTR, SRV, A/AAAA per target, and a few targets).
pub(crate) const MAX_ROUNDS: u8 = 8;
/// DNS answers held at once.
pub(crate) const MAX_ANSWERS: usize = 4096;
/// How long a parked request may wait for its lookups (64*T1 with the default T1).
const PARK_LIMIT: Duration = Duration::from_secs(32);
/// How long an empty answer (NXDOMAIN, no records) is held: RFC 2308 negative caching, without
/// the SOA minimum the node's resolver does not pass on.
const NEGATIVE_TTL: Duration = Duration::from_secs(30);
/// How long a failed lookup (timeout, SERVFAIL) is held: long enough for the request that asked
/// to see it, short enough that a recovered server is asked again soon.
const FAILURE_TTL: Duration = Duration::from_secs(5);
/// Shortest time an answer is held, whatever its TTL.
const MIN_TTL: Duration = Duration::from_secs(1);

/// Names one lookup between [`Core::poll_resolve`] and [`Core::handle_resolved`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResolveId(pub u64);

/// A lookup for the I/O layer to perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    /// Give it back with the answer.
    pub id: ResolveId,
    /// What to look up.
    pub query: DnsQuery,
}

/// Who asked for a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The keepalive needs a peer's addresses (its host name).
    PeerAddress { host: String },
    /// Parked requests need the answer (a DNS zone's resolution).
    Parked { query: DnsQuery },
}

/// A request waiting for lookups.
#[derive(Debug)]
struct Parked {
    bytes: Bytes,
    arrival: Arrival,
    /// Lookups it still waits for.
    waiting: usize,
    /// Times it has been parked.
    round: u8,
    /// What the security gate decided about it the first time.
    clearance: Option<Box<Clearance>>,
    since: Instant,
}

type Key = (String, QueryKind);

fn key(query: &DnsQuery) -> Key {
    (query.name.to_ascii_lowercase(), query.kind)
}

/// Queued and pending lookups, parked requests, and when held answers expire.
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    next: u64,
    queue: VecDeque<Resolve>,
    pending: HashMap<ResolveId, Owner>,
    next_parked: u64,
    parked: HashMap<u64, Parked>,
    /// Parked requests waiting for each query in flight.
    waiters: HashMap<Key, Vec<u64>>,
    /// Requests parked, by Call-ID, CSeq and top Via branch: a retransmission is not parked twice.
    parked_ids: HashMap<String, u64>,
    /// Held answers and when they expire.
    expiry: HashMap<Key, (DnsQuery, Instant)>,
    /// The earliest expiry of a held answer or a parked request's wait.
    next_expiry: Option<Instant>,
    /// The round of the request being handled again, while it is.
    replaying: Option<u8>,
    /// Its clearance, for the gate.
    clearance: Option<Box<Clearance>>,
}

impl Lookups {
    /// Whether a parked request is being handled again (it was screened the first time).
    pub(crate) fn is_replaying(&self) -> bool {
        self.replaying.is_some()
    }

    /// Whether `msg` is a retransmission of a request waiting for its lookups.
    pub(crate) fn is_parked(&self, msg: &Message) -> bool {
        !self.parked_ids.is_empty() && self.parked_ids.contains_key(&request_id(msg))
    }

    /// The clearance of the request being handled again, once.
    pub(crate) fn take_clearance(&mut self) -> Option<Box<Clearance>> {
        self.clearance.take()
    }

    /// Queues `query` for `owner`; `None` when too many lookups are pending.
    pub(crate) fn start(&mut self, query: DnsQuery, owner: Owner) -> Option<ResolveId> {
        if self.pending.len() >= MAX_PENDING {
            return None;
        }
        let id = ResolveId(self.next);
        self.next += 1;
        self.pending.insert(id, owner);
        self.queue.push_back(Resolve { id, query });
        Some(id)
    }

    fn poll(&mut self) -> Option<Resolve> {
        self.queue.pop_front()
    }

    fn finish(&mut self, id: ResolveId) -> Option<Owner> {
        self.pending.remove(&id)
    }
}

/// How long `answer` is held.
fn hold_for(answer: &DnsAnswer) -> Duration {
    let ttl = |t: Option<u32>| t.map_or(NEGATIVE_TTL, |t| Duration::from_secs(t.into()).max(MIN_TTL));
    match answer {
        DnsAnswer::Naptr(r) if !r.is_empty() => ttl(r.iter().map(|n| n.ttl).min()),
        DnsAnswer::Srv(r) if !r.is_empty() => ttl(r.iter().map(|s| s.ttl).min()),
        DnsAnswer::Addresses(r) if !r.is_empty() => ttl(r.iter().map(|a| a.ttl).min()),
        DnsAnswer::Naptr(_) | DnsAnswer::Srv(_) | DnsAnswer::Addresses(_) | DnsAnswer::NoRecords => NEGATIVE_TTL,
        DnsAnswer::Failed(_) => FAILURE_TTL,
    }
}

/// What names a request across retransmissions (RFC 3261 §17.2.3: branch, plus Call-ID and
/// CSeq for good measure).
fn request_id(msg: &Message) -> String {
    let branch = msg.top_via().ok().and_then(|v| v.branch().map(str::to_owned)).unwrap_or_default();
    let cseq = msg.cseq().map(|c| c.seq).unwrap_or_default();
    format!("{}\u{0}{cseq}\u{0}{branch}", msg.call_id().unwrap_or_default())
}

impl<L: Locator> Core<L> {
    /// The next DNS lookup to perform; answer it with [`Core::handle_resolved`]. Drain after
    /// every `handle_*` call, like [`Core::poll_transmit`].
    #[must_use]
    pub fn poll_resolve(&mut self) -> Option<Resolve> {
        self.lookups.poll()
    }

    /// The answer to a lookup from [`Core::poll_resolve`]. Unknown ids are ignored. The I/O
    /// layer answers every lookup, with [`DnsAnswer::Failed`] when the resolver gave up
    /// (RFC 3263 §4.3 then moves on, or the request fails with 503/504).
    pub fn handle_resolved(&mut self, now: Instant, id: ResolveId, answer: DnsAnswer) {
        if let Some(owner) = self.lookups.finish(id) {
            match owner {
                Owner::PeerAddress { host } => self.keepalive_resolved(now, &host, answer),
                Owner::Parked { query } => self.parked_resolved(now, &query, answer),
            }
        }
        self.drain(now);
        self.after_input();
    }

    /// Starts a lookup for `owner`; a lookup refused for lack of room is answered at once
    /// as a server failure.
    pub(crate) fn start_lookup(&mut self, now: Instant, query: DnsQuery, owner: Owner) {
        if self.lookups.start(query, owner.clone()).is_none() {
            tracing::warn!("too many DNS lookups pending");
            let failed = DnsAnswer::Failed(DnsFailure::ServerFailure);
            match owner {
                Owner::PeerAddress { host } => self.keepalive_resolved(now, &host, failed),
                Owner::Parked { query } => self.parked_resolved(now, &query, failed),
            }
        }
    }

    /// The locator needs `queries` answered before it can locate `msg`: park it until they are.
    pub(crate) fn park(
        &mut self,
        now: Instant,
        msg: &Message,
        arrival: &Arrival,
        queries: Vec<DnsQuery>,
        clearance: Option<Box<Clearance>>,
    ) {
        self.expire_dns(now);
        let round = self.lookups.replaying.map_or(1, |r| r.saturating_add(1));
        let id = request_id(msg);
        if self.lookups.parked_ids.contains_key(&id) {
            // A retransmission of a request already waiting: its lookups are under way.
            return;
        }
        let full = self.lookups.parked.len() >= MAX_PARKED || round > MAX_ROUNDS || self.monitor.is_none();
        if full {
            tracing::warn!(round, parked = self.lookups.parked.len(), "cannot wait for more DNS lookups");
            let reply = LocalReply { status: StatusCode::SERVICE_UNAVAILABLE, detail: Some("DNS lookups".into()), extra: Vec::new() };
            return self.reply_stateless(msg, arrival, &reply);
        }
        let parked = self.lookups.next_parked;
        self.lookups.next_parked += 1;
        let mut waiting = 0;
        let mut new = Vec::new();
        for query in queries {
            let k = key(&query);
            let waiters = self.lookups.waiters.entry(k).or_default();
            if waiters.contains(&parked) {
                continue;
            }
            if waiters.is_empty() {
                new.push(query);
            }
            waiters.push(parked);
            waiting += 1;
        }
        let entry = Parked { bytes: msg.as_bytes().clone(), arrival: arrival.clone(), waiting, round, clearance, since: now };
        let give_up = now + PARK_LIMIT;
        self.lookups.next_expiry = Some(self.lookups.next_expiry.map_or(give_up, |t| t.min(give_up)));
        self.lookups.parked.insert(parked, entry);
        self.lookups.parked_ids.insert(id, parked);
        for query in new {
            self.start_lookup(now, query.clone(), Owner::Parked { query });
        }
    }

    /// An answer for parked requests: hold it, and handle again every request it completes.
    fn parked_resolved(&mut self, now: Instant, query: &DnsQuery, answer: DnsAnswer) {
        let k = key(query);
        if let Some(monitor) = self.monitor.as_mut() {
            if self.lookups.expiry.len() >= MAX_ANSWERS {
                for (q, _) in std::mem::take(&mut self.lookups.expiry).into_values() {
                    monitor.health.set_answer(&q, None);
                }
            }
            let until = now + hold_for(&answer);
            self.lookups.expiry.insert(k.clone(), (query.clone(), until));
            self.lookups.next_expiry = Some(self.lookups.next_expiry.map_or(until, |t| t.min(until)));
            monitor.health.set_answer(query, Some(answer));
        }
        let mut ready = Vec::new();
        for parked in self.lookups.waiters.remove(&k).unwrap_or_default() {
            if let Some(p) = self.lookups.parked.get_mut(&parked) {
                p.waiting = p.waiting.saturating_sub(1);
                if p.waiting == 0 {
                    ready.push(parked);
                }
            }
        }
        for parked in ready {
            let Some(p) = self.lookups.parked.remove(&parked) else { continue };
            self.lookups.parked_ids.retain(|_, v| *v != parked);
            let inbound = Inbound {
                bytes: p.bytes,
                transport: p.arrival.transport,
                local: p.arrival.local,
                peer: p.arrival.peer,
                flow: p.arrival.flow,
                tls_peer_names: p.arrival.tls_peer_names,
            };
            self.lookups.replaying = Some(p.round);
            self.lookups.clearance = p.clearance;
            self.handle_inbound(now, inbound);
            self.lookups.replaying = None;
            self.lookups.clearance = None;
        }
    }

    /// When held answers or parked requests next expire ([`Core::handle_timeout`] then).
    pub(crate) fn dns_deadline(&self) -> Option<Instant> {
        self.lookups.next_expiry
    }

    /// Forgets answers past their TTL and requests that waited too long.
    pub(crate) fn expire_dns(&mut self, now: Instant) {
        if self.lookups.next_expiry.is_none_or(|t| t > now) {
            return;
        }
        if let Some(monitor) = self.monitor.as_mut() {
            self.lookups.expiry.retain(|_, (query, until)| {
                let keep = *until > now;
                if !keep {
                    monitor.health.set_answer(query, None);
                }
                keep
            });
        }
        let stale: Vec<u64> = self.lookups.parked.iter().filter(|(_, p)| now.duration_since(p.since) > PARK_LIMIT).map(|(id, _)| *id).collect();
        for id in stale {
            self.lookups.parked.remove(&id);
            self.lookups.parked_ids.retain(|_, v| *v != id);
        }
        let answers = self.lookups.expiry.values().map(|(_, until)| *until);
        let waits = self.lookups.parked.values().map(|p| p.since + PARK_LIMIT);
        self.lookups.next_expiry = answers.chain(waits).min();
    }
}
