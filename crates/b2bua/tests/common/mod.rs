//! A node in simulated time: the proxy core with the engine lent to it, as causeway-node runs
//! them, fed with message text and drained into a list of what went out.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_b2bua::{B2bua, B2buaConfig, Event, FixedClock, Zones};
use causeway_callctl::Cluster;
use causeway_policy::SourceText;
use causeway_proxy::{Core, FlowId, Inbound, ProxyConfig, StaticRoutes, Transmit};
use causeway_sip::{Message, Transport};
use chrono::{TimeZone, Utc};
use md5::{Digest, Md5};

pub const ZONES: &[&str] = &["webex", "pstn-gw", "unity", "teams"];
pub const EXAMPLE: &str = include_str!("../../../../examples/callctl/ent-pa.toml");

/// The node's UDP/TCP listener.
pub const NODE: &str = "127.0.0.1:5060";

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

pub fn example() -> Cluster {
    Cluster::from_toml_str(SourceText::new("ent-pa.toml", EXAMPLE), ZONES).unwrap_or_else(|e| panic!("{e}"))
}

pub struct Node {
    pub core: Core<StaticRoutes>,
    pub b2bua: B2bua,
    pub t0: Instant,
    pub now: Instant,
    pub events: Vec<Event>,
}

impl Node {
    pub fn new(cluster: Cluster) -> Self {
        Self::with(cluster, Zones::default(), |_| {})
    }

    pub fn with(cluster: Cluster, zones: Zones, tune: impl FnOnce(&mut B2buaConfig)) -> Self {
        let t0 = Instant::now();
        let proxy = ProxyConfig::with_listeners([(Transport::Udp, addr(NODE)), (Transport::Tcp, addr(NODE))]);
        let mut config = B2buaConfig::new(proxy.listeners.clone());
        tune(&mut config);
        let clock = FixedClock { at: t0, wall: Utc.with_ymd_and_hms(2026, 11, 24, 17, 0, 0).single().unwrap_or_default() };
        let mut core = Core::new(proxy, StaticRoutes::default(), 1).unwrap_or_else(|e| panic!("{e}"));
        if let Some(table) = zones.shared_table() {
            // As in the node: the core's gate classifies every call and hands call control its verdict.
            core = core.with_security(t0, clock.wall, gate(table.clone()));
        }
        let b2bua = B2bua::new(config, Arc::new(cluster), zones, Box::new(clock), 2, t0).unwrap_or_else(|e| panic!("{e}"));
        Self { core, b2bua, t0, now: t0, events: Vec::new() }
    }

    /// Everything the core and the engine want to send, and what the engine wants persisted.
    fn drain(&mut self) -> Vec<Transmit> {
        let mut out = Vec::new();
        while let Some(t) = self.core.poll_transmit() {
            out.push(t);
        }
        while let Some(t) = self.b2bua.poll_transmit() {
            out.push(t);
        }
        while let Some(e) = self.b2bua.poll_event() {
            self.events.push(e);
        }
        out
    }

    /// A message from `peer` over `transport` (on connection `flow` for TCP).
    pub fn deliver(&mut self, peer: &str, transport: Transport, flow: Option<u64>, text: &str) -> Vec<Transmit> {
        let inbound = Inbound {
            bytes: Bytes::from(text.replace("\r\n", "\n").replace('\n', "\r\n")),
            transport,
            local: addr(NODE),
            peer: addr(peer),
            flow: flow.map(FlowId),
            tls_peer_names: None,
        };
        self.core.handle_inbound_with(self.now, inbound, &mut self.b2bua);
        self.drain()
    }

    /// A UDP message from `peer`.
    pub fn udp(&mut self, peer: &str, text: &str) -> Vec<Transmit> {
        self.deliver(peer, Transport::Udp, None, text)
    }

    /// The DNS lookups the engine wants done.
    pub fn lookups(&mut self) -> Vec<causeway_proxy::Resolve> {
        std::iter::from_fn(|| self.b2bua.poll_resolve()).collect()
    }

    /// The node's resolver answers lookup `id`.
    pub fn resolved(&mut self, id: causeway_proxy::ResolveId, answer: causeway_routing::resolve::DnsAnswer) -> Vec<Transmit> {
        self.b2bua.handle_resolved(self.now, id, answer);
        self.drain()
    }

    /// A send to `destination` failed (RFC 3261 §18.4: a transport error).
    pub fn transport_error(&mut self, transport: Transport, destination: &str) -> Vec<Transmit> {
        let failure = causeway_proxy::TransportFailure { transport, destination: addr(destination), flow: None };
        self.b2bua.handle_transport_error(self.now, failure);
        self.drain()
    }

