//! [`StatusReport`]: what `GET /status` returns and `causeway status` prints — the zones, their
//! peers with keepalive state and the time of its last change, the proxy counters, and what the
//! edge's protections did (counters, call policy per rule, the flood guard's bans in force). Built
//! from a node's published [`NodeStats`] and the routing table; plain serde data both ways.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::time::{Instant, SystemTime};

use causeway_node::NodeStats;
use causeway_policy::flood::Subject;
use causeway_proxy::Counters;

use crate::callctl::CallControlReport;
use causeway_routing::{PeerState, RoutingTable, ZoneKind};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The node's status at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// `[node] name`.
    pub node: String,
    /// When the report was made (RFC 3339, UTC).
    pub generated_at: String,
    /// Seconds since the node started.
    pub uptime_secs: u64,
    /// Every zone in configuration order, the default zone last.
    pub zones: Vec<ZoneReport>,
    /// The proxy core's counters.
    pub counters: CounterReport,
    /// The edge's protections.
    #[serde(default)]
    pub security: SecurityReport,
    /// Call control (B2BUA, registrar, CDRs); absent on a node without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_control: Option<CallControlReport>,
}

/// What the edge's protections did since start, and the bans in force.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SecurityReport {
    /// Requests dropped unparsed from banned sources.
    pub flood_dropped: u64,
    /// Requests dropped by a brute-force ban (the failure that started it, banned usernames).
    pub auth_dropped: u64,
    /// Bans started.
    pub bans_started: u64,
    /// Digest challenges sent.
    pub challenges: u64,
    /// Wrong passwords and unknown users.
    pub auth_failures: u64,
    /// Requests authenticated by digest.
    pub authenticated: u64,
    /// Credentials refused as malformed.
    pub malformed_credentials: u64,
    /// Call policy's decisions per rule, CPL node or default action, in table order.
    pub policy: Vec<PolicyCountReport>,
    /// Bans in force (empty without a flood guard).
    pub bans: Vec<BanReport>,
    /// Source addresses the flood guard tracks, and how many it can.
    pub tracked_sources: (usize, usize),
    /// Usernames it tracks, and how many it can.
    pub tracked_users: (usize, usize),
}

/// One rule's, CPL node's or the default action's decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyCountReport {
    /// `rule 4 "dial-out-prefix"`, `CPL <reject> at line 14`, `default action`.
    pub decided_by: String,
    /// Requests allowed.
    pub allowed: u64,
    /// Requests rejected.
    pub rejected: u64,
    /// Requests redirected.
    pub redirected: u64,
}

/// A ban in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BanReport {
    /// `source 203.0.113.5` or `user 1000`.
    pub subject: String,
    /// When it ends (RFC 3339, UTC).
    pub until: String,
    /// Seconds left.
    pub seconds_left: u64,
    /// Bans in a row (each doubles the time).
    pub strikes: u32,
    /// Requests dropped during this ban.
    pub dropped: u64,
}

impl SecurityReport {
    fn new(stats: &NodeStats, clock: Clock) -> Self {
        let c = &stats.proxy.security;
        let policy = c
            .policy
            .snapshot()
            .into_iter()
            .map(|(decider, n)| PolicyCountReport {
                decided_by: decider.to_string(),
                allowed: n.allowed,
                rejected: n.rejected,
                redirected: n.redirected,
            })
            .collect();
        let bans = stats
            .flood
            .iter()
            .flat_map(|f| f.bans.iter())
            .map(|b| BanReport {
                subject: match &b.subject {
                    Subject::Source(ip) => format!("source {ip}"),
                    Subject::User(user) => format!("user {user}"),
                },
                until: rfc3339(clock.wall_at(b.until)),
                seconds_left: b.until.saturating_duration_since(clock.now).as_secs(),
                strikes: b.strikes,
                dropped: b.dropped,
            })
            .collect();
        Self {
            flood_dropped: c.flood_dropped,
            auth_dropped: c.auth_dropped,
            bans_started: c.bans_started,
            challenges: c.challenges,
            auth_failures: c.auth_failures,
            authenticated: c.authenticated,
            malformed_credentials: c.malformed_credentials,
            policy,
            bans,
            tracked_sources: stats.flood.as_ref().map_or((0, 0), |f| f.tracked_sources),
            tracked_users: stats.flood.as_ref().map_or((0, 0), |f| f.tracked_users),
        }
    }
}

