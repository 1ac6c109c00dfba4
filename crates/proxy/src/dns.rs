//! DNS as actions (STYLE.md §7, `Action::Resolve`): the core never resolves a name itself.
//! Whatever part of it needs a lookup queues a [`DnsQuery`] here and names itself as the
//! lookup's owner; the I/O layer takes the query from [`Core::poll_resolve`], performs it
//! (hickory-resolver in causeway-node, a table in tests) and hands the answer back with
//! [`Core::handle_resolved`], which routes it to the owner.
//!
//! Lookups are bounded: at most [`MAX_PENDING`] wait at once; past that a new lookup fails at
//! once as a server failure, so a flood of requests for new names cannot grow the table.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use causeway_routing::resolve::{DnsAnswer, DnsFailure, DnsQuery};

use crate::core::Core;
use crate::locate::Locator;

/// Lookups that may wait for an answer at once.
pub const MAX_PENDING: usize = 4096;

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
}

/// Queued and pending lookups.
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    next: u64,
    queue: VecDeque<Resolve>,
    pending: HashMap<ResolveId, Owner>,
}

impl Lookups {
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
            match owner {
                Owner::PeerAddress { host } => {
                    self.keepalive_resolved(now, &host, DnsAnswer::Failed(DnsFailure::ServerFailure));
                }
            }
        }
    }
}
