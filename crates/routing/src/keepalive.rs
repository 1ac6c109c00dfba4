//! OPTIONS keepalive per peer, as a pure state machine in simulated time (quinn's
//! `handle_*`/`poll_*` shape): the node sends the OPTIONS [`Keepalive::poll_probe`] asks for,
//! reports each outcome with [`Keepalive::handle_result`], and wakes at
//! [`Keepalive::poll_timeout`]. State changes come out of [`Keepalive::poll_event`]; the current
//! states feed routing through [`Keepalive::snapshot`] and `causeway status` through
//! [`Keepalive::status`].
//!
//! A probe is due every `interval`. A final response within `timeout` is a success, except 408,
//! 503 and 504, which say the peer is not serving (the Teams Direct Routing proxies demote an
//! SBC on them too, ANCHORS §A3); no response, or a transport error, is a failure.
//! `successes_before_up` successes in a row make a peer up, `failures_before_down` failures in a
//! row make it down. A new peer is `unknown` until one of those happens.

use std::collections::VecDeque;
use std::time::Instant;

use serde::Serialize;

use crate::health::{HealthSnapshot, PeerState};
use crate::table::{KeepaliveSettings, Peer, RoutingTable};

/// Identifies one probe, so that a late answer to an expired probe is not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ProbeId(u64);

/// "Send OPTIONS to this peer now."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Give it back with the result.
    pub id: ProbeId,
    /// The zone.
    pub zone: String,
    /// The peer.
    pub peer: Peer,
    /// The FQDN to put in Contact (and Record-Route) when the zone has one (trunks: Teams
    /// Direct Routing looks the SBC up by it and refuses IP addresses).
    pub contact_host: Option<String>,
}

/// What became of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    /// A final response with this status.
    Response(u16),
    /// The request could not be sent (connection refused, TLS failure, ...).
    TransportError,
}

/// A peer changed state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateChange {
    /// The zone.
    pub zone: String,
    /// The peer (`host:port`).
    pub peer: String,
    /// Old state.
    pub from: PeerState,
    /// New state.
    pub to: PeerState,
    /// When.
    #[serde(skip)]
    pub at: Instant,
}

/// One peer's state for `causeway status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerStatus {
    /// The zone.
    pub zone: String,
    /// The peer (`host:port`).
    pub peer: String,
    /// Current state.
    pub state: PeerState,
    /// When it last changed (`None`: never).
    #[serde(skip)]
    pub last_change: Option<Instant>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Successes in a row.
    pub consecutive_successes: u32,
}

#[derive(Debug)]
struct Monitor {
    zone: String,
    peer: Peer,
    contact_host: Option<String>,
    settings: KeepaliveSettings,
    state: PeerState,
    last_change: Option<Instant>,
    next_due: Instant,
    outstanding: Option<(ProbeId, Instant)>,
    successes: u32,
    failures: u32,
}

/// Keepalive for every monitored peer of a routing table.
#[derive(Debug)]
pub struct Keepalive {
    monitors: Vec<Monitor>,
    probes: VecDeque<Probe>,
    events: VecDeque<StateChange>,
    next_id: u64,
}

impl Keepalive {
    /// Monitors every peer of every zone with keepalive; the first probes are due at `now`.
    pub fn new(table: &RoutingTable, now: Instant) -> Self {
        let monitors = table
            .zones()
            .filter_map(|z| z.keepalive.map(|k| (z, k)))
            .flat_map(|(z, settings)| {
                z.peers.iter().map(move |peer| Monitor {
                    zone: z.name.clone(),
                    peer: peer.clone(),
                    contact_host: z.local_fqdn.clone(),
                    settings,
                    state: PeerState::Unknown,
                    last_change: None,
                    next_due: now,
                    outstanding: None,
                    successes: 0,
                    failures: 0,
                })
            })
            .collect();
        Self { monitors, probes: VecDeque::new(), events: VecDeque::new(), next_id: 0 }
    }

    /// Expires overdue probes, then queues the probes that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        for i in 0..self.monitors.len() {
            let Some(m) = self.monitors.get_mut(i) else { continue };
            if m.outstanding.is_some_and(|(_, deadline)| deadline <= now) {
                m.outstanding = None;
                record(m, false, now, &mut self.events);
            }
            if m.outstanding.is_none() && m.next_due <= now {
                let id = ProbeId(self.next_id);
                self.next_id += 1;
                m.outstanding = Some((id, now + m.settings.timeout));
                m.next_due = now + m.settings.interval;
                let probe = Probe { id, zone: m.zone.clone(), peer: m.peer.clone(), contact_host: m.contact_host.clone() };
                self.probes.push_back(probe);
            }
        }
    }

    /// The outcome of a probe. Results of expired or unknown probes are ignored.
    pub fn handle_result(&mut self, now: Instant, id: ProbeId, result: ProbeResult) {
        let Some(m) = self.monitors.iter_mut().find(|m| m.outstanding.is_some_and(|(o, _)| o == id)) else { return };
        m.outstanding = None;
        let success = matches!(result, ProbeResult::Response(status) if !matches!(status, 408 | 503 | 504));
        record(m, success, now, &mut self.events);
    }

    /// The next OPTIONS to send.
    #[must_use]
    pub fn poll_probe(&mut self) -> Option<Probe> {
        self.probes.pop_front()
    }

    /// The next state change.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<StateChange> {
        self.events.pop_front()
    }

    /// When to call [`Keepalive::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.monitors.iter().map(|m| m.outstanding.map_or(m.next_due, |(_, deadline)| deadline.min(m.next_due))).min()
    }

    /// Current states, for routing.
    pub fn snapshot(&self) -> HealthSnapshot {
        let mut snapshot = HealthSnapshot::default();
        self.write_states(&mut snapshot);
        snapshot
    }

    /// Writes current states into `snapshot` (keeping its resolved addresses).
    pub fn write_states(&self, snapshot: &mut HealthSnapshot) {
        for m in &self.monitors {
            snapshot.set_state(&m.zone, m.peer.key(), m.state);
        }
    }

    /// Every monitored peer, for `causeway status`.
    pub fn status(&self) -> Vec<PeerStatus> {
        self.monitors
            .iter()
            .map(|m| PeerStatus {
                zone: m.zone.clone(),
                peer: m.peer.key().to_owned(),
                state: m.state,
                last_change: m.last_change,
                consecutive_failures: m.failures,
                consecutive_successes: m.successes,
            })
            .collect()
    }
}

fn record(m: &mut Monitor, success: bool, now: Instant, events: &mut VecDeque<StateChange>) {
    let to = if success {
        m.successes = m.successes.saturating_add(1);
        m.failures = 0;
        (m.successes >= m.settings.successes_before_up).then_some(PeerState::Up)
    } else {
        m.failures = m.failures.saturating_add(1);
        m.successes = 0;
        (m.failures >= m.settings.failures_before_down).then_some(PeerState::Down)
    };
    if let Some(to) = to.filter(|to| *to != m.state) {
        events.push_back(StateChange { zone: m.zone.clone(), peer: m.peer.key().to_owned(), from: m.state, to, at: now });
        m.state = to;
        m.last_change = Some(now);
    }
}
