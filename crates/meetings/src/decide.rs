//! What a room does with the calendar objects it holds, decided like a resource mailbox: pure, `now` passed in.
//!
//! Rules:
//! - an event where the room's ATTENDEE is ACCEPTED, or that has no room ATTENDEE at all (booked directly in the
//!   room's calendar), blocks its time; DECLINED, cancelled (STATUS:CANCELLED) and TRANSP:TRANSPARENT ones do not;
//! - pending invites (NEEDS-ACTION or TENTATIVE) are answered first come, first served (CREATED, else DTSTAMP,
//!   then href): *accept* when none of its instances in the horizon overlaps blocked time, else *decline* (a
//!   recurring invite is declined whole if any instance conflicts, as Exchange resource mailboxes do by default);
//!   an accepted invite blocks its time for the invites after it;
//! - an invite whose every instance has ended gets no answer;
//! - the reply rewrites only the room's ATTENDEE lines (PARTSTAT set, RSVP dropped) in every VEVENT of the object:
//!   every other byte of the organiser's object is kept.
//!
//! Bookings are the accepted instances that have not ended, within the horizon, joined through the resolver's
//! best candidate for the instance (an override may carry its own join details).

use std::ops::Range;

use chrono::{DateTime, Duration, Utc};
use thiserror::Error;

use crate::booking::Booking;
use crate::ical::event::{read_events, same_address, Event, EventError};
use crate::ical::parse::{parse, write_property, Component, Ical, IcalError, Limits, Param};
use crate::recur::{expand, group_by_uid, Occurrence, RecurError};
use crate::resolve::{candidates, ResolverConfig};

/// A calendar object resource as fetched from CalDAV (RFC 4791 §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarObject {
    /// Resource URL path.
    pub href: String,
    /// Entity tag, for `If-Match` on the reply.
    pub etag: Option<String>,
    /// iCalendar text.
    pub body: String,
}

/// A problem with one object; the other objects are still handled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// The object is not usable iCalendar.
    #[error("{href}: {source}")]
    Parse { href: String, source: IcalError },
    /// One event in it is broken (missing DTSTART, unknown TZID with the event's UID, …).
    #[error("{href}: {source}")]
    Event { href: String, source: EventError },
    /// A recurrence that cannot be expanded.
    #[error("{href}: {source}")]
    Recur { href: String, source: RecurError },
}

/// The room's answer to one invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Object to PUT back.
    pub href: String,
    /// `If-Match` value.
    pub etag: Option<String>,
    /// Event UID.
    pub uid: String,
    /// `ACCEPTED` or `DECLINED`.
    pub partstat: &'static str,
    /// Why (for logs): "free" or the conflicting event.
    pub reason: String,
    /// The object with the room's PARTSTAT rewritten.
    pub body: String,
}

/// Everything one poll decides for one room.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomPlan {
    /// Replies to write back.
    pub replies: Vec<Reply>,
    /// Bookings for the room, sorted by start.
    pub bookings: Vec<Booking>,
    /// Objects or events that could not be used.
    pub errors: Vec<ObjectError>,
}

/// Inputs that do not change between objects.
#[derive(Debug, Clone, Copy)]
pub struct RoomContext<'a> {
    /// The room's calendar user address (`mailto:board@ent.example`).
    pub address: &'a str,
    /// Join resolver settings.
    pub resolver: &'a ResolverConfig,
    /// Parser limits per object.
    pub limits: Limits,
    /// Current time.
    pub now: DateTime<Utc>,
    /// How far ahead to look.
    pub horizon: Duration,
}

/// How the room stands in one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Blocks,
    Pending,
    Ignored,
}

struct Series<'a> {
    object: usize,
    master: &'a Event,
    standing: Standing,
    instances: Vec<Occurrence<'a>>,
}

fn standing(master: &Event, overrides: &[&Event], address: &str) -> Standing {
    if master.cancelled || master.transparent {
        return Standing::Ignored;
    }
    let partstat = std::iter::once(master)
        .chain(overrides.iter().copied())
        .flat_map(|e| e.attendees.iter())
        .find(|a| same_address(&a.address, address))
        .map(|a| a.partstat.as_str());
    match partstat {
        None | Some("ACCEPTED") => Standing::Blocks,
        Some("NEEDS-ACTION" | "TENTATIVE") => Standing::Pending,
        Some(_) => Standing::Ignored,
    }
}

