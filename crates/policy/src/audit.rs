//! The audit trail: one structured record per rejected, redirected or blocked request, in the
//! `Name="value"` style of Expressway's event log, plus per-decider counters for status pages.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::flood::{BanReason, Subject};
use crate::input::PolicyInput;
use crate::verdict::{Decider, Verdict};

/// What happened to the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum AuditEvent {
    /// Call policy rejected it.
    Rejected {
        /// Status sent.
        status: u16,
        /// Reason phrase sent.
        reason: String,
    },
    /// Call policy redirected it.
    Redirected {
        /// 301 or 302.
        status: u16,
    },
    /// The flood guard dropped it.
    Blocked {
        /// `flood` or `auth-failures`.
        reason: &'static str,
        /// What the ban is on (`source` or `user`).
        ban_on: &'static str,
        /// Seconds left on the ban.
        seconds_left: u64,
    },
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// What happened.
    #[serde(flatten)]
    pub event: AuditEvent,
    /// Zone the request came from.
    pub zone: String,
    /// Source address, when known.
    pub source: Option<IpAddr>,
    /// The caller's alias (From).
    pub from: String,
    /// The destination alias.
    pub to: String,
    /// The rule, CPL node or guard that decided.
    pub decided_by: String,
}

impl AuditRecord {
    /// The record for a policy verdict; `None` when the request was allowed or awaits a lookup.
    pub fn from_verdict(input: &PolicyInput, source: Option<IpAddr>, verdict: &Verdict) -> Option<Self> {
        let event = match verdict {
            Verdict::Reject(r) => AuditEvent::Rejected { status: r.status, reason: r.reason.clone() },
            Verdict::Redirect(r) => AuditEvent::Redirected { status: if r.permanent { 301 } else { 302 } },
            Verdict::Allow(_) | Verdict::Lookup(_) => return None,
        };
        Some(Self {
            event,
            zone: input.zone.clone(),
            source,
            from: input.from.alias(),
            to: input.destination.alias(),
            decided_by: verdict.decided_by().to_string(),
        })
    }

    /// The record for a request the flood guard dropped. `from` and `to` are whatever the
    /// caller could read cheaply (may be empty: a dropped request is not parsed further).
    pub fn blocked(
        zone: &str,
        source: IpAddr,
        from: &str,
        to: &str,
        subject: &Subject,
        reason: BanReason,
        seconds_left: u64,
    ) -> Self {
        let reason = match reason {
            BanReason::Flood => "flood",
            BanReason::AuthFailures => "auth-failures",
        };
        let ban_on = match subject {
            Subject::Source(_) => "source",
            Subject::User(_) => "user",
        };
        Self {
            event: AuditEvent::Blocked { reason, ban_on, seconds_left },
            zone: zone.to_owned(),
            source: Some(source),
            from: from.to_owned(),
            to: to.to_owned(),
            decided_by: "flood guard".to_owned(),
        }
    }
}

/// `Event="Call Rejected" Zone="default" Src-ip="…" Src-alias="…" Dst-alias="…" Decided-by="…" Response-code=403`.
impl fmt::Display for AuditRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match &self.event {
            AuditEvent::Rejected { .. } => "Call Rejected",
            AuditEvent::Redirected { .. } => "Call Redirected",
            AuditEvent::Blocked { .. } => "Request Blocked",
        };
        write!(f, "Event=\"{name}\" Zone=\"{}\"", escape(&self.zone))?;
        if let Some(ip) = self.source {
            write!(f, " Src-ip=\"{ip}\"")?;
        }
        write!(f, " Src-alias=\"{}\" Dst-alias=\"{}\"", escape(&self.from), escape(&self.to))?;
        write!(f, " Decided-by=\"{}\"", escape(&self.decided_by))?;
        match &self.event {
            AuditEvent::Rejected { status, reason } => write!(f, " Response-code={status} Reason=\"{}\"", escape(reason)),
            AuditEvent::Redirected { status } => write!(f, " Response-code={status}"),
            AuditEvent::Blocked { reason, ban_on, seconds_left } => {
                write!(f, " Ban-reason=\"{reason}\" Ban-on=\"{ban_on}\" Ban-seconds-left={seconds_left}")
            }
        }
    }
}

/// Quotes, backslashes and control characters escaped: a hostile alias cannot forge fields or
/// break the log line.
fn escape(s: &str) -> String {
    s.chars().flat_map(|c| match c {
        '"' => vec!['\\', '"'],
        '\\' => vec!['\\', '\\'],
        c if c.is_control() => format!("\\u{{{:x}}}", u32::from(c)).chars().collect(),
        c => vec![c],
    })
    .collect()
}

/// Allowed / rejected / redirected counts for one decider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Requests allowed.
    pub allowed: u64,
    /// Requests rejected.
    pub rejected: u64,
    /// Requests redirected.
    pub redirected: u64,
    /// CPL lookups handed to the caller.
    pub lookups: u64,
}

/// Counters per rule / CPL node / default. The number of keys is bounded by the policy's size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyCounters {
    by_decider: HashMap<Decider, Counts>,
}

impl PolicyCounters {
    /// Empty counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one verdict.
    pub fn record(&mut self, verdict: &Verdict) {
        let decider = verdict.decided_by();
        let counts = match self.by_decider.get_mut(decider) {
            Some(c) => c,
            None => self.by_decider.entry(decider.clone()).or_default(),
        };
        match verdict {
            Verdict::Allow(_) => counts.allowed += 1,
            Verdict::Reject(_) => counts.rejected += 1,
            Verdict::Redirect(_) => counts.redirected += 1,
            Verdict::Lookup(_) => counts.lookups += 1,
        }
    }

    /// The counts of one decider.
    pub fn get(&self, decider: &Decider) -> Counts {
        self.by_decider.get(decider).copied().unwrap_or_default()
    }

    /// Every decider's counts, rules in table order first.
    pub fn snapshot(&self) -> Vec<(Decider, Counts)> {
        let mut all: Vec<_> = self.by_decider.iter().map(|(d, c)| (d.clone(), *c)).collect();
        all.sort_by_key(|(d, _)| match d {
            Decider::Rule { index, .. } => (0, *index),
            Decider::CplNode { id, .. } => (1, *id),
            Decider::DefaultAction => (2, 0),
            Decider::NoPolicy => (3, 0),
        });
        all
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn log_values_cannot_forge_fields() {
        assert_eq!(escape("a\" Zone=\"x"), "a\\\" Zone=\\\"x");
        assert_eq!(escape("a\r\nb"), "a\\u{d}\\u{a}b");
        assert_eq!(escape("back\\slash"), "back\\\\slash");
    }
}
