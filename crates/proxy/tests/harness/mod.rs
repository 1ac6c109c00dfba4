//! Simulated-time harness for the proxy core: a clock that only moves when a test says so,
//! and user agents that write and answer SIP messages as text. No sockets, no sleeps.
#![allow(dead_code, unreachable_pub)]

pub mod gate;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_proxy::{
    Core, FlowId, Inbound, LocateError, Locator, NextHop, ProxyConfig, RequestCtx, RouteMatch, StaticRoute,
    StaticRoutes, Target, Transmit, TransportFailure,
};
use causeway_sip::{HeaderName, Message, Transport};

/// The proxy's UDP and TCP listener.
pub const PROXY: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)), 5060);
/// The proxy's TLS listener.
pub const PROXY_TLS: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)), 5061);
/// Alice's phone (the caller).
pub const ALICE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10)), 5060);
/// Bob's phone (a callee).
pub const BOB: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 20)), 5060);
/// Bob's second device (forking).
pub const BOB2: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 21)), 5070);

/// A proxy config with UDP, TCP and TLS listeners on 127.0.0.1.
pub fn config() -> ProxyConfig {
    let mut c = ProxyConfig::with_listeners([
        (Transport::Udp, PROXY),
        (Transport::Tcp, PROXY),
        (Transport::Tls, PROXY_TLS),
    ]);
    c.domains.push("proxy.example.net".into());
    c
}

/// `example.com` goes to Bob over UDP; `tls.example.com` to Bob over TLS.
pub fn routes() -> StaticRoutes {
    StaticRoutes::new(vec![
        StaticRoute {
            matcher: RouteMatch::Domain("example.com".into()),
            next_hop: NextHop { transport: Transport::Udp, address: BOB, flow: None },
        },
        StaticRoute {
            matcher: RouteMatch::Domain("tls.example.com".into()),
            next_hop: NextHop { transport: Transport::Tls, address: BOB, flow: None },
        },
    ])
}

/// A locator that forks every initial request to the given next hops (the seam that call
/// control will fill; static routes never fork).
pub struct Fork(pub Vec<SocketAddr>);

impl Locator for Fork {
    fn locate(&self, _request: &Message, _ctx: &RequestCtx<'_>) -> Result<Vec<Target>, LocateError> {
        Ok(self
            .0
            .iter()
            .map(|&address| Target::to(NextHop { transport: Transport::Udp, address, flow: None }))
            .collect())
    }
}

/// The proxy under test plus a simulated clock and everything it sent.
pub struct Sim<L: Locator = StaticRoutes> {
    pub core: Core<L>,
    pub t0: Instant,
    pub now: Instant,
    sent: Vec<Transmit>,
}

impl Sim<StaticRoutes> {
    pub fn new() -> Self {
        Self::with(config(), routes())
    }
}

impl<L: Locator> Sim<L> {
    pub fn with(config: ProxyConfig, locator: L) -> Self {
        let core = Core::new(config, locator, 42).unwrap_or_else(|e| panic!("config: {e}"));
        let t0 = Instant::now();
        Self { core, t0, now: t0, sent: Vec::new() }
    }

    /// The same simulation with the edge's security phases on from its start time, which is
    /// `wall_clock` in calendar time.
    pub fn with_security(self, security: causeway_proxy::SecurityConfig, wall_clock: chrono::DateTime<chrono::Utc>) -> Self {
        let Self { core, t0, now, sent } = self;
        Self { core: core.with_security(t0, wall_clock, security), t0, now, sent }
    }

    fn collect(&mut self) {
        while let Some(t) = self.core.poll_transmit() {
            self.sent.push(t);
        }
    }

    /// Deliver `text` from `peer` over `transport` to the listener `local`.
    pub fn deliver(&mut self, transport: Transport, local: SocketAddr, peer: SocketAddr, flow: Option<FlowId>, bytes: Bytes) {
        self.core.handle_inbound(self.now, Inbound { bytes, transport, local, peer, flow, tls_peer_names: None });
        self.collect();
    }

    /// A UDP datagram from `peer` to the proxy.
    pub fn udp(&mut self, peer: SocketAddr, text: &str) {
        self.deliver(Transport::Udp, PROXY, peer, None, Bytes::from(crlf(text)));
    }

    /// A UDP datagram from `peer` to the proxy, with `agent` lent to the core.
    pub fn udp_with(&mut self, peer: SocketAddr, text: &str, agent: &mut dyn causeway_proxy::Agent) {
        let inbound = Inbound { bytes: Bytes::from(crlf(text)), transport: Transport::Udp, local: PROXY, peer, flow: None, tls_peer_names: None };
        self.core.handle_inbound_with(self.now, inbound, agent);
        self.collect();
    }

    /// The I/O layer reports a failed send.
    pub fn transport_error(&mut self, failure: TransportFailure) {
        self.core.handle_transport_error(self.now, failure);
        self.collect();
    }

