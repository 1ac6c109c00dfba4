//! A fixed-capacity table of per-key state with CLOCK (second-chance) eviction: memory stays
//! bounded however many distinct sources or usernames arrive, and lookups stay O(1).
//!
//! Banned entries get more chances than others, and every packet from a banned source renews
//! them, so spraying new source addresses does not wash out the ban of a source that keeps
//! attacking.

use std::collections::HashMap;
use std::hash::Hash;

/// Chances an entry gets before eviction: ordinary and banned.
const CHANCES: u8 = 1;
const BANNED_CHANCES: u8 = 3;

#[derive(Debug)]
struct Slot<K, V> {
    key: K,
    value: V,
    chances: u8,
}

/// Bounded map with CLOCK eviction.
#[derive(Debug)]
pub(crate) struct ClockTable<K, V> {
    index: HashMap<K, usize>,
    slots: Vec<Slot<K, V>>,
    hand: usize,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> ClockTable<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        // Twice the entries: hashbrown then always rehashes removal tombstones in place instead
        // of growing, so the allocation made here is the only one.
        Self { index: HashMap::with_capacity(capacity * 2), slots: Vec::with_capacity(capacity), hand: 0, capacity }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Entries the table can hold without allocating (for the memory-bound test): never above
    /// its value at creation unless the table grew.
    pub(crate) fn allocated(&self) -> usize {
        self.index.capacity().max(self.slots.capacity())
    }

    /// The entry for `key`, without touching its chances.
    pub(crate) fn peek(&self, key: &K) -> Option<&V> {
        self.index.get(key).and_then(|i| self.slots.get(*i)).map(|s| &s.value)
    }

    /// The entry for `key`, created with `make` (evicting one if full). `banned` tells whether
    /// the entry is under a ban, which earns it more chances.
    pub(crate) fn entry(&mut self, key: &K, make: impl FnOnce() -> V, banned: impl Fn(&V) -> bool) -> &mut V {
        let index = match self.index.get(key) {
            Some(i) => *i,
            None => self.insert(key.clone(), make()),
        };
        // `index` comes from this table's own map or insert: always in range.
        let slot = &mut self.slots[index];
        slot.chances = if banned(&slot.value) { BANNED_CHANCES } else { CHANCES };
        &mut slot.value
    }

    /// Renews the chances of `key` after its state changed (e.g. a ban started).
    pub(crate) fn touch(&mut self, key: &K, banned: bool) {
        if let Some(slot) = self.index.get(key).and_then(|i| self.slots.get_mut(*i)) {
            slot.chances = if banned { BANNED_CHANCES } else { CHANCES };
        }
    }

    fn insert(&mut self, key: K, value: V) -> usize {
        if self.slots.len() < self.capacity {
            self.slots.push(Slot { key: key.clone(), value, chances: CHANCES });
            let index = self.slots.len() - 1;
            self.index.insert(key, index);
            return index;
        }
        // Every pass lowers each slot's chances by one, so a victim is found within
        // (BANNED_CHANCES + 1) passes.
        let limit = self.capacity * (usize::from(BANNED_CHANCES) + 1);
        let mut victim = self.hand;
        for _ in 0..limit {
            let at = self.hand;
            self.hand = (self.hand + 1) % self.capacity;
            let Some(slot) = self.slots.get_mut(at) else { continue };
            if slot.chances == 0 {
                victim = at;
                break;
            }
            slot.chances -= 1;
        }
        // `victim` is below `capacity`, and the table is full.
        let slot = &mut self.slots[victim];
        self.index.remove(&slot.key);
        *slot = Slot { key: key.clone(), value, chances: CHANCES };
        self.index.insert(key, victim);
        victim
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.slots.iter().map(|s| (&s.key, &s.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_never_exceeded() {
        let mut t: ClockTable<u32, u32> = ClockTable::new(4);
        for k in 0..100 {
            *t.entry(&k, || 0, |_| false) += 1;
            assert!(t.len() <= 4);
        }
        assert_eq!(t.len(), 4);
        assert!(t.peek(&99).is_some(), "the newest key is present");
    }

    #[test]
    fn recently_used_entries_survive() {
        let mut t: ClockTable<u32, u32> = ClockTable::new(4);
        for k in 0..1000 {
            t.entry(&k, || 0, |_| false);
            t.entry(&7777, || 1, |_| false);
        }
        assert!(t.peek(&7777).is_some());
    }

    #[test]
    fn banned_entries_outlive_a_spray() {
        let mut t: ClockTable<u32, bool> = ClockTable::new(8);
        t.entry(&1, || true, |b| *b);
        for k in 100..104 {
            t.entry(&k, || false, |b| *b);
        }
        // Eight inserts go past entry 1 at most once more than an unbanned entry could bear.
        for k in 200..208 {
            t.entry(&k, || false, |b| *b);
        }
        assert!(t.peek(&1).is_some(), "the ban survived a burst of new keys");
    }
}
