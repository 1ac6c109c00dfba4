//! Zoom dial-string repair (flow F5, ../shared/ANCHORS.md §A5 "Zoom OBTP repair").
//!
//! A room device that dials `<id>@zoomcrc.com` (no passcode) lands on Zoom's passcode prompt. If the room has a
//! booking that is current (from `StartTimeBuffer` before its start until its end) whose dial string is the same
//! meeting with a passcode or host key, the Request-URI is rewritten to that full string. Anything else — another
//! meeting ID, a string that already has a passcode, no current booking — is left alone. Pure: `now` is passed in.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::booking::Booking;
use crate::resolve::{is_zoom_host, zoom_user};

/// A Request-URI rewrite and the reason for it (shown in a `locate` trace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rewrite {
    /// The URI as dialled.
    pub from: String,
    /// The URI to send instead.
    pub to: String,
    /// One trace line explaining the rewrite.
    pub why: String,
}

/// Pieces of a dialled URI: `<` + `sip:` + user@host + `;params` + `>`.
struct Dialled<'a> {
    prefix: &'a str,
    user: &'a str,
    host: &'a str,
    suffix: &'a str,
}

fn split_dialled(uri: &str) -> Option<Dialled<'_>> {
    let trimmed = uri.trim();
    let inner = trimmed.strip_prefix('<').and_then(|s| s.strip_suffix('>')).unwrap_or(trimmed);
    let scheme_len = ["sip:", "sips:"]
        .iter()
        .find(|s| inner.get(..s.len()).is_some_and(|p| p.eq_ignore_ascii_case(s)))
        .map_or(0, |s| s.len());
    let body = &inner[scheme_len..];
    let end = body.find([';', '?']).unwrap_or(body.len());
    let (user, host) = body[..end].split_once('@')?;
    let host_end = host.find(':').unwrap_or(host.len());
    let open = usize::from(inner.len() != trimmed.len());
    let prefix = &trimmed[..open + scheme_len];
    Some(Dialled { prefix, user, host: &host[..host_end], suffix: &trimmed[prefix.len() + end..] })
}

/// Repairs `dialled` from `room`'s `bookings` at `now`; None when nothing should change.
pub fn repair_zoom_dial(room: &str, bookings: &[Booking], dialled: &str, now: DateTime<Utc>) -> Option<Rewrite> {
    let d = split_dialled(dialled)?;
    let (id, None, None) = zoom_user(d.user)? else { return None };
    if !is_zoom_host(d.host) {
        return None;
    }
    let found = bookings
        .iter()
        .filter(|b| b.is_current(now))
        .flat_map(|b| b.dial_info.calls.iter().map(move |c| (b, c)))
        .filter(|(_, c)| c.protocol == "SIP")
        .filter_map(|(b, c)| {
            let (user, host) = c.number.split_once('@')?;
            let (call_id, pass, key) = zoom_user(user)?;
            (call_id == id && (pass.is_some() || key.is_some()) && is_zoom_host(host)).then_some((b, c, pass.is_some()))
        })
        .min_by_key(|(b, _, _)| (b.time.start_time - now).num_seconds().abs())?;
    let (booking, call, has_passcode) = found;
    let to = format!("{}{}{}", d.prefix, call.number, d.suffix);
    let what = if has_passcode { "the passcode" } else { "the host key" };
    let why = format!(
        "zoom repair: room {room} dialled meeting {id} without {what}; booking '{}' ({}) is current ({} to {}, button from {} s before): {} → {}",
        booking.title,
        booking.id,
        booking.time.start_time.format("%Y-%m-%dT%H:%M:%SZ"),
        booking.time.end_time.format("%Y-%m-%dT%H:%M:%SZ"),
        booking.time.start_time_buffer,
        dialled.trim(),
        to,
    );
    Some(Rewrite { from: dialled.trim().to_owned(), to, why })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{BookingStore, BookingTime, Call, DialInfo, START_TIME_BUFFER};
    use chrono::Duration;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    fn booking(id: &str, start: &str, number: &str) -> Booking {
        Booking {
            id: id.into(),
            title: format!("meeting {id}"),
            time: BookingTime { start_time: t(start), end_time: t(start) + Duration::hours(1), start_time_buffer: START_TIME_BUFFER },
            meeting_platform: "Zoom".into(),
            dial_info: DialInfo { connect_mode: "OBTP".into(), calls: vec![Call { number: number.into(), protocol: "SIP".into() }] },
        }
    }

    fn bookings() -> Vec<Booking> {
        vec![
            booking("a", "2026-03-10T14:00:00Z", "85012345678.739201@zoomcrc.com"),
            booking("b", "2026-03-10T16:00:00Z", "91122233344..556677@zoomcrc.com"),
        ]
    }

    #[test]
    fn short_string_gets_the_bookings_passcode_inside_the_window() {
        let r = repair_zoom_dial("board", &bookings(), "sip:85012345678@zoomcrc.com;transport=tls", t("2026-03-10T13:55:00Z"));
        assert_eq!(r.as_ref().map(|r| r.to.as_str()), Some("sip:85012345678.739201@zoomcrc.com;transport=tls"));
        assert!(r.is_some_and(|r| r.why.contains("room board dialled meeting 85012345678 without the passcode; booking 'meeting a' (a) is current")));
        let angle = repair_zoom_dial("board", &bookings(), "<sips:85012345678@zoomcrc.com>", t("2026-03-10T14:59:59Z"));
        assert_eq!(angle.map(|r| r.to), Some("<sips:85012345678.739201@zoomcrc.com>".into()));
        let bare = repair_zoom_dial("board", &bookings(), "91122233344@zmeu.us", t("2026-03-10T16:10:00Z"));
        assert_eq!(bare.map(|r| r.to), Some("91122233344..556677@zoomcrc.com".into()));
    }

    #[test]
    fn no_change_outside_the_window_or_for_other_strings() {
        let b = bookings();
        let at = t("2026-03-10T14:10:00Z");
        assert_eq!(repair_zoom_dial("board", &b, "sip:85012345678@zoomcrc.com", t("2026-03-10T13:54:59Z")), None);
        assert_eq!(repair_zoom_dial("board", &b, "sip:85012345678@zoomcrc.com", t("2026-03-10T15:00:00Z")), None);
        assert_eq!(repair_zoom_dial("board", &b, "sip:85012345678.111111@zoomcrc.com", at), None);
        assert_eq!(repair_zoom_dial("board", &b, "sip:99999999999@zoomcrc.com", at), None);
        assert_eq!(repair_zoom_dial("board", &b, "sip:85012345678@pbx.ent.example", at), None);
        assert_eq!(repair_zoom_dial("board", &b, "not a uri", at), None);
        assert_eq!(repair_zoom_dial("board", &[], "sip:85012345678@zoomcrc.com", at), None);
    }

    #[test]
    fn store_repairs_by_room_id_or_device_identity() {
        let store = BookingStore::new();
        store.add_room("board", &["sip:board-codec@ent.example".into()]);
        store.replace("board", bookings(), t("2026-03-10T13:00:00Z"));
        let at = t("2026-03-10T14:01:00Z");
        let by_identity = store.repair_zoom_dial("sip:board-codec@ent.example", "sip:85012345678@zoomcrc.com", at);
        assert_eq!(by_identity.map(|r| r.to), Some("sip:85012345678.739201@zoomcrc.com".into()));
        assert!(store.repair_zoom_dial("board", "sip:85012345678@zoomcrc.com", at).is_some());
        assert_eq!(store.repair_zoom_dial("lobby", "sip:85012345678@zoomcrc.com", at), None);
    }
}
