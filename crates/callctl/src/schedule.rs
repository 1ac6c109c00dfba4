//! A remote destination's weekly ring schedule (CUCM "Time of Day Access"): windows of
//! weekdays and local times in one IANA time zone. The call's wall time is a parameter.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

/// Why a schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// Not an IANA time-zone name.
    #[error("unknown time zone \"{0}\" (use an IANA name such as America/Los_Angeles)")]
    TimeZone(String),
    /// Not a weekday or weekday range.
    #[error("\"{0}\" is not a weekday (mon … sun) or a range such as mon-fri")]
    Day(String),
    /// Not `HH:MM` (00:00–24:00).
    #[error("\"{0}\" is not a time of day HH:MM (00:00-24:00)")]
    Time(String),
    /// `from` not before `to`.
    #[error("window {from}-{to} is empty: from must be before to (split a window that crosses midnight in two)")]
    EmptyWindow {
        /// Start as written.
        from: String,
        /// End as written.
        to: String,
    },
    /// A window with no days.
    #[error("a window needs at least one day")]
    NoDays,
    /// A schedule with no window would never ring; use `enabled = false` for that.
    #[error("a schedule needs at least one ring window (use enabled = false to never ring)")]
    NoWindows,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One window: the days (bit 0 = Monday) and minutes since local midnight, `from` inclusive,
/// `to` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    days: u8,
    from: u16,
    to: u16,
}

impl Window {
    /// Parses day tokens (`mon`, `mon-fri`, `fri-mon` wraps) and two `HH:MM` times.
    pub fn parse(days: &[&str], from: &str, to: &str) -> Result<Self, ScheduleError> {
        let mut mask = 0u8;
        for token in days {
            mask |= day_mask(token).ok_or_else(|| ScheduleError::Day((*token).to_owned()))?;
        }
        if mask == 0 {
            return Err(ScheduleError::NoDays);
        }
        let (f, t) = (minutes(from)?, minutes(to)?);
        if f >= t {
            return Err(ScheduleError::EmptyWindow { from: from.to_owned(), to: to.to_owned() });
        }
        Ok(Self { days: mask, from: f, to: t })
    }

    fn contains(&self, weekday: u32, minute: u16) -> bool {
        self.days & (1 << weekday) != 0 && (self.from..self.to).contains(&minute)
    }
}

fn day_index(s: &str) -> Option<u32> {
    let lower = s.trim().to_ascii_lowercase();
    DAYS.iter().position(|d| *d == lower).and_then(|i| u32::try_from(i).ok())
}

fn day_mask(token: &str) -> Option<u8> {
    match token.split_once('-') {
        None => day_index(token).map(|d| 1 << d),
        Some((a, b)) => {
            let (a, b) = (day_index(a)?, day_index(b)?);
            let mut mask = 0u8;
            let mut d = a;
            loop {
                mask |= 1 << d;
                if d == b {
                    return Some(mask);
                }
                d = (d + 1) % 7;
            }
        }
    }
}

fn minutes(s: &str) -> Result<u16, ScheduleError> {
    let bad = || ScheduleError::Time(s.to_owned());
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// A weekly schedule in one time zone: the destination rings when any window holds the
/// call's local time.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    zone: Tz,
    windows: Vec<Window>,
}

impl Schedule {
    /// A schedule in the IANA zone `time_zone`.
    pub fn new(time_zone: &str, windows: Vec<Window>) -> Result<Self, ScheduleError> {
        let zone = time_zone.parse::<Tz>().map_err(|_| ScheduleError::TimeZone(time_zone.to_owned()))?;
        Ok(Self { zone, windows })
    }

    /// The time zone.
    pub fn time_zone(&self) -> Tz {
        self.zone
    }

    /// Whether the destination may ring at `at`.
    pub fn allows(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.zone);
        let weekday = local.weekday().num_days_from_monday();
        let minute = u16::try_from(local.hour() * 60 + local.minute()).unwrap_or(0);
        self.windows.iter().any(|w| w.contains(weekday, minute))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap_or_default()
    }

    #[test]
    fn business_hours_in_local_time() {
        let w = Window::parse(&["mon-fri"], "08:00", "18:00").unwrap_or_else(|e| panic!("{e}"));
        let s = Schedule::new("America/Los_Angeles", vec![w]).unwrap_or_else(|e| panic!("{e}"));
        // Tuesday 2026-11-24 16:00 UTC = 08:00 PST: inside.
        assert!(s.allows(utc(2026, 11, 24, 16, 0)));
        // 15:59 UTC = 07:59 PST: outside.
        assert!(!s.allows(utc(2026, 11, 24, 15, 59)));
        // Saturday noon local: outside.
        assert!(!s.allows(utc(2026, 11, 28, 20, 0)));
    }

    #[test]
    fn ranges_wrap_and_bad_tokens_are_named() {
        let w = Window::parse(&["fri-mon"], "00:00", "24:00").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.days, 0b111_0001);
        assert_eq!(Window::parse(&["funday"], "08:00", "09:00"), Err(ScheduleError::Day("funday".into())));
        assert_eq!(Window::parse(&["mon"], "8:00", "09:00"), Err(ScheduleError::Time("8:00".into())));
        assert!(matches!(Window::parse(&["mon"], "18:00", "08:00"), Err(ScheduleError::EmptyWindow { .. })));
        assert_eq!(Schedule::new("Mars/Olympus", vec![]), Err(ScheduleError::TimeZone("Mars/Olympus".into())));
    }
}