    /// Let `d` of simulated time pass, firing every timer on the way at its exact time.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(at) = self.core.poll_timeout() {
            if at > end {
                break;
            }
            self.now = self.now.max(at);
            self.core.handle_timeout(self.now);
            self.collect();
        }
        self.now = end;
    }

    /// Everything sent since the last call.
    pub fn take(&mut self) -> Vec<Transmit> {
        std::mem::take(&mut self.sent)
    }

    /// Everything sent since the last call, parsed, with its destination.
    pub fn take_msgs(&mut self) -> Vec<(SocketAddr, Message)> {
        self.take()
            .into_iter()
            .map(|t| (t.destination, Message::parse(t.bytes).unwrap_or_else(|e| panic!("proxy sent unparsable bytes: {e}"))))
            .collect()
    }

    /// The one message sent since the last call; fails if there is not exactly one.
    pub fn one(&mut self) -> (SocketAddr, Message) {
        let mut all = self.take_msgs();
        assert_eq!(all.len(), 1, "expected one message, got {:?}", all.iter().map(|(d, m)| (d, summary(m))).collect::<Vec<_>>());
        all.remove(0)
    }
}

/// Test text uses `\n`; SIP needs CRLF.
pub fn crlf(text: &str) -> String {
    let mut s = text.replace("\r\n", "\n").replace('\n', "\r\n");
    if !s.contains("\r\n\r\n") {
        s.push_str("\r\n");
    }
    s
}

/// `INVITE` / `SIP/2.0 180` etc., for failure messages.
pub fn summary(m: &Message) -> String {
    match m.status() {
        Some(s) => format!("{} {}", s.as_u16(), m.reason_phrase().unwrap_or_default()),
        None => format!("{} {}", m.method().map(|m| m.as_str()).unwrap_or_default(), m.request_uri_str().unwrap_or_default()),
    }
}

/// The values of header `name`, in order.
pub fn values(m: &Message, name: HeaderName) -> Vec<String> {
    m.values(name).filter_map(Result::ok).map(|v| v.text.to_owned()).collect()
}

/// The first value of header `name`.
pub fn value(m: &Message, name: HeaderName) -> Option<String> {
    values(m, name).into_iter().next()
}

/// The top Via branch.
pub fn branch(m: &Message) -> String {
    m.top_via().ok().and_then(|v| v.branch()).unwrap_or_default().to_owned()
}

/// An INVITE from Alice to `uri`.
pub fn invite(uri: &str, call_id: &str, branch: &str, extra: &str) -> String {
    let body = "v=0\no=alice 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 4000 RTP/AVP 0\n".replace('\n', "\r\n");
    format!(
        "INVITE {uri} SIP/2.0\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch={branch}\n\
         Max-Forwards: 70\n\
         From: \"Alice\" <sip:alice@example.org>;tag=a-{call_id}\n\
         To: <{uri}>\n\
         Call-ID: {call_id}\n\
         CSeq: 1 INVITE\n\
         Contact: <sip:alice@192.0.2.10:5060>\n\
         {extra}Content-Type: application/sdp\n\
         Content-Length: {}\n\n{body}",
        body.len()
    )
}

/// A request from Alice without a body (OPTIONS, MESSAGE, ...).
pub fn request(method: &str, uri: &str, call_id: &str, branch: &str, extra: &str) -> String {
    format!(
        "{method} {uri} SIP/2.0\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch={branch}\n\
         Max-Forwards: 70\n\
         From: <sip:alice@example.org>;tag=a-{call_id}\n\
         To: <{uri}>\n\
         Call-ID: {call_id}\n\
         CSeq: 1 {method}\n\
         {extra}Content-Length: 0\n\n"
    )
}

/// A UAS's response to `req`: every Via, Record-Route (on 1xx/2xx to INVITE, RFC 3261
/// §12.1.1), From, To with `to_tag`, Call-ID, CSeq, and `extra` lines.
pub fn respond(req: &Message, code: u16, reason: &str, to_tag: &str, extra: &str) -> String {
    let mut s = format!("SIP/2.0 {code} {reason}\n");
    for v in values(req, HeaderName::Via) {
        s.push_str(&format!("Via: {v}\n"));
    }
    if code < 300 {
        for rr in values(req, HeaderName::RecordRoute) {
            s.push_str(&format!("Record-Route: {rr}\n"));
        }
    }
    let to = req.header(HeaderName::To).map(|h| String::from_utf8_lossy(h.value).into_owned()).unwrap_or_default();
    let to = if to.contains(";tag=") || to_tag.is_empty() { to } else { format!("{to};tag={to_tag}") };
    for (name, v) in [
        ("From", value(req, HeaderName::From).unwrap_or_default()),
        ("To", to),
        ("Call-ID", value(req, HeaderName::CallId).unwrap_or_default()),
        ("CSeq", value(req, HeaderName::CSeq).unwrap_or_default()),
    ] {
        s.push_str(&format!("{name}: {v}\n"));
    }
    s.push_str(extra);
    s.push_str("Content-Length: 0\n\n");
    s
}
