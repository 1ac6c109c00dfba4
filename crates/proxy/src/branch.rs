//! Via branch and tag generation with loop detection built in (RFC 3261 §16.6 step 8, §16.3
//! step 4, §8.1.1.7).
//!
//! Our branch is `z9hG4bKcw` + 16 hex digits of a keyed hash of the loop-detection inputs + 8
//! hex digits of a per-branch counter: 33 octets, no allocation. A request that comes back with
//! a Via of ours is a loop (482) when the hash recomputed from the request equals the hash in
//! that Via's branch, and a spiral (forwarded again) when a routing input changed. The key and
//! the counter start come from the core's seed, so tests are deterministic and other elements
//! cannot predict our branches.

use std::fmt;

/// RFC 3261 §8.1.1.7: every RFC 3261 branch starts with this.
pub const MAGIC_COOKIE: &str = "z9hG4bK";
/// Our prefix: the magic cookie plus a marker naming this implementation.
pub(crate) const BRANCH_PREFIX: &str = "z9hG4bKcw";
const PREFIX: &[u8] = BRANCH_PREFIX.as_bytes();
const HASH_DIGITS: usize = 16;
const COUNTER_DIGITS: usize = 8;
const BRANCH_LEN: usize = PREFIX.len() + HASH_DIGITS + COUNTER_DIGITS;

/// A keyed 64-bit hash: multiply-xorshift over 8-octet words, keyed from the seed, with a
/// final avalanche. Fast and stable for one process; not a MAC.
#[derive(Debug, Clone)]
pub(crate) struct KeyedHasher {
    state: u64,
}

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(x: u64) -> u64 {
    // splitmix64 finalizer.
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl KeyedHasher {
    pub(crate) fn new(key: u64) -> Self {
        Self { state: key }
    }

    fn word(&mut self, w: u64) {
        self.state = (self.state ^ w).wrapping_mul(MUL).rotate_left(29);
    }

    /// Add one field; its length goes in first, so `("ab","c")` and `("a","bc")` differ.
    pub(crate) fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.word(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w.iter_mut().zip(rest).for_each(|(d, s)| *d = *s);
            self.word(u64::from_le_bytes(w));
        }
        self
    }

    /// Add a number field.
    pub(crate) fn number(&mut self, n: u64) -> &mut Self {
        self.word(n);
        self
    }

    pub(crate) fn finish(&self) -> u64 {
        mix(self.state)
    }
}

/// A branch value of ours, kept inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Branch([u8; BRANCH_LEN]);

impl Branch {
    fn new(hash: u64, counter: u32) -> Self {
        let mut b = [0u8; BRANCH_LEN];
        let (prefix, rest) = b.split_at_mut(PREFIX.len());
        prefix.copy_from_slice(PREFIX);
        let (h, c) = rest.split_at_mut(HASH_DIGITS);
        write_hex(h, hash);
        write_hex(c, u64::from(counter));
        Self(b)
    }

    /// The branch text.
    pub fn as_str(&self) -> &str {
        // Only ASCII prefix and hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or(MAGIC_COOKIE)
    }

    /// The loop-detection hash inside a branch we generated, or `None` if `branch` is not ours.
    pub fn loop_hash_of(branch: &str) -> Option<u64> {
        let b = branch.as_bytes();
        if b.len() != BRANCH_LEN || !b.starts_with(PREFIX) {
            return None;
        }
        let digits = b.get(PREFIX.len()..PREFIX.len() + HASH_DIGITS)?;
        let tail = b.get(PREFIX.len() + HASH_DIGITS..)?;
        if !tail.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        read_hex(digits)
    }
}

impl fmt::Debug for Branch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn write_hex(dst: &mut [u8], value: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let n = dst.len();
    for (i, d) in dst.iter_mut().enumerate() {
        let shift = 4 * (n - 1 - i);
        let nibble = if shift < 64 { (value >> shift) & 0xf } else { 0 };
        *d = HEX.get(nibble as usize).copied().unwrap_or(b'0');
    }
}

fn read_hex(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        Some(acc << 4 | u64::from(v))
    })
}

/// A To tag of ours for responses the core generates (RFC 3261 §8.2.6.2): `cw` + 8 hex
/// digits of a nonce + 8 hex digits of a keyed check, so an ACK for a response we sent
/// without keeping state can be recognised by its To tag (and absorbed, not forwarded).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tag([u8; 18]);

