//! CPL `time` outputs (RFC 3880 §4.4) with the RFC 5545 §3.3.10 recurrence subset needed for
//! business hours and holidays: `freq` daily/weekly/monthly/yearly, `interval`, `until`, `count`,
//! `byday` (no ordinals), `bymonth`, `bymonthday`, `wkst`.
//!
//! Times are compared as wall-clock times in the switch's `tzid`, so "09:00–17:00" means the same
//! on both sides of a daylight-saving change. A `dtstart`/`until` written in UTC (`Z`) is converted
//! to that zone once at load.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Weekday};
use chrono_tz::Tz;

/// Longest period a `time` may cover: bounds the per-request search to this many days.
const MAX_LENGTH_DAYS: i64 = 366;
/// How far ahead `count` is expanded at load.
const COUNT_HORIZON_DAYS: i64 = 100 * 366;
/// Largest `count` accepted.
const MAX_COUNT: u32 = 100_000;

/// A refused `time` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimeError {
    pub(crate) attribute: &'static str,
    pub(crate) reason: &'static str,
}

fn err(attribute: &'static str, reason: &'static str) -> TimeError {
    TimeError { attribute, reason }
}

/// One `time` element: a period, maybe repeating.
#[derive(Debug, Clone)]
pub(crate) struct TimeSpec {
    start: NaiveDateTime,
    length: TimeDelta,
    rule: Option<Recurrence>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

#[derive(Debug, Clone)]
struct Recurrence {
    freq: Freq,
    interval: u32,
    until: Option<NaiveDateTime>,
    last_date: Option<NaiveDate>,
    byday: Vec<Weekday>,
    bymonth: Vec<u32>,
    bymonthday: Vec<i32>,
    wkst: Weekday,
}

impl TimeSpec {
    /// Builds a period from the element's attributes (`get` returns an attribute's value).
    pub(crate) fn parse<'a>(get: impl Fn(&'static str) -> Option<&'a str>, tz: Tz) -> Result<Self, TimeError> {
        let start = parse_datetime(get("dtstart").ok_or(err("dtstart", "is required"))?, tz)
            .ok_or(err("dtstart", "must be an RFC 5545 DATE-TIME such as 20260105T090000"))?;
        let length = match (get("dtend"), get("duration")) {
            (Some(_), Some(_)) => return Err(err("duration", "cannot be given together with dtend")),
            (Some(end), None) => {
                parse_datetime(end, tz).ok_or(err("dtend", "must be an RFC 5545 DATE-TIME"))? - start
            }
            (None, Some(d)) => parse_duration(d).ok_or(err("duration", "must be an RFC 5545 duration such as PT8H"))?,
            (None, None) => return Err(err("dtend", "either dtend or duration is required")),
        };
        if length <= TimeDelta::zero() {
            return Err(err("dtend", "the period must end after it starts"));
        }
        if length > TimeDelta::days(MAX_LENGTH_DAYS) {
            return Err(err("duration", "periods longer than 366 days are not supported"));
        }
        let rule = match get("freq") {
            None => {
                let stray = ["interval", "until", "count", "byday", "bymonth", "bymonthday", "wkst"];
                if let Some(name) = stray.into_iter().find(|name| get(name).is_some()) {
                    return Err(err(name, "needs freq"));
                }
                None
            }
            Some(freq) => Some(Recurrence::parse(freq, &get, tz, start)?),
        };
        Ok(Self { start, length, rule })
    }

    /// Whether the local wall-clock time `now` falls in one of the periods.
    pub(crate) fn contains(&self, now: NaiveDateTime) -> bool {
        let Some(rule) = &self.rule else {
            return self.start <= now && now < self.start + self.length;
        };
        let first = (now - self.length).date();
        first
            .iter_days()
            .take_while(|d| *d <= now.date())
            .filter(|d| rule.occurs_on(*d, self.start))
            .map(|d| d.and_time(self.start.time()))
            .any(|begin| begin <= now && now < begin + self.length && rule.until.is_none_or(|u| begin <= u))
    }
}

