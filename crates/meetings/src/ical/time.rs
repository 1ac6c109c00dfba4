//! DATE / DATE-TIME values (RFC 5545 §3.3.4, §3.3.5), DURATION (§3.3.6) and time zones: IANA names through
//! `chrono-tz`, and VTIMEZONE definitions (§3.6.5) interpreted from their STANDARD/DAYLIGHT observances, which is
//! what Outlook's Windows zone names ("W. Europe Standard Time") need. A VTIMEZONE in the object wins over an IANA
//! name with the same TZID, as §3.2.19 requires.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use thiserror::Error;

use super::parse::{Component, Property};
use crate::recur::local_rule_iter;

/// Why a time value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Not `YYYYMMDD` or `YYYYMMDDTHHMMSS[Z]`.
    #[error("{property}: bad date-time value `{value}`")]
    BadDateTime { property: String, value: String },
    /// Not an RFC 5545 §3.3.6 duration.
    #[error("{property}: bad duration `{value}`")]
    BadDuration { property: String, value: String },
    /// TZID that is neither defined by a VTIMEZONE in the object nor an IANA name.
    #[error("unknown TZID `{tzid}`")]
    UnknownTzid { tzid: String },
    /// A VTIMEZONE without usable observances.
    #[error("VTIMEZONE `{tzid}` has no usable STANDARD/DAYLIGHT observance")]
    BadVtimezone { tzid: String },
}

/// A UTC offset in seconds east of Greenwich.
type OffsetSeconds = i32;

/// One STANDARD or DAYLIGHT sub-component.
#[derive(Debug, Clone, PartialEq)]
struct Observance {
    start: NaiveDateTime,
    offset_from: OffsetSeconds,
    offset_to: OffsetSeconds,
    rrule: Option<String>,
    rdates: Vec<NaiveDateTime>,
}

/// A time zone defined in the object by a VTIMEZONE, reduced to its list of transitions.
#[derive(Debug, Clone, PartialEq)]
pub struct VTimezone {
    tzid: String,
    /// (onset in local time, offset from then on), sorted by onset.
    transitions: Vec<(NaiveDateTime, OffsetSeconds)>,
    /// Offset before the first onset: the earliest observance's TZOFFSETFROM.
    initial: OffsetSeconds,
}

/// Onsets kept per observance: yearly rules from 1601 (Outlook's usual DTSTART) up to [`LAST_YEAR`].
const MAX_ONSETS: usize = 1000;
/// Transitions are computed up to this year; later times use the last one.
const LAST_YEAR: i32 = 2200;

impl VTimezone {
    fn from_component(component: &Component) -> Result<Self, TimeError> {
        let tzid = component.property("TZID").map(|p| p.raw.trim().to_owned()).unwrap_or_default();
        let bad = || TimeError::BadVtimezone { tzid: tzid.clone() };
        let mut observances = Vec::new();
        for sub in component.children.iter().filter(|c| c.name == "STANDARD" || c.name == "DAYLIGHT") {
            let start = sub.property("DTSTART").map(|p| parse_local(&p.raw, "DTSTART")).ok_or_else(bad)??;
            let offset = |name: &str| sub.property(name).and_then(|p| parse_offset(&p.raw));
            let offset_to = offset("TZOFFSETTO").ok_or_else(bad)?;
            let offset_from = offset("TZOFFSETFROM").unwrap_or(offset_to);
            let rdates = sub
                .properties_named("RDATE")
                .flat_map(|p| p.raw.split(',').map(|v| parse_local(v, "RDATE").map(|t| t.0)).collect::<Vec<_>>())
                .collect::<Result<Vec<_>, _>>()?;
            let rrule = sub.property("RRULE").map(|p| p.raw.clone());
            observances.push(Observance { start: start.0, offset_from, offset_to, rrule, rdates });
        }
        let initial = observances.iter().min_by_key(|o| o.start).map(|o| o.offset_from).ok_or_else(bad)?;
        let mut transitions = Vec::new();
        for obs in &observances {
            transitions.extend(onsets(obs).into_iter().map(|onset| (onset, obs.offset_to)));
        }
        transitions.sort();
        Ok(Self { tzid, transitions, initial })
    }

