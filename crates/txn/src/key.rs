//! Transaction keys (RFC 3261 §17.1.3, §17.2.3).
//!
//! A key is the matching fields written into one byte string, each field length-prefixed so
//! no two field lists encode alike, in a reused buffer, then reduced to a 128-bit keyed
//! [`KeyDigest`]: the table keeps 16 bytes per transaction, and matching or creating one
//! allocates nothing.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;
use siphasher::sip128::SipHasher13;

/// The top Via's sent-by (RFC 3261 §20.42).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SentBy<'a> {
    /// Host name or address, compared case-insensitively.
    pub(crate) host: &'a str,
    /// The port if the Via gives one.
    pub(crate) port: Option<u16>,
}

/// The fields of the RFC 2543 fallback match (§17.2.3, last paragraphs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rfc2543<'a> {
    pub(crate) request_uri: &'a str,
    pub(crate) from_tag: &'a str,
    pub(crate) call_id: &'a str,
    pub(crate) cseq: u32,
    /// The whole top Via value.
    pub(crate) top_via: &'a str,
}

/// A reusable buffer that renders keys.
#[derive(Debug, Default)]
pub(crate) struct KeyBuf(Vec<u8>);

impl KeyBuf {
    /// §17.1.3: a response matches a client transaction by the top Via branch and the CSeq
    /// method (CANCEL shares the INVITE's branch but is its own transaction).
    pub(crate) fn client(&mut self, branch: &str, method: &str) -> &[u8] {
        self.start(b'C');
        self.field(branch.as_bytes());
        self.field(method.as_bytes());
        &self.0
    }

    /// §17.2.3: with a magic-cookie branch, a request matches by branch, sent-by and
    /// method, where an ACK counts as the INVITE it acknowledges.
    pub(crate) fn server(&mut self, branch: &str, sent_by: SentBy<'_>, method: &str) -> &[u8] {
        self.start(b'S');
        self.field(branch.as_bytes());
        self.len(sent_by.host.len());
        self.0.extend(sent_by.host.bytes().map(|b| b.to_ascii_lowercase()));
        // Port 0 cannot be written in a Via, so it stands for "absent".
        self.0.extend_from_slice(&sent_by.port.unwrap_or(0).to_le_bytes());
        self.field(server_method(method).as_bytes());
        &self.0
    }

    /// §17.2.3 fallback for branches without the magic cookie: Request-URI, From tag,
    /// Call-ID, CSeq number and method (ACK as INVITE), and top Via. The To tag is left out:
    /// an ACK carries the tag of our response while the INVITE carried none, and the other
    /// fields already tell apart every request a conformant RFC 2543 client sends.
    pub(crate) fn rfc2543(&mut self, fields: Rfc2543<'_>, method: &str) -> &[u8] {
        self.start(b'L');
        self.field(fields.request_uri.as_bytes());
        self.field(fields.from_tag.as_bytes());
        self.field(fields.call_id.as_bytes());
        self.0.extend_from_slice(&fields.cseq.to_le_bytes());
        self.field(server_method(method).as_bytes());
        self.field(fields.top_via.as_bytes());
        &self.0
    }

    fn start(&mut self, kind: u8) {
        self.0.clear();
        self.0.push(kind);
    }

    fn len(&mut self, len: usize) {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_le_bytes());
    }

    fn field(&mut self, value: &[u8]) {
        self.len(value.len());
        self.0.extend_from_slice(value);
    }
}

/// The method a server transaction is keyed by: an ACK belongs to its INVITE (§17.2.3).
fn server_method(method: &str) -> &str {
    if method == "ACK" {
        "INVITE"
    } else {
        method
    }
}

/// A transaction key reduced to 128 bits by keyed SipHash-1-3-128 (the key secret and random
/// per table). Two different keys share a digest with probability 2^-128, and without the
/// table's secret nobody can choose messages that do, so matching by digest is matching by the
/// fields of §17.1.3 / §17.2.3. It is what lets a transaction that lingers up to 64*T1 after its
/// final response (RFC 6026) hold 16 bytes of key instead of an allocation of the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct KeyDigest(u128);

/// The secret hash key of one table. One 128-bit SipHash pass per key (the `siphasher` crate):
/// std only has 64-bit SipHash, and two differently keyed passes cost twice as much.
#[derive(Debug)]
pub(crate) struct Digester(SipHasher13);

impl Default for Digester {
    /// A random key, drawn from std's per-process random hash keys (no RNG needed here).
    fn default() -> Self {
        let secret = || RandomState::new().hash_one(0_u8);
        Self(SipHasher13::new_with_keys(secret(), secret()))
    }
}

impl Digester {
    pub(crate) fn digest(&self, key: &[u8]) -> KeyDigest {
        KeyDigest(self.0.hash(key).as_u128())
    }
}