impl Tag {
    /// The tag text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("cw")
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Makes branches and tags from a seed: deterministic for a given seed, unpredictable without it.
#[derive(Debug, Clone)]
pub struct BranchGenerator {
    loop_key: u64,
    tag_key: u64,
    counter: u32,
}

impl BranchGenerator {
    /// A generator whose keys and counter start derive from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            loop_key: mix(seed ^ 0x6c6f_6f70),
            tag_key: mix(seed ^ 0x7461_6773),
            counter: (mix(seed ^ 0x636e_7472) >> 32) as u32,
        }
    }

    /// A hasher for the loop-detection inputs, keyed like our branches.
    pub(crate) fn loop_hasher(&self) -> KeyedHasher {
        KeyedHasher::new(self.loop_key)
    }

    /// A fresh branch carrying `loop_hash` (RFC 3261 §16.6 step 8: unique per branch, and it
    /// lets §16.3 step 4 tell loops from spirals).
    pub fn next_branch(&mut self, loop_hash: u64) -> Branch {
        self.counter = self.counter.wrapping_add(1);
        Branch::new(loop_hash, self.counter)
    }

    /// The branch a stateless forward uses (RFC 3261 §16.11): a function of the incoming
    /// request only, so its retransmissions get the same branch. `incoming_branch` is the
    /// received top Via's branch.
    pub fn stateless_branch(&self, loop_hash: u64, incoming_branch: &[u8]) -> Branch {
        let salt = KeyedHasher::new(self.tag_key).field(incoming_branch).finish();
        Branch::new(loop_hash, (salt >> 32) as u32)
    }

    fn tag_check(&self, nonce: u32) -> u32 {
        (mix(self.tag_key ^ u64::from(nonce)) >> 32) as u32
    }

    /// A fresh To tag.
    pub fn next_tag(&mut self) -> Tag {
        self.counter = self.counter.wrapping_add(1);
        let nonce = (mix(u64::from(self.counter) ^ self.loop_key) >> 32) as u32;
        let mut t = [0u8; 18];
        let (p, rest) = t.split_at_mut(2);
        p.copy_from_slice(b"cw");
        let (n, c) = rest.split_at_mut(8);
        write_hex(n, u64::from(nonce));
        write_hex(c, u64::from(self.tag_check(nonce)));
        Tag(t)
    }

    /// True if `tag` is one [`Self::next_tag`] made with this generator's key.
    pub fn is_our_tag(&self, tag: &str) -> bool {
        let b = tag.as_bytes();
        if b.len() != 18 || !b.starts_with(b"cw") {
            return false;
        }
        let nonce = b.get(2..10).and_then(read_hex);
        let check = b.get(10..18).and_then(read_hex);
        match (nonce, check) {
            (Some(n), Some(c)) => u32::try_from(n).is_ok_and(|n| u64::from(self.tag_check(n)) == c),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_8_1_1_7_branch_starts_with_magic_cookie_and_is_unique() {
        let mut g = BranchGenerator::new(7);
        let a = g.next_branch(42);
        let b = g.next_branch(42);
        assert!(a.as_str().starts_with(MAGIC_COOKIE));
        assert_eq!(a.as_str().len(), 33);
        assert_ne!(a, b);
        assert_eq!(Branch::loop_hash_of(a.as_str()), Some(42));
        assert_eq!(Branch::loop_hash_of(b.as_str()), Some(42));
    }

    #[test]
    fn foreign_branches_carry_no_loop_hash() {
        assert_eq!(Branch::loop_hash_of("z9hG4bK776asdhds"), None);
        assert_eq!(Branch::loop_hash_of("z9hG4bKcw00000000000000zz00000001"), None);
        assert_eq!(Branch::loop_hash_of("z9hG4bKcw0000000000000001000000zz"), None);
    }

    #[test]
    fn same_seed_same_sequence() {
        let mut a = BranchGenerator::new(99);
        let mut b = BranchGenerator::new(99);
        assert_eq!(a.next_branch(1), b.next_branch(1));
        assert_eq!(a.next_tag(), b.next_tag());
        let mut c = BranchGenerator::new(100);
        assert_ne!(a.next_branch(1), c.next_branch(1));
    }

    #[test]
    fn our_tags_are_recognised_and_others_are_not() {
        let mut g = BranchGenerator::new(5);
        let t = g.next_tag();
        assert!(g.is_our_tag(t.as_str()));
        assert_ne!(t, g.next_tag());
        assert!(!BranchGenerator::new(6).is_our_tag(t.as_str()));
        assert!(!g.is_our_tag("cw0000000000000000"));
        assert!(!g.is_our_tag("1928301774"));
    }

    #[test]
    fn rfc3261_16_11_stateless_branch_is_stable_per_incoming_branch() {
        let g = BranchGenerator::new(3);
        let x = g.stateless_branch(5, b"z9hG4bKabc");
        assert_eq!(x, g.stateless_branch(5, b"z9hG4bKabc"));
        assert_ne!(x, g.stateless_branch(5, b"z9hG4bKabd"));
    }

    #[test]
    fn hasher_separates_fields() {
        let g = BranchGenerator::new(1);
        let h1 = g.loop_hasher().field(b"ab").field(b"c").finish();
        let h2 = g.loop_hasher().field(b"a").field(b"bc").finish();
        let h3 = g.loop_hasher().field(b"ab").field(b"c").finish();
        assert_ne!(h1, h2);
        assert_eq!(h1, h3);
    }
}