impl Recurrence {
    fn parse<'a>(
        freq: &str,
        get: &impl Fn(&'static str) -> Option<&'a str>,
        tz: Tz,
        start: NaiveDateTime,
    ) -> Result<Self, TimeError> {
        let freq = match freq.to_ascii_lowercase().as_str() {
            "daily" => Freq::Daily,
            "weekly" => Freq::Weekly,
            "monthly" => Freq::Monthly,
            "yearly" => Freq::Yearly,
            "secondly" | "minutely" | "hourly" => return Err(err("freq", "sub-daily recurrences are not supported")),
            _ => return Err(err("freq", "must be daily, weekly, monthly or yearly")),
        };
        let interval = match get("interval") {
            Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or(err("interval", "must be a positive integer"))?,
            None => 1,
        };
        let until = match get("until") {
            Some(v) => Some(parse_until(v, tz).ok_or(err("until", "must be an RFC 5545 DATE or DATE-TIME"))?),
            None => None,
        };
        let count = match get("count") {
            Some(_) if until.is_some() => return Err(err("count", "cannot be given together with until")),
            Some(v) => Some(
                v.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_COUNT).contains(n))
                    .ok_or(err("count", "must be an integer from 1 to 100000"))?,
            ),
            None => None,
        };
        let list = |name: &'static str| get(name).map(|v| v.split(',').map(str::trim).collect::<Vec<_>>());
        let byday = match list("byday") {
            Some(days) => days.into_iter().map(weekday).collect::<Option<Vec<_>>>().ok_or(err(
                "byday",
                "must list MO, TU, WE, TH, FR, SA, SU (ordinals like 1MO are not supported)",
            ))?,
            None => Vec::new(),
        };
        let bymonth = match list("bymonth") {
            Some(m) => m
                .into_iter()
                .map(|v| v.parse::<u32>().ok().filter(|n| (1..=12).contains(n)))
                .collect::<Option<Vec<_>>>()
                .ok_or(err("bymonth", "must list months 1 to 12"))?,
            None => Vec::new(),
        };
        let bymonthday = match list("bymonthday") {
            Some(m) => m
                .into_iter()
                .map(|v| v.parse::<i32>().ok().filter(|n| (1..=31).contains(&n.abs())))
                .collect::<Option<Vec<_>>>()
                .ok_or(err("bymonthday", "must list days 1 to 31 or -31 to -1"))?,
            None => Vec::new(),
        };
        let wkst = match get("wkst") {
            Some(v) => weekday(v).ok_or(err("wkst", "must be MO, TU, WE, TH, FR, SA or SU"))?,
            None => Weekday::Mon,
        };
        let mut rule = Self { freq, interval, until, last_date: None, byday, bymonth, bymonthday, wkst };
        if let Some(count) = count {
            rule.last_date = rule.nth_date(start, count);
        }
        Ok(rule)
    }

    /// The date of the `count`-th occurrence, searched up to a century ahead.
    fn nth_date(&self, start: NaiveDateTime, count: u32) -> Option<NaiveDate> {
        start
            .date()
            .iter_days()
            .take(usize::try_from(COUNT_HORIZON_DAYS).unwrap_or(usize::MAX))
            .filter(|d| self.pattern_hits(*d, start))
            .nth(usize::try_from(count - 1).unwrap_or(usize::MAX))
    }

    /// Whether an occurrence starts on `d`, honouring `count`.
    fn occurs_on(&self, d: NaiveDate, start: NaiveDateTime) -> bool {
        self.last_date.is_none_or(|last| d <= last) && self.pattern_hits(d, start)
    }

    /// Whether the repeating pattern (ignoring its end) puts an occurrence on `d`.
    fn pattern_hits(&self, d: NaiveDate, start: NaiveDateTime) -> bool {
        let s = start.date();
        if d < s
            || (!self.bymonth.is_empty() && !self.bymonth.contains(&d.month()))
            || (!self.byday.is_empty() && !self.byday.contains(&d.weekday()))
            || (!self.bymonthday.is_empty() && !self.bymonthday.iter().any(|md| month_day_is(d, *md)))
        {
            return false;
        }
        let interval = i64::from(self.interval);
        let months = i64::from(d.year() - s.year()) * 12 + i64::from(d.month()) - i64::from(s.month());
        let no_day_rule = self.byday.is_empty() && self.bymonthday.is_empty();
        match self.freq {
            Freq::Daily => (d - s).num_days() % interval == 0,
            Freq::Weekly => {
                let weeks = (week_start(d, self.wkst) - week_start(s, self.wkst)).num_days() / 7;
                weeks % interval == 0 && (!self.byday.is_empty() || d.weekday() == s.weekday())
            }
            Freq::Monthly => months % interval == 0 && (!no_day_rule || d.day() == s.day()),
            Freq::Yearly => {
                let same_day = if self.bymonth.is_empty() { d.month() == s.month() && d.day() == s.day() } else { d.day() == s.day() };
                i64::from(d.year() - s.year()) % interval == 0 && (!no_day_rule || same_day)
            }
        }
    }
}

