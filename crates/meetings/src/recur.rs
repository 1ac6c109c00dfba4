//! Recurrence expansion (RFC 5545 §3.8.5: RRULE, RDATE, EXDATE; §3.8.4.4 RECURRENCE-ID overrides) for a time
//! window, with `now`-free pure logic.
//!
//! Rules are expanded in the event's *wall-clock* time (the `rrule` crate runs on a UTC-labelled naive time) and
//! each instance is then converted to an instant through the event's zone. That is what §3.3.10 asks ("the
//! recurrence is computed in the time zone of DTSTART") and it works the same for IANA zones and for zones defined
//! by a VTIMEZONE, which `rrule` cannot represent. UNTIL (UTC when DTSTART has a zone) is converted to wall-clock
//! time before expansion.

use std::ops::Range;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc};
use rrule::{RRule, Tz, Unvalidated};
use thiserror::Error;

use crate::ical::event::Event;
use crate::ical::time::parse_local;

/// Why a recurrence could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecurError {
    /// RRULE value the `rrule` crate rejects (its message is kept).
    #[error("event {uid}: bad RRULE `{rule}`: {reason}")]
    BadRule { uid: String, rule: String, reason: String },
}

/// Upper bound on instances one expansion produces in a window.
pub const MAX_INSTANCES: usize = 1000;
/// Upper bound on rule steps walked to reach the window (a daily rule that began 27 years ago).
const MAX_STEPS: usize = 10_000;

/// One instance of an event inside the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence<'a> {
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant.
    pub end: DateTime<Utc>,
    /// The event that describes this instance: the master, or the override whose RECURRENCE-ID matches.
    pub event: &'a Event,
    /// Original start of the instance (its RECURRENCE-ID), None for a non-recurring event.
    pub instance: Option<DateTime<Utc>>,
}

/// Wall-clock instants of `rule` from `start`. `until_to_local(value, is_utc)` maps the rule's UNTIL to
/// wall-clock time.
pub(crate) fn local_rule_iter(
    start: NaiveDateTime,
    rule: &str,
    until_to_local: &dyn Fn(NaiveDateTime, bool) -> NaiveDateTime,
) -> Result<impl Iterator<Item = NaiveDateTime>, String> {
    let mut until = None;
    let mut parts = Vec::new();
    for part in rule.trim().trim_start_matches("RRULE:").split(';').filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("UNTIL") => {
                let (local, utc) = parse_local(value, "UNTIL").map_err(|e| e.to_string())?;
                // A DATE UNTIL includes that whole day (§3.3.10).
                let local = if value.trim().len() == 8 { local.date().and_time(NaiveTime::MIN) + Duration::days(1) - Duration::seconds(1) } else { local };
                until = Some(until_to_local(local, utc));
            }
            _ => parts.push(part),
        }
    }
    let mut parsed = RRule::<Unvalidated>::from_str(&parts.join(";")).map_err(|e| e.to_string())?;
    if let Some(until) = until {
        parsed = parsed.until(Tz::UTC.from_utc_datetime(&until));
    }
    let set = parsed.build(Tz::UTC.from_utc_datetime(&start)).map_err(|e| e.to_string())?;
    Ok(set.into_iter().take(MAX_STEPS).map(|dt| dt.naive_utc()))
}

/// Instances of `master` (with its `overrides`) that overlap `window`, sorted by start, at most
/// [`MAX_INSTANCES`]. Cancelled overrides are returned too (callers decide what a cancelled instance means).
pub fn expand<'a>(
    master: &'a Event,
    overrides: &[&'a Event],
    window: &Range<DateTime<Utc>>,
) -> Result<Vec<Occurrence<'a>>, RecurError> {
    let overlaps = |start: DateTime<Utc>, end: DateTime<Utc>| start < window.end && (end > window.start || (start == end && start >= window.start));
    let mut out = Vec::new();
    if master.rrule.is_none() && master.rdates.is_empty() {
        let (start, end) = (master.start.utc(), master.end.utc());
        if overlaps(start, end) {
            out.push(Occurrence { start, end, event: master, instance: None });
        }
        return Ok(out);
    }
    let zone = &master.start.zone;
    let local_length = master.end.local - master.start.local;
    let same_zone = master.end.zone.name() == zone.name();
    let end_of = |local: NaiveDateTime, start: DateTime<Utc>| {
        if same_zone { zone.to_utc(local + local_length) } else { start + master.duration() }
    };
    let excluded = |instant: DateTime<Utc>, local: NaiveDateTime| {
        master.exdates.iter().any(|x| if x.all_day { x.local.date() == local.date() } else { x.utc() == instant })
    };
    let overridden = |instant: DateTime<Utc>| overrides.iter().any(|o| o.recurrence_id.as_ref().is_some_and(|r| r.utc() == instant));
    let mut locals: Vec<NaiveDateTime> = Vec::new();
    if let Some(rule) = &master.rrule {
        let until_to_local = |until: NaiveDateTime, utc: bool| if utc { zone.to_local(Utc.from_utc_datetime(&until)) } else { until };
        let iter = local_rule_iter(master.start.local, rule, &until_to_local)
            .map_err(|reason| RecurError::BadRule { uid: master.uid.clone(), rule: rule.clone(), reason })?;
        // Walk until the window's end in wall-clock terms (plus a day of slack for zone offsets).
        let last_local = zone.to_local(window.end) + Duration::days(1);
        locals.extend(iter.take_while(|l| *l <= last_local));
    } else {
        locals.push(master.start.local);
    }
    locals.extend(master.rdates.iter().map(|r| zone.to_local(r.utc())));
    locals.sort();
    locals.dedup();
    for local in locals {
        let start = zone.to_utc(local);
        if excluded(start, local) || overridden(start) {
            continue;
        }
        let end = end_of(local, start);
        if overlaps(start, end) {
            out.push(Occurrence { start, end, event: master, instance: Some(start) });
        }
        if out.len() >= MAX_INSTANCES {
            break;
        }
    }
    for over in overrides {
        let (start, end) = (over.start.utc(), over.end.utc());
        if overlaps(start, end) {
            out.push(Occurrence { start, end, event: over, instance: over.recurrence_id.as_ref().map(|r| r.utc()) });
        }
    }
    out.sort_by_key(|o| o.start);
    out.truncate(MAX_INSTANCES);
    Ok(out)
}

