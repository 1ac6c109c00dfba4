//! Zone classification (mutual-TLS subject, source address, listener, default) and the zones'
//! authentication policies, with the policy crate's digest verifier for `check-credentials`.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use causeway_policy::digest::credentials::{Algorithm, CredentialTable, Ha1};
use causeway_policy::digest::nonce::NonceSecret;
use causeway_policy::digest::{AuthOutcome, ChallengeKind, DigestAuth, DigestConfig};
use causeway_routing::{
    authenticate, classify, AuthBasis, AuthRequirement, AuthStep, ClassifiedBy, ClassifyInput, DigestCheck,
    HealthSnapshot, IdentityHeaders, RoutingTable,
};
use causeway_sip::Transport;
use common::load;
use md5::{Digest, Md5};

const CONFIG: &str = r#"
[[zone]]
name = "webex"
kind = "dns"
authentication = "treat-as-authenticated"
tls_verify_subject = ["callservice.webex.com"]
listeners = ["10.0.0.5:5062"]

[[zone]]
name = "teams"
kind = "trunk"
authentication = "treat-as-authenticated"
local_fqdn = "sbc.ent-pa.com"
tls_verify_subject = ["*.pstnhub.microsoft.com"]
[[zone.peer]]
address = "sip.pstnhub.microsoft.com:5061"

[[zone]]
name = "cucm"
kind = "neighbor"
authentication = "treat-as-authenticated"
[[zone.peer]]
address = "10.1.1.10"
[[zone.peer]]
address = "cucm-sub.ent-pa.com"

[[zone]]
name = "partners"
kind = "neighbor"
authentication = "check-credentials"
listeners = ["10.0.0.5:5070"]
[[zone.peer]]
address = "203.0.113.9"

[[zone]]
name = "internet"
kind = "default"
"#;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn arrive(table: &RoutingTable, health: &HealthSnapshot, listener: &str, source: &str, tls: Option<&[&str]>) -> (String, ClassifiedBy) {
    let names: Option<Vec<String>> = tls.map(|n| n.iter().map(|s| (*s).to_owned()).collect());
    let input = ClassifyInput {
        listener: addr(listener),
        source: addr(source),
        transport: if tls.is_some() { Transport::Tls } else { Transport::Udp },
        tls_peer_names: names.as_deref(),
    };
    let c = classify(&input, table, health);
    (c.zone().to_owned(), c.by().clone())
}

#[test]
fn mutual_tls_subject_classifies_exact_and_one_label_wildcard() {
    let table = load(CONFIG);
    let h = HealthSnapshot::default();
    let (zone, by) = arrive(&table, &h, "10.0.0.5:5062", "198.51.100.1:4000", Some(&["other.example", "CallService.Webex.com"]));
    assert_eq!(zone, "webex");
    assert_eq!(by, ClassifiedBy::TlsSubject { name: "CallService.Webex.com".into(), subject: "callservice.webex.com".into() });
    assert_eq!(arrive(&table, &h, "10.0.0.5:5061", "52.114.1.1:4000", Some(&["sip3.pstnhub.microsoft.com"])).0, "teams");
    assert_eq!(arrive(&table, &h, "10.0.0.5:5061", "52.114.1.1:4000", Some(&["a.sip.pstnhub.microsoft.com"])).0, "internet");
}

#[test]
fn a_certificate_that_does_not_match_never_lands_in_the_trusted_zone() {
    let table = load(CONFIG);
    let h = HealthSnapshot::default();
    // On webex's own mutual-TLS listener, with a wrong name, or no certificate at all.
    for names in [Some(&["callservice.webex.com.evil.net"][..]), Some(&[][..]), None] {
        let (zone, by) = arrive(&table, &h, "10.0.0.5:5062", "198.51.100.1:4000", names);
        assert_eq!(zone, "internet", "{names:?}");
        assert_eq!(by, ClassifiedBy::NoMatch { refused: vec!["webex".into()] });
    }
    // Certificate names on a non-TLS transport are not evidence.
    let input = ClassifyInput {
        listener: addr("10.0.0.5:5060"),
        source: addr("198.51.100.1:4000"),
        transport: Transport::Tcp,
        tls_peer_names: Some(&["callservice.webex.com".to_owned()]),
    };
    assert_eq!(classify(&input, &table, &h).zone(), "internet");
}

#[test]
fn source_addresses_and_listeners() {
    let table = load(CONFIG);
    let mut h = HealthSnapshot::default();
    let (zone, by) = arrive(&table, &h, "10.0.0.5:5060", "10.1.1.10:5060", None);
    assert_eq!((zone.as_str(), by), ("cucm", ClassifiedBy::SourceAddress { address: "10.1.1.10".parse::<IpAddr>().unwrap_or(IpAddr::from([0; 4])), peer: "10.1.1.10:5061".into() }));
    // A peer configured by name is recognised once the node has resolved it.
    assert_eq!(arrive(&table, &h, "10.0.0.5:5060", "10.1.1.11:5060", None).0, "internet");
    h.set_addresses("cucm", "cucm-sub.ent-pa.com:5061", vec![IpAddr::from([10, 1, 1, 11])]);
    assert_eq!(arrive(&table, &h, "10.0.0.5:5060", "10.1.1.11:5060", None).0, "cucm");
    // A listener owned by a zone without tls_verify_subject classifies by itself.
    let (zone, by) = arrive(&table, &h, "10.0.0.5:5070", "192.0.2.44:5060", None);
    assert_eq!((zone.as_str(), by), ("partners", ClassifiedBy::Listener { listener: addr("10.0.0.5:5070") }));
    assert_eq!(arrive(&table, &h, "10.0.0.5:5060", "192.0.2.44:5060", None), ("internet".into(), ClassifiedBy::NoMatch { refused: vec![] }));
}