fn week_start(d: NaiveDate, wkst: Weekday) -> NaiveDate {
    let back = (d.weekday().num_days_from_monday() + 7 - wkst.num_days_from_monday()) % 7;
    d - TimeDelta::days(i64::from(back))
}

/// `md` positive counts from the first of the month, negative from its last day.
fn month_day_is(d: NaiveDate, md: i32) -> bool {
    if md > 0 {
        return i64::from(d.day()) == i64::from(md);
    }
    let next_month = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    };
    next_month.is_some_and(|n| (n - d).num_days() == i64::from(-md))
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

/// RFC 5545 §3.3.5 DATE-TIME: `YYYYMMDDTHHMMSS` local to `tz`, or with `Z` for UTC.
fn parse_datetime(s: &str, tz: Tz) -> Option<NaiveDateTime> {
    let (body, utc) = match s.strip_suffix('Z') {
        Some(body) => (body, true),
        None => (s, false),
    };
    let naive = NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S").ok()?;
    Some(if utc { tz.from_utc_datetime(&naive).naive_local() } else { naive })
}

/// `until` may be a DATE (the whole day counts) or a DATE-TIME.
fn parse_until(s: &str, tz: Tz) -> Option<NaiveDateTime> {
    if s.len() == 8 {
        let date = NaiveDate::parse_from_str(s, "%Y%m%d").ok()?;
        return Some(date.and_time(NaiveTime::from_hms_opt(23, 59, 59)?));
    }
    parse_datetime(s, tz)
}

