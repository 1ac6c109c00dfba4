//! Digest authentication in simulated time: RFC test vectors, the full challenge/response round
//! trip, stale and replayed nonces, malformed responses, and anti-enumeration (unknown user and
//! wrong password get the same challenge).

use std::time::{Duration, Instant};

use causeway_policy::digest::credentials::{Algorithm, CredentialTable, Ha1};
use causeway_policy::digest::nonce::NonceSecret;
use causeway_policy::digest::{
    AuthOutcome, Challenge, ChallengeKind, DigestAuth, DigestConfig, DigestRequest, Malformed, Reply,
};
use md5::Md5;
use sha2::{Digest, Sha256};

const REALM: &str = "ent-pa.com";
const URI: &str = "sip:ent-pa.com";

fn h(alg: Algorithm, s: &str) -> String {
    match alg {
        Algorithm::Md5 => hex::encode(Md5::digest(s.as_bytes())),
        Algorithm::Sha256 => hex::encode(Sha256::digest(s.as_bytes())),
    }
}

/// What a UAC computes (RFC 7616 §3.4.1, qop=auth), independently of the crate.
#[allow(clippy::too_many_arguments)]
fn client(alg: Algorithm, user: &str, realm: &str, pass: &str, method: &str, uri: &str, nonce: &str, nc: u32, cnonce: &str) -> String {
    let ha1 = h(alg, &format!("{user}:{realm}:{pass}"));
    let ha2 = h(alg, &format!("{method}:{uri}"));
    let response = h(alg, &format!("{ha1}:{nonce}:{nc:08x}:{cnonce}:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", \
         algorithm={}, cnonce=\"{cnonce}\", qop=auth, nc={nc:08x}",
        alg.token()
    )
}

fn store() -> CredentialTable {
    let mut t = CredentialTable::new(REALM);
    for alg in [Algorithm::Md5, Algorithm::Sha256] {
        t.insert("bob", Ha1::from_password(alg, "bob", REALM, "1234"));
    }
    t
}

fn auth(t0: Instant) -> DigestAuth {
    DigestAuth::new(DigestConfig::new(REALM), NonceSecret::new([42; 32]), t0)
}

fn nonce_of(challenge: &Challenge) -> String {
    let value = challenge.values.first().cloned().unwrap_or_default();
    let start = value.find("nonce=\"").map(|i| i + 7).unwrap_or_default();
    value.get(start..).and_then(|rest| rest.split('"').next()).unwrap_or_default().to_owned()
}

fn verify(a: &mut DigestAuth, now: Instant, authorization: &str) -> AuthOutcome {
    a.verify(now, &DigestRequest { method: "REGISTER", request_uri: URI, authorization }, &store())
}

#[test]
fn rfc_vectors_verify_on_a_foreign_nonce_as_stale() {
    // RFC 7616 §3.9.1 (SHA-256 and MD5) and RFC 2617 §3.5. The nonces are not ours, so a
    // correct response is answered with stale=true, and a wrong one as wrong.
    let vectors = [
        (Algorithm::Sha256, "http-auth@example.org", "Circle of Life", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        (Algorithm::Md5, "http-auth@example.org", "Circle of Life", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "8ca523f5e9506fed4657c9700eebdbec"),
        (Algorithm::Md5, "testrealm@host.com", "Circle Of Life", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "0a4f113b",
            "6629fae49393a05397450978507c4ef1"),
    ];
    for (alg, realm, pass, nonce, cnonce, response) in vectors {
        let mut table = CredentialTable::new(realm);
        table.insert("Mufasa", Ha1::from_password(alg, "Mufasa", realm, pass));
        let mut a = DigestAuth::new(DigestConfig::new(realm), NonceSecret::new([1; 32]), Instant::now());
        let header = format!(
            "Digest username=\"Mufasa\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"/dir/index.html\", \
             algorithm={}, qop=auth, nc=00000001, cnonce=\"{cnonce}\", response=\"{response}\", opaque=\"x\"",
            alg.token()
        );
        let req = DigestRequest { method: "GET", request_uri: "/dir/index.html", authorization: &header };
        assert_eq!(a.verify(Instant::now(), &req, &table), AuthOutcome::Stale, "{alg:?} {realm}");
        let tampered = header.replace(response, &"0".repeat(response.len()));
        let req = DigestRequest { authorization: &tampered, ..req };
        assert_eq!(a.verify(Instant::now(), &req, &table), AuthOutcome::Wrong { user: "Mufasa".into() });
    }
}

#[test]
fn challenge_offers_sha256_then_md5_with_one_nonce() {
    let t0 = Instant::now();
    let mut a = auth(t0);
    let c = a.challenge(t0, ChallengeKind::Www, false);
    assert_eq!((c.status, c.reason, c.header), (401, "Unauthorized", "WWW-Authenticate"));
    let nonce = nonce_of(&c);
    assert_eq!(
        c.values,
        vec![
            format!("Digest realm=\"ent-pa.com\", nonce=\"{nonce}\", algorithm=SHA-256, qop=\"auth\""),
            format!("Digest realm=\"ent-pa.com\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\""),
        ]
    );
    let p = a.challenge(t0, ChallengeKind::Proxy, true);
    assert_eq!((p.status, p.header), (407, "Proxy-Authenticate"));
    assert!(p.values.iter().all(|v| v.ends_with(", stale=true")));
    assert_ne!(nonce_of(&p), nonce, "every challenge has its own nonce");
}

#[test]
fn round_trip_then_replays_are_stale() {
    let t0 = Instant::now();
    let mut a = auth(t0);
    for alg in [Algorithm::Sha256, Algorithm::Md5] {
        let nonce = nonce_of(&a.challenge(t0, ChallengeKind::Www, false));
        let first = client(alg, "bob", REALM, "1234", "REGISTER", URI, &nonce, 1, "c1");
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(verify(&mut a, t1, &first), AuthOutcome::Ok { user: "bob".into(), algorithm: alg });
        assert_eq!(verify(&mut a, t1, &first), AuthOutcome::Stale, "same nc again is a replay");
        let third = client(alg, "bob", REALM, "1234", "REGISTER", URI, &nonce, 3, "c1");
        assert!(matches!(verify(&mut a, t1, &third), AuthOutcome::Ok { .. }));
        let second = client(alg, "bob", REALM, "1234", "REGISTER", URI, &nonce, 2, "c1");
        assert!(matches!(verify(&mut a, t1, &second), AuthOutcome::Ok { .. }), "reordered but unused");
        assert_eq!(verify(&mut a, t1, &second), AuthOutcome::Stale);
    }
    assert_eq!(a.tracked_nonces(), 2);
}

#[test]
fn expired_nonce_gets_stale_true() {
    let t0 = Instant::now();
    let mut a = auth(t0);
    let nonce = nonce_of(&a.challenge(t0, ChallengeKind::Www, false));
    let late = t0 + Duration::from_secs(301);
    let header = client(Algorithm::Md5, "bob", REALM, "1234", "REGISTER", URI, &nonce, 1, "c");
    let outcome = verify(&mut a, late, &header);
    assert_eq!(outcome, AuthOutcome::Stale);
    match a.reply(late, ChallengeKind::Www, Some(&outcome)) {
        Reply::Challenge(c) => assert!(c.values.iter().all(|v| v.contains("stale=true"))),
        other => panic!("{other:?}"),
    }
    // Within the lifetime a wrong password is wrong, never stale.
    let wrong = client(Algorithm::Md5, "bob", REALM, "0000", "REGISTER", URI, &nonce, 1, "c");
    assert_eq!(verify(&mut a, late, &wrong), AuthOutcome::Wrong { user: "bob".into() });
}

#[test]
fn unknown_user_and_wrong_password_get_the_same_challenge() {
    let t0 = Instant::now();
    let mut a = auth(t0);
    let nonce = nonce_of(&a.challenge(t0, ChallengeKind::Www, false));
    let wrong = verify(&mut a, t0, &client(Algorithm::Md5, "bob", REALM, "guess", "REGISTER", URI, &nonce, 1, "c"));
    let unknown = verify(&mut a, t0, &client(Algorithm::Md5, "nobody", REALM, "guess", "REGISTER", URI, &nonce, 1, "c"));
    assert_eq!(wrong, AuthOutcome::Wrong { user: "bob".into() });
    assert_eq!(unknown, AuthOutcome::Unknown { user: "nobody".into() });
    let shown = |reply: Reply| match reply {
        Reply::Challenge(c) => {
            let nonce = nonce_of(&c);
            (c.status, c.header, c.values.iter().map(|v| v.replace(&nonce, "N")).collect::<Vec<_>>())
        }
        other => panic!("{other:?}"),
    };
    let for_wrong = shown(a.reply(t0, ChallengeKind::Proxy, Some(&wrong)));
    let for_unknown = shown(a.reply(t0, ChallengeKind::Proxy, Some(&unknown)));
    let for_nothing = shown(a.reply(t0, ChallengeKind::Proxy, None));
    assert_eq!(for_wrong, for_unknown);
    assert_eq!(for_wrong, for_nothing, "same as the first challenge: svwar learns nothing");
}

#[test]
fn malformed_responses_are_refused() {
    let t0 = Instant::now();
    let mut a = auth(t0);
    let nonce = nonce_of(&a.challenge(t0, ChallengeKind::Www, false));
    let good = client(Algorithm::Md5, "bob", REALM, "1234", "REGISTER", URI, &nonce, 1, "c");
    let cases = [
        (good.replace(", qop=auth", ""), Malformed::Qop),
        (good.replace("qop=auth", "qop=auth-int"), Malformed::Qop),
        // svcrack after a challenge without qop: qop=auth but no cnonce/nc.
        (good.replace(", cnonce=\"c\"", "").replace(", nc=00000001", ""), Malformed::Missing("nc")),
        (good.replace("nc=00000001", "nc=00000000"), Malformed::NonceCount),
        (good.replace("nc=00000001", "nc=1"), Malformed::NonceCount),
        (good.replace("algorithm=MD5", "algorithm=MD5-sess"), Malformed::Algorithm),
        (good.replace("realm=\"ent-pa.com\"", "realm=\"other\""), Malformed::Realm),
        (good.replace("uri=\"sip:ent-pa.com\"", "uri=\"sip:elsewhere\""), Malformed::Uri),
        (good.replace("response=\"", "response=\"ab"), Malformed::Response),
        (good.replace("Digest ", "Basic "), Malformed::NotDigest),
        (format!("{good}, userhash=true"), Malformed::Username),
        (format!("{good}, nc=00000002"), Malformed::Duplicate),
    ];
    for (header, expected) in cases {
        let outcome = verify(&mut a, t0, &header);
        assert_eq!(outcome, AuthOutcome::Malformed(expected), "{header}");
        assert_eq!(a.reply(t0, ChallengeKind::Www, Some(&outcome)), Reply::BadRequest("Malformed Credentials"));
    }
    assert!(matches!(verify(&mut a, t0, &good), AuthOutcome::Ok { .. }), "the original still works");
}

#[test]
fn algorithms_not_offered_are_refused() {
    let t0 = Instant::now();
    let mut config = DigestConfig::new(REALM);
    config.algorithms = vec![Algorithm::Md5];
    let mut a = DigestAuth::new(config, NonceSecret::new([3; 32]), t0);
    let c = a.challenge(t0, ChallengeKind::Www, false);
    assert_eq!(c.values.len(), 1);
    let header = client(Algorithm::Sha256, "bob", REALM, "1234", "REGISTER", URI, &nonce_of(&c), 1, "c");
    assert_eq!(verify(&mut a, t0, &header), AuthOutcome::Malformed(Malformed::Algorithm));
}

#[test]
fn nothing_secret_in_debug_output() {
    let a = auth(Instant::now());
    let shown = format!("{a:?} {:?}", store());
    assert!(!shown.contains("42, 42"), "{shown}");
    assert!(!shown.contains(&h(Algorithm::Md5, "bob:ent-pa.com:1234")), "{shown}");
    assert!(shown.contains("redacted"));
}

#[test]
fn rfc3261_22_3_credentials_name_their_realm() {
    let t0 = Instant::now();
    let response = client(Algorithm::Md5, "bob", "other.example", "1234", "INVITE", URI, "n", 1, "c");
    assert_eq!(causeway_policy::digest::credentials_realm(&response).as_deref(), Some("other.example"));
    assert_eq!(causeway_policy::digest::credentials_realm("Basic Ym9iOjEyMzQ="), None);
    assert_eq!(causeway_policy::digest::credentials_realm("Digest username=\"bob\""), None);
    let mut a = auth(t0);
    let challenge = a.challenge(t0, ChallengeKind::Www, false);
    let ours = client(Algorithm::Md5, "bob", REALM, "1234", "REGISTER", URI, &nonce_of(&challenge), 1, "c");
    assert_eq!(causeway_policy::digest::credentials_realm(&ours).as_deref(), Some(REALM));
}
