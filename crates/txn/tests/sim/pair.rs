//! Two tables joined by a simulated network (quinn-proto `Pair`): a UAC-side table and a
//! UAS-side table, fixed latency, and a `lose` hook that drops chosen datagrams in flight.

use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_sip::Transport;
use causeway_txn::TxnConfig;

use super::{msg, Sim};

/// Which side a datagram travels to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Uac,
    Uas,
}

/// A datagram on the wire.
#[derive(Debug, Clone)]
pub struct Flight {
    pub arrive: Instant,
    pub to: Side,
    pub bytes: Bytes,
    pub transport: Transport,
}

impl Flight {
    /// The datagram's start line.
    pub fn start_line(&self) -> String {
        msg::start_line(&self.bytes)
    }
}

/// Returns true for a datagram the network should lose; `n` counts datagrams sent so far.
pub type Lose = Box<dyn FnMut(usize, &Flight) -> bool>;

pub struct Pair {
    pub uac: Sim,
    pub uas: Sim,
    pub latency: Duration,
    pub lose: Lose,
    /// Datagrams lost so far, by start line.
    pub lost: Vec<String>,
    in_flight: Vec<Flight>,
    uac_cursor: usize,
    uas_cursor: usize,
    sent_count: usize,
}

impl Pair {
    pub fn new(config: TxnConfig, latency: Duration) -> Self {
        let uac = Sim::with_config(config);
        let mut uas = Sim::with_config(config);
        uas.t0 = uac.t0;
        uas.now = uac.now;
        Self {
            uac,
            uas,
            latency,
            lose: Box::new(|_, _| false),
            lost: Vec::new(),
            in_flight: Vec::new(),
            uac_cursor: 0,
            uas_cursor: 0,
            sent_count: 0,
        }
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        self.uac.elapsed()
    }

    /// Run both sides and the network up to `t0 + at`.
    pub fn advance_to(&mut self, at: Duration) {
        let target = self.uac.t0 + at;
        for _ in 0..10_000 {
            self.collect();
            match self.next_time() {
                Some(t) if t <= target => self.fire(t),
                _ => break,
            }
        }
        self.uac.now = target;
        self.uas.now = target;
    }

    /// Run until nothing is in flight and no timer is armed on either side.
    pub fn drive(&mut self) {
        for _ in 0..10_000 {
            self.collect();
            let Some(t) = self.next_time() else { return };
            self.fire(t);
        }
        panic!("pair still busy after 10000 steps");
    }

    /// Move every new transmit of either side onto the wire (or into `lost`).
    fn collect(&mut self) {
        let latency = self.latency;
        let mut new = Vec::new();
        for (sim, cursor, to) in [(&self.uac, &mut self.uac_cursor, Side::Uas), (&self.uas, &mut self.uas_cursor, Side::Uac)] {
            for sent in sim.sent.iter().skip(*cursor) {
                let arrive = sim.t0 + sent.at + latency;
                new.push(Flight { arrive, to, bytes: sent.transmit.bytes.clone(), transport: sent.transmit.transport });
            }
            *cursor = sim.sent.len();
        }
        for flight in new {
            let n = self.sent_count;
            self.sent_count += 1;
            if (self.lose)(n, &flight) {
                self.lost.push(flight.start_line());
            } else {
                self.in_flight.push(flight);
            }
        }
    }

    fn next_time(&mut self) -> Option<Instant> {
        let arrival = self.in_flight.iter().map(|f| f.arrive).min();
        [arrival, self.uac.table.poll_timeout(), self.uas.table.poll_timeout()].into_iter().flatten().min()
    }

    fn fire(&mut self, t: Instant) {
        self.uac.now = t;
        self.uas.now = t;
        let (due, later): (Vec<Flight>, Vec<Flight>) = self.in_flight.drain(..).partition(|f| f.arrive <= t);
        self.in_flight = later;
        for flight in due {
            let message = msg::parse(flight.bytes);
            match flight.to {
                Side::Uac => self.uac.receive(message, flight.transport, "uas"),
                Side::Uas => self.uas.receive(message, flight.transport, "uac"),
            }
        }
        for sim in [&mut self.uac, &mut self.uas] {
            if sim.table.poll_timeout().is_some_and(|d| d <= t) {
                sim.table.handle_timeout(t);
                sim.drain();
            }
        }
    }
}
