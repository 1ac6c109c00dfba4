//! Stored credentials: HA1 hashes only (RFC 7616 §3.4.2: H(username ":" realm ":" password)),
//! never passwords. Debug output is redacted so a hash never reaches a log.

use std::collections::HashMap;
use std::fmt;

use md5::Md5;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

/// Digest algorithms Causeway speaks (RFC 7616 §3.3; RFC 8760 §2.1 for SIP's SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5`, still what most SIP phones use.
    Md5,
    /// `SHA-256` (RFC 8760).
    Sha256,
}

impl Algorithm {
    /// The token in `algorithm=`.
    pub fn token(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
        }
    }

    /// Parses an `algorithm=` token (case-insensitive). The `-sess` variants are not offered.
    pub fn from_token(token: &str) -> Option<Self> {
        if token.eq_ignore_ascii_case("MD5") {
            Some(Self::Md5)
        } else if token.eq_ignore_ascii_case("SHA-256") {
            Some(Self::Sha256)
        } else {
            None
        }
    }

    /// Hash length in bytes.
    pub(crate) fn len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha256 => 32,
        }
    }

    /// H(data) as lower-case hex (RFC 7616 §3.4: hashes are written as hex in the next step).
    pub(crate) fn hex(self, parts: &[&[u8]]) -> String {
        match self {
            Self::Md5 => hex::encode(parts.iter().fold(Md5::new(), |h, p| h.chain_update(p)).finalize()),
            Self::Sha256 => hex::encode(parts.iter().fold(Sha256::new(), |h, p| h.chain_update(p)).finalize()),
        }
    }
}

/// An HA1 hash for one algorithm.
#[derive(Clone, PartialEq, Eq)]
pub struct Ha1 {
    algorithm: Algorithm,
    hex: String,
}

impl Ha1 {
    /// Hashes a password (for `causeway` tooling that writes credentials; the proxy never holds
    /// a password).
    pub fn from_password(algorithm: Algorithm, user: &str, realm: &str, password: &str) -> Self {
        let hex = algorithm.hex(&[user.as_bytes(), b":", realm.as_bytes(), b":", password.as_bytes()]);
        Self { algorithm, hex }
    }

    /// An HA1 as stored in configuration: hex of the algorithm's length.
    pub fn from_hex(algorithm: Algorithm, hex_text: &str) -> Result<Self, Ha1Error> {
        let ok = hex_text.len() == algorithm.len() * 2 && hex_text.bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(Ha1Error { algorithm: algorithm.token(), expected: algorithm.len() * 2 });
        }
        Ok(Self { algorithm, hex: hex_text.to_ascii_lowercase() })
    }

    /// Built from hex the crate computed itself.
    pub(crate) fn from_computed(algorithm: Algorithm, hex: String) -> Self {
        Self { algorithm, hex }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub(crate) fn as_hex(&self) -> &str {
        &self.hex
    }

    /// Constant-time comparison.
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.algorithm == other.algorithm && bool::from(self.hex.as_bytes().ct_eq(other.hex.as_bytes()))
    }
}

impl fmt::Debug for Ha1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ha1({}, <redacted>)", self.algorithm.token())
    }
}

/// An HA1 in configuration of the wrong length or not hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{algorithm} HA1 must be {expected} hex digits")]
pub struct Ha1Error {
    /// Algorithm token.
    pub algorithm: &'static str,
    /// Expected number of hex digits.
    pub expected: usize,
}

/// Where the verifier finds a user's HA1. The registrar's directory implements this too.
pub trait CredentialStore {
    /// The HA1 of `user` in `realm` for `algorithm`, if the user exists and has one.
    fn ha1(&self, user: &str, realm: &str, algorithm: Algorithm) -> Option<Ha1>;
}

/// An in-memory credential table for one realm.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CredentialTable {
    realm: String,
    users: HashMap<String, Vec<Ha1>>,
}

impl CredentialTable {
    /// An empty table for `realm`.
    pub fn new(realm: &str) -> Self {
        Self { realm: realm.to_owned(), users: HashMap::new() }
    }

    /// Adds (or replaces) the HA1 of `user` for its algorithm.
    pub fn insert(&mut self, user: &str, ha1: Ha1) {
        let entry = self.users.entry(user.to_owned()).or_default();
        entry.retain(|h| h.algorithm != ha1.algorithm);
        entry.push(ha1);
    }

    /// The realm the HA1s were computed for.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Whether `user` has any HA1 here.
    pub fn contains(&self, user: &str) -> bool {
        self.users.contains_key(user)
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

impl CredentialStore for CredentialTable {
    fn ha1(&self, user: &str, realm: &str, algorithm: Algorithm) -> Option<Ha1> {
        if realm != self.realm {
            return None;
        }
        self.users.get(user)?.iter().find(|h| h.algorithm == algorithm).cloned()
    }
}

impl fmt::Debug for CredentialTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialTable").field("realm", &self.realm).field("users", &self.users.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2617_3_5_ha1_vector() {
        // RFC 2617 §3.5: Mufasa / testrealm@host.com / Circle Of Life.
        let ha1 = Ha1::from_password(Algorithm::Md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
        assert_eq!(ha1.as_hex(), "939e7578ed9e3c518a452acee763bce9");
    }

    #[test]
    fn debug_never_shows_hashes() {
        let ha1 = Ha1::from_password(Algorithm::Md5, "bob", "r", "secret");
        let mut table = CredentialTable::new("r");
        table.insert("bob", ha1.clone());
        let shown = format!("{ha1:?} {table:?}");
        assert!(!shown.contains(ha1.as_hex()), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn stored_hex_is_checked() {
        assert!(Ha1::from_hex(Algorithm::Md5, "939E7578ED9E3C518A452ACEE763BCE9").is_ok());
        assert!(Ha1::from_hex(Algorithm::Sha256, "939e7578ed9e3c518a452acee763bce9").is_err());
        assert!(Ha1::from_hex(Algorithm::Md5, "zz9e7578ed9e3c518a452acee763bce9").is_err());
    }
}