/// One zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneReport {
    /// Zone name.
    pub name: String,
    /// `neighbor`, `dns`, `trunk`, `traversal server`, `traversal client`, `default`.
    pub kind: String,
    /// Its configured peers (none for DNS, traversal-server and default zones).
    pub peers: Vec<PeerReport>,
    /// Traversal-server zones: the connection the internal node keeps open to this node, if
    /// one is up.
    pub connection: Option<ConnectionReport>,
}

/// A traversal-server zone's connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionReport {
    /// The internal node's address on it.
    pub address: String,
    /// `tcp` or `tls`.
    pub transport: String,
}

/// One peer of a zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerReport {
    /// `host:port` as configured.
    pub peer: String,
    /// `udp`, `tcp` or `tls`.
    pub transport: String,
    /// Lower is tried first.
    pub priority: u16,
    /// `up`, `down`, `unknown`, or `unmonitored` when the zone has no keepalive.
    pub state: String,
    /// When the state last changed (RFC 3339, UTC); `None` if it never did.
    pub last_change: Option<String>,
    /// Seconds since that change.
    pub since_secs: Option<u64>,
    /// Probes failed in a row.
    pub consecutive_failures: u32,
    /// Probes answered in a row.
    pub consecutive_successes: u32,
    /// Addresses the host name resolved to (empty for an IP address or before the lookup).
    pub addresses: Vec<String>,
}

/// The proxy core's counters, zero entries left out of the maps.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CounterReport {
    /// Requests received by method.
    pub requests_received: BTreeMap<String, u64>,
    /// Requests sent by method.
    pub requests_sent: BTreeMap<String, u64>,
    /// Responses received by status code.
    pub responses_received: BTreeMap<String, u64>,
    /// Responses sent by status code.
    pub responses_sent: BTreeMap<String, u64>,
    /// Unparsable messages dropped.
    pub malformed_dropped: u64,
    /// Unparsable requests answered 400/505.
    pub malformed_answered: u64,
    /// Messages forwarded without state.
    pub stateless_forwarded: u64,
    /// Messages dropped for a semantic reason.
    pub dropped: u64,
    /// Sends the transport layer reported as failed.
    pub transport_errors: u64,
    /// Transactions alive.
    pub transactions_alive: u64,
    /// Proxied requests alive.
    pub contexts_alive: u64,
}

impl CounterReport {
    fn new(c: &Counters) -> Self {
        let methods = |m: &causeway_proxy::MethodCounts| m.iter().filter(|(_, n)| *n > 0).map(|(k, n)| (k.to_owned(), n)).collect();
        let codes = |m: &causeway_proxy::CodeCounts| m.iter().map(|(k, n)| (k.to_string(), n)).collect();
        Self {
            requests_received: methods(&c.requests_received),
            requests_sent: methods(&c.requests_sent),
            responses_received: codes(&c.responses_received),
            responses_sent: codes(&c.responses_sent),
            malformed_dropped: c.malformed_dropped,
            malformed_answered: c.malformed_answered,
            stateless_forwarded: c.stateless_forwarded,
            dropped: c.dropped,
            transport_errors: c.transport_errors,
            transactions_alive: c.transactions_alive,
            contexts_alive: c.contexts_alive,
        }
    }
}

/// The monotonic and the wall clock read at one moment, to turn one into the other.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Monotonic now (the node's clock).
    pub now: Instant,
    /// Wall-clock now.
    pub wall: SystemTime,
}

impl Clock {
    /// Reads both clocks.
    pub fn read() -> Self {
        Self { now: Instant::now(), wall: SystemTime::now() }
    }

    fn wall_of(&self, at: Instant) -> SystemTime {
        self.wall.checked_sub(self.now.saturating_duration_since(at)).unwrap_or(self.wall)
    }

