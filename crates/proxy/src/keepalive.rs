//! OPTIONS keepalive to the peers of neighbor, trunk and traversal-client zones (issue 3 item 1,
//! ANCHORS §A3), run inside the core so it shares the transaction layer and the simulated
//! clock. causeway-routing's [`Keepalive`] decides when each peer is probed and what an answer
//! means (timeout, failures before down, successes before up); this module turns each probe
//! into an OPTIONS sent through a client non-INVITE transaction (RFC 3261 §11.1, §17.1.2),
//! reports the outcome back, and keeps the [`HealthSnapshot`] that routing reads.
//!
//! The OPTIONS says who we are the way Teams Direct Routing needs it: the zone's `local_fqdn`
//! (trunks) in Contact and in a Record-Route entry — the proxy looks the SBC up by the FQDN
//! there and refuses IP addresses — and an `Allow` that lists REFER, so the proxy sends REFER
//! to us instead of acting as the referee. A peer configured by host name is looked up
//! (A/AAAA, through [`Core::poll_resolve`]) and its addresses kept for their TTL.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_routing::keepalive::{PeerStatus, Probe, ProbeId, ProbeResult, StateChange};
use causeway_routing::resolve::{DnsAnswer, DnsQuery, QueryKind};
use causeway_routing::{HealthSnapshot, Keepalive, RoutingTable};
use causeway_sip::{Method, Transport};
use causeway_txn::{Event, TxnId};

use crate::context::Peer;
use crate::core::Core;
use crate::dns::Owner;
use crate::locate::Locator;
use crate::reply::ALLOW;
use crate::traversal::Traversal;

/// State changes kept for [`Core::poll_peer_change`] when nobody drains them.
const MAX_CHANGES: usize = 1024;
/// Shortest time a peer's looked-up addresses are kept, whatever their TTL says.
const MIN_ADDRESS_TTL: Duration = Duration::from_secs(1);

/// The keepalive of one core: probes in flight and the peers' health.
#[derive(Debug)]
pub(crate) struct PeerMonitor {
    keepalive: Keepalive,
    /// Keepalive timeout per zone: an unanswered probe's transaction is ended then.
    timeouts: HashMap<String, Duration>,
    /// OPTIONS transactions in flight: their probe and when it is given up.
    in_flight: HashMap<TxnId, (ProbeId, Instant)>,
    /// Probes waiting for their peer's host name to be looked up, by host.
    waiting: HashMap<String, Vec<Probe>>,
    /// Looked-up addresses by host, and until when they may be used (their TTL).
    addresses: HashMap<String, (Vec<IpAddr>, Instant)>,
    pub(crate) health: HealthSnapshot,
    /// Connections internal nodes keep open for traversal-server zones.
    pub(crate) traversal: Traversal,
    changes: VecDeque<StateChange>,
    cseq: u32,
}