    /// The offset in force at wall-clock time `local`: that of the latest onset at or before it (§3.6.5);
    /// before every onset, the earliest observance's TZOFFSETFROM.
    fn offset_at_local(&self, local: NaiveDateTime) -> OffsetSeconds {
        let after = self.transitions.partition_point(|(onset, _)| *onset <= local);
        after.checked_sub(1).and_then(|i| self.transitions.get(i)).map_or(self.initial, |(_, offset)| *offset)
    }
}

/// Every onset of one observance up to [`LAST_YEAR`]: DTSTART, the RRULE's instances and the RDATEs. UNTIL is in
/// UTC (§3.6.5) and is moved to local time with the offset in force before the onset.
fn onsets(obs: &Observance) -> Vec<NaiveDateTime> {
    let from = obs.offset_from;
    let until_to_local = move |until: NaiveDateTime, utc: bool| if utc { until + Duration::seconds(i64::from(from)) } else { until };
    let mut out = vec![obs.start];
    if let Some(rule) = &obs.rrule {
        if let Ok(iter) = local_rule_iter(obs.start, rule, &until_to_local) {
            out.extend(iter.take(MAX_ONSETS).take_while(|onset| onset.year() <= LAST_YEAR));
        }
    }
    out.extend(obs.rdates.iter().copied());
    out.sort();
    out.dedup();
    out
}

/// The zone a DATE-TIME is in (RFC 5545 §3.3.5 forms 1-3).
#[derive(Debug, Clone, PartialEq)]
pub enum Zone {
    /// Form 2: `…Z`.
    Utc,
    /// Form 1: no TZID, no Z; read in the floating zone the caller chose.
    Floating(chrono_tz::Tz),
    /// Form 3 with an IANA TZID.
    Iana(chrono_tz::Tz),
    /// Form 3 with a TZID defined by a VTIMEZONE in the object.
    Defined(Arc<VTimezone>),
}

impl Zone {
    /// Wall-clock time → instant. In a DST gap the wall time is moved forward by the gap; in an overlap the
    /// earlier instant is taken (RFC 5545 §3.3.5: "the first occurrence", and a gap time uses the offset before).
    pub fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self {
            Self::Utc => Utc.from_utc_datetime(&local),
            Self::Floating(tz) | Self::Iana(tz) => tz_to_utc(tz, local),
            Self::Defined(vtz) => {
                let guess = vtz.offset_at_local(local);
                Utc.from_utc_datetime(&(local - Duration::seconds(i64::from(guess))))
            }
        }
    }

    /// Instant → wall-clock time in this zone.
    pub fn to_local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Self::Utc => instant.naive_utc(),
            Self::Floating(tz) | Self::Iana(tz) => instant.with_timezone(tz).naive_local(),
            Self::Defined(vtz) => {
                let naive = instant.naive_utc();
                let first = vtz.offset_at_local(naive);
                let second = vtz.offset_at_local(naive + Duration::seconds(i64::from(first)));
                naive + Duration::seconds(i64::from(second))
            }
        }
    }

    /// Zone name for display.
    pub fn name(&self) -> &str {
        match self {
            Self::Utc => "UTC",
            Self::Floating(tz) | Self::Iana(tz) => tz.name(),
            Self::Defined(vtz) => &vtz.tzid,
        }
    }
}

fn tz_to_utc(tz: &chrono_tz::Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    for _ in 0..4 {
        if let Some(dt) = tz.from_local_datetime(&probe).earliest() {
            return dt.with_timezone(&Utc);
        }
        probe += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&local)
}

/// The time zones one VCALENDAR defines, and the zone for floating times.
#[derive(Debug, Clone)]
pub struct ZoneTable {
    defined: HashMap<String, Arc<VTimezone>>,
    floating: chrono_tz::Tz,
}

impl ZoneTable {
    /// Reads every VTIMEZONE of `calendar`; broken ones are returned as errors and left out.
    pub fn from_calendar(calendar: &Component, floating: chrono_tz::Tz) -> (Self, Vec<TimeError>) {
        let mut defined = HashMap::new();
        let mut errors = Vec::new();
        for component in calendar.children_named("VTIMEZONE") {
            match VTimezone::from_component(component) {
                Ok(vtz) => {
                    defined.insert(vtz.tzid.clone(), Arc::new(vtz));
                }
                Err(e) => errors.push(e),
            }
        }
        (Self { defined, floating }, errors)
    }

