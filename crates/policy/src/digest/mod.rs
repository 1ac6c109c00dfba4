//! Digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760), hardened:
//!
//! - MD5 and SHA-256, both offered in one response, preferred first (RFC 8760 §2.4);
//!   `qop=auth` only. Responses without `qop` (the RFC 2069 form) are refused as malformed:
//!   without `cnonce`/`nc` nothing stops a replay within the nonce lifetime, and RFC 3261
//!   §22.4 requires clients to support `qop` (svcrack's qop-without-cnonce is refused too).
//! - Stateless nonces that expire (→ `stale=true`) and a bounded per-nonce `nc` window against
//!   replays ([`nonce`]).
//! - Credentials are HA1 hashes ([`credentials`]); Debug output is redacted.
//! - Anti-enumeration: an unknown user costs the same work (a dummy HA1 derived from the
//!   secret) and is answered by [`DigestAuth::reply`] with exactly the challenge a wrong
//!   password gets; hashes are compared in constant time.
//!
//! One `DigestAuth` should serve every shard (behind a lock) so that a replayed `nc` is seen
//! wherever it arrives.

pub mod credentials;
pub mod nonce;
mod params;

use std::borrow::Cow;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use credentials::{Algorithm, CredentialStore, Ha1};
use hmac::Mac;
use nonce::{NonceCheck, NonceIssuer, NonceSecret, ReplayTable};

/// Digest settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestConfig {
    /// The realm in challenges (RFC 3261 §22.1: usually the domain).
    pub realm: String,
    /// Algorithms offered, most preferred first (default SHA-256, MD5).
    pub algorithms: Vec<Algorithm>,
    /// How long a nonce is good for (default 300 s); older ones get `stale=true`.
    pub nonce_lifetime: Duration,
    /// Nonces whose `nc` history is kept (default 65536).
    pub replay_capacity: usize,
}

impl DigestConfig {
    /// Defaults for `realm`.
    pub fn new(realm: &str) -> Self {
        Self {
            realm: realm.to_owned(),
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            nonce_lifetime: Duration::from_secs(300),
            replay_capacity: 65_536,
        }
    }
}

/// 401 with WWW-Authenticate (registrar, UAS) or 407 with Proxy-Authenticate (proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    /// RFC 3261 §22.2: user agent / registrar authentication.
    Www,
    /// RFC 3261 §22.3: proxy authentication.
    Proxy,
}

/// A challenge to send: status line plus one header per offered algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// 401 or 407.
    pub status: u16,
    /// `Unauthorized` or `Proxy Authentication Required`.
    pub reason: &'static str,
    /// `WWW-Authenticate` or `Proxy-Authenticate`.
    pub header: &'static str,
    /// Header values, most preferred algorithm first.
    pub values: Vec<String>,
}

/// What the verifier concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Credentials correct, nonce fresh, `nc` unused.
    Ok {
        /// The authenticated user.
        user: String,
        /// The algorithm used.
        algorithm: Algorithm,
    },
    /// Correct credentials on an expired, foreign or already used nonce: challenge again with
    /// `stale=true` (RFC 7616 §3.3), the client retries without asking the user.
    Stale,
    /// Known user, wrong response.
    Wrong {
        /// The username as sent.
        user: String,
    },
    /// No such user (or no HA1 for that algorithm). Answered exactly like [`Self::Wrong`].
    Unknown {
        /// The username as sent.
        user: String,
    },
    /// The header is not a usable digest response.
    Malformed(Malformed),
}

/// Why a digest response is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// Not the `Digest` scheme.
    #[error("not a Digest response")]
    NotDigest,
    /// Broken syntax.
    #[error("malformed digest parameters")]
    Syntax,
    /// A parameter given twice.
    #[error("duplicate digest parameter")]
    Duplicate,
    /// Over the size or parameter-count limit.
    #[error("digest response too long")]
    TooLong,
    /// A required parameter is missing.
    #[error("digest parameter `{0}` missing")]
    Missing(&'static str),
    /// No `qop` (RFC 2069 form) or a `qop` other than `auth`.
    #[error("qop=auth is required")]
    Qop,
    /// An algorithm not offered.
    #[error("digest algorithm not offered")]
    Algorithm,
    /// `nc` not 8 hex digits, or zero.
    #[error("bad nonce count")]
    NonceCount,
    /// `response` not hex of the algorithm's length.
    #[error("bad response value")]
    Response,
    /// `realm` is not ours.
    #[error("realm mismatch")]
    Realm,
    /// The digest `uri` is not the Request-URI (RFC 7616 §3.4.6).
    #[error("digest uri does not match the Request-URI")]
    Uri,
    /// RFC 7616 `userhash` / `username*`, not supported.
    #[error("userhash and username* are not supported")]
    Username,
}