impl PeerMonitor {
    fn new(table: &RoutingTable, now: Instant) -> Self {
        let timeouts = table.zones().filter_map(|z| z.keepalive.map(|k| (z.name.clone(), k.timeout))).collect();
        let keepalive = Keepalive::new(table, now);
        Self {
            health: keepalive.snapshot(),
            keepalive,
            traversal: Traversal::new(table),
            timeouts,
            in_flight: HashMap::new(),
            waiting: HashMap::new(),
            addresses: HashMap::new(),
            changes: VecDeque::new(),
            cseq: 0,
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let probes = self.keepalive.poll_timeout();
        let given_up = self.in_flight.values().map(|(_, at)| *at).min();
        match (probes, given_up) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn result(&mut self, now: Instant, probe: ProbeId, result: ProbeResult) {
        self.keepalive.handle_result(now, probe, result);
        self.collect_changes();
    }

    fn collect_changes(&mut self) {
        let mut changed = false;
        while let Some(change) = self.keepalive.poll_event() {
            tracing::info!(zone = %change.zone, peer = %change.peer, from = %change.from, to = %change.to, "peer keepalive state");
            if self.changes.len() >= MAX_CHANGES {
                self.changes.pop_front();
            }
            self.changes.push_back(change);
            changed = true;
        }
        if changed {
            self.keepalive.write_states(&mut self.health);
        }
    }
}

impl<L: Locator> Core<L> {
    /// Starts (or, after a reload, restarts) OPTIONS keepalive for every monitored peer of
    /// `table`; the first probes go out at `now`. Until a peer has answered or failed enough
    /// probes its state is `unknown`.
    pub fn monitor_peers(&mut self, now: Instant, table: &RoutingTable) {
        for txn in self.monitor.take().into_iter().flat_map(|m| m.in_flight.into_keys()) {
            self.txns.terminate(txn);
        }
        self.monitor = Some(PeerMonitor::new(table, now));
        self.after_input();
    }

    /// Keepalive state of every monitored peer, for `causeway status`.
    pub fn peer_status(&self) -> Vec<PeerStatus> {
        self.monitor.as_ref().map(|m| m.keepalive.status()).unwrap_or_default()
    }

    /// Peer health as of the last `handle_*` call (states and looked-up addresses), for
    /// routing; `None` before [`Core::monitor_peers`].
    pub fn health(&self) -> Option<&HealthSnapshot> {
        self.monitor.as_ref().map(|m| &m.health)
    }

    /// The next peer state change, oldest first (the last [`MAX_CHANGES`] are kept).
    #[must_use]
    pub fn poll_peer_change(&mut self) -> Option<StateChange> {
        self.monitor.as_mut().and_then(|m| m.changes.pop_front())
    }

    /// When the keepalive (or the DNS answers it holds) needs [`Core::handle_timeout`].
    pub(crate) fn keepalive_deadline(&self) -> Option<Instant> {
        let probes = self.monitor.as_ref().and_then(PeerMonitor::deadline);
        [probes, self.dns_deadline()].into_iter().flatten().min()
    }

    /// Forgets expired DNS answers, gives up unanswered probes, then sends the probes that are due.
    pub(crate) fn keepalive_timeout(&mut self, now: Instant) {
        self.expire_dns(now);
        let Some(monitor) = self.monitor.as_mut() else { return };
        let expired: Vec<TxnId> = monitor.in_flight.iter().filter(|(_, (_, at))| *at <= now).map(|(t, _)| *t).collect();
        for txn in expired {
            monitor.in_flight.remove(&txn);
            self.txns.terminate(txn);
        }
        monitor.keepalive.handle_timeout(now);
        monitor.collect_changes();
        let probes: Vec<Probe> = std::iter::from_fn(|| monitor.keepalive.poll_probe()).collect();
        for probe in probes {
            self.probe(now, probe);
        }
    }

    /// Takes the transaction events that belong to keepalive probes; gives back the others.
    pub(crate) fn keepalive_event(&mut self, now: Instant, event: Event<Peer>) -> Option<Event<Peer>> {
        let Some(monitor) = self.monitor.as_mut() else { return Some(event) };
        let txn = match &event {
            Event::Response { txn, .. } | Event::Timeout { txn, .. } | Event::TransportError { txn } | Event::Terminated { txn } => *txn,
            Event::Request { .. } | Event::Ack { .. } | Event::StrayResponse { .. } => return Some(event),
        };
        let Some(&(probe, _)) = monitor.in_flight.get(&txn) else {
            return Some(event);
        };
        let result = match &event {
            Event::Response { response, .. } => match response.status() {
                Some(status) if status.as_u16() >= 200 => ProbeResult::Response(status.as_u16()),
                _ => return None,
            },
            // RFC 3261 §8.1.3.1: Timer F acts as a 408.
            Event::Timeout { .. } => ProbeResult::Response(408),
            // §8.1.3.1: a transport error acts as a 503; the keepalive counts it as a failure.
            Event::TransportError { .. } => ProbeResult::TransportError,
            _ => {
                monitor.in_flight.remove(&txn);
                return None;
            }
        };
        monitor.in_flight.remove(&txn);
        monitor.result(now, probe, result);
        None
    }

    /// A peer host's A/AAAA answer: the probes waiting for it go out, or fail.
    pub(crate) fn keepalive_resolved(&mut self, now: Instant, host: &str, answer: DnsAnswer) {
        let Some(monitor) = self.monitor.as_mut() else { return };
        let waiting = monitor.waiting.remove(host).unwrap_or_default();
        let records = match answer {
            DnsAnswer::Addresses(records) if !records.is_empty() => records,
            other => {
                tracing::debug!(%host, ?other, "keepalive peer has no address");
                for p in waiting {
                    monitor.result(now, p.id, ProbeResult::TransportError);
                }
                return;
            }
        };
        let ttl = records.iter().map(|r| r.ttl).min().map_or(MIN_ADDRESS_TTL, |t| Duration::from_secs(t.into()).max(MIN_ADDRESS_TTL));
        let addresses: Vec<IpAddr> = records.iter().map(|r| r.address).collect();
        monitor.addresses.insert(host.to_owned(), (addresses.clone(), now + ttl));
        for p in &waiting {
            monitor.health.set_addresses(&p.zone, p.peer.key(), addresses.clone());
        }
        if let Some(&ip) = addresses.first() {
            for p in waiting {
                self.send_probe(now, p, ip);
            }
        }
    }

    /// Sends `probe` to its peer's address, looking the host name up first when needed.
    fn probe(&mut self, now: Instant, probe: Probe) {
        let host = probe.peer.host.clone();
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self.send_probe(now, probe, ip);
        }
        let Some(monitor) = self.monitor.as_mut() else { return };
        match monitor.addresses.get(&host) {
            Some((addresses, until)) if *until > now => {
                if let Some(&ip) = addresses.first() {
                    return self.send_probe(now, probe, ip);
                }
            }
            _ => {}
        }
        let queue = monitor.waiting.entry(host.clone()).or_default();
        queue.push(probe);
        if queue.len() == 1 {
            let query = DnsQuery { name: host.clone(), kind: QueryKind::Address };
            self.start_lookup(now, query, Owner::PeerAddress { host });
        }
    }

    /// RFC 3261 §11.1: an OPTIONS to the peer in its own client transaction.
    fn send_probe(&mut self, now: Instant, probe: Probe, ip: IpAddr) {
        let transport = probe.peer.transport;
        let destination = SocketAddr::new(ip, probe.peer.port);
        let listener = self.identity.egress(transport, None).and_then(|i| self.identity.listener(i));
        let Some(monitor) = self.monitor.as_mut() else { return };
        let Some(listener) = listener else {
            tracing::warn!(%transport, peer = %probe.peer.key(), "no listener for the keepalive's transport");
            return monitor.result(now, probe.id, ProbeResult::TransportError);
        };
        monitor.cseq = monitor.cseq.wrapping_add(1);
        let branch = self.ids.next_branch(0);
        let tag = self.ids.next_tag();
        let call_id = self.ids.next_tag();
        let options = OptionsProbe {
            peer_host: &probe.peer.host,
            peer_port: probe.peer.port,
            transport,
            via: &listener.via_prefix,
            branch: branch.as_str(),
            local_host: listener.host(),
            local_port: listener.port(),
            contact_host: probe.contact_host.as_deref(),
            tag: tag.as_str(),
            call_id: call_id.as_str(),
            cseq: monitor.cseq,
            user_agent: self.config.server.as_deref(),
        };
        let bytes = Bytes::from(options.write());
        let peer = Peer { transport, local: listener.local, destination, flow: None };
        match self.txns.start_client_bytes(now, bytes, &Method::Options, branch.as_str(), transport, peer) {
            Ok(txn) => {
                self.counters.requests_sent.add(&Method::Options);
                let timeout = monitor.timeouts.get(&probe.zone).copied().unwrap_or(self.txns.config().t1_x64());
                monitor.in_flight.insert(txn, (probe.id, now + timeout));
            }
            Err(error) => {
                tracing::warn!(%error, "cannot start a keepalive transaction");
                monitor.result(now, probe.id, ProbeResult::TransportError);
            }
        }
    }
}

/// The parts of one keepalive OPTIONS.
struct OptionsProbe<'a> {
    peer_host: &'a str,
    peer_port: u16,
    transport: Transport,
    /// Our Via up to `branch=`.
    via: &'a str,
    branch: &'a str,
    local_host: &'a str,
    local_port: u16,
    /// The zone's FQDN (trunks): Contact and Record-Route carry it instead of our listener's
    /// host.
    contact_host: Option<&'a str>,
    tag: &'a str,
    call_id: &'a str,
    cseq: u32,
    user_agent: Option<&'a str>,
}

