//! The edge's security phases as tests drive them: zones, the shipped shared-edge policy, a
//! security config with one digest user (1000, password 1234), requests from the internet and
//! digest responses computed independently of the crates under test.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use causeway_policy::digest::credentials::{Algorithm, CredentialTable, Ha1};
use causeway_policy::digest::nonce::NonceSecret;
use causeway_policy::digest::DigestConfig;
use causeway_policy::flood::{FloodConfig, Limit};
use causeway_policy::seal::RouteKey;
use causeway_policy::{PolicySet, SourceText};
use causeway_proxy::{NextHop, RouteMatch, SecurityConfig, StaticRoute, StaticRoutes};
use causeway_routing::RoutingTable;
use causeway_sip::{Message, StatusCode, Transport};
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};

use super::{Sim, BOB};

pub const REALM: &str = "ent-pa.com";
pub const EPOCH: DateTime<Utc> = DateTime::<Utc>::UNIX_EPOCH;
/// A caller on the internet: no zone knows it, so it lands in the default zone.
pub const MALLORY: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 5)), 5060);

pub fn zones(default_auth: &str) -> Arc<RoutingTable> {
    let text = format!("[[zone]]\nname = \"default\"\nkind = \"default\"\nauthentication = \"{default_auth}\"\n");
    Arc::new(causeway_routing::config::load(&text).unwrap_or_else(|e| panic!("zones: {e:?}")))
}

pub fn shared_edge() -> Arc<PolicySet> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/policy/shared-edge.toml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let set = PolicySet::from_toml_str(SourceText::new("shared-edge.toml", &text), &["default"], |_| unreachable_cpl());
    Arc::new(set.unwrap_or_else(|e| panic!("{e}")))
}

pub fn unreachable_cpl() -> std::io::Result<String> {
    Err(std::io::Error::other("the rule table names no CPL file"))
}

pub fn security(zones: Arc<RoutingTable>, policy: Arc<PolicySet>, flood: FloodConfig) -> SecurityConfig {
    let mut credentials = CredentialTable::new(REALM);
    credentials.insert("1000", Ha1::from_password(Algorithm::Md5, "1000", REALM, "1234"));
    let mut digest = DigestConfig::new(REALM);
    digest.algorithms = vec![Algorithm::Md5];
    SecurityConfig {
        zones,
        policy,
        digest: Some(digest),
        credentials: Arc::new(credentials),
        flood: Some(flood),
        nonce_secret: NonceSecret::new([7; 32]),
        route_key: RouteKey::new([5; 32]),
    }
}

pub fn generous() -> FloodConfig {
    FloodConfig { requests_per_source: Limit { count: 100_000, window: Duration::from_secs(10) }, ..FloodConfig::default() }
}

/// A request from `from_host` (Via and Contact) with extra header lines.
pub fn req(method: &str, uri: &str, call_id: &str, cseq: u32, peer: SocketAddr, extra: &str) -> String {
    format!(
        "{method} {uri} SIP/2.0\n\
         Via: SIP/2.0/UDP {peer};branch=z9hG4bK-{call_id}-{cseq}\n\
         Max-Forwards: 70\n\
         From: <sip:1000@{REALM}>;tag=f-{call_id}\n\
         To: <{uri}>\n\
         Call-ID: {call_id}\n\
         CSeq: {cseq} {method}\n\
         Contact: <sip:1000@{peer}>\n\
         {extra}Content-Length: 0\n\n"
    )
}

pub fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

/// The nonce of a challenge header value.
pub fn nonce(challenge: &str) -> String {
    challenge.split("nonce=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_owned()
}

/// RFC 7616 §3.4.1 with qop=auth, computed independently of the crates under test.
pub fn credentials(user: &str, password: &str, method: &str, uri: &str, nonce: &str, nc: u32) -> String {
    let ha1 = md5_hex(&format!("{user}:{REALM}:{password}"));
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    let response = md5_hex(&format!("{ha1}:{nonce}:{nc:08x}:c0ffee:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", \
         algorithm=MD5, qop=auth, nc={nc:08x}, cnonce=\"c0ffee\""
    )
}

pub fn status(m: &Message) -> Option<u16> {
    m.status().map(StatusCode::as_u16)
}

pub fn status_of_one(sim: &mut Sim) -> Option<u16> {
    let (_, m) = sim.one();
    status(&m)
}

/// An INVITE from the internet with a spoofable From.
pub fn internet_invite(uri: &str, call_id: &str, from: &str, extra: &str) -> String {
    req("INVITE", uri, call_id, 1, MALLORY, extra).replace(&format!("From: <sip:1000@{REALM}>"), &format!("From: <{from}>"))
}

pub fn everything_to_bob() -> StaticRoutes {
    StaticRoutes::new(vec![StaticRoute {
        matcher: RouteMatch::Default,
        next_hop: NextHop { transport: Transport::Udp, address: BOB, flow: None },
    }])
}

