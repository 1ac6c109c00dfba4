//! Stateless nonces and bounded replay tracking.
//!
//! A nonce is `base64url(issued_ms ‖ seq ‖ HMAC-SHA256(secret, realm ‖ issued_ms ‖ seq)[..16])`:
//! the server keeps nothing per challenge, yet can tell its own nonces from forged ones and how
//! old they are (RFC 7616 §3.3 suggests exactly this: a time stamp plus a private key). Time is
//! milliseconds since an `epoch: Instant` the owner chose, so nonces do not survive a restart;
//! clients then get `stale=true` and retry without asking the user.
//!
//! Replay protection beyond the nonce's lifetime: for each nonce seen with a correct response,
//! the highest `nc` and a 64-wide window below it (as in IPsec anti-replay) — a reused or too-old
//! `nc` is refused. The table has a fixed capacity; when full it forgets the oldest nonce and
//! remembers that everything issued up to it is "forgotten", so an evicted nonce can never be
//! replayed (it is answered as stale instead).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const MAC_LEN: usize = 16;
const RAW_LEN: usize = 8 + 4 + MAC_LEN;

/// The server's private nonce key. Inject 32 random bytes (from the OS at start-up, or shared
/// between cluster peers); Debug never shows it.
#[derive(Clone)]
pub struct NonceSecret([u8; 32]);

impl NonceSecret {
    /// Wraps 32 secret bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// HMAC-SHA256 keyed with the secret. RFC 2104 pads short keys with zeros to the block
    /// size, so the zero-padded 64-byte key is the same key.
    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        let mut block = [0u8; 64];
        for (dst, src) in block.iter_mut().zip(self.0) {
            *dst = src;
        }
        <Hmac<Sha256> as KeyInit>::new(&block.into())
    }
}

impl fmt::Debug for NonceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NonceSecret(<redacted>)")
    }
}

/// Identity of a nonce inside the replay table (issue time, then sequence).
pub(crate) type NonceKey = (u64, u32);

/// What a presented nonce is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceCheck {
    /// Ours and within its lifetime.
    Fresh(NonceKey),
    /// Ours but too old.
    Expired,
    /// Not ours (forged, garbled, or from before a restart).
    Foreign,
}

/// Issues and checks nonces.
#[derive(Debug, Clone)]
pub(crate) struct NonceIssuer {
    secret: NonceSecret,
    epoch: Instant,
    lifetime: Duration,
    seq: u32,
}

impl NonceIssuer {
    pub(crate) fn new(secret: NonceSecret, epoch: Instant, lifetime: Duration) -> Self {
        Self { secret, epoch, lifetime, seq: 0 }
    }

    pub(crate) fn secret(&self) -> &NonceSecret {
        &self.secret
    }

    pub(crate) fn millis(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn lifetime_ms(&self) -> u64 {
        u64::try_from(self.lifetime.as_millis()).unwrap_or(u64::MAX)
    }

    fn tag(&self, realm: &str, issued: u64, seq: u32) -> [u8; MAC_LEN] {
        let mut mac = self.secret.mac();
        mac.update(b"causeway-nonce\0");
        mac.update(realm.as_bytes());
        mac.update(b"\0");
        mac.update(&issued.to_be_bytes());
        mac.update(&seq.to_be_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; MAC_LEN];
        tag.copy_from_slice(full.get(..MAC_LEN).unwrap_or(&[0u8; MAC_LEN]));
        tag
    }

    pub(crate) fn issue(&mut self, now: Instant, realm: &str) -> String {
        let issued = self.millis(now);
        self.seq = self.seq.wrapping_add(1);
        let mut raw = Vec::with_capacity(RAW_LEN);
        raw.extend_from_slice(&issued.to_be_bytes());
        raw.extend_from_slice(&self.seq.to_be_bytes());
        raw.extend_from_slice(&self.tag(realm, issued, self.seq));
        URL_SAFE_NO_PAD.encode(raw)
    }

    pub(crate) fn check(&self, now: Instant, realm: &str, nonce: &str) -> NonceCheck {
        let Some(raw) = URL_SAFE_NO_PAD.decode(nonce).ok().filter(|r| r.len() == RAW_LEN) else {
            return NonceCheck::Foreign;
        };
        let (head, tag) = raw.split_at(12);
        let (issued, seq) = head.split_at(8);
        let issued = u64::from_be_bytes(issued.try_into().unwrap_or([0; 8]));
        let seq = u32::from_be_bytes(seq.try_into().unwrap_or([0; 4]));
        if !bool::from(self.tag(realm, issued, seq).ct_eq(tag)) {
            return NonceCheck::Foreign;
        }
        let now_ms = self.millis(now);
        if issued > now_ms {
            return NonceCheck::Foreign;
        }
        if now_ms - issued > self.lifetime_ms() {
            return NonceCheck::Expired;
        }
        NonceCheck::Fresh((issued, seq))
    }
}

/// Per-nonce `nc` windows, bounded in size.
#[derive(Debug, Clone)]
pub(crate) struct ReplayTable {
    windows: BTreeMap<NonceKey, Window>,
    capacity: usize,
    forgotten_up_to: Option<NonceKey>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    highest: u32,
    seen: u64,
}

impl ReplayTable {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { windows: BTreeMap::new(), capacity: capacity.max(1), forgotten_up_to: None }
    }

