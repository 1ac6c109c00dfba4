//! Record-Route seals: a keyed MAC the proxy writes into its own Record-Route URI so that it can
//! later tell a request that really follows its Record-Route (RFC 3261 §16.6 step 4, §16.12)
//! from one that merely names it in a Route header, which anyone can write.
//!
//! The seal is HMAC-SHA256 (RFC 2104) under a node key, over the dialog's Call-ID and the flow
//! token the same URI carries (so a seal cannot be moved to another connection), truncated to
//! 64 bits and written as 16 lower-case hex digits. A forger has to guess 64 bits per Call-ID;
//! the key never leaves the process. Checking compares in constant time and never allocates.

use std::fmt;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Length of a seal's text: 64 bits as hex.
pub const SEAL_HEX_LEN: usize = 16;

/// Bytes in a Record-Route key.
pub const ROUTE_KEY_LEN: usize = 32;

/// The node's Record-Route key: 32 secret bytes, drawn at start-up or read from
/// `[security] record_route_key_file` so that the nodes of a cluster, and a node after a restart,
/// accept each other's seals (Debug never shows them).
#[derive(Clone)]
pub struct RouteKey {
    mac: Hmac<Sha256>,
    bytes: [u8; ROUTE_KEY_LEN],
}

/// Why the text of a key file is not a key. Never holds any of the file's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteKeyError {
    /// Not hexadecimal digits.
    #[error("the key must be {} hexadecimal digits, found a character that is not one", ROUTE_KEY_LEN * 2)]
    NotHex,
    /// Too few or too many digits.
    #[error("the key must be {} hexadecimal digits ({ROUTE_KEY_LEN} bytes), found {found}", ROUTE_KEY_LEN * 2)]
    Length {
        /// Digits found.
        found: usize,
    },
}

impl RouteKey {
    /// A key from 32 secret bytes.
    pub fn new(bytes: [u8; ROUTE_KEY_LEN]) -> Self {
        // RFC 2104 §2: a key shorter than the block is zero-padded to it.
        let mut block = [0u8; 64];
        for (dst, src) in block.iter_mut().zip(bytes) {
            *dst = src;
        }
        Self { mac: <Hmac<Sha256> as KeyInit>::new(&block.into()), bytes }
    }

    /// A key from the text of a key file: 64 hexadecimal digits (`openssl rand -hex 32`),
    /// surrounding whitespace ignored.
    pub fn from_hex(text: &[u8]) -> Result<Self, RouteKeyError> {
        let digits = text.trim_ascii();
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(RouteKeyError::NotHex);
        }
        let mut bytes = [0u8; ROUTE_KEY_LEN];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| RouteKeyError::Length { found: digits.len() })?;
        Ok(Self::new(bytes))
    }

    /// The seal of a Record-Route URI for the dialog `call_id`, carrying flow token `flow`
    /// (RFC 5626 §5.3 style) or none.
    pub fn seal(&self, call_id: &[u8], flow: Option<u64>) -> [u8; SEAL_HEX_LEN] {
        let mut mac = self.mac.clone();
        mac.update(&(call_id.len() as u64).to_be_bytes());
        mac.update(call_id);
        match flow {
            Some(flow) => {
                mac.update(&[1]);
                mac.update(&flow.to_be_bytes());
            }
            None => mac.update(&[0]),
        }
        let tag = mac.finalize().into_bytes();
        let mut out = [0u8; SEAL_HEX_LEN];
        for (pair, byte) in out.chunks_exact_mut(2).zip(tag.iter()) {
            if let [hi, lo] = pair {
                *hi = hex_digit(byte >> 4);
                *lo = hex_digit(byte & 0xf);
            }
        }
        out
    }

    /// Whether `presented` is the seal of `call_id` and `flow` (case-insensitive hex, constant
    /// time over the seal's length).
    pub fn verify(&self, call_id: &[u8], flow: Option<u64>, presented: &str) -> bool {
        let presented = presented.as_bytes();
        if presented.len() != SEAL_HEX_LEN {
            return false;
        }
        let mut lowered = [0u8; SEAL_HEX_LEN];
        for (dst, src) in lowered.iter_mut().zip(presented) {
            *dst = src.to_ascii_lowercase();
        }
        bool::from(self.seal(call_id, flow).ct_eq(&lowered))
    }
}

fn hex_digit(n: u8) -> u8 {
    match n {
        0..=9 => b'0' + n,
        _ => b'a' + (n - 10),
    }
}

/// Two keys are equal when their bytes are (compared in constant time): a reloaded configuration
/// with the same key file keeps its seals valid.
impl PartialEq for RouteKey {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.bytes.ct_eq(&other.bytes))
    }
}

impl Eq for RouteKey {}

impl fmt::Debug for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RouteKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_verify_only_for_their_call_and_flow() {
        let key = RouteKey::new([9; 32]);
        let seal = key.seal(b"a84b4c76e66710@pc33.atlanta.com", None);
        let text = std::str::from_utf8(&seal).unwrap_or_default();
        assert_eq!(text.len(), SEAL_HEX_LEN);
        assert!(text.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert!(key.verify(b"a84b4c76e66710@pc33.atlanta.com", None, text));
        assert!(key.verify(b"a84b4c76e66710@pc33.atlanta.com", None, &text.to_ascii_uppercase()));
        assert!(!key.verify(b"a84b4c76e66710@pc33.atlanta.co", None, text), "another Call-ID");
        assert!(!key.verify(b"a84b4c76e66710@pc33.atlanta.com", Some(0), text), "moved to a flow");
        assert!(!key.verify(b"a84b4c76e66710@pc33.atlanta.com", None, &text[1..]), "too short");
        assert!(!RouteKey::new([8; 32]).verify(b"a84b4c76e66710@pc33.atlanta.com", None, text), "another key");
        let flowed = key.seal(b"c", Some(7));
        assert!(key.verify(b"c", Some(7), std::str::from_utf8(&flowed).unwrap_or_default()));
        assert!(!key.verify(b"c", Some(8), std::str::from_utf8(&flowed).unwrap_or_default()));
    }

    #[test]
    fn a_key_file_holds_64_hex_digits() {
        let text = format!("{}\n", "0a".repeat(32));
        let key = RouteKey::from_hex(text.as_bytes());
        assert_eq!(key, Ok(RouteKey::new([10; 32])));
        let seal = RouteKey::new([10; 32]).seal(b"c", None);
        assert!(RouteKey::from_hex(text.as_bytes()).is_ok_and(|k| k.verify(b"c", None, std::str::from_utf8(&seal).unwrap_or_default())));
        assert_eq!(RouteKey::from_hex("0a".repeat(31).as_bytes()), Err(RouteKeyError::Length { found: 62 }));
        assert_eq!(RouteKey::from_hex("0a".repeat(33).as_bytes()), Err(RouteKeyError::Length { found: 66 }));
        assert_eq!(RouteKey::from_hex(b"secret passphrase"), Err(RouteKeyError::NotHex));
        assert_eq!(RouteKey::from_hex(b""), Err(RouteKeyError::Length { found: 0 }));
        let error = RouteKey::from_hex(format!("{}zz", "ab".repeat(31)).as_bytes()).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| !e.contains("abab")), "errors never show the file's content");
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert_eq!(format!("{:?}", RouteKey::new([1; 32])), "RouteKey(<redacted>)");
    }
}
