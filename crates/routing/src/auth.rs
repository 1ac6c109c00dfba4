//! The zone's authentication policy applied to one request: what the caller must do (challenge,
//! answer 400, or go on), whether the request counts as authenticated from here on, and what
//! happens to its asserted identity.
//!
//! Policies are Expressway's: `check-credentials` verifies digest credentials with the policy
//! crate's [`DigestAuth`] (RFC 3261 §22, RFC 7616, RFC 8760 — this crate has no digest code of
//! its own) and challenges with 407 otherwise; `treat-as-authenticated` vouches for every request
//! of the zone (the Webex zone, whose peers are proven by mutual TLS); `do-not-check` vouches for
//! nothing. P-Asserted-Identity and P-Preferred-Identity are kept only on authenticated requests:
//! anything else is outside the trust domain (RFC 3325 §5), so they are stripped.

use std::time::Instant;

use causeway_policy::digest::credentials::CredentialStore;
use causeway_policy::digest::{AuthOutcome, ChallengeKind, DigestAuth, DigestRequest, Reply};
use serde::Serialize;

use crate::classify::ZoneClassified;
use crate::table::{AuthPolicy, RoutingTable};

/// Proof that the zone's authentication policy ran. Only [`authenticate`] and, for dry runs,
/// [`assume`] build one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authentication {
    zone: String,
    policy: AuthPolicy,
    authenticated: bool,
    basis: AuthBasis,
}

impl Authentication {
    /// Whether the request counts as authenticated (search rules, call policy, PAI trust).
    pub fn authenticated(&self) -> bool {
        self.authenticated
    }

    /// The zone whose policy applied.
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The policy that applied.
    pub fn policy(&self) -> AuthPolicy {
        self.policy
    }

    /// Why the request is (not) authenticated.
    pub fn basis(&self) -> &AuthBasis {
        &self.basis
    }

    /// What to do with P-Asserted-Identity / P-Preferred-Identity before forwarding.
    pub fn identity_headers(&self) -> IdentityHeaders {
        if self.authenticated {
            IdentityHeaders::Keep
        } else {
            IdentityHeaders::Strip
        }
    }
}

/// Why a request is (not) authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "basis", rename_all = "kebab-case")]
pub enum AuthBasis {
    /// `treat-as-authenticated`.
    ZoneTrusted,
    /// Digest credentials of this user checked.
    Digest {
        /// The authenticated user.
        user: String,
    },
    /// `do-not-check`.
    NotChecked,
    /// A dry run said so (`causeway locate --authenticated`).
    Assumed,
}

impl std::fmt::Display for AuthBasis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ZoneTrusted => f.write_str("the zone treats its requests as authenticated"),
            Self::Digest { user } => write!(f, "digest credentials of {user} checked"),
            Self::NotChecked => f.write_str("the zone does not check credentials"),
            Self::Assumed => f.write_str("given for a dry run"),
        }
    }
}

/// RFC 3325 §5: identity headers leave the trust domain only on authenticated requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityHeaders {
    /// Keep P-Asserted-Identity and P-Preferred-Identity.
    Keep,
    /// Remove P-Asserted-Identity and P-Preferred-Identity before forwarding.
    Strip,
}

/// What the zone's policy requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRequirement {
    /// Decided by the policy alone (`treat-as-authenticated`, `do-not-check`).
    Decided(Authentication),
    /// `check-credentials`: verify the request's digest credentials.
    CheckCredentials(CredentialCheck),
}

/// A pending digest check for a `check-credentials` zone; only [`authenticate`] builds one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialCheck {
    zone: String,
}

/// What the caller does after a digest check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    /// Go on with the request.
    Proceed(Authentication),
    /// Answer with this challenge (407, RFC 3261 §22.3; 401 from [`CredentialCheck::verify_as`]
    /// for a REGISTER).
    Challenge(causeway_policy::digest::Challenge),
    /// Answer 400 with this reason phrase (malformed credentials).
    BadRequest(&'static str),
}

