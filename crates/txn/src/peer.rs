//! Client transactions grouped by where they send. A transport failure names a destination, not
//! a transaction (an ICMP port unreachable, a connection refused): every client transaction
//! sending there fails at once (RFC 3261 §17.1.4, §18.4). After an overload or a peer's restart such failures
//! come by the thousand while the table holds hundreds of thousands of lingering transactions, so
//! finding them must cost what the destination has, not what the table has: each destination's
//! transactions form a doubly linked list threaded through the table's own entries, with one map
//! entry per destination for the list's head.

use std::collections::HashMap;
use std::hash::Hash;

/// The part of a TU's peer value that a transport failure names.
pub trait PeerKey {
    /// Equal for every transaction a failure of one destination must reach.
    type Key: Hash + Eq + Clone;
    /// This peer's key.
    fn peer_key(&self) -> Self::Key;
}

/// A peer named by a plain label (tests, benchmarks) is its own key.
impl<'a> PeerKey for &'a str {
    type Key = &'a str;
    fn peer_key(&self) -> &'a str {
        self
    }
}

/// A peer named by a plain label (tests, benchmarks) is its own key.
impl PeerKey for u32 {
    type Key = u32;
    fn peer_key(&self) -> u32 {
        *self
    }
}

/// No neighbour in a list.
pub(crate) const NIL: u32 = u32::MAX;

/// An entry's neighbours in its destination's list (table slab indices).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Links {
    pub(crate) prev: u32,
    pub(crate) next: u32,
}

impl Links {
    /// In no list.
    pub(crate) const NONE: Self = Self { prev: NIL, next: NIL };
}

/// The head of each destination's list.
#[derive(Debug)]
pub(crate) struct Heads<K> {
    heads: HashMap<K, u32>,
}

impl<K: Hash + Eq + Clone> Heads<K> {
    pub(crate) fn new() -> Self {
        Self {
            heads: HashMap::new(),
        }
    }

    /// Makes `index` the head of `key`'s list; returns its links (the old head follows it) and
    /// the old head, whose `prev` the caller points at `index`.
    pub(crate) fn push(&mut self, key: K, index: u32) -> (Links, Option<u32>) {
        let old = self.heads.insert(key, index);
        (
            Links {
                prev: NIL,
                next: old.unwrap_or(NIL),
            },
            old,
        )
    }

    /// `key`'s list lost its head; `next` (or nothing) is the new one.
    pub(crate) fn replace(&mut self, key: &K, next: u32) {
        if next == NIL {
            self.heads.remove(key);
        } else if let Some(head) = self.heads.get_mut(key) {
            *head = next;
        }
    }

    /// The first entry of `key`'s list.
    pub(crate) fn first(&self, key: &K) -> Option<u32> {
        self.heads.get(key).copied()
    }
}