    /// The zone for a TZID parameter (None = floating). Outlook sometimes quotes or decorates the TZID; the exact
    /// string is tried first against VTIMEZONEs, then as an IANA name.
    pub fn zone(&self, tzid: Option<&str>) -> Result<Zone, TimeError> {
        let Some(tzid) = tzid else { return Ok(Zone::Floating(self.floating)) };
        if let Some(vtz) = self.defined.get(tzid) {
            return Ok(Zone::Defined(Arc::clone(vtz)));
        }
        let name = tzid.trim_start_matches("/mozilla.org/20050126_1/").trim_start_matches('/');
        name.parse::<chrono_tz::Tz>().map(Zone::Iana).map_err(|_| TimeError::UnknownTzid { tzid: tzid.to_owned() })
    }
}

/// A DATE or DATE-TIME property value with its zone.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeValue {
    /// Wall-clock time (midnight for a DATE).
    pub local: NaiveDateTime,
    /// Zone of `local`.
    pub zone: Zone,
    /// `VALUE=DATE` (all-day).
    pub all_day: bool,
}

impl TimeValue {
    /// The instant.
    pub fn utc(&self) -> DateTime<Utc> {
        self.zone.to_utc(self.local)
    }
}

/// Reads a DTSTART/DTEND/RECURRENCE-ID style property. For a list property (EXDATE/RDATE) use
/// [`parse_time_list`].
pub fn parse_time(prop: &Property, zones: &ZoneTable) -> Result<TimeValue, TimeError> {
    let mut list = parse_time_list(prop, zones)?;
    match list.len() {
        1 => list.pop().ok_or_else(|| bad_dt(prop, &prop.raw)),
        _ => Err(bad_dt(prop, &prop.raw)),
    }
}

/// Reads a comma-separated list of DATE or DATE-TIME values (EXDATE, RDATE: RFC 5545 §3.8.5.1-2).
pub fn parse_time_list(prop: &Property, zones: &ZoneTable) -> Result<Vec<TimeValue>, TimeError> {
    let tzid = prop.param("TZID");
    prop.raw
        .split(',')
        .map(|value| {
            let (local, utc) = parse_local(value, &prop.name)?;
            let all_day = value.trim().len() == 8;
            let zone = if utc { Zone::Utc } else { zones.zone(tzid)? };
            Ok(TimeValue { local, zone, all_day })
        })
        .collect()
}

fn bad_dt(prop: &Property, value: &str) -> TimeError {
    TimeError::BadDateTime { property: prop.name.clone(), value: value.to_owned() }
}

/// `YYYYMMDD` or `YYYYMMDDTHHMMSS[Z]` → (wall-clock time, is-UTC).
pub fn parse_local(value: &str, property: &str) -> Result<(NaiveDateTime, bool), TimeError> {
    let value = value.trim();
    let bad = || TimeError::BadDateTime { property: property.to_owned(), value: value.to_owned() };
    let (body, utc) = value.strip_suffix(['Z', 'z']).map_or((value, false), |b| (b, true));
    if body.len() == 8 {
        let date = NaiveDate::parse_from_str(body, "%Y%m%d").map_err(|_| bad())?;
        return Ok((date.and_time(NaiveTime::MIN), utc));
    }
    NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S").map(|dt| (dt, utc)).map_err(|_| bad())
}

/// `(+|-)HHMM[SS]` (RFC 5545 §3.3.14).
fn parse_offset(raw: &str) -> Option<OffsetSeconds> {
    let raw = raw.trim();
    let (sign, digits) = match raw.as_bytes().first()? {
        b'+' => (1, raw.get(1..)?),
        b'-' => (-1, raw.get(1..)?),
        _ => return None,
    };
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<i32>().ok());
    let seconds = num(0..2)? * 3600 + num(2..4)? * 60 + if digits.len() == 6 { num(4..6)? } else { 0 };
    Some(sign * seconds)
}