    /// Lets simulated time run for `d`, firing every timer on the way.
    pub fn advance(&mut self, d: Duration) -> Vec<Transmit> {
        let end = self.now + d;
        let mut out = Vec::new();
        loop {
            let next = [self.core.poll_timeout(), self.b2bua.poll_timeout()].into_iter().flatten().min();
            match next {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    self.core.handle_timeout(self.now);
                    self.b2bua.handle_timeout(self.now);
                    out.extend(self.drain());
                }
                _ => break,
            }
        }
        self.now = end;
        out
    }
}

/// Bob's desk phone (1002) and Alice's (1001).
pub const BOB_DESK: &str = "127.0.0.1:5070";
pub const ALICE_DESK: &str = "127.0.0.1:5072";

/// Bob's and Alice's desks register with digest (and the events of that are forgotten).
pub fn register_desks(node: &mut Node) {
    for (user, password, addr, dn) in [("bob-desk", "bob-pw", BOB_DESK, "1002"), ("alice-desk", "alice-pw", ALICE_DESK, "1001")] {
        let mut phone = Phone::new(user, password, addr);
        let contact = format!("Contact: <sip:{dn}@{addr}>\n");
        let out = node.udp(addr, &phone.register(dn, Transport::Udp, &contact));
        phone.challenged(&parse(only(&out)));
        let out = node.udp(addr, &phone.register(dn, Transport::Udp, &contact));
        assert!(status_line(only(&out)).starts_with("SIP/2.0 200"), "{}", dump(&out));
    }
    node.events.clear();
}

/// Alice's desk dials `dialed` with an SDP offer.
pub fn alice_calls(node: &mut Node, dialed: &str, call_id: &str) -> (Ua, Vec<Transmit>) {
    let mut alice = Ua::caller(ALICE_DESK, "\"Alice\" <sip:1001@ent-pa.com>", &format!("sip:{dialed}@127.0.0.1:5060"), call_id);
    let out = node.udp(ALICE_DESK, &alice.request("INVITE", "Supported: timer, 100rel\nSession-Expires: 1800\n", Some(&sdp("alice", 4000))));
    (alice, out)
}

/// The parsed message of a transmit.
pub fn parse(t: &Transmit) -> Message {
    Message::parse(t.bytes.clone()).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&t.bytes)))
}

/// The status line of a response.
pub fn status_line(t: &Transmit) -> String {
    String::from_utf8_lossy(&t.bytes).lines().next().unwrap_or_default().to_owned()
}

/// The one transmit, or a panic listing them.
pub fn only(out: &[Transmit]) -> &Transmit {
    match out {
        [one] => one,
        _ => panic!("expected one message, got {}:\n{}", out.len(), dump(out)),
    }
}

pub fn dump(out: &[Transmit]) -> String {
    out.iter().map(|t| format!("-> {} {}\n{}", t.transport, t.destination, String::from_utf8_lossy(&t.bytes))).collect()
}

/// A header value of a message.
pub fn header(m: &Message, name: &str) -> Vec<String> {
    m.headers_raw(name).map(|h| String::from_utf8_lossy(h.value).into_owned()).collect()
}

/// A phone that registers with digest credentials (RFC 7616 with qop=auth, MD5).
pub struct Phone {
    pub user: String,
    pub password: String,
    /// Where it sends from.
    pub addr: String,
    pub call_id: String,
    pub cseq: u32,
    nonce: Option<(String, String)>,
    nc: u32,
    /// REGISTERs sent (each gets its own branch).
    sent: u32,
}

