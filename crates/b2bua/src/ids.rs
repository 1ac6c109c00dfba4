//! Identifiers the engine writes: Via branches (RFC 3261 §8.1.1.7), tags (§19.3), Call-IDs
//! (§8.1.1.4) and the digest nonce key, all from one seeded generator (STYLE.md §6.2) so a run
//! can be replayed. Branches carry [`BRANCH_PREFIX`], which is how the proxy core's agent hook
//! tells responses to our requests from responses it relays.

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// The magic cookie plus a marker that is not the proxy core's (`z9hG4bKcw`).
pub(crate) const BRANCH_PREFIX: &str = "z9hG4bKcb";

/// The seeded generator.
#[derive(Debug)]
pub(crate) struct Ids {
    rng: StdRng,
}

impl Ids {
    pub(crate) fn new(seed: u64) -> Self {
        Self { rng: StdRng::seed_from_u64(seed) }
    }

    fn hex(&mut self, words: usize, prefix: &str) -> String {
        let mut out = String::with_capacity(prefix.len() + words * 16);
        out.push_str(prefix);
        for _ in 0..words {
            // 16 lowercase hex digits, most significant first (what `{:016x}` wrote, without
            // the formatting machinery: ids are made for every request and response).
            let word = self.rng.next_u64();
            out.extend((0..16).rev().map(|nibble| char::from_digit(((word >> (nibble * 4)) & 0xf) as u32, 16).unwrap_or('0')));
        }
        out
    }

    /// A new Via branch.
    pub(crate) fn branch(&mut self) -> String {
        self.hex(1, BRANCH_PREFIX)
    }

    /// A new Call-ID.
    pub(crate) fn call_id(&mut self) -> String {
        self.hex(2, "")
    }

    /// A new From/To tag.
    pub(crate) fn tag(&mut self) -> String {
        self.hex(1, "")
    }

    /// The generator itself (RFC 2782 ordering of next hops).
    pub(crate) fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// Key material (the digest nonce secret).
    pub(crate) fn key(&mut self) -> [u8; 32] {
        let mut key = [0u8; 32];
        self.rng.fill_bytes(&mut key);
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ids() {
        let (mut a, mut b) = (Ids::new(7), Ids::new(7));
        assert_eq!((a.tag(), a.key()), (b.tag(), b.key()));
        assert_ne!(a.tag(), a.tag());
        let branch = a.branch();
        assert!(branch.starts_with("z9hG4bKcb") && branch.len() == 25, "{branch}");
        assert_eq!(a.call_id().len(), 32);
        let mut c = Ids::new(7);
        let mut rng = StdRng::seed_from_u64(7);
        assert_eq!(c.tag(), format!("{:016x}", rng.next_u64()), "the digits of {{:016x}}");
    }
}
