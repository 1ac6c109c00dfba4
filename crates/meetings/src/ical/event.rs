//! VEVENT → [`Event`] (RFC 5545 §3.6.1): times resolved through the calendar's zones, attendees, and the text
//! properties the join resolver reads. One broken event is an error for that event only; the others still load.

use chrono::{DateTime, Duration, Utc};
use thiserror::Error;

use super::parse::{Component, Ical, Property};
use super::time::{parse_duration, parse_time, parse_time_list, TimeError, TimeValue, ZoneTable};

/// Why one VEVENT (or a VTIMEZONE it needs) could not be used. Every variant names the event's UID when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EventError {
    /// VEVENT without UID (required by RFC 5545 §3.6.1).
    #[error("VEVENT on line {line}: no UID")]
    MissingUid { line: usize },
    /// VEVENT without DTSTART (required when there is no METHOD, RFC 5545 §3.6.1; needed to book a room).
    #[error("event {uid}: no DTSTART")]
    MissingDtstart { uid: String },
    /// A time value, duration or TZID problem.
    #[error("event {uid}: {source}")]
    Time { uid: String, source: TimeError },
    /// DTEND before DTSTART.
    #[error("event {uid}: DTEND is before DTSTART")]
    EndBeforeStart { uid: String },
    /// A VTIMEZONE that could not be read (events using it then report an unknown TZID).
    #[error("{0}")]
    Timezone(TimeError),
}

/// One ATTENDEE (RFC 5545 §3.8.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    /// Calendar user address, as written (`mailto:room@ent.example`).
    pub address: String,
    /// PARTSTAT parameter (default NEEDS-ACTION, §3.2.12).
    pub partstat: String,
}

/// One VEVENT, master or override (RECURRENCE-ID).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// UID.
    pub uid: String,
    /// SUMMARY (empty when absent).
    pub summary: String,
    /// DTSTART.
    pub start: TimeValue,
    /// DTEND, or DTSTART + DURATION, or the §3.6.1 default (one day for a DATE, zero otherwise).
    pub end: TimeValue,
    /// RRULE value, unparsed (expanded by [`crate::recur`]).
    pub rrule: Option<String>,
    /// RDATE values.
    pub rdates: Vec<TimeValue>,
    /// EXDATE values.
    pub exdates: Vec<TimeValue>,
    /// RECURRENCE-ID of an override.
    pub recurrence_id: Option<TimeValue>,
    /// SEQUENCE (0 when absent).
    pub sequence: i64,
    /// STATUS:CANCELLED.
    pub cancelled: bool,
    /// TRANSP:TRANSPARENT (does not block time).
    pub transparent: bool,
    /// CREATED, else DTSTAMP: the order in which a resource mailbox sees invites.
    pub created: Option<DateTime<Utc>>,
    /// ORGANIZER address.
    pub organizer: Option<String>,
    /// ATTENDEEs.
    pub attendees: Vec<Attendee>,
    /// LOCATION as text.
    pub location: Option<String>,
    /// DESCRIPTION as text.
    pub description: Option<String>,
    /// X-ALT-DESC (HTML body from Outlook) as text.
    pub alt_description: Option<String>,
    /// URL.
    pub url: Option<String>,
    /// CONFERENCE values (RFC 7986 §5.11).
    pub conferences: Vec<String>,
}

impl Event {
    /// Duration between start and end instants.
    pub fn duration(&self) -> Duration {
        self.end.utc() - self.start.utc()
    }
}

/// Reads every VEVENT of every VCALENDAR. Floating times are read in `floating`.
pub fn read_events(ical: &Ical, floating: chrono_tz::Tz) -> (Vec<Event>, Vec<EventError>) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for calendar in ical.calendars.iter().filter(|c| c.name == "VCALENDAR") {
        let (zones, zone_errors) = ZoneTable::from_calendar(calendar, floating);
        errors.extend(zone_errors.into_iter().map(EventError::Timezone));
        for component in calendar.children_named("VEVENT") {
            match read_event(component, &zones) {
                Ok(event) => events.push(event),
                Err(e) => errors.push(e),
            }
        }
    }
    (events, errors)
}

