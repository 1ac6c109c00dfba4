//! Whole calls through the proxy core in memory: the CPU a record-routing stateful relay
//! spends per call (INVITE, 100, 180, 200, ACK, BYE, 200 — 6 messages in, 7 out — plus the
//! timers that retire its transactions), on one core.
//!
//! Calls are placed at 7 500 per simulated second, so the transaction table holds what a real
//! 7 500 cps run holds (RFC 6026 keeps INVITE transactions 32 s after the 2xx); the warm-up
//! runs long enough in simulated time for expiries to be part of the steady state. Only the
//! time spent inside `Core` calls is measured; building the user agents' messages is not.
//!
//! Run: `cargo bench -p causeway-proxy --bench relay`. Calls/s per core = 1 / (time per call).
//!
//! Measured 2026-11-23 on the shared 2-core AMD EPYC VM (release profile, fat LTO), steady
//! state with about 757 000 live transactions: 37.6 µs per call (35.7-40.3), i.e. about
//! 26 600 calls/s per core for the core alone (no syscalls). Callgrind puts about 170 000
//! instructions in the core per call; most of them in SIP parsing and typed-header decoding
//! (Message::parse, Via/URI/name-addr parsing in the §16.3 checks), the rest in the
//! transaction table and its timers.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_proxy::{Core, Inbound, NextHop, ProxyConfig, RouteMatch, StaticRoute, StaticRoutes};
use causeway_sip::{HeaderName, Message, Transport};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const PROXY: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)), 5070);
const UAC: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)), 5061);
const UAS: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)), 5080);
/// Simulated calls per second (the Kamailio comparison rate); `CAUSEWAY_BENCH_CPS` overrides
/// it to see how the size of the live transaction table changes the cost.
fn call_gap() -> Duration {
    let cps = std::env::var("CAUSEWAY_BENCH_CPS").ok().and_then(|v| v.parse::<u64>().ok()).filter(|&v| v > 0).unwrap_or(7_500);
    Duration::from_nanos(1_000_000_000 / cps)
}

