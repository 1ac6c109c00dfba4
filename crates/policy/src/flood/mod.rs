//! Flood and brute-force protection, after Kamailio's `pike` and `ratelimit` modules and the
//! usual fail2ban setups: sliding-window counters per source address (all requests, and failed
//! authentications) and per username (failed authentications, from any address). A key over its
//! threshold is banned — its requests are dropped silently — for a time that doubles with each
//! repeat offence, up to a maximum. Tables have a fixed capacity with CLOCK eviction, so memory is
//! bounded however many sources a flood spoofs. Trusted zones and CIDRs ([`AllowList`]) are never
//! counted. Pure: every call takes `now`.

pub mod cidr;
mod table;

use std::net::IpAddr;
use std::time::{Duration, Instant};

pub use cidr::{AllowList, Cidr, CidrError};
use table::ClockTable;

/// At most `count` events per sliding `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Events allowed per window.
    pub count: u32,
    /// The window.
    pub window: Duration,
}

/// Thresholds, ban times, capacities, allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloodConfig {
    /// Requests per source address (default 200 per 10 s).
    pub requests_per_source: Limit,
    /// Failed authentications per source address (default 10 per 60 s).
    pub auth_failures_per_source: Limit,
    /// Failed authentications per username, from anywhere (default 20 per 300 s).
    pub auth_failures_per_user: Limit,
    /// First ban (default 60 s); each repeat doubles it.
    pub ban: Duration,
    /// Longest ban (default 1 h).
    pub max_ban: Duration,
    /// A key with no ban for this long starts again from the first ban time (default 1 h).
    pub forget_after: Duration,
    /// Source addresses tracked at once (default 65536).
    pub source_capacity: usize,
    /// Usernames tracked at once (default 16384).
    pub user_capacity: usize,
    /// Never counted, never banned.
    pub allow: AllowList,
}

impl Default for FloodConfig {
    fn default() -> Self {
        Self {
            requests_per_source: Limit { count: 200, window: Duration::from_secs(10) },
            auth_failures_per_source: Limit { count: 10, window: Duration::from_secs(60) },
            auth_failures_per_user: Limit { count: 20, window: Duration::from_secs(300) },
            ban: Duration::from_secs(60),
            max_ban: Duration::from_secs(3600),
            forget_after: Duration::from_secs(3600),
            source_capacity: 65_536,
            user_capacity: 16_384,
            allow: AllowList::default(),
        }
    }
}

/// Longest username kept as a key (longer ones are truncated: bounded memory).
const MAX_USER_KEY: usize = 128;

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Handle it.
    Admit,
    /// Drop it without any response.
    Drop {
        /// When the ban ends.
        until: Instant,
        /// Set when this very request started the ban (log it).
        new_ban: Option<BanEvent>,
    },
}

/// Who is banned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A source address.
    Source(IpAddr),
    /// A username (every source trying it).
    User(String),
}

/// Why a ban started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanReason {
    /// Too many requests.
    Flood,
    /// Too many failed authentications.
    AuthFailures,
}

/// A ban that just started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanEvent {
    /// Who.
    pub subject: Subject,
    /// Why.
    pub reason: BanReason,
    /// Until when.
    pub until: Instant,
    /// How many bans in a row (1 for the first).
    pub strikes: u32,
}

/// A ban in force, for status pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanInfo {
    /// Who.
    pub subject: Subject,
    /// Until when.
    pub until: Instant,
    /// Bans in a row.
    pub strikes: u32,
    /// Requests dropped during this ban.
    pub dropped: u64,
}

/// Counters and bans, for `causeway status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloodStatus {
    /// Bans in force.
    pub bans: Vec<BanInfo>,
    /// Source addresses tracked, and the table's capacity.
    pub tracked_sources: (usize, usize),
    /// Usernames tracked, and the table's capacity.
    pub tracked_users: (usize, usize),
    /// Requests admitted since start.
    pub admitted: u64,
    /// Requests dropped since start.
    pub dropped: u64,
    /// Bans started since start.
    pub bans_started: u64,
}