impl Phone {
    pub fn new(user: &str, password: &str, addr: &str) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
            addr: addr.into(),
            call_id: format!("reg-{user}@{addr}"),
            cseq: 0,
            nonce: None,
            nc: 0,
            sent: 0,
        }
    }

    /// A REGISTER for `aor_user` with these Contact/Expires lines, with credentials once a
    /// challenge was seen.
    pub fn register(&mut self, aor_user: &str, transport: Transport, contact_lines: &str) -> String {
        self.cseq += 1;
        self.sent += 1;
        let uri = "sip:ent-pa.com";
        let auth = match &self.nonce {
            Some((realm, nonce)) => {
                self.nc += 1;
                let nc = format!("{:08x}", self.nc);
                let ha1 = md5(&format!("{}:{realm}:{}", self.user, self.password));
                let ha2 = md5(&format!("REGISTER:{uri}"));
                let response = md5(&format!("{ha1}:{nonce}:{nc}:c0ffee:auth:{ha2}"));
                format!(
                    "Authorization: Digest username=\"{}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
                     response=\"{response}\", algorithm=MD5, qop=auth, nc={nc}, cnonce=\"c0ffee\"\n",
                    self.user
                )
            }
            None => String::new(),
        };
        format!(
            "REGISTER {uri} SIP/2.0\nVia: SIP/2.0/{} {};branch=z9hG4bKreg{}{};rport\nMax-Forwards: 70\n\
             From: <sip:{aor_user}@ent-pa.com>;tag=ph{}\nTo: <sip:{aor_user}@ent-pa.com>\nCall-ID: {}\n\
             CSeq: {} REGISTER\n{auth}{contact_lines}Content-Length: 0\n\n",
            transport.via_token(),
            self.addr,
            self.user,
            self.sent,
            self.user,
            self.call_id,
            self.cseq
        )
    }

    /// Remembers the MD5 challenge of a 401.
    pub fn challenged(&mut self, response: &Message) {
        let challenge = header(response, "WWW-Authenticate").into_iter().find(|v| v.contains("MD5"));
        let challenge = challenge.unwrap_or_else(|| panic!("no MD5 challenge"));
        let param = |name: &str| {
            let start = challenge.find(&format!("{name}=\"")).map(|i| i + name.len() + 2);
            start.and_then(|s| challenge.get(s..)).and_then(|r| r.split('"').next()).map(str::to_owned)
        };
        self.nonce = Some((param("realm").unwrap_or_default(), param("nonce").unwrap_or_default()));
        self.nc = 0;
    }
}

