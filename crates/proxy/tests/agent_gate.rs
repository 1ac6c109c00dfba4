//! The agent hook and the gate: an agent (call control, in the node) is offered first only what is
//! already its own — here REGISTER and requests in its dialogs — while a new call it would take
//! goes through the same gate as a proxied request (digest challenge, call policy, RFC 3325) and
//! reaches the agent with the gate's verdict.

mod harness;

use std::sync::Arc;
use std::time::Instant;

use causeway_policy::PolicySet;
use causeway_proxy::{Agent, Arrived, Clearance, RequestCtx, Target};
use causeway_routing::IdentityHeaders;
use causeway_sip::{Message, Method, Uri};
use harness::gate::*;
use harness::*;

/// What the test agent got, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    /// Offered before anything else (its own).
    Offered(String),
    /// An initial request, after the gate: Call-ID, zone, authenticated, P-Asserted-Identity kept.
    Initial { call_id: String, zone: String, authenticated: bool, identity_kept: bool },
}

/// Call control in miniature: REGISTERs and requests to `sip:ua-…` contacts are its own; new
/// INVITEs to `host` are calls it takes.
struct TestAgent {
    host: &'static str,
    got: Vec<Got>,
}

impl TestAgent {
    fn new(host: &'static str) -> Self {
        Self { host, got: Vec::new() }
    }
}

fn call_id(m: &Message) -> String {
    m.call_id().unwrap_or_default().to_owned()
}

impl Agent for TestAgent {
    fn offer(&mut self, _now: Instant, message: Message, _arrived: &Arrived<'_>) -> Option<Message> {
        let uri = message.request_uri_str().and_then(|u| Uri::parse(u).ok());
        let dialog = uri.as_ref().and_then(Uri::as_sip).and_then(|u| u.user()).is_some_and(|u| u.starts_with("ua-"));
        if message.method() == Some(&Method::Register) || dialog {
            self.got.push(Got::Offered(call_id(&message)));
            return None;
        }
        Some(message)
    }

    fn wants_initial(&self, _now: Instant, request: &Message, _arrived: &Arrived<'_>, _clearance: Option<&Clearance>) -> bool {
        let uri = request.request_uri_str().and_then(|u| Uri::parse(u).ok());
        request.method() == Some(&Method::Invite) && uri.as_ref().and_then(Uri::as_sip).is_some_and(|u| u.host_str() == self.host)
    }

    fn take_initial(&mut self, _now: Instant, request: Message, _arrived: &Arrived<'_>, clearance: Option<&Clearance>) {
        let (zone, authenticated, identity_kept) = clearance.map_or((String::new(), false, true), |c| {
            let auth = c.authentication();
            (c.zone().zone().to_owned(), auth.authenticated(), auth.identity_headers() == IdentityHeaders::Keep)
        });
        self.got.push(Got::Initial { call_id: call_id(&request), zone, authenticated, identity_kept });
    }

    fn contacts(&self, _now: Instant, _request: &Message, _ctx: &RequestCtx<'_>) -> Option<Vec<Target>> {
        None
    }
}

#[test]
fn a_call_for_the_agent_from_a_check_credentials_zone_is_challenged_before_the_agent_sees_it() {
    let mut sim = Sim::new().with_security(security(zones("check-credentials"), Arc::new(PolicySet::off()), generous()), EPOCH);
    let mut agent = TestAgent::new("cluster.example");
    let uri = "sip:9011441234567@cluster.example";
    sim.udp_with(MALLORY, &req("INVITE", uri, "c1", 1, MALLORY, ""), &mut agent);
    let (to, challenge) = sim.one();
    assert_eq!((to, status(&challenge)), (MALLORY, Some(407)));
    assert!(agent.got.is_empty(), "call control never saw the unauthenticated call: {:?}", agent.got);
    // Wrong password: challenged again, still nothing for the agent.
    let nonce_value = nonce(&harness::values(&challenge, causeway_sip::HeaderName::ProxyAuthenticate)[0]);
    let wrong = credentials("1000", "4321", "INVITE", uri, &nonce_value, 1);
    sim.udp_with(MALLORY, &req("INVITE", uri, "c1", 2, MALLORY, &format!("Proxy-Authorization: {wrong}\n")), &mut agent);
    assert_eq!(status_of_one(&mut sim), Some(407));
    assert!(agent.got.is_empty());
    // The right credentials: the agent takes the call, knowing it is authenticated.
    let right = credentials("1000", "1234", "INVITE", uri, &nonce_value, 2);
    let asserted = "P-Asserted-Identity: <sip:1000@ent-pa.com>\n";
    sim.udp_with(MALLORY, &req("INVITE", uri, "c1", 3, MALLORY, &format!("Proxy-Authorization: {right}\n{asserted}")), &mut agent);
    assert!(sim.take().is_empty(), "the core itself neither answers nor forwards a call the agent took");
    let taken = Got::Initial { call_id: "c1".into(), zone: "default".into(), authenticated: true, identity_kept: true };
    assert_eq!(agent.got, [taken]);
}