/// RFC 5545 §3.3.6: `[+|-]P[nW | nD][T[nH][nM][nS]]`.
pub fn parse_duration(raw: &str, property: &str) -> Result<Duration, TimeError> {
    let bad = || TimeError::BadDuration { property: property.to_owned(), value: raw.to_owned() };
    let text = raw.trim();
    let (sign, text) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let text = text.strip_prefix('P').ok_or_else(bad)?;
    let mut seconds: i64 = 0;
    let mut number = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in text.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' if !in_time && number.is_empty() => in_time = true,
            'W' | 'D' | 'H' | 'M' | 'S' => {
                let n: i64 = number.parse().map_err(|_| bad())?;
                number.clear();
                let unit = match (c, in_time) {
                    ('W', false) => 604_800,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return Err(bad()),
                };
                seconds = n.checked_mul(unit).and_then(|v| seconds.checked_add(v)).ok_or_else(bad)?;
                any = true;
            }
            _ => return Err(bad()),
        }
    }
    if !any || !number.is_empty() || seconds > 366 * 86_400 {
        return Err(bad());
    }
    Ok(Duration::seconds(sign * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ical::parse::{parse, Limits};

    const OUTLOOK_BERLIN: &str = "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n\
BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n\
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\n\
TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n\
END:VTIMEZONE\r\nEND:VCALENDAR\r\n";

    fn at(s: &str) -> NaiveDateTime {
        parse_local(s, "T").map(|v| v.0).unwrap_or_default()
    }

    #[test]
    fn rfc5545_3_6_5_vtimezone_observances_give_the_offset() -> Result<(), Box<dyn std::error::Error>> {
        let ical = parse(OUTLOOK_BERLIN.as_bytes(), Limits::default())?;
        let cal = ical.calendars.first().ok_or("no calendar")?;
        let (zones, errors) = ZoneTable::from_calendar(cal, chrono_tz::UTC);
        assert!(errors.is_empty());
        let zone = zones.zone(Some("W. Europe Standard Time"))?;
        // Winter: UTC+1; summer: UTC+2; the 2026 switches are 29 March and 25 October.
        assert_eq!(zone.to_utc(at("20260115T100000")).to_rfc3339(), "2026-01-15T09:00:00+00:00");
        assert_eq!(zone.to_utc(at("20260710T100000")).to_rfc3339(), "2026-07-10T08:00:00+00:00");
        assert_eq!(zone.to_utc(at("20260328T100000")).to_rfc3339(), "2026-03-28T09:00:00+00:00");
        assert_eq!(zone.to_utc(at("20260329T100000")).to_rfc3339(), "2026-03-29T08:00:00+00:00");
        assert_eq!(zone.to_utc(at("20261025T100000")).to_rfc3339(), "2026-10-25T09:00:00+00:00");
        assert_eq!(zone.to_local(zone.to_utc(at("20260710T100000"))), at("20260710T100000"));
        Ok(())
    }

    #[test]
    fn iana_tzid_and_unknown_tzid() {
        let zones = ZoneTable { defined: HashMap::new(), floating: chrono_tz::UTC };
        let ny = zones.zone(Some("America/New_York"));
        assert_eq!(ny.map(|z| z.to_utc(at("20260310T090000")).to_rfc3339()),
            Ok("2026-03-10T13:00:00+00:00".to_owned()));
        assert_eq!(zones.zone(Some("Mars/Olympus_Mons")), Err(TimeError::UnknownTzid { tzid: "Mars/Olympus_Mons".into() }));
    }

    #[test]
    fn dst_gap_moves_forward() {
        let berlin = Zone::Iana(chrono_tz::Europe::Berlin);
        assert_eq!(berlin.to_utc(at("20260329T023000")).to_rfc3339(), "2026-03-29T01:00:00+00:00");
    }

    #[test]
    fn rfc5545_3_3_6_durations() {
        assert_eq!(parse_duration("PT1H30M", "D"), Ok(Duration::minutes(90)));
        assert_eq!(parse_duration("P1W", "D"), Ok(Duration::days(7)));
        assert_eq!(parse_duration("-PT15M", "D"), Ok(Duration::minutes(-15)));
        assert_eq!(parse_duration("P1DT2H", "D"), Ok(Duration::hours(26)));
        for bad in ["", "P", "PT", "1H", "PT1D", "P1H", "PT5", "P9999999999999W"] {
            assert!(parse_duration(bad, "D").is_err(), "{bad}");
        }
    }

    #[test]
    fn utc_offsets() {
        assert_eq!(parse_offset("+0530"), Some(19_800));
        assert_eq!(parse_offset("-0800"), Some(-28_800));
        assert_eq!(parse_offset("0100"), None);
        assert_eq!(parse_offset("+01"), None);
    }
}
