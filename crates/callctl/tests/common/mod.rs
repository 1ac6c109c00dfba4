//! Shared helpers: load configs, build addresses, drive an SnrCall in simulated time.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use causeway_callctl::{Action, CallInfo, CdrBuilder, Cluster, Event, LoadError, SnrCall};
use causeway_policy::{Address, SourceText};
use chrono::{DateTime, TimeZone, Utc};

pub const ZONES: &[&str] = &["webex", "pstn-gw", "unity", "teams"];
pub const EXAMPLE: &str = include_str!("../../../../examples/callctl/ent-pa.toml");

pub fn example() -> Cluster {
    Cluster::from_toml_str(SourceText::new("ent-pa.toml", EXAMPLE), ZONES).unwrap_or_else(|e| panic!("{e}"))
}

pub fn load(text: &str) -> Result<Cluster, LoadError> {
    Cluster::from_toml_str(SourceText::new("cc.toml", text), ZONES)
}

pub fn cluster(text: &str) -> Cluster {
    load(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// `user@host` as a SIP address.
pub fn sip(alias: &str) -> Address {
    match alias.split_once('@') {
        Some((user, host)) => Address::sip(Some(user), host),
        None => Address::sip(None, alias),
    }
}

/// Tuesday 2026-11-24 at `h:m` in Los Angeles.
pub fn tuesday_la(h: u32, m: u32) -> DateTime<Utc> {
    let local = chrono_tz::America::Los_Angeles.with_ymd_and_hms(2026, 11, 24, h, m, 0).single();
    local.map(|t| t.with_timezone(&Utc)).unwrap_or_else(|| panic!("no such local time {h}:{m}"))
}

/// Zone lookup of the test topology: cloud addresses go to `webex`, everything else nowhere.
pub fn zones(uri: &str) -> Vec<String> {
    uri.contains("call.webex.com").then(|| "webex".to_owned()).into_iter().collect()
}

/// An SnrCall with a clock, the actions it emitted (CDR events fed to a builder).
pub struct Sim {
    pub call: SnrCall,
    pub t0: Instant,
    pub now: Instant,
    pub cdr: CdrBuilder,
    /// Every non-CDR action with the simulated time (ms since t0) it came out at.
    pub log: Vec<(u64, Action)>,
    seen: usize,
}

impl Sim {
    pub fn new(plan: causeway_callctl::ForkPlan) -> Self {
        let wall = Utc.with_ymd_and_hms(2026, 11, 24, 17, 0, 0).single().unwrap_or_default();
        let info = CallInfo { call_id: "call-1@test".into(), called: "1002".into(), ..CallInfo::default() };
        Self::with_info(plan, info, wall)
    }

    pub fn with_info(plan: causeway_callctl::ForkPlan, info: CallInfo, wall: DateTime<Utc>) -> Self {
        let t0 = Instant::now();
        let mut sim = Self { call: SnrCall::new(t0, plan), t0, now: t0, cdr: CdrBuilder::new(info, t0, wall), log: Vec::new(), seen: 0 };
        sim.drain();
        sim
    }

    pub fn ms(&self) -> u64 {
        u64::try_from(self.now.duration_since(self.t0).as_millis()).unwrap_or(u64::MAX)
    }

    fn drain(&mut self) {
        while let Some(action) = self.call.poll_action() {
            match action {
                Action::Cdr(event) => self.cdr.apply(event).unwrap_or_else(|e| panic!("{e}")),
                other => {
                    let ms = self.ms();
                    self.log.push((ms, other));
                }
            }
        }
    }

    /// Runs every timer up to `ms` (simulated), stepping from deadline to deadline.
    pub fn advance_to(&mut self, ms: u64) {
        let target = self.t0 + Duration::from_millis(ms);
        while let Some(at) = self.call.poll_timeout().filter(|at| *at <= target) {
            self.now = self.now.max(at);
            self.call.handle_timeout(self.now);
            self.drain();
        }
        self.now = target;
    }

    /// Feeds an event at `ms`.
    pub fn event(&mut self, ms: u64, event: Event) {
        self.advance_to(ms);
        self.call.handle(self.now, event).unwrap_or_else(|e| panic!("{e}"));
        self.drain();
    }

    /// Actions logged since the last call to `take`.
    pub fn take(&mut self) -> Vec<(u64, Action)> {
        let out = self.log[self.seen..].to_vec();
        self.seen = self.log.len();
        out
    }

    /// Actions other than timer bookkeeping, since the last `take`.
    pub fn take_calls(&mut self) -> Vec<(u64, Action)> {
        self.take().into_iter().filter(|(_, a)| !matches!(a, Action::SetTimer { .. } | Action::CancelTimer { .. })).collect()
    }
}