    pub(crate) fn len(&self) -> usize {
        self.windows.len()
    }

    /// Records `nc` for `key`; `false` when it was used before (or cannot be proven unused).
    pub(crate) fn accept(&mut self, key: NonceKey, nc: u32, now_ms: u64, lifetime_ms: u64) -> bool {
        while let Some((oldest, _)) = self.windows.first_key_value() {
            if now_ms.saturating_sub(oldest.0) <= lifetime_ms {
                break;
            }
            self.windows.pop_first();
        }
        if let Some(w) = self.windows.get_mut(&key) {
            return w.record(nc);
        }
        if self.forgotten_up_to.is_some_and(|f| key <= f) {
            return false;
        }
        if self.windows.len() >= self.capacity {
            if let Some((evicted, _)) = self.windows.pop_first() {
                self.forgotten_up_to = Some(self.forgotten_up_to.map_or(evicted, |f| f.max(evicted)));
            }
            if self.forgotten_up_to.is_some_and(|f| key <= f) {
                return false;
            }
        }
        self.windows.insert(key, Window { highest: nc, seen: 1 });
        true
    }
}

impl Window {
    fn record(&mut self, nc: u32) -> bool {
        if nc > self.highest {
            let shift = nc - self.highest;
            self.seen = if shift >= 64 { 1 } else { (self.seen << shift) | 1 };
            self.highest = nc;
            return true;
        }
        let back = self.highest - nc;
        if back >= 64 || self.seen & (1 << back) != 0 {
            return false;
        }
        self.seen |= 1 << back;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(t0: Instant) -> NonceIssuer {
        NonceIssuer::new(NonceSecret::new([7; 32]), t0, Duration::from_secs(300))
    }

    #[test]
    fn nonces_are_checked_by_mac_realm_and_age() {
        let t0 = Instant::now();
        let mut i = issuer(t0);
        let n = i.issue(t0 + Duration::from_secs(1), "r");
        assert!(matches!(i.check(t0 + Duration::from_secs(2), "r", &n), NonceCheck::Fresh(_)));
        assert_eq!(i.check(t0 + Duration::from_secs(302), "r", &n), NonceCheck::Expired);
        assert_eq!(i.check(t0 + Duration::from_secs(2), "other", &n), NonceCheck::Foreign);
        let other_secret = NonceIssuer::new(NonceSecret::new([8; 32]), t0, Duration::from_secs(300));
        assert_eq!(other_secret.check(t0 + Duration::from_secs(2), "r", &n), NonceCheck::Foreign);
        let mut forged = n.into_bytes();
        if let Some(b) = forged.get_mut(3) {
            *b = if *b == b'A' { b'B' } else { b'A' };
        }
        assert_eq!(i.check(t0, "r", &String::from_utf8_lossy(&forged)), NonceCheck::Foreign);
        assert_eq!(i.check(t0, "r", "not base64 !"), NonceCheck::Foreign);
    }

    #[test]
    fn successive_nonces_differ() {
        let t0 = Instant::now();
        let mut i = issuer(t0);
        assert_ne!(i.issue(t0, "r"), i.issue(t0, "r"));
    }

    #[test]
    fn nc_window_refuses_reuse_and_accepts_reordering() {
        let mut t = ReplayTable::new(8);
        let k = (1, 1);
        assert!(t.accept(k, 1, 1, 1000));
        assert!(t.accept(k, 3, 1, 1000));
        assert!(t.accept(k, 2, 1, 1000), "late but unseen");
        assert!(!t.accept(k, 2, 1, 1000), "reuse");
        assert!(!t.accept(k, 1, 1, 1000), "reuse");
        assert!(t.accept(k, 200, 1, 1000));
        assert!(!t.accept(k, 100, 1, 1000), "below the window");
    }

    #[test]
    fn eviction_never_reopens_a_nonce() {
        let mut t = ReplayTable::new(2);
        assert!(t.accept((1, 1), 1, 5, 1000));
        assert!(t.accept((2, 2), 1, 5, 1000));
        assert!(t.accept((3, 3), 1, 5, 1000), "evicts (1, 1)");
        assert_eq!(t.len(), 2);
        assert!(!t.accept((1, 1), 1, 5, 1000), "replay of the evicted nonce");
        assert!(!t.accept((1, 1), 2, 5, 1000), "even with a new nc: its history is gone");
        assert!(t.accept((4, 4), 1, 5, 1000));
    }

    #[test]
    fn expired_entries_are_dropped_first() {
        let mut t = ReplayTable::new(2);
        assert!(t.accept((1, 1), 1, 1, 10));
        assert!(t.accept((100, 2), 1, 100, 10), "(1, 1) expired and was dropped");
        assert_eq!(t.len(), 1);
    }
}