/// Sliding-window estimate (two fixed windows, the previous one weighted by how much of it
/// still overlaps the sliding window).
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    previous: u32,
    current: u32,
}

impl Window {
    fn new(now: Instant) -> Self {
        Self { start: now, previous: 0, current: 0 }
    }

    /// Counts one event and returns the estimated count over the last `window`.
    fn hit(&mut self, now: Instant, window: Duration) -> f64 {
        let elapsed = now.saturating_duration_since(self.start);
        if elapsed >= window * 2 {
            *self = Self::new(now);
        } else if elapsed >= window {
            self.previous = self.current;
            self.current = 0;
            self.start += window;
        }
        self.current = self.current.saturating_add(1);
        let into = now.saturating_duration_since(self.start).as_secs_f64() / window.as_secs_f64().max(f64::EPSILON);
        f64::from(self.previous) * (1.0 - into).max(0.0) + f64::from(self.current)
    }
}

#[derive(Debug, Clone)]
struct State {
    requests: Window,
    failures: Window,
    banned_until: Option<Instant>,
    last_ban_end: Option<Instant>,
    strikes: u32,
    dropped: u64,
}

impl State {
    fn new(now: Instant) -> Self {
        Self {
            requests: Window::new(now),
            failures: Window::new(now),
            banned_until: None,
            last_ban_end: None,
            strikes: 0,
            dropped: 0,
        }
    }

    fn banned_at(&self, now: Instant) -> Option<Instant> {
        self.banned_until.filter(|until| *until > now)
    }
}

/// The guard. One per node (or per shard, with the allow-list shared by configuration).
#[derive(Debug)]
pub struct FloodGuard {
    config: FloodConfig,
    sources: ClockTable<IpAddr, State>,
    users: ClockTable<String, State>,
    admitted: u64,
    dropped: u64,
    bans_started: u64,
}

impl FloodGuard {
    /// A guard with empty tables.
    pub fn new(config: FloodConfig) -> Self {
        let sources = ClockTable::new(config.source_capacity);
        let users = ClockTable::new(config.user_capacity);
        Self { config, sources, users, admitted: 0, dropped: 0, bans_started: 0 }
    }

    /// Call for every request before parsing it further: counts it against its source and says
    /// whether to handle or drop it.
    pub fn admit(&mut self, now: Instant, source: IpAddr, zone: &str) -> Admission {
        if self.config.allow.trusts(source, zone) {
            self.admitted += 1;
            return Admission::Admit;
        }
        let source = cidr::canonical(source);
        let limit = self.config.requests_per_source;
        let verdict = self.count(now, Subject::Source(source), limit, BanReason::Flood, |s| &mut s.requests);
        self.tally(verdict)
    }

    /// Call when a request names a user, before verifying its credentials: drops attempts on a
    /// username that is under a brute-force ban (unless the source is trusted).
    pub fn check_user(&mut self, now: Instant, source: IpAddr, zone: &str, user: &str) -> Admission {
        if self.config.allow.trusts(source, zone) {
            return Admission::Admit;
        }
        let key = user_key(user);
        let banned = self.users.peek(&key).and_then(|s| s.banned_at(now));
        match banned {
            Some(until) => {
                let state = self.users.entry(&key, || State::new(now), |s| s.banned_at(now).is_some());
                state.dropped += 1;
                self.tally(Admission::Drop { until, new_ban: None })
            }
            None => Admission::Admit,
        }
    }