fn overlaps(a: &Occurrence<'_>, b: &Occurrence<'_>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Decides replies and bookings for one room from the objects in its calendar.
pub fn plan_room(objects: &[CalendarObject], ctx: &RoomContext<'_>) -> RoomPlan {
    let mut plan = RoomPlan::default();
    let window: Range<DateTime<Utc>> = ctx.now..ctx.now + ctx.horizon;
    let floating = ctx.resolver.floating_timezone.parse().unwrap_or(chrono_tz::UTC);
    let mut parsed: Vec<(usize, Ical, Vec<Event>)> = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        match parse(object.body.as_bytes(), ctx.limits) {
            Ok(ical) => {
                let (events, errors) = read_events(&ical, floating);
                let href = &object.href;
                plan.errors.extend(errors.into_iter().map(|source| ObjectError::Event { href: href.clone(), source }));
                parsed.push((index, ical, events));
            }
            Err(source) => plan.errors.push(ObjectError::Parse { href: object.href.clone(), source }),
        }
    }
    let mut series: Vec<Series<'_>> = Vec::new();
    for (object, _, events) in &parsed {
        for (master, overrides) in group_by_uid(events) {
            let standing = standing(master, &overrides, ctx.address);
            match expand(master, &overrides, &window) {
                Ok(mut instances) => {
                    instances.retain(|o| !o.event.cancelled && !o.event.transparent);
                    series.push(Series { object: *object, master, standing, instances });
                }
                Err(source) => plan.errors.push(ObjectError::Recur { href: objects.get(*object).map(|o| o.href.clone()).unwrap_or_default(), source }),
            }
        }
    }
    let href_of = |s: &Series<'_>| objects.get(s.object).map_or("", |o| o.href.as_str());
    let mut pending: Vec<usize> = (0..series.len()).filter(|i| series.get(*i).is_some_and(|s| s.standing == Standing::Pending)).collect();
    pending.sort_by_key(|i| series.get(*i).map(|s| (s.master.created, href_of(s).to_owned())));
    for i in pending {
        let Some(candidate) = series.get(i) else { continue };
        let ended = candidate.instances.is_empty() && candidate.master.start.utc() < ctx.now;
        if ended {
            continue;
        }
        let conflict = series.iter().filter(|s| s.standing == Standing::Blocks).find_map(|s| {
            s.instances.iter().find(|b| candidate.instances.iter().any(|a| overlaps(a, b))).map(|b| (s.master, b.start))
        });
        let (partstat, reason) = match conflict {
            Some((other, at)) => ("DECLINED", format!("conflicts with '{}' ({}) at {}", other.summary, other.uid, at.format("%Y-%m-%dT%H:%M:%SZ"))),
            None => ("ACCEPTED", "free".to_owned()),
        };
        let Some(object) = objects.get(candidate.object) else { continue };
        let Some((_, ical, _)) = parsed.iter().find(|(o, _, _)| *o == candidate.object) else { continue };
        let body = set_partstat(&object.body, ical, &candidate.master.uid, ctx.address, partstat);
        plan.replies.push(Reply { href: object.href.clone(), etag: object.etag.clone(), uid: candidate.master.uid.clone(), partstat, reason, body });
        if let Some(s) = series.get_mut(i) {
            s.standing = if partstat == "ACCEPTED" { Standing::Blocks } else { Standing::Ignored };
        }
    }
    for s in series.iter().filter(|s| s.standing == Standing::Blocks) {
        for occurrence in s.instances.iter().filter(|o| o.end > ctx.now) {
            let found = candidates(occurrence.event, ctx.resolver);
            plan.bookings.push(Booking::new(occurrence, found.first()));
        }
    }
    plan.bookings.sort_by(|a, b| (a.time.start_time, &a.id).cmp(&(b.time.start_time, &b.id)));
    plan
}