/// A SIPp-like INVITE (uac.xml shape), about 600 bytes with its SDP.
fn invite(n: u64) -> String {
    let sdp = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    format!(
        "INVITE sip:service@127.0.0.1:5070 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{n}-1-0\r\n\
         From: sipp <sip:sipp@127.0.0.1:5061>;tag={n}SIPpTag001\r\n\
         To: service <sip:service@127.0.0.1:5070>\r\n\
         Call-ID: {n}-7345@127.0.0.1\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: sip:sipp@127.0.0.1:5061\r\n\
         Max-Forwards: 70\r\n\
         Subject: Performance Test\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

/// A UAS response to `req` (all Vias, Record-Route, To tag, Contact).
fn response(req: &Message, code: &str, to_tag: bool) -> String {
    let mut s = format!("SIP/2.0 {code}\r\n");
    for v in req.values(HeaderName::Via).filter_map(Result::ok) {
        s.push_str(&format!("Via: {}\r\n", v.text));
    }
    for rr in req.values(HeaderName::RecordRoute).filter_map(Result::ok) {
        s.push_str(&format!("Record-Route: {}\r\n", rr.text));
    }
    let field = |n| req.header(n).map(|h| String::from_utf8_lossy(h.value).into_owned()).unwrap_or_default();
    let to = if to_tag { format!("{};tag=uas1", field(HeaderName::To)) } else { field(HeaderName::To) };
    s.push_str(&format!(
        "From: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:127.0.0.1:5080;transport=UDP>\r\nContent-Length: 0\r\n\r\n",
        field(HeaderName::From),
        field(HeaderName::CallId),
        field(HeaderName::CSeq)
    ));
    s
}

/// The UAC's in-dialog request (ACK or BYE) along the route set from the 200.
fn in_dialog(method: &str, n: u64, cseq: u32, route: &str) -> String {
    format!(
        "{method} sip:127.0.0.1:5080;transport=UDP SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{n}-{cseq}-{method}\r\n\
         Route: {route}\r\n\
         From: sipp <sip:sipp@127.0.0.1:5061>;tag={n}SIPpTag001\r\n\
         To: service <sip:service@127.0.0.1:5070>;tag=uas1\r\n\
         Call-ID: {n}-7345@127.0.0.1\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: sip:sipp@127.0.0.1:5061\r\n\
         Max-Forwards: 70\r\n\
         Subject: Performance Test\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

struct Relay {
    core: Core,
    now: Instant,
    gap: Duration,
    calls: u64,
    out: Vec<Bytes>,
}

impl Relay {
    fn new() -> Self {
        let routes = StaticRoutes::new(vec![StaticRoute {
            matcher: RouteMatch::Default,
            next_hop: NextHop { transport: Transport::Udp, address: UAS, flow: None },
        }]);
        let config = ProxyConfig::with_listeners([(Transport::Udp, PROXY)]);
        let core = Core::new(config, routes, 7).unwrap_or_else(|e| panic!("config: {e}"));
        Self { core, now: Instant::now(), gap: call_gap(), calls: 0, out: Vec::new() }
    }

    /// Feed one message and collect the output; returns the time spent in the core.
    fn feed(&mut self, from: SocketAddr, text: String) -> Duration {
        let bytes = Bytes::from(text);
        let start = Instant::now();
        self.core.handle_inbound(
            self.now,
            Inbound { bytes, transport: Transport::Udp, local: PROXY, peer: from, flow: None, tls_peer_names: None },
        );
        while let Some(t) = self.core.poll_transmit() {
            self.out.push(black_box(t.bytes));
        }
        let _ = black_box(self.core.poll_timeout());
        start.elapsed()
    }

    /// Timers due by now.
    fn tick(&mut self) -> Duration {
        let start = Instant::now();
        while let Some(at) = self.core.poll_timeout().filter(|&at| at <= self.now) {
            self.core.handle_timeout(at);
            while let Some(t) = self.core.poll_transmit() {
                self.out.push(black_box(t.bytes));
            }
        }
        start.elapsed()
    }

    fn last_out(&mut self) -> Message {
        let bytes = self.out.pop().unwrap_or_default();
        self.out.clear();
        Message::parse(bytes).unwrap_or_else(|e| panic!("core sent unparsable bytes: {e}"))
    }

    /// One whole call; the time spent in the core.
    fn call(&mut self) -> Duration {
        self.calls += 1;
        let n = self.calls;
        self.now += self.gap;
        let mut spent = self.tick();
        spent += self.feed(UAC, invite(n));
        let fwd = self.last_out();
        spent += self.feed(UAS, response(&fwd, "180 Ringing", true));
        self.out.clear();
        spent += self.feed(UAS, response(&fwd, "200 OK", true));
        let ok = self.last_out();
        let route = ok.values(HeaderName::RecordRoute).filter_map(Result::ok).map(|v| v.text.to_owned()).collect::<Vec<_>>().join(", ");
        spent += self.feed(UAC, in_dialog("ACK", n, 1, &route));
        self.out.clear();
        spent += self.feed(UAC, in_dialog("BYE", n, 2, &route));
        let bye = self.last_out();
        spent += self.feed(UAS, response(&bye, "200 OK", false));
        self.out.clear();
        spent
    }
}

fn relay(c: &mut Criterion) {
    let mut group = c.benchmark_group("relay");
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_secs(8));
    group.measurement_time(Duration::from_secs(10));
    let mut relay = Relay::new();
    group.bench_function("record_routing_call", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| relay.call()).sum());
    });
    group.finish();
    let c = relay.core.counters();
    println!(
        "calls={} simulated={:?} transactions_alive={} contexts_alive={}",
        relay.calls,
        relay.gap * u32::try_from(relay.calls).unwrap_or(u32::MAX),
        c.transactions_alive,
        c.contexts_alive
    );
}

criterion_group!(benches, relay);
criterion_main!(benches);