impl OptionsProbe<'_> {
    fn write(&self) -> String {
        let bracket = |h: &str| if h.contains(':') && !h.starts_with('[') { format!("[{h}]") } else { h.to_owned() };
        let peer = format!("{}:{}", bracket(self.peer_host), self.peer_port);
        let t = self.transport.uri_param();
        let me = self.contact_host.unwrap_or(self.local_host);
        let mut m = String::with_capacity(640);
        // Writing to a String cannot fail.
        let _ = write!(m, "OPTIONS sip:{peer};transport={t} SIP/2.0\r\n");
        let _ = write!(m, "Via: {}{}\r\n", self.via, self.branch);
        m.push_str("Max-Forwards: 70\r\n");
        let _ = write!(m, "From: <sip:{me}>;tag={}\r\n", self.tag);
        let _ = write!(m, "To: <sip:{peer}>\r\n");
        let _ = write!(m, "Call-ID: {}@{me}\r\n", self.call_id);
        let _ = write!(m, "CSeq: {} OPTIONS\r\n", self.cseq);
        let _ = write!(m, "Contact: <sip:{me}:{};transport={t}>\r\n", self.local_port);
        if let Some(fqdn) = self.contact_host {
            // ANCHORS §A3: the Teams proxy checks Record-Route, then Contact, for the SBC FQDN.
            let _ = write!(m, "Record-Route: <sip:{fqdn}:{};transport={t};lr>\r\n", self.local_port);
        }
        let _ = write!(m, "Allow: {ALLOW}\r\n");
        m.push_str("Accept: application/sdp\r\n");
        if let Some(ua) = self.user_agent {
            let _ = write!(m, "User-Agent: {ua}\r\n");
        }
        m.push_str("Content-Length: 0\r\n\r\n");
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_sip::Message;

    #[test]
    fn rfc3261_11_1_options_carries_the_trunk_fqdn_and_refer() {
        let probe = OptionsProbe {
            peer_host: "sip.pstnhub.microsoft.com",
            peer_port: 5061,
            transport: Transport::Tls,
            via: "SIP/2.0/TLS 192.0.2.1:5061;branch=",
            branch: "z9hG4bKcwx",
            local_host: "192.0.2.1",
            local_port: 5061,
            contact_host: Some("sbc.ent-pa.com"),
            tag: "cw1",
            call_id: "cw2",
            cseq: 7,
            user_agent: Some("Causeway"),
        };
        let msg = Message::parse(Bytes::from(probe.write())).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(msg.request_uri_str(), Some("sip:sip.pstnhub.microsoft.com:5061;transport=tls"));
        let header = |name: &str| msg.headers().find(|h| h.name.as_str().eq_ignore_ascii_case(name)).map(|h| String::from_utf8_lossy(h.value).into_owned());
        assert_eq!(header("Contact").as_deref(), Some("<sip:sbc.ent-pa.com:5061;transport=tls>"));
        assert_eq!(header("Record-Route").as_deref(), Some("<sip:sbc.ent-pa.com:5061;transport=tls;lr>"));
        assert!(header("Allow").is_some_and(|a| a.contains("REFER")));
        assert_eq!(header("CSeq").as_deref(), Some("7 OPTIONS"));
    }

    #[test]
    fn neighbor_options_uses_the_listener_and_no_record_route() {
        let probe = OptionsProbe {
            peer_host: "::1",
            peer_port: 5060,
            transport: Transport::Udp,
            via: "SIP/2.0/UDP [::1]:5070;branch=",
            branch: "z9hG4bKcwy",
            local_host: "[::1]",
            local_port: 5070,
            contact_host: None,
            tag: "cw1",
            call_id: "cw2",
            cseq: 1,
            user_agent: None,
        };
        let msg = Message::parse(Bytes::from(probe.write())).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(msg.request_uri_str(), Some("sip:[::1]:5060;transport=udp"));
        assert!(!msg.headers().any(|h| h.name.as_str().eq_ignore_ascii_case("Record-Route")));
        assert!(msg.headers().any(|h| h.name.as_str().eq_ignore_ascii_case("Contact") && h.value == b"<sip:[::1]:5070;transport=udp>"));
    }
}