/// What to do with a request after verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Authenticated: go on.
    Proceed,
    /// Send this challenge.
    Challenge(Challenge),
    /// Send 400 Bad Request with this reason phrase.
    BadRequest(&'static str),
}

/// The request being authenticated.
#[derive(Debug, Clone, Copy)]
pub struct DigestRequest<'a> {
    /// Request method (HA2 = method ":" digest-uri).
    pub method: &'a str,
    /// The Request-URI as received.
    pub request_uri: &'a str,
    /// The Authorization / Proxy-Authorization value.
    pub authorization: &'a str,
}

/// The digest authenticator: issues challenges, verifies responses.
#[derive(Debug)]
pub struct DigestAuth {
    config: DigestConfig,
    nonces: NonceIssuer,
    replays: ReplayTable,
}

impl DigestAuth {
    /// `epoch` is the instant nonce time stamps count from (take it at start-up); `secret` the
    /// injected random key.
    pub fn new(config: DigestConfig, secret: NonceSecret, epoch: Instant) -> Self {
        let nonces = NonceIssuer::new(secret, epoch, config.nonce_lifetime);
        let replays = ReplayTable::new(config.replay_capacity);
        Self { config, nonces, replays }
    }

    /// Nonces currently tracked for replay protection.
    pub fn tracked_nonces(&self) -> usize {
        self.replays.len()
    }

