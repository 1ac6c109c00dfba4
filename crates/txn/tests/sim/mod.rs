//! Simulated time for transaction tests (quinn-proto `tests/util.rs` shape): a table, a clock
//! that only moves when a test says so or jumps to the table's next timeout, and logs of
//! everything the table sent and told the TU, stamped with the simulated time. No sleeps.

#![allow(dead_code, unreachable_pub)]

pub mod msg;
pub mod pair;

use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_sip::{Message, Transport};
use causeway_txn::{Event, Timer, TransactionTable, Transmit, TxnConfig, TxnId};

/// The peer value tests pass through the table: a name.
pub type Peer = &'static str;

/// Milliseconds, for readable schedules.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One message the table handed to the transport.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Simulated time since the start.
    pub at: Duration,
    /// The transmit itself.
    pub transmit: Transmit<Peer>,
}

impl Sent {
    /// The message's start line.
    pub fn start_line(&self) -> String {
        msg::start_line(&self.transmit.bytes)
    }

    /// The message, parsed.
    pub fn message(&self) -> Message {
        msg::parse(self.transmit.bytes.clone())
    }
}

/// What the TU was told, reduced to comparable values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// `Event::Request` with the method.
    Request(TxnId, String),
    /// `Event::Response` with the status code.
    Response(TxnId, u16),
    /// `Event::Ack`.
    Ack(Option<TxnId>),
    /// `Event::StrayResponse` with the status code.
    StrayResponse(u16),
    /// `Event::Timeout`.
    Timeout(TxnId, Timer),
    /// `Event::TransportError`.
    TransportError(TxnId),
    /// `Event::Terminated`.
    Terminated(TxnId),
}

/// A table driven in simulated time.
pub struct Sim {
    pub table: TransactionTable<Peer>,
    pub t0: Instant,
    pub now: Instant,
    pub sent: Vec<Sent>,
    pub seen: Vec<(Duration, Seen)>,
    /// Messages carried by `Request`/`Response`/`Ack` events, in order.
    pub delivered: Vec<Message>,
}

impl Sim {
    pub fn new() -> Self {
        Self::with_config(TxnConfig::default())
    }

    pub fn with_config(config: TxnConfig) -> Self {
        // The one read of the real clock: an arbitrary origin. Everything after is offsets.
        let t0 = Instant::now();
        Self { table: TransactionTable::new(config).expect("valid config"), t0, now: t0, sent: Vec::new(), seen: Vec::new(), delivered: Vec::new() }
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    /// Move the clock to `t0 + at` (never backwards) and fire what is due on the way, in order.
    pub fn advance_to(&mut self, at: Duration) {
        let target = self.t0 + at;
        assert!(target >= self.now, "time runs forwards");
        while let Some(next) = self.table.poll_timeout() {
            if next > target {
                break;
            }
            self.now = next;
            self.table.handle_timeout(next);
            self.drain();
        }
        self.now = target;
    }

    /// Jump to the next timeout and fire it. False when no timer is armed.
    pub fn step(&mut self) -> bool {
        let Some(next) = self.table.poll_timeout() else { return false };
        assert!(next >= self.now, "poll_timeout went backwards");
        self.now = next;
        self.table.handle_timeout(next);
        self.drain();
        true
    }

    /// Step until no timer is left; more than 1000 steps means a runaway timer and fails the test.
    pub fn drive(&mut self) {
        for _ in 0..1000 {
            if !self.step() {
                return;
            }
        }
        panic!("still stepping after 1000 timeouts");
    }

    /// Hand a message to the table as if it arrived now.
    pub fn receive(&mut self, message: Message, transport: Transport, from: Peer) {
        let result = self.table.handle_message(self.now, message, transport, from);
        assert!(result.is_ok(), "message rejected: {:?}", result.err().map(|r| r.error));
        self.drain();
    }

    /// Start a client transaction now.
    pub fn start(&mut self, request: Message, transport: Transport, to: Peer) -> TxnId {
        let txn = self.table.start_client(self.now, request, transport, to);
        let txn = txn.unwrap_or_else(|e| panic!("start_client: {e}"));
        self.drain();
        txn
    }

    /// The TU responds now.
    pub fn respond(&mut self, txn: TxnId, response: Message) {
        let result = self.table.respond(self.now, txn, response);
        result.unwrap_or_else(|e| panic!("respond: {e}"));
        self.drain();
    }

    /// Collect everything the table queued.
    pub fn drain(&mut self) {
        let at = self.elapsed();
        while let Some(transmit) = self.table.poll_transmit() {
            self.sent.push(Sent { at, transmit });
        }
        while let Some(event) = self.table.poll_event() {
            let seen = match event {
                Event::Request { txn, request } => {
                    let method = request.method().map(|m| m.to_string()).unwrap_or_default();
                    self.delivered.push(request);
                    Seen::Request(txn, method)
                }
                Event::Response { txn, response } => {
                    let code = response.status().map(|s| s.as_u16()).unwrap_or_default();
                    self.delivered.push(response);
                    Seen::Response(txn, code)
                }
                Event::Ack { txn, request, .. } => {
                    self.delivered.push(request);
                    Seen::Ack(txn)
                }
                Event::StrayResponse { response, .. } => {
                    Seen::StrayResponse(response.status().map(|s| s.as_u16()).unwrap_or_default())
                }
                Event::Timeout { txn, timer } => Seen::Timeout(txn, timer),
                Event::TransportError { txn } => Seen::TransportError(txn),
                Event::Terminated { txn } => Seen::Terminated(txn),
            };
            self.seen.push((at, seen));
        }
    }

    /// The times (since start) of every send whose start line begins with `prefix`.
    pub fn send_times(&self, prefix: &str) -> Vec<Duration> {
        self.sent.iter().filter(|s| s.start_line().starts_with(prefix)).map(|s| s.at).collect()
    }

    /// Everything the TU was told, without times.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.iter().map(|(_, s)| s.clone()).collect()
    }

    /// When the TU was told `what`.
    pub fn seen_at(&self, what: &Seen) -> Option<Duration> {
        self.seen.iter().find(|(_, s)| s == what).map(|(at, _)| *at)
    }

    /// Forget the logs (not the table).
    pub fn clear_logs(&mut self) {
        self.sent.clear();
        self.seen.clear();
        self.delivered.clear();
    }
}

/// `Bytes` from text.
pub fn bytes(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}