/// Rewrites the room's ATTENDEE lines in the VEVENTs with `uid`, replacing their byte spans from last to first.
fn set_partstat(body: &str, ical: &Ical, uid: &str, address: &str, partstat: &str) -> String {
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let is_event = |c: &Component| c.name == "VEVENT" && c.property("UID").is_some_and(|u| u.text().trim() == uid);
    for event in ical.calendars.iter().flat_map(|c| c.children.iter()).filter(|c| is_event(c)) {
        for prop in event.properties_named("ATTENDEE").filter(|p| same_address(&p.raw, address)) {
            let mut params: Vec<Param> = prop.params.iter().filter(|p| p.name != "PARTSTAT" && p.name != "RSVP").cloned().collect();
            params.push(Param { name: "PARTSTAT".into(), values: vec![partstat.to_owned()] });
            edits.push((prop.span.clone(), write_property("ATTENDEE", &params, &prop.raw)));
        }
    }
    edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    let mut out = body.to_owned();
    for (span, text) in edits {
        if out.get(span.clone()).is_some() {
            out.replace_range(span, &text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM: &str = "mailto:board@ent.example";

    fn object(href: &str, uid: &str, created: &str, start: &str, end: &str, partstat: Option<&str>, extra: &str) -> CalendarObject {
        let attendee = partstat.map_or(String::new(), |p| format!("ATTENDEE;CN=Board Room;CUTYPE=RESOURCE;PARTSTAT={p};RSVP=TRUE:{ROOM}\r\n"));
        let body = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{created}\r\nCREATED:{created}\r\n\
DTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:{uid}\r\nORGANIZER:mailto:jane@ent.example\r\n{attendee}{extra}\
LOCATION:https://us02web.zoom.us/j/85012345678?pwd=tok.1 Passcode: 739201\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        CalendarObject { href: format!("/rooms/board/{href}.ics"), etag: Some(format!("\"{href}\"")), body }
    }

    fn plan(objects: &[CalendarObject]) -> RoomPlan {
        let resolver = ResolverConfig::default();
        let now = DateTime::parse_from_rfc3339("2026-03-10T08:00:00Z").map(|d| d.with_timezone(&Utc)).unwrap_or_default();
        let ctx = RoomContext { address: ROOM, resolver: &resolver, limits: Limits::default(), now, horizon: Duration::days(7) };
        plan_room(objects, &ctx)
    }

    #[test]
    fn first_come_first_served_accept_then_decline_on_overlap() {
        let objects = [
            object("late", "late", "20260301T120000Z", "20260310T143000Z", "20260310T153000Z", Some("NEEDS-ACTION"), ""),
            object("early", "early", "20260301T100000Z", "20260310T140000Z", "20260310T150000Z", Some("NEEDS-ACTION"), ""),
            object("own", "own", "20260301T090000Z", "20260310T090000Z", "20260310T100000Z", None, ""),
            object("gone", "gone", "20260301T090000Z", "20260309T090000Z", "20260309T100000Z", Some("NEEDS-ACTION"), ""),
        ];
        let plan = plan(&objects);
        let replies: Vec<(&str, &str)> = plan.replies.iter().map(|r| (r.uid.as_str(), r.partstat)).collect();
        assert_eq!(replies, [("early", "ACCEPTED"), ("late", "DECLINED")]);
        assert!(plan.replies.get(1).is_some_and(|r| r.reason == "conflicts with 'early' (early) at 2026-03-10T14:00:00Z"));
        let ids: Vec<&str> = plan.bookings.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["own", "early"]);
        let dial = plan.bookings.get(1).and_then(|b| b.dial_info.calls.first()).map(|c| c.number.as_str());
        assert_eq!(dial, Some("85012345678.739201@zoomcrc.com"));
        assert!(plan.errors.is_empty());
    }

    #[test]
    fn reply_rewrites_only_the_room_attendee_line() {
        let objects = [object("a", "a", "20260301T100000Z", "20260310T140000Z", "20260310T150000Z", Some("NEEDS-ACTION"), "X-KEEP:  odd\\, spacing \r\n")];
        let plan = plan(&objects);
        let (Some(reply), Some(original)) = (plan.replies.first(), objects.first()) else { panic!("no reply") };
        let expected = original.body.replace(
            "ATTENDEE;CN=Board Room;CUTYPE=RESOURCE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:board@ent.example\r\n",
            "ATTENDEE;CN=Board Room;CUTYPE=RESOURCE;PARTSTAT=ACCEPTED:mailto:board@ent.e\r\n xample\r\n",
        );
        assert_eq!(reply.body, expected);
        assert_eq!(reply.etag.as_deref(), Some("\"a\""));
    }

    #[test]
    fn broken_objects_are_errors_and_do_not_stop_the_others() {
        let mut bad = object("bad", "bad", "20260301T100000Z", "20260310T140000Z", "20260310T150000Z", Some("NEEDS-ACTION"), "");
        bad.body = bad.body.replace("DTSTART:20260310T140000Z", "DTSTART;TZID=Nowhere/Special:20260310T140000");
        let good = object("good", "good", "20260301T100000Z", "20260310T140000Z", "20260310T150000Z", Some("NEEDS-ACTION"), "");
        let plan = plan(&[bad, good, CalendarObject { href: "/x.ics".into(), etag: None, body: "garbage".into() }]);
        let errors: Vec<String> = plan.errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors, ["/rooms/board/bad.ics: event bad: unknown TZID `Nowhere/Special`", "/x.ics: line 1: not a content line (`name[;param]:value`, RFC 5545 §3.1)"]);
        assert_eq!(plan.replies.len(), 1);
    }
}