    /// A fresh challenge (RFC 3261 §22.1), one header value per algorithm, same nonce.
    pub fn challenge(&mut self, now: Instant, kind: ChallengeKind, stale: bool) -> Challenge {
        let nonce = self.nonces.issue(now, &self.config.realm);
        let realm = quote(&self.config.realm);
        let values = self
            .config
            .algorithms
            .iter()
            .map(|a| {
                let stale = if stale { ", stale=true" } else { "" };
                format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"{stale}", a.token())
            })
            .collect();
        match kind {
            ChallengeKind::Www => Challenge { status: 401, reason: "Unauthorized", header: "WWW-Authenticate", values },
            ChallengeKind::Proxy => {
                Challenge { status: 407, reason: "Proxy Authentication Required", header: "Proxy-Authenticate", values }
            }
        }
    }

    /// The response for an outcome. `Wrong` and `Unknown` — and a request with no credentials
    /// at all — get the same challenge, byte for byte apart from the nonce.
    pub fn reply(&mut self, now: Instant, kind: ChallengeKind, outcome: Option<&AuthOutcome>) -> Reply {
        match outcome {
            Some(AuthOutcome::Ok { .. }) => Reply::Proceed,
            Some(AuthOutcome::Stale) => Reply::Challenge(self.challenge(now, kind, true)),
            Some(AuthOutcome::Wrong { .. } | AuthOutcome::Unknown { .. }) | None => {
                Reply::Challenge(self.challenge(now, kind, false))
            }
            Some(AuthOutcome::Malformed(_)) => Reply::BadRequest("Malformed Credentials"),
        }
    }

    /// Verifies a digest response (RFC 7616 §3.4.1 with `qop=auth`).
    pub fn verify(&mut self, now: Instant, request: &DigestRequest<'_>, store: &impl CredentialStore) -> AuthOutcome {
        match self.check(now, request, store) {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }

    fn check(
        &mut self,
        now: Instant,
        request: &DigestRequest<'_>,
        store: &impl CredentialStore,
    ) -> Result<AuthOutcome, AuthOutcome> {
        let bad = AuthOutcome::Malformed;
        let p = params::parse(request.authorization).map_err(bad)?;
        if p.get("userhash").is_some_and(|v| v.eq_ignore_ascii_case("true")) || p.get("username*").is_some() {
            return Err(bad(Malformed::Username));
        }
        let user = p.require("username").map_err(bad)?;
        let realm = p.require("realm").map_err(bad)?;
        let nonce = p.require("nonce").map_err(bad)?;
        let uri = p.require("uri").map_err(bad)?;
        let response = p.require("response").map_err(bad)?;
        let algorithm = match p.get("algorithm") {
            None => Algorithm::Md5,
            Some(token) => Algorithm::from_token(&token).ok_or(bad(Malformed::Algorithm))?,
        };
        if !self.config.algorithms.contains(&algorithm) {
            return Err(bad(Malformed::Algorithm));
        }
        if !p.get("qop").is_some_and(|q| q.eq_ignore_ascii_case("auth")) {
            return Err(bad(Malformed::Qop));
        }
        let nc_text = p.require("nc").map_err(bad)?;
        let nc = (nc_text.len() == 8)
            .then(|| u32::from_str_radix(&nc_text, 16).ok())
            .flatten()
            .filter(|n| *n > 0)
            .ok_or(bad(Malformed::NonceCount))?;
        let cnonce = p.require("cnonce").map_err(bad)?;
        if cnonce.is_empty() {
            return Err(bad(Malformed::Missing("cnonce")));
        }
        let given = hex::decode(&*response).ok().filter(|r| r.len() == algorithm.len()).ok_or(bad(Malformed::Response))?;
        if realm != self.config.realm {
            return Err(bad(Malformed::Realm));
        }
        if !uri.eq_ignore_ascii_case(request.request_uri) {
            return Err(bad(Malformed::Uri));
        }

        // The same work whether or not the user exists: derive the dummy HA1 first, always.
        let dummy = self.dummy_ha1(algorithm, &user);
        let stored = store.ha1(&user, &realm, algorithm);
        let known = stored.is_some();
        let ha1 = stored.unwrap_or(dummy);
        let ha2 = algorithm.hex(&[request.method.as_bytes(), b":", uri.as_bytes()]);
        let expected = algorithm.hex(&[
            ha1.as_hex().as_bytes(),
            b":",
            nonce.as_bytes(),
            b":",
            nc_text.as_bytes(),
            b":",
            cnonce.as_bytes(),
            b":auth:",
            ha2.as_bytes(),
        ]);
        let expected = hex::decode(expected).unwrap_or_default();
        let correct = bool::from(expected.ct_eq(&given));

        if !known {
            return Ok(AuthOutcome::Unknown { user: user.into_owned() });
        }
        if !correct {
            return Ok(AuthOutcome::Wrong { user: user.into_owned() });
        }
        let key = match self.nonces.check(now, &realm, &nonce) {
            NonceCheck::Fresh(key) => key,
            NonceCheck::Expired | NonceCheck::Foreign => return Ok(AuthOutcome::Stale),
        };
        let now_ms = self.nonces.millis(now);
        if !self.replays.accept(key, nc, now_ms, self.nonces.lifetime_ms()) {
            return Ok(AuthOutcome::Stale);
        }
        Ok(AuthOutcome::Ok { user: user.into_owned(), algorithm })
    }

    /// HA1 stand-in for unknown users: keyed by the secret, so it matches no password anyone
    /// could know, and costs what a real HA1 lookup-and-hash costs.
    fn dummy_ha1(&self, algorithm: Algorithm, user: &str) -> Ha1 {
        let mut mac = self.nonces.secret().mac();
        mac.update(b"causeway-dummy-ha1\0");
        mac.update(user.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let hex = hex::encode(bytes.get(..algorithm.len()).unwrap_or_default());
        Ha1::from_computed(algorithm, hex)
    }
}

/// The realm a credentials value (Authorization / Proxy-Authorization) names, when it parses as a
/// Digest response. RFC 3261 §22.3: a proxy consumes only the values for its own realm; the others
/// belong to proxies further on and are left alone.
pub fn credentials_realm(value: &str) -> Option<String> {
    params::parse(value).ok()?.get("realm").map(Cow::into_owned)
}

/// Escapes a quoted-string body (RFC 3261 §25.1).
fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