#[test]
fn a_call_for_the_agent_meets_call_policy_and_loses_an_untrusted_identity() {
    let mut sim = Sim::with(config(), everything_to_bob()).with_security(security(zones("do-not-check"), shared_edge(), generous()), EPOCH);
    let mut agent = TestAgent::new("ent-pa.com");
    // Toll fraud to call control's domain: the shipped shared-edge policy refuses it (rule
    // dial-out-prefix) before call control's dial plan could route it to a gateway.
    sim.udp_with(MALLORY, &internet_invite("sip:9011441234567@ent-pa.com", "f1", "sip:mallory@203.0.113.5", ""), &mut agent);
    assert_eq!(status_of_one(&mut sim), Some(403));
    // A spoofed enterprise identity, likewise (spoofed-enterprise-domain).
    let spoofed = internet_invite("sip:alice@ent-pa.com", "f2", "sip:mallory@203.0.113.5", "P-Asserted-Identity: <sip:ceo@ent-pa.com>\n");
    sim.udp_with(MALLORY, &spoofed, &mut agent);
    assert_eq!(status_of_one(&mut sim), Some(403));
    assert!(agent.got.is_empty(), "{:?}", agent.got);
    // An allowed business-to-business call reaches the agent, unauthenticated, its asserted
    // identity not to be believed (RFC 3325 §5).
    let b2b = internet_invite("sip:alice@ent-pa.com", "ok", "sip:partner@partner.example", "P-Asserted-Identity: <sip:boss@partner.example>\n");
    sim.udp_with(MALLORY, &b2b, &mut agent);
    assert!(sim.take().is_empty());
    assert_eq!(agent.got, [Got::Initial { call_id: "ok".into(), zone: "default".into(), authenticated: false, identity_kept: false }]);
}

#[test]
fn registrations_and_requests_in_the_agents_dialogs_are_offered_first() {
    let mut sim = Sim::new().with_security(security(zones("check-credentials"), shared_edge(), generous()), EPOCH);
    let mut agent = TestAgent::new("cluster.example");
    // The registrar authenticates its devices itself: no 401 from the gate.
    sim.udp_with(MALLORY, &req("REGISTER", "sip:cluster.example", "r1", 1, MALLORY, ""), &mut agent);
    // A BYE in one of the agent's dialogs (its Contact as Request-URI, a To tag).
    let bye = req("BYE", "sip:ua-7.0@127.0.0.1:5060", "d1", 2, MALLORY, "").replace("To: <sip:ua-7.0@127.0.0.1:5060>", "To: <sip:x@cluster.example>;tag=t1");
    sim.udp_with(MALLORY, &bye, &mut agent);
    assert!(sim.take().is_empty());
    assert_eq!(agent.got, [Got::Offered("r1".into()), Got::Offered("d1".into())]);
    // Something that is neither the agent's nor cleared is the gate's: challenged.
    sim.udp_with(MALLORY, &req("INVITE", "sip:bob@elsewhere.example", "p1", 1, MALLORY, ""), &mut agent);
    assert_eq!(status_of_one(&mut sim), Some(407));
    assert_eq!(agent.got.len(), 2);
}