/// Groups events by UID: each master with its overrides (§3.8.4.4). An override without a master is returned as
/// a master of its own (a client may have been invited to one instance only).
pub fn group_by_uid(events: &[Event]) -> Vec<(&Event, Vec<&Event>)> {
    let mut groups: Vec<(&Event, Vec<&Event>)> = Vec::new();
    for master in events.iter().filter(|e| e.recurrence_id.is_none()) {
        let overrides = events.iter().filter(|e| e.recurrence_id.is_some() && e.uid == master.uid).collect();
        groups.push((master, overrides));
    }
    for orphan in events.iter().filter(|e| e.recurrence_id.is_some() && !events.iter().any(|m| m.recurrence_id.is_none() && m.uid == e.uid)) {
        groups.push((orphan, Vec::new()));
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ical::event::read_events;
    use crate::ical::parse::{parse, Limits};

    fn window(from: &str, to: &str) -> Range<DateTime<Utc>> {
        let p = |s: &str| DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default();
        p(from)..p(to)
    }

    fn starts(src: &str, w: &Range<DateTime<Utc>>) -> Vec<String> {
        let ical = match parse(src.as_bytes(), Limits::default()) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        let (events, errors) = read_events(&ical, chrono_tz::UTC);
        assert!(errors.is_empty(), "{errors:?}");
        let groups = group_by_uid(&events);
        let mut out = Vec::new();
        for (master, overrides) in groups {
            match expand(master, &overrides, w) {
                Ok(occ) => out.extend(occ.iter().map(|o| format!("{} {}", o.start.format("%m-%d %H:%M"), o.event.summary))),
                Err(e) => out.push(e.to_string()),
            }
        }
        out
    }

    #[test]
    fn rrule_with_exdate_and_moved_override_across_dst() {
        // Weekly Monday 09:00 New York from 2 March 2026; DST starts 8 March (UTC-5 → UTC-4).
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:w\nSUMMARY:weekly\nDTSTART;TZID=America/New_York:20260302T090000\n\
DTEND;TZID=America/New_York:20260302T093000\nRRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20260330T130000Z\n\
EXDATE;TZID=America/New_York:20260316T090000\nEND:VEVENT\nBEGIN:VEVENT\nUID:w\nSUMMARY:moved\n\
RECURRENCE-ID;TZID=America/New_York:20260323T090000\nDTSTART;TZID=America/New_York:20260324T110000\n\
DTEND;TZID=America/New_York:20260324T113000\nEND:VEVENT\nEND:VCALENDAR\n";
        let w = window("2026-03-01T00:00:00Z", "2026-04-30T00:00:00Z");
        assert_eq!(starts(src, &w), ["03-02 14:00 weekly", "03-09 13:00 weekly", "03-24 15:00 moved", "03-30 13:00 weekly"]);
    }

    #[test]
    fn window_limits_an_endless_daily_rule() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\nSUMMARY:standup\nDTSTART:20250101T083000Z\nDURATION:PT15M\n\
RRULE:FREQ=DAILY\nEND:VEVENT\nEND:VCALENDAR\n";
        let w = window("2026-03-10T08:40:00Z", "2026-03-12T00:00:00Z");
        assert_eq!(starts(src, &w), ["03-10 08:30 standup", "03-11 08:30 standup"]);
    }

    #[test]
    fn bad_rule_is_an_error_naming_the_uid() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:bad\nDTSTART:20260101T083000Z\nRRULE:FREQ=SOMETIMES\nEND:VEVENT\nEND:VCALENDAR\n";
        let w = window("2026-03-10T00:00:00Z", "2026-03-12T00:00:00Z");
        let out = starts(src, &w);
        assert!(out.first().is_some_and(|e| e.starts_with("event bad: bad RRULE `FREQ=SOMETIMES`")), "{out:?}");
    }
}