fn read_event(component: &Component, zones: &ZoneTable) -> Result<Event, EventError> {
    let text = |name: &str| component.property(name).map(Property::text);
    let uid = text("UID").map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
    let uid = uid.ok_or(EventError::MissingUid { line: component.line })?;
    let time_err = |source: TimeError| EventError::Time { uid: uid.clone(), source };
    let dtstart = component.property("DTSTART").ok_or_else(|| EventError::MissingDtstart { uid: uid.clone() })?;
    let start = parse_time(dtstart, zones).map_err(time_err)?;
    let end = match (component.property("DTEND"), component.property("DURATION")) {
        (Some(dtend), _) => parse_time(dtend, zones).map_err(time_err)?,
        (None, Some(duration)) => {
            let d = parse_duration(&duration.raw, "DURATION").map_err(time_err)?;
            TimeValue { local: start.local + d, ..start.clone() }
        }
        (None, None) if start.all_day => TimeValue { local: start.local + Duration::days(1), ..start.clone() },
        (None, None) => start.clone(),
    };
    if end.utc() < start.utc() {
        return Err(EventError::EndBeforeStart { uid });
    }
    let list = |name: &str| -> Result<Vec<TimeValue>, EventError> {
        let mut all = Vec::new();
        for prop in component.properties_named(name) {
            all.extend(parse_time_list(prop, zones).map_err(time_err)?);
        }
        Ok(all)
    };
    let instant = |name: &str| component.property(name).and_then(|p| parse_time(p, zones).ok()).map(|t| t.utc());
    let recurrence_id = component.property("RECURRENCE-ID").map(|p| parse_time(p, zones)).transpose().map_err(time_err)?;
    let attendees = component
        .properties_named("ATTENDEE")
        .map(|p| Attendee {
            address: p.raw.trim().to_owned(),
            partstat: p.param("PARTSTAT").unwrap_or("NEEDS-ACTION").to_ascii_uppercase(),
        })
        .collect();
    Ok(Event {
        summary: text("SUMMARY").unwrap_or_default(),
        rrule: component.property("RRULE").map(|p| p.raw.trim().to_owned()),
        rdates: list("RDATE")?,
        exdates: list("EXDATE")?,
        recurrence_id,
        sequence: component.property("SEQUENCE").and_then(|p| p.raw.trim().parse().ok()).unwrap_or(0),
        cancelled: text("STATUS").is_some_and(|s| s.trim().eq_ignore_ascii_case("CANCELLED")),
        transparent: text("TRANSP").is_some_and(|s| s.trim().eq_ignore_ascii_case("TRANSPARENT")),
        created: instant("CREATED").or_else(|| instant("DTSTAMP")),
        organizer: component.property("ORGANIZER").map(|p| p.raw.trim().to_owned()),
        attendees,
        location: text("LOCATION"),
        description: text("DESCRIPTION"),
        alt_description: text("X-ALT-DESC"),
        url: component.property("URL").map(|p| p.raw.trim().to_owned()),
        conferences: component.properties_named("CONFERENCE").map(|p| p.raw.trim().to_owned()).collect(),
        start,
        end,
        uid,
    })
}

/// True when `a` and `b` name the same calendar user: `mailto:` and case are ignored (RFC 5545 §3.3.3 CAL-ADDRESS
/// is a URI; mail addresses compare case-insensitively in practice).
pub fn same_address(a: &str, b: &str) -> bool {
    fn strip(s: &str) -> &str {
        let s = s.trim();
        s.get(..7).filter(|p| p.eq_ignore_ascii_case("mailto:")).map_or(s, |_| &s[7..])
    }
    strip(a).eq_ignore_ascii_case(strip(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ical::parse::{parse, Limits};

    fn events(src: &str) -> (Vec<Event>, Vec<EventError>) {
        match parse(src.as_bytes(), Limits::default()) {
            Ok(ical) => read_events(&ical, chrono_tz::UTC),
            Err(e) => panic!("parse: {e}"),
        }
    }

    #[test]
    fn missing_dtstart_and_unknown_tzid_name_the_uid() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:no-start\nSUMMARY:x\nEND:VEVENT\nBEGIN:VEVENT\nUID:mars\n\
DTSTART;TZID=Mars/Olympus:20260310T090000\nEND:VEVENT\nBEGIN:VEVENT\nUID:ok\nDTSTART:20260310T090000Z\n\
DURATION:PT45M\nEND:VEVENT\nEND:VCALENDAR\n";
        let (ok, errors) = events(src);
        assert_eq!(ok.len(), 1);
        assert_eq!(ok.first().map(|e| e.end.utc().to_rfc3339()).as_deref(), Some("2026-03-10T09:45:00+00:00"));
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["event no-start: no DTSTART", "event mars: unknown TZID `Mars/Olympus`"]);
    }

    #[test]
    fn all_day_default_end_and_attendee_partstat_default() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\nDTSTART;VALUE=DATE:20260310\n\
ATTENDEE;CN=Room:MAILTO:Room@Ent.example\nEND:VEVENT\nEND:VCALENDAR\n";
        let (ok, errors) = events(src);
        assert!(errors.is_empty());
        let event = ok.first();
        assert_eq!(event.map(Event::duration), Some(Duration::days(1)));
        let attendee = event.and_then(|e| e.attendees.first());
        assert_eq!(attendee.map(|a| a.partstat.as_str()), Some("NEEDS-ACTION"));
        assert!(attendee.is_some_and(|a| same_address(&a.address, "mailto:room@ent.example")));
    }

    #[test]
    fn end_before_start_is_rejected() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:back\nDTSTART:20260310T100000Z\nDTEND:20260310T090000Z\n\
END:VEVENT\nEND:VCALENDAR\n";
        assert_eq!(events(src).1, vec![EventError::EndBeforeStart { uid: "back".into() }]);
    }
}