#[test]
fn trust_policies_decide_alone_and_rfc3325_identity_follows_authentication() {
    let table = load(CONFIG);
    let h = HealthSnapshot::default();
    let cases = [("10.1.1.10:5060", true, AuthBasis::ZoneTrusted, IdentityHeaders::Keep), ("192.0.2.1:5060", false, AuthBasis::NotChecked, IdentityHeaders::Strip)];
    for (source, authenticated, basis, identity) in cases {
        let c = classify(&ClassifyInput { listener: addr("10.0.0.5:5060"), source: addr(source), transport: Transport::Udp, tls_peer_names: None }, &table, &h);
        let AuthRequirement::Decided(a) = authenticate(&c, &table) else { panic!("{source}: decided by policy alone") };
        assert_eq!((a.authenticated(), a.basis(), a.identity_headers()), (authenticated, &basis, identity));
    }
}

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn check_credentials_challenges_then_accepts_a_correct_digest_response() {
    let table = load(CONFIG);
    let c = classify(
        &ClassifyInput { listener: addr("10.0.0.5:5060"), source: addr("203.0.113.9:5060"), transport: Transport::Udp, tls_peer_names: None },
        &table,
        &HealthSnapshot::default(),
    );
    assert_eq!(c.zone(), "partners");
    let t0 = Instant::now();
    let mut config = DigestConfig::new("ent-pa.com");
    config.algorithms = vec![Algorithm::Md5];
    let mut auth = DigestAuth::new(config, NonceSecret::new([9; 32]), t0);
    let mut store = CredentialTable::new("ent-pa.com");
    store.insert("partner", Ha1::from_password(Algorithm::Md5, "partner", "ent-pa.com", "s3cret"));
    let uri = "sip:bob@ent-pa.com";
    let check = |authorization: Option<&str>, auth: &mut DigestAuth| match authenticate(&c, &table) {
        AuthRequirement::CheckCredentials(pending) => pending.verify(DigestCheck {
            auth,
            store: &store,
            now: t0 + Duration::from_secs(1),
            method: "INVITE",
            request_uri: uri,
            authorization,
        }),
        AuthRequirement::Decided(_) => panic!("partners checks credentials"),
    };
    let AuthStep::Challenge(challenge) = check(None, &mut auth) else { panic!("no credentials: challenge") };
    assert_eq!((challenge.status, challenge.header), (407, "Proxy-Authenticate"));
    let value = challenge.values.first().cloned().unwrap_or_default();
    let nonce = value.split("nonce=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_owned();
    let response = |password: &str| {
        let ha1 = md5_hex(&format!("partner:ent-pa.com:{password}"));
        let ha2 = md5_hex(&format!("INVITE:{uri}"));
        let r = md5_hex(&format!("{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}"));
        format!("Digest username=\"partner\", realm=\"ent-pa.com\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{r}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\"")
    };
    assert!(matches!(check(Some(&response("wrong")), &mut auth), AuthStep::Challenge(_)));
    match check(Some(&response("s3cret")), &mut auth) {
        AuthStep::Proceed(a) => {
            assert!(a.authenticated());
            assert_eq!(a.basis(), &AuthBasis::Digest { user: "partner".into() });
            assert_eq!(a.identity_headers(), IdentityHeaders::Keep);
        }
        other => panic!("{other:?}"),
    }
    // The same nc again is a replay: challenged (stale), never accepted twice.
    assert!(matches!(check(Some(&response("s3cret")), &mut auth), AuthStep::Challenge(_)));
    assert_eq!(check(Some("Basic Zm9vOmJhcg=="), &mut auth), AuthStep::BadRequest("Malformed Credentials"));
}

#[test]
fn rfc3261_22_2_register_is_challenged_with_401_and_the_outcome_is_reported() {
    let table = load(CONFIG);
    let c = classify(
        &ClassifyInput { listener: addr("10.0.0.5:5060"), source: addr("203.0.113.9:5060"), transport: Transport::Udp, tls_peer_names: None },
        &table,
        &HealthSnapshot::default(),
    );
    let t0 = Instant::now();
    let mut auth = DigestAuth::new(DigestConfig::new("ent-pa.com"), NonceSecret::new([9; 32]), t0);
    let store = CredentialTable::new("ent-pa.com");
    let mut register = |authorization: Option<&str>| match authenticate(&c, &table) {
        AuthRequirement::CheckCredentials(pending) => pending.verify_as(
            ChallengeKind::Www,
            DigestCheck { auth: &mut auth, store: &store, now: t0, method: "REGISTER", request_uri: "sip:ent-pa.com", authorization },
        ),
        AuthRequirement::Decided(_) => panic!("partners checks credentials"),
    };
    let (step, outcome) = register(None);
    assert!(matches!(step, AuthStep::Challenge(ref ch) if (ch.status, ch.header) == (401, "WWW-Authenticate")), "{step:?}");
    assert_eq!(outcome, None);
    let unknown = "Digest username=\"nobody\", realm=\"ent-pa.com\", nonce=\"x\", uri=\"sip:ent-pa.com\", \
                   response=\"00000000000000000000000000000000\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c\"";
    let (step, outcome) = register(Some(unknown));
    assert!(matches!(step, AuthStep::Challenge(ref ch) if ch.status == 401), "{step:?}");
    assert_eq!(outcome, Some(AuthOutcome::Unknown { user: "nobody".into() }));
}
