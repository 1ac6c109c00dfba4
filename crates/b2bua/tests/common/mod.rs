//! A node in simulated time: the proxy core with the engine lent to it, as causeway-node runs
//! them, fed with message text and drained into a list of what went out.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_b2bua::{B2bua, B2buaConfig, Event, FixedClock};
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
        Self::with(cluster, |_| {})
    }

    pub fn with(cluster: Cluster, tune: impl FnOnce(&mut B2buaConfig)) -> Self {
        let t0 = Instant::now();
        let proxy = ProxyConfig::with_listeners([(Transport::Udp, addr(NODE)), (Transport::Tcp, addr(NODE))]);
        let mut config = B2buaConfig::new(proxy.listeners.clone());
        tune(&mut config);
        let clock = FixedClock { at: t0, wall: Utc.with_ymd_and_hms(2026, 11, 24, 17, 0, 0).single().unwrap_or_default() };
        let core = Core::new(proxy, StaticRoutes::default(), 1).unwrap_or_else(|e| panic!("{e}"));
        let b2bua = B2bua::new(config, Arc::new(cluster), Box::new(clock), 2, t0).unwrap_or_else(|e| panic!("{e}"));
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
            bytes: Bytes::from(text.replace('\n', "\r\n")),
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