    /// Call after a failed authentication (wrong password or unknown user — both count, so
    /// counting reveals nothing about which users exist). Returns a drop when a ban started.
    pub fn auth_failed(&mut self, now: Instant, source: IpAddr, zone: &str, user: &str) -> Admission {
        if self.config.allow.trusts(source, zone) {
            return Admission::Admit;
        }
        let per_source = self.config.auth_failures_per_source;
        let per_user = self.config.auth_failures_per_user;
        let source = Subject::Source(cidr::canonical(source));
        let by_source = self.count(now, source, per_source, BanReason::AuthFailures, |s| &mut s.failures);
        let by_user = self.count(now, Subject::User(user_key(user)), per_user, BanReason::AuthFailures, |s| &mut s.failures);
        let merged = match (by_source, by_user) {
            (Admission::Drop { until, new_ban }, other) | (other, Admission::Drop { until, new_ban }) => {
                let new_ban = new_ban.or(match other {
                    Admission::Drop { new_ban, .. } => new_ban,
                    Admission::Admit => None,
                });
                Admission::Drop { until, new_ban }
            }
            (Admission::Admit, Admission::Admit) => return Admission::Admit,
        };
        self.tally(merged)
    }

    fn tally(&mut self, admission: Admission) -> Admission {
        match &admission {
            Admission::Admit => self.admitted += 1,
            Admission::Drop { .. } => self.dropped += 1,
        }
        admission
    }

    /// Counts one event for `subject` in the window `pick` selects; bans over the limit.
    fn count(
        &mut self,
        now: Instant,
        subject: Subject,
        limit: Limit,
        reason: BanReason,
        pick: impl Fn(&mut State) -> &mut Window,
    ) -> Admission {
        let config = &self.config;
        let banned = |s: &State| s.banned_at(now).is_some();
        let state = match &subject {
            Subject::Source(ip) => self.sources.entry(ip, || State::new(now), banned),
            Subject::User(user) => self.users.entry(user, || State::new(now), banned),
        };
        if let Some(until) = state.banned_at(now) {
            state.dropped += 1;
            return Admission::Drop { until, new_ban: None };
        }
        if pick(state).hit(now, limit.window) <= f64::from(limit.count) {
            return Admission::Admit;
        }
        let repeat = state.last_ban_end.is_some_and(|end| now.saturating_duration_since(end) < config.forget_after);
        state.strikes = if repeat { state.strikes.saturating_add(1) } else { 1 };
        let factor = 1u32.checked_shl(state.strikes - 1).unwrap_or(u32::MAX);
        let length = config.ban.saturating_mul(factor).min(config.max_ban);
        let until = now + length;
        *state = State { banned_until: Some(until), last_ban_end: Some(until), strikes: state.strikes, ..State::new(now) };
        let strikes = state.strikes;
        match &subject {
            Subject::Source(ip) => self.sources.touch(ip, true),
            Subject::User(user) => self.users.touch(user, true),
        }
        self.bans_started += 1;
        Admission::Drop { until, new_ban: Some(BanEvent { subject, reason, until, strikes }) }
    }

    /// Bans in force and table usage.
    pub fn status(&self, now: Instant) -> FloodStatus {
        let sources = self.sources.iter().map(|(ip, s)| (Subject::Source(*ip), s));
        let users = self.users.iter().map(|(u, s)| (Subject::User(u.clone()), s));
        let bans = sources
            .chain(users)
            .filter_map(|(subject, s)| {
                s.banned_at(now).map(|until| BanInfo { subject, until, strikes: s.strikes, dropped: s.dropped })
            })
            .collect();
        FloodStatus {
            bans,
            tracked_sources: (self.sources.len(), self.sources.capacity()),
            tracked_users: (self.users.len(), self.users.capacity()),
            admitted: self.admitted,
            dropped: self.dropped,
            bans_started: self.bans_started,
        }
    }

    /// Entries the source table holds without allocating; it never rises above its value at
    /// creation (proves the memory bound in tests).
    pub fn source_slots_allocated(&self) -> usize {
        self.sources.allocated()
    }
}

fn user_key(user: &str) -> String {
    let mut end = user.len().min(MAX_USER_KEY);
    while !user.is_char_boundary(end) {
        end -= 1;
    }
    user.get(..end).unwrap_or_default().to_owned()
}