/// The digest verifier and the request's credentials.
pub struct DigestCheck<'a, S> {
    /// The shared verifier (nonces, replay table).
    pub auth: &'a mut DigestAuth,
    /// HA1 hashes.
    pub store: &'a S,
    /// Now, for nonce expiry.
    pub now: Instant,
    /// Request method.
    pub method: &'a str,
    /// The Request-URI as received.
    pub request_uri: &'a str,
    /// The Proxy-Authorization value for our realm, when the request carries one.
    pub authorization: Option<&'a str>,
}

/// Applies the authentication policy of the request's zone.
pub fn authenticate(classified: &ZoneClassified, table: &RoutingTable) -> AuthRequirement {
    let zone = table.zone(classified.zone()).unwrap_or(table.default_zone());
    let decided = |authenticated, basis| {
        AuthRequirement::Decided(Authentication { zone: zone.name.clone(), policy: zone.authentication, authenticated, basis })
    };
    match zone.authentication {
        AuthPolicy::TreatAsAuthenticated => decided(true, AuthBasis::ZoneTrusted),
        AuthPolicy::DoNotCheck => decided(false, AuthBasis::NotChecked),
        AuthPolicy::CheckCredentials => AuthRequirement::CheckCredentials(CredentialCheck { zone: zone.name.clone() }),
    }
}

impl CredentialCheck {
    /// Verifies the credentials: no credentials, wrong or unknown user, or a stale nonce get a
    /// challenge (the same for all of them, RFC 7616 anti-enumeration in the policy crate);
    /// malformed ones get 400.
    pub fn verify<S: CredentialStore>(self, digest: DigestCheck<'_, S>) -> AuthStep {
        self.verify_as(ChallengeKind::Proxy, digest).0
    }

    /// [`Self::verify`], challenging with `kind` — 401 and WWW-Authenticate for a REGISTER
    /// (RFC 3261 §22.2, the registrar's realm), 407 and Proxy-Authenticate otherwise (§22.3) — and
    /// returning the verifier's outcome as well (`None`: the request carried no credentials), for
    /// the brute-force counters and the audit trail. The outcome never changes the answer.
    pub fn verify_as<S: CredentialStore>(self, kind: ChallengeKind, digest: DigestCheck<'_, S>) -> (AuthStep, Option<AuthOutcome>) {
        let DigestCheck { auth, store, now, method, request_uri, authorization } = digest;
        let Some(authorization) = authorization else {
            return (AuthStep::Challenge(auth.challenge(now, kind, false)), None);
        };
        let outcome = auth.verify(now, &DigestRequest { method, request_uri, authorization }, store);
        if let AuthOutcome::Ok { user, .. } = &outcome {
            let basis = AuthBasis::Digest { user: user.clone() };
            let proof = Authentication { zone: self.zone, policy: AuthPolicy::CheckCredentials, authenticated: true, basis };
            return (AuthStep::Proceed(proof), Some(outcome));
        }
        let step = match auth.reply(now, kind, Some(&outcome)) {
            Reply::BadRequest(reason) => AuthStep::BadRequest(reason),
            Reply::Challenge(c) => AuthStep::Challenge(c),
            Reply::Proceed => AuthStep::Challenge(auth.challenge(now, kind, false)),
        };
        (step, Some(outcome))
    }
}

/// For dry runs (`causeway locate [--authenticated]`): the request is taken to be
/// authenticated or not, as given. Live requests go through [`authenticate`]; only call
/// control's own legs (trusted: this node originates them) are taken as authenticated here.
pub fn assume(classified: &ZoneClassified, table: &RoutingTable, authenticated: bool) -> Authentication {
    let zone = table.zone(classified.zone()).unwrap_or(table.default_zone());
    Authentication { zone: zone.name.clone(), policy: zone.authentication, authenticated, basis: AuthBasis::Assumed }
}