    /// [`Clock::wall_of`] for a time that may lie ahead (a ban's end).
    fn wall_at(&self, at: Instant) -> SystemTime {
        match at.checked_duration_since(self.now) {
            Some(ahead) => self.wall.checked_add(ahead).unwrap_or(self.wall),
            None => self.wall_of(at),
        }
    }
}

fn rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl StatusReport {
    /// The report for a node called `node`, started at `started`, with `stats` just read.
    pub fn new(node: &str, started: Instant, table: Option<&RoutingTable>, stats: &NodeStats, clock: Clock) -> Self {
        let zones = table.map(|t| t.zones().map(|z| zone(z, stats, clock)).collect()).unwrap_or_default();
        Self {
            node: node.to_owned(),
            generated_at: rfc3339(clock.wall),
            uptime_secs: clock.now.saturating_duration_since(started).as_secs(),
            zones,
            counters: CounterReport::new(&stats.proxy),
            security: SecurityReport::new(stats, clock),
            call_control: stats.call_control.as_ref().map(CallControlReport::from),
        }
    }
}

fn zone(z: &causeway_routing::Zone, stats: &NodeStats, clock: Clock) -> ZoneReport {
    let peers = z
        .peers
        .iter()
        .map(|p| {
            let key = p.key();
            let status = stats.peers.iter().find(|s| s.zone == z.name && s.peer == key);
            let addresses = stats.health.as_ref().and_then(|h| h.peer(&z.name, key)).map(|h| h.addresses.iter().map(ToString::to_string).collect()).unwrap_or_default();
            PeerReport {
                peer: key.to_owned(),
                transport: p.transport.uri_param().to_owned(),
                priority: p.priority,
                state: match (z.keepalive, status) {
                    (None, _) => "unmonitored".to_owned(),
                    (Some(_), Some(s)) => s.state.to_string(),
                    (Some(_), None) => PeerState::Unknown.to_string(),
                },
                last_change: status.and_then(|s| s.last_change).map(|at| rfc3339(clock.wall_of(at))),
                since_secs: status.and_then(|s| s.last_change).map(|at| clock.now.saturating_duration_since(at).as_secs()),
                consecutive_failures: status.map_or(0, |s| s.consecutive_failures),
                consecutive_successes: status.map_or(0, |s| s.consecutive_successes),
                addresses,
            }
        })
        .collect();
    let connection = stats
        .health
        .as_ref()
        .and_then(|h| h.traversal_connection(&z.name))
        .map(|c| ConnectionReport { address: c.address.to_string(), transport: c.transport.uri_param().to_owned() });
    ZoneReport { name: z.name.clone(), kind: kind(z.kind), peers, connection }
}

fn kind(k: ZoneKind) -> String {
    k.to_string()
}