/// RFC 5545 §3.3.6 duration: `P[n]W` or `P[n]D[T[n]H[n]M[n]S]`; no sign (a period runs forward).
fn parse_duration(s: &str) -> Option<TimeDelta> {
    let rest = s.strip_prefix('+').unwrap_or(s).strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total = TimeDelta::zero();
    let mut any = false;
    for (part, units) in [(date, &[('W', 7 * 86_400), ('D', 86_400)][..]), (time.unwrap_or(""), &[('H', 3600), ('M', 60), ('S', 1)][..])] {
        let mut digits = String::new();
        let mut unit_index = 0;
        for c in part.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let pos = units.iter().skip(unit_index).position(|(u, _)| *u == c)? + unit_index;
            let n: i64 = digits.parse().ok()?;
            total += TimeDelta::try_seconds(n.checked_mul(units.get(pos)?.1)?)?;
            digits.clear();
            unit_index = pos + 1;
            any = true;
        }
        if !digits.is_empty() {
            return None;
        }
    }
    any.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn spec(attrs: &[(&'static str, &'static str)], tz: Tz) -> Result<TimeSpec, TimeError> {
        TimeSpec::parse(|name| attrs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v), tz)
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(h, min, 0)).unwrap_or_default()
    }

    #[test]
    fn rfc5545_durations() {
        assert_eq!(parse_duration("PT8H"), Some(TimeDelta::hours(8)));
        assert_eq!(parse_duration("P1DT2H30M"), Some(TimeDelta::minutes(26 * 60 + 30)));
        assert_eq!(parse_duration("P2W"), Some(TimeDelta::days(14)));
        for bad in ["", "P", "PT", "8H", "PT8", "P1H", "PT1D", "-PT1H", "PT1M1H"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn weekday_business_hours() {
        let hours = [("dtstart", "20260105T090000"), ("duration", "PT8H"), ("freq", "weekly"), ("byday", "MO,TU,WE,TH,FR")];
        let s = spec(&hours, Tz::UTC).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(s.contains(at(2026, 11, 23, 9, 0)), "Monday 09:00");
        assert!(s.contains(at(2026, 11, 27, 16, 59)), "Friday 16:59");
        assert!(!s.contains(at(2026, 11, 27, 17, 0)), "Friday 17:00");
        assert!(!s.contains(at(2026, 11, 28, 10, 0)), "Saturday");
        assert!(!s.contains(at(2026, 1, 2, 10, 0)), "before dtstart");
    }

    #[test]
    fn yearly_holiday_and_until() {
        let xmas = [("dtstart", "20261225T000000"), ("duration", "P1D"), ("freq", "yearly"), ("until", "20281231")];
        let s = spec(&xmas, Tz::UTC).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(s.contains(at(2027, 12, 25, 13, 0)));
        assert!(!s.contains(at(2027, 12, 26, 0, 0)));
        assert!(!s.contains(at(2029, 12, 25, 13, 0)), "after until");
    }

    #[test]
    fn count_limits_occurrences() {
        let three = [("dtstart", "20261102T090000"), ("duration", "PT1H"), ("freq", "daily"), ("count", "3")];
        let s = spec(&three, Tz::UTC).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(s.contains(at(2026, 11, 4, 9, 30)));
        assert!(!s.contains(at(2026, 11, 5, 9, 30)));
    }

    #[test]
    fn interval_and_wkst_for_fortnightly() {
        let every_other = [("dtstart", "20261102T090000"), ("duration", "PT1H"), ("freq", "weekly"), ("interval", "2")];
        let s = spec(&every_other, Tz::UTC).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(s.contains(at(2026, 11, 16, 9, 30)));
        assert!(!s.contains(at(2026, 11, 9, 9, 30)));
    }

    #[test]
    fn monthly_last_day() {
        let last = [("dtstart", "20260131T000000"), ("duration", "P1D"), ("freq", "monthly"), ("bymonthday", "-1")];
        let s = spec(&last, Tz::UTC).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(s.contains(at(2026, 2, 28, 12, 0)));
        assert!(!s.contains(at(2026, 2, 27, 12, 0)));
    }

    #[test]
    fn overnight_period_spans_midnight() {
        let night = [("dtstart", "20260105T220000"), ("duration", "PT8H"), ("freq", "daily")];
        let s = spec(&night, Tz::UTC).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(s.contains(at(2026, 3, 10, 5, 59)));
        assert!(!s.contains(at(2026, 3, 10, 6, 0)));
    }

    #[test]
    fn utc_dtstart_is_converted_to_the_switch_zone() {
        let once = [("dtstart", "20260701T070000Z"), ("duration", "PT1H")];
        let s = spec(&once, chrono_tz::Europe::Paris).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(s.contains(at(2026, 7, 1, 9, 30)), "07:00Z is 09:00 in Paris in summer");
    }

    #[test]
    fn bad_attributes_are_named() {
        let cases: [(&[(&'static str, &'static str)], &str); 6] = [
            (&[("duration", "PT1H")], "dtstart"),
            (&[("dtstart", "2026-01-05"), ("duration", "PT1H")], "dtstart"),
            (&[("dtstart", "20260105T090000"), ("duration", "PT1H"), ("byday", "MO")], "byday"),
            (&[("dtstart", "20260105T090000"), ("duration", "PT1H"), ("freq", "hourly")], "freq"),
            (&[("dtstart", "20260105T090000"), ("duration", "PT1H"), ("freq", "weekly"), ("byday", "1MO")], "byday"),
            (&[("dtstart", "20260105T090000"), ("dtend", "20260105T080000")], "dtend"),
        ];
        for (attrs, attribute) in cases {
            assert_eq!(spec(attrs, Tz::UTC).err().map(|e| e.attribute), Some(attribute), "{attrs:?}");
        }
    }
}