pub fn md5(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

/// The voicemail, PSTN gateway and Teams zones every call-control test config has (a literal,
/// so that test configs can `concat!` it).
macro_rules! neighbour_zones {
    () => {
        r#"[[zone]]
name = "unity"
kind = "neighbor"
peer = [{ address = "10.0.0.3:5060", transport = "udp" }]
keepalive = { enabled = false }

[[zone]]
name = "pstn-gw"
kind = "neighbor"
peer = [{ address = "10.0.0.4:5060", transport = "udp" }]
keepalive = { enabled = false }

[[zone]]
name = "teams"
kind = "neighbor"
peer = [{ address = "10.0.0.5:5060", transport = "udp" }]
keepalive = { enabled = false }

"#
    };
}
#[allow(unused_imports)]
pub(crate) use neighbour_zones;

/// The edge's zones in the simulated tests: each zone's one peer on its own address (zones
/// classify callers by source IP).
pub const ROUTING: &str = concat!(r#"
[[zone]]
name = "webex"
kind = "neighbor"
peer = [{ address = "10.0.0.2:5060", transport = "udp" }]
keepalive = { enabled = false }
authentication = "treat-as-authenticated"
# Flow F2: the cloud names the user's home cluster in a Route.
honor_route_header = true

"#,
    neighbour_zones!(),
    r#"[[search_rule]]
name = "to-webex"
priority = 50
source = "any-authenticated"
pattern_type = "regex"
pattern = '.*@ent-pa\.call\.webex\.com'
target = "webex"
"#);

pub const CLOUD: &str = "10.0.0.2:5060";
pub const UNITY: &str = "10.0.0.3:5060";
pub const PSTN: &str = "10.0.0.4:5060";

pub fn zones() -> causeway_b2bua::Zones {
    let table = causeway_routing::config::load(ROUTING).unwrap_or_else(|e| panic!("{e:?}"));
    causeway_b2bua::Zones::new(Some(Arc::new(table)))
}

/// An SDP body (passed through unchanged: tests compare bytes).
pub fn sdp(owner: &str, port: u16) -> String {
    format!("v=0\r\no={owner} 1 1 IN IP4 10.9.9.9\r\ns=-\r\nc=IN IP4 10.9.9.9\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
}

/// A UA's side of one dialog, enough to send requests in it.
#[derive(Debug, Clone)]
pub struct Ua {
    pub addr: String,
    pub call_id: String,
    /// Our From/To value with our tag.
    pub local: String,
    /// Theirs, with their tag once known.
    pub remote: String,
    /// Their Contact URI (Request-URI of our requests).
    pub target: String,
    pub cseq: u32,
    sent: u32,
    /// Branch of our last INVITE (a CANCEL reuses it, RFC 3261 §9.1).
    invite_branch: String,
}

impl Ua {
    /// A caller about to send an INVITE to `ruri`.
    pub fn caller(addr: &str, from: &str, ruri: &str, call_id: &str) -> Self {
        Self {
            addr: addr.into(),
            call_id: call_id.into(),
            local: format!("{from};tag=t-{call_id}"),
            remote: format!("<{ruri}>"),
            target: ruri.into(),
            cseq: 0,
            sent: 0,
            invite_branch: String::new(),
        }
    }

    /// A callee that received `request` and answers with `tag`.
    pub fn callee(addr: &str, request: &Message, tag: &str) -> Self {
        let h = |n: &str| header(request, n).into_iter().next().unwrap_or_default();
        let target = request.contacts().next().and_then(Result::ok).map(|c| c.uri_str().to_owned()).unwrap_or_default();
        Self {
            addr: addr.into(),
            call_id: h("Call-ID"),
            local: format!("{};tag={tag}", h("To")),
            remote: h("From"),
            target,
            cseq: 100,
            sent: 0,
            invite_branch: String::new(),
        }
    }

    /// The answer to our INVITE confirmed the dialog: their To and Contact.
    pub fn confirmed(&mut self, response: &Message) {
        self.remote = header(response, "To").into_iter().next().unwrap_or_default();
        if let Some(c) = response.contacts().next().and_then(Result::ok) {
            self.target = c.uri_str().to_owned();
        }
    }

    /// A request in (or starting) the dialog; ACK reuses the INVITE's CSeq number.
    pub fn request(&mut self, method: &str, extra: &str, body: Option<&str>) -> String {
        if method != "ACK" && method != "CANCEL" {
            self.cseq += 1;
        }
        self.sent += 1;
        let branch = match method {
            "CANCEL" => self.invite_branch.clone(),
            _ => format!("z9hG4bK-{}-{}-{}", self.call_id.len(), self.sent, self.cseq),
        };
        if method == "INVITE" {
            self.invite_branch.clone_from(&branch);
        }
        let (ct, body) = match body {
            Some(b) => ("Content-Type: application/sdp\n".to_owned(), b.to_owned()),
            None => (String::new(), String::new()),
        };
        let text = format!(
            "{method} {} SIP/2.0\nVia: SIP/2.0/UDP {};branch={branch}\nMax-Forwards: 70\nFrom: {}\nTo: {}\n\
             Call-ID: {}\nCSeq: {} {method}\nContact: <sip:ua@{}>\n{extra}{ct}Content-Length: {}\n\n",
            self.target,
            self.addr,
            self.local,
            self.remote,
            self.call_id,
            self.cseq,
            self.addr,
            body.len()
        );
        text + &body
    }
}

/// A response to `request` with our To `tag`, Contact, extra lines and an optional SDP body.
pub fn reply(request: &Message, status: u16, tag: &str, contact: &str, body: Option<&str>) -> String {
    let status = causeway_sip::StatusCode::new(status).unwrap_or(causeway_sip::StatusCode::OK);
    let contact = format!("<sip:ua@{contact}>");
    let mut b = causeway_sip::build::ResponseBuilder::new(request, status).to_tag(tag).header("Contact", &contact);
    if let Some(body) = body {
        b = b.body("application/sdp", body.as_bytes());
    }
    let built = b.build().unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(built.bytes()).into_owned()
}

/// The messages sent to `dest`.
pub fn to(out: &[Transmit], dest: &str) -> Vec<Message> {
    out.iter().filter(|t| t.destination == addr(dest)).map(parse).collect()
}

/// The one message to `dest` whose first line starts with `start`.
pub fn one(out: &[Transmit], dest: &str, start: &str) -> Message {
    let found: Vec<Message> = to(out, dest)
        .into_iter()
        .filter(|m| String::from_utf8_lossy(m.start_line_bytes()).starts_with(start))
        .collect();
    match found.as_slice() {
        [m] => m.clone(),
        _ => panic!("expected one `{start}` to {dest}, found {}:\n{}", found.len(), dump(out)),
    }
}

/// Whether anything starting with `start` went to `dest`.
pub fn sent(out: &[Transmit], dest: &str, start: &str) -> bool {
    to(out, dest).iter().any(|m| String::from_utf8_lossy(m.start_line_bytes()).starts_with(start))
}

/// The proxy core's security phases over `zones`: classification and each zone's authentication
/// policy, no call policy, no digest, no flood limits.
fn gate(zones: Arc<causeway_routing::RoutingTable>) -> causeway_proxy::SecurityConfig {
    causeway_proxy::SecurityConfig {
        zones,
        policy: Arc::new(causeway_policy::PolicySet::off()),
        digest: None,
        credentials: Arc::default(),
        flood: None,
        nonce_secret: causeway_policy::digest::nonce::NonceSecret::new([3; 32]),
        route_key: causeway_policy::seal::RouteKey::new([4; 32]),
    }
}