impl fmt::Display for StatusReport {
    /// The text `causeway status` prints: one line per zone, one indented line per peer, then
    /// the counters that are not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "node {} (up {}s, at {})", self.node, self.uptime_secs, self.generated_at)?;
        writeln!(f, "zones:")?;
        for z in &self.zones {
            match (&z.connection, z.kind == ZoneKind::TraversalServer.to_string()) {
                (Some(c), _) => writeln!(f, "  {} ({}): connection up from {} over {}", z.name, z.kind, c.address, c.transport)?,
                (None, true) => writeln!(f, "  {} ({}): no connection", z.name, z.kind)?,
                (None, false) => writeln!(f, "  {} ({})", z.name, z.kind)?,
            }
            for p in &z.peers {
                let mut line = format!("    {} {} priority {}: {}", p.peer, p.transport, p.priority, p.state);
                if let (Some(at), Some(ago)) = (&p.last_change, p.since_secs) {
                    let _ = write!(line, " since {at} ({ago}s ago)");
                }
                if p.consecutive_failures > 0 {
                    let _ = write!(line, ", {} failed in a row", p.consecutive_failures);
                }
                if !p.addresses.is_empty() {
                    let _ = write!(line, ", addresses {}", p.addresses.join(" "));
                }
                writeln!(f, "{line}")?;
            }
        }
        let c = &self.counters;
        let map = |m: &BTreeMap<String, u64>| m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
        writeln!(f, "counters:")?;
        writeln!(f, "  requests received: {}", map(&c.requests_received))?;
        writeln!(f, "  requests sent: {}", map(&c.requests_sent))?;
        writeln!(f, "  responses received: {}", map(&c.responses_received))?;
        writeln!(f, "  responses sent: {}", map(&c.responses_sent))?;
        writeln!(
            f,
            "  malformed dropped={} answered={}, stateless forwarded={}, dropped={}, transport errors={}, transactions alive={}, contexts alive={}",
            c.malformed_dropped, c.malformed_answered, c.stateless_forwarded, c.dropped, c.transport_errors, c.transactions_alive, c.contexts_alive
        )?;
        let s = &self.security;
        writeln!(
            f,
            "security: flood dropped={}, auth dropped={}, bans started={}, challenges={}, auth failures={}, authenticated={}, malformed credentials={}",
            s.flood_dropped, s.auth_dropped, s.bans_started, s.challenges, s.auth_failures, s.authenticated, s.malformed_credentials
        )?;
        for p in &s.policy {
            writeln!(f, "  policy {}: allowed={} rejected={} redirected={}", p.decided_by, p.allowed, p.rejected, p.redirected)?;
        }
        for b in &s.bans {
            writeln!(f, "  ban {} until {} ({}s left), strike {}, {} dropped", b.subject, b.until, b.seconds_left, b.strikes, b.dropped)?;
        }
        if let Some(call_control) = &self.call_control {
            write!(f, "{call_control}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_routing::keepalive::PeerStatus;
    use std::time::Duration;

    const ZONES: &str = r#"
[[zone]]
name = "teams"
kind = "trunk"
local_fqdn = "sbc.example.com"
[[zone.peer]]
address = "sip.pstnhub.example.net:5061"
priority = 1
[[zone.peer]]
address = "sip2.pstnhub.example.net:5061"
priority = 2

[[zone]]
name = "lab"
kind = "neighbor"
keepalive = { enabled = false }
[[zone.peer]]
address = "192.0.2.9:5060"
transport = "udp"
"#;

    #[test]
    fn peers_carry_state_and_wall_clock_time_of_their_last_change() {
        let table = causeway_routing::config::load(ZONES).unwrap_or_else(|e| panic!("{e:?}"));
        let now = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let changed = now.checked_sub(Duration::from_secs(90)).unwrap_or(now);
        let status = |peer: &str, state, last_change| PeerStatus {
            zone: "teams".into(),
            peer: peer.into(),
            state,
            last_change,
            consecutive_failures: 0,
            consecutive_successes: 1,
        };
        let stats = NodeStats {
            io: Default::default(),
            proxy: Counters::default(),
            peers: vec![status("sip.pstnhub.example.net:5061", PeerState::Up, Some(changed)), status("sip2.pstnhub.example.net:5061", PeerState::Unknown, None)],
            health: None,
            flood: None,
            call_control: None,
        };
        let started = now.checked_sub(Duration::from_secs(600)).unwrap_or(now);
        let report = StatusReport::new("edge-1", started, Some(&table), &stats, Clock { now, wall });
        assert_eq!(report.uptime_secs, 600);
        let teams = report.zones.first().unwrap_or_else(|| panic!("no zone"));
        assert_eq!((teams.name.as_str(), teams.kind.as_str()), ("teams", "trunk"));
        let first = teams.peers.first().unwrap_or_else(|| panic!("no peer"));
        assert_eq!((first.state.as_str(), first.since_secs), ("up", Some(90)));
        assert_eq!(first.last_change.as_deref(), Some("2027-01-15T07:58:30Z"));
        assert_eq!(teams.peers.get(1).map(|p| (p.state.as_str(), p.last_change.is_none())), Some(("unknown", true)));
        let lab = report.zones.get(1).and_then(|z| z.peers.first()).map(|p| p.state.as_str());
        assert_eq!(lab, Some("unmonitored"));
        assert_eq!(report.zones.last().map(|z| z.kind.as_str()), Some("default"));
        assert!(report.zones.iter().all(|z| z.connection.is_none()));
        let text = report.to_string();
        assert!(text.contains("sip.pstnhub.example.net:5061 tls priority 1: up since 2027-01-15T07:58:30Z (90s ago)"), "{text}");
        let json = serde_json::to_string(&report).unwrap_or_default();
        let back: StatusReport = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, report);
    }

    #[test]
    fn a_traversal_zone_shows_its_connection() {
        let table = causeway_routing::config::load("[[zone]]\nname = \"internal\"\nkind = \"traversal\"\nrole = \"server\"\n")
            .unwrap_or_else(|e| panic!("{e:?}"));
        let mut health = causeway_routing::HealthSnapshot::default();
        let stats = |health: &causeway_routing::HealthSnapshot| NodeStats {
            io: Default::default(),
            proxy: Counters::default(),
            peers: Vec::new(),
            health: Some(health.clone()),
            flood: None,
            call_control: None,
        };
        let clock = Clock { now: Instant::now(), wall: SystemTime::UNIX_EPOCH };
        let down = StatusReport::new("edge", clock.now, Some(&table), &stats(&health), clock);
        assert!(down.to_string().contains("  internal (traversal server): no connection\n"), "{down}");
        let connection = causeway_routing::TraversalConnection {
            flow: 3,
            address: std::net::SocketAddr::from(([192, 0, 2, 7], 40000)),
            transport: causeway_sip::Transport::Tls,
        };
        health.set_traversal_connection("internal", Some(connection));
        let up = StatusReport::new("edge", clock.now, Some(&table), &stats(&health), clock);
        let zone = up.zones.first().and_then(|z| z.connection.clone());
        assert_eq!(zone, Some(ConnectionReport { address: "192.0.2.7:40000".into(), transport: "tls".into() }));
        assert!(up.to_string().contains("internal (traversal server): connection up from 192.0.2.7:40000 over tls"), "{up}");
    }

    #[test]
    fn bans_and_policy_counts_are_reported_with_their_end_in_wall_clock_time() {
        use causeway_policy::flood::{BanInfo, FloodStatus, Subject};
        use causeway_policy::verdict::{Decider, Rejection, Verdict};
        let now = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut proxy = Counters::default();
        proxy.security.flood_dropped = 29_800;
        proxy.security.bans_started = 2;
        let rule = Decider::Rule { index: 3, name: "dial-out-prefix".into() };
        for _ in 0..3 {
            proxy.security.policy.record(&Verdict::Reject(Rejection { status: 403, reason: "Forbidden".into(), decided_by: rule.clone() }));
        }
        let ban = |subject, secs, strikes| BanInfo { subject, until: now + Duration::from_secs(secs), strikes, dropped: 7 };
        let flood = FloodStatus {
            bans: vec![ban(Subject::Source("203.0.113.5".parse().unwrap_or_else(|e| panic!("{e}"))), 60, 1), ban(Subject::User("1000".into()), 240, 3)],
            tracked_sources: (2, 65_536),
            tracked_users: (1, 16_384),
            admitted: 100,
            dropped: 29_800,
            bans_started: 2,
        };
        let stats = NodeStats { io: Default::default(), proxy, peers: Vec::new(), health: None, flood: Some(flood), call_control: None };
        let report = StatusReport::new("edge", now, None, &stats, Clock { now, wall });
        let security = &report.security;
        assert_eq!((security.flood_dropped, security.bans_started, security.tracked_sources), (29_800, 2, (2, 65_536)));
        assert_eq!(
            security.policy,
            [PolicyCountReport { decided_by: "rule 4 \"dial-out-prefix\"".into(), allowed: 0, rejected: 3, redirected: 0 }]
        );
        assert_eq!(security.bans.len(), 2);
        assert_eq!((security.bans[1].subject.as_str(), security.bans[1].seconds_left), ("user 1000", 240));
        assert_eq!(security.bans[0].until, rfc3339(wall + Duration::from_secs(60)));
        let text = report.to_string();
        assert!(text.contains("  ban source 203.0.113.5 until 2027-01-15T08:01:00Z (60s left), strike 1, 7 dropped\n"), "{text}");
        assert!(text.contains("  policy rule 4 \"dial-out-prefix\": allowed=0 rejected=3 redirected=0\n"), "{text}");
        let json = serde_json::to_string(&report).unwrap_or_else(|e| panic!("{e}"));
        let back: StatusReport = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, report);
    }
}
