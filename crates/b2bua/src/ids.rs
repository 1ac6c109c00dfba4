//! Identifiers the engine writes: Via branches (RFC 3261 §8.1.1.7), tags (§19.3), Call-IDs
//! (§8.1.1.4) and the digest nonce key, all from one seeded generator (STYLE.md §6.2) so a run
//! can be replayed. Branches carry [`BRANCH_PREFIX`], which is how the proxy core's agent hook
//! tells responses to our requests from responses it relays.

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// The magic cookie plus a marker that is not the proxy core's (`z9hG4bKcw`).
pub(crate) const BRANCH_PREFIX: &str = "z9hG4bKcb";

const HEX: &[u8; 16] = b"0123456789abcdef";
/// Room for a prefix and two words in hex.
const ID_MAX: usize = 48;

/// An identifier written on the stack: most are written into one message and dropped (a branch
/// into its Via, a tag into a response), so none costs an allocation.
#[derive(Clone, Copy)]
pub(crate) struct Id {
    bytes: [u8; ID_MAX],
    len: usize,
}

impl Id {
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is ever written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl std::ops::Deref for Id {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The seeded generator.
#[derive(Debug)]
pub(crate) struct Ids {
    rng: StdRng,
}

impl Ids {
    pub(crate) fn new(seed: u64) -> Self {
        Self { rng: StdRng::seed_from_u64(seed) }
    }

    fn hex(&mut self, words: usize, prefix: &str) -> Id {
        let mut id = Id { bytes: [0; ID_MAX], len: 0 };
        let mut at = 0;
        for &b in prefix.as_bytes().iter().take(ID_MAX - 32) {
            id.bytes[at] = b;
            at += 1;
        }
        for _ in 0..words.min(2) {
            // 16 lowercase hex digits, most significant first (what `{:016x}` wrote, without
            // the formatting machinery: ids are made for every request and response).
            let word = self.rng.next_u64();
            for nibble in (0..16).rev() {
                id.bytes[at] = HEX[((word >> (nibble * 4)) & 0xf) as usize];
                at += 1;
            }
        }
        id.len = at;
        id
    }

    /// A new Via branch.
    pub(crate) fn branch(&mut self) -> Id {
        self.hex(1, BRANCH_PREFIX)
    }

    /// A new Call-ID.
    pub(crate) fn call_id(&mut self) -> Id {
        self.hex(2, "")
    }

    /// A new From/To tag.
    pub(crate) fn tag(&mut self) -> Id {
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
        assert_eq!((a.tag().as_str(), a.key()), (b.tag().as_str(), b.key()));
        assert_ne!(a.tag().as_str(), a.tag().as_str());
        let branch = a.branch();
        assert!(branch.starts_with("z9hG4bKcb") && branch.len() == 25, "{branch}");
        assert_eq!(a.call_id().len(), 32);
        let mut c = Ids::new(7);
        let mut rng = StdRng::seed_from_u64(7);
        assert_eq!(c.tag().as_str(), format!("{:016x}", rng.next_u64()), "the digits of {{:016x}}");
        let (id, mut rng) = (c.call_id(), StdRng::seed_from_u64(7));
        rng.next_u64();
        assert_eq!(id.as_str(), format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()), "two words");
    }
}