impl KeyDigest {
    /// The digest folded to the word the index hashes by: it is already keyed and uniform, so
    /// hashing it again would only cost time.
    pub(crate) fn fold(self) -> u64 {
        // Truncation is the point: the low and high halves are folded into one word.
        (self.0 as u64) ^ ((self.0 >> 64) as u64)
    }
}

/// The live transactions by key digest, as slab indices: 4 bytes a slot plus hashbrown's control
/// byte, where a digest-to-id map takes 32 (a 16-byte-aligned digest and the id). Every
/// transaction of the last 64*T1 is in here (RFC 6026), so at thousands of calls a second the
/// slot size is megabytes. The digest itself lives in the slab entry the index points to.
#[derive(Debug, Default)]
pub(crate) struct KeyIndex(HashTable<u32>);

impl KeyIndex {
    /// The index stored under `digest`; `digest_of` reads the digest of a stored index.
    pub(crate) fn find(&self, digest: KeyDigest, digest_of: impl Fn(u32) -> Option<KeyDigest>) -> Option<u32> {
        self.0.find(digest.fold(), |&i| digest_of(i) == Some(digest)).copied()
    }

    /// Store `index` under `digest`, which no stored index has; `digest_of` rehashes the
    /// others when the table grows.
    pub(crate) fn insert(&mut self, digest: KeyDigest, index: u32, digest_of: impl Fn(u32) -> Option<KeyDigest>) {
        self.0.insert_unique(digest.fold(), index, |&i| digest_of(i).map_or(0, KeyDigest::fold));
    }

    /// Forget `index`, stored under `digest`.
    pub(crate) fn remove(&mut self, digest: KeyDigest, index: u32) {
        if let Ok(found) = self.0.find_entry(digest.fold(), |&i| i == index) {
            found.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Digester, KeyBuf, Rfc2543, SentBy};

    #[test]
    fn rfc3261_17_2_3_ack_keys_like_its_invite_and_cancel_does_not() {
        let mut buf = KeyBuf::default();
        let by = SentBy { host: "Pc33.Atlanta.com", port: Some(5060) };
        let invite = buf.server("z9hG4bK776", by, "INVITE").to_owned();
        let ack = buf.server("z9hG4bK776", SentBy { host: "pc33.atlanta.com", ..by }, "ACK").to_owned();
        let cancel = buf.server("z9hG4bK776", by, "CANCEL").to_owned();
        assert_eq!(invite, ack);
        assert_ne!(invite, cancel);
        let no_port = buf.server("z9hG4bK776", SentBy { port: None, ..by }, "INVITE").to_owned();
        assert_ne!(invite, no_port);
    }

    #[test]
    fn rfc3261_17_1_3_client_key_is_branch_and_cseq_method() {
        let mut buf = KeyBuf::default();
        let invite = buf.client("z9hG4bK1", "INVITE").to_owned();
        assert_ne!(invite, buf.client("z9hG4bK1", "CANCEL"));
        assert_ne!(invite, buf.client("z9hG4bK2", "INVITE"));
        // Length prefixes keep field boundaries: ("ab","c") and ("a","bc") differ.
        let ab_c = buf.client("ab", "c").to_owned();
        assert_ne!(ab_c, buf.client("a", "bc"));
    }

    #[test]
    fn rfc2543_key_covers_uri_tags_callid_cseq_and_via() {
        let mut buf = KeyBuf::default();
        let f = Rfc2543 {
            request_uri: "sip:bob@biloxi.com",
            from_tag: "1928301774",
            call_id: "a84b4c76e66710",
            cseq: 314159,
            top_via: "SIP/2.0/UDP pc33.atlanta.com",
        };
        let invite = buf.rfc2543(f, "INVITE").to_owned();
        assert_eq!(invite, buf.rfc2543(f, "ACK"));
        assert_ne!(invite, buf.rfc2543(Rfc2543 { cseq: 314160, ..f }, "INVITE"));
        assert_ne!(invite, buf.rfc2543(f, "BYE"));
    }

    #[test]
    fn digests_are_equal_exactly_when_keys_are() {
        let digester = Digester::default();
        let mut buf = KeyBuf::default();
        let invite = digester.digest(buf.client("z9hG4bK1", "INVITE"));
        assert_eq!(invite, digester.digest(buf.client("z9hG4bK1", "INVITE")));
        assert_ne!(invite, digester.digest(buf.client("z9hG4bK1", "CANCEL")));
        assert_ne!(invite, digester.digest(buf.client("z9hG4bK2", "INVITE")));
        // Another table has other secret keys.
        assert_ne!(invite, Digester::default().digest(buf.client("z9hG4bK1", "INVITE")));
    }
}
