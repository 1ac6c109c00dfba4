//! Room bookings in the RoomOS shape (`xCommand Bookings List`, ../shared/ANCHORS.md §A5) and the store that keeps
//! the last good list per room.
//!
//! [`BookingStore`] is what other parts of Causeway read: the rooms controller pushes `room(..).bookings` to
//! devices, routing calls [`BookingStore::repair_zoom_dial`]. It is a cheap-to-clone handle (an `Arc`) over a
//! `std` lock, so it needs no runtime. A failed poll never replaces bookings: [`BookingStore::record_error`] keeps
//! the list and notes the error.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::recur::Occurrence;
use crate::repair::{repair_zoom_dial, Rewrite};
use crate::resolve::Candidate;

/// Seconds before the start at which the join button shows (RoomOS `StartTimeBuffer`; OBTP shows it 5 min early).
pub const START_TIME_BUFFER: u32 = 300;

/// A RoomOS booking: `Id, Title, Time{StartTime, EndTime, StartTimeBuffer}, MeetingPlatform,
/// DialInfo{ConnectMode, Calls[]{Number, Protocol}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Booking {
    /// `UID` for a single event, `UID#<instance start, UTC>` for one instance of a recurring one.
    pub id: String,
    /// SUMMARY.
    pub title: String,
    /// When.
    pub time: BookingTime,
    /// `Zoom`, `Webex`, `MSTeams`, `GoogleMeet` or `Other`.
    pub meeting_platform: String,
    /// How to join.
    pub dial_info: DialInfo,
}

/// `Time` of a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BookingTime {
    /// Start (UTC, RFC 3339).
    pub start_time: DateTime<Utc>,
    /// End (UTC, RFC 3339).
    pub end_time: DateTime<Utc>,
    /// Seconds before start at which the booking is current.
    pub start_time_buffer: u32,
}

/// `DialInfo` of a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DialInfo {
    /// `OBTP` when there is something to join, `Manual` when the invite had no join information.
    pub connect_mode: String,
    /// What to dial; the first is the one-button join.
    pub calls: Vec<Call>,
}

/// One entry of `DialInfo.Calls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Call {
    /// SIP address (`85012345678.739201@zoomcrc.com`) or, for WebRTC, the join link.
    pub number: String,
    /// `SIP` or `WebRTC`.
    pub protocol: String,
}

impl Booking {
    /// The booking for one occurrence, joined through `best` (None: no join information, `Manual`).
    pub fn new(occurrence: &Occurrence<'_>, best: Option<&Candidate>) -> Self {
        let event = occurrence.event;
        let id = match occurrence.instance {
            Some(instance) => format!("{}#{}", event.uid, instance.format("%Y%m%dT%H%M%SZ")),
            None => event.uid.clone(),
        };
        let call = best.and_then(|c| match (&c.dial, &c.url) {
            (Some(dial), _) => Some(Call { number: dial.clone(), protocol: "SIP".into() }),
            (None, Some(url)) => Some(Call { number: url.clone(), protocol: "WebRTC".into() }),
            (None, None) => None,
        });
        Self {
            id,
            title: event.summary.clone(),
            time: BookingTime { start_time: occurrence.start, end_time: occurrence.end, start_time_buffer: START_TIME_BUFFER },
            meeting_platform: best.map_or("Other", |c| c.platform.roomos_name()).to_owned(),
            dial_info: DialInfo {
                connect_mode: if call.is_some() { "OBTP" } else { "Manual" }.to_owned(),
                calls: call.into_iter().collect(),
            },
        }
    }

    /// True from `StartTimeBuffer` seconds before the start until the end.
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        let opens = self.time.start_time - chrono::Duration::seconds(i64::from(self.time.start_time_buffer));
        opens <= now && now < self.time.end_time
    }
}

/// One room's bookings and the state of its calendar source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoomBookings {
    /// Room id.
    pub room: String,
    /// Last good booking list, sorted by start.
    pub bookings: Vec<Booking>,
    /// When the list was last replaced by a successful poll.
    pub updated_at: Option<DateTime<Utc>>,
    /// The last poll's error, if the last poll failed (bookings are then the last good ones).
    pub last_error: Option<String>,
    /// Bumped on every change of `bookings`, so a consumer can push only when something changed.
    pub generation: u64,
}

#[derive(Debug, Default)]
struct Inner {
    rooms: BTreeMap<String, RoomBookings>,
    /// Caller identity (SIP address of the room's device, lower case) → room id.
    identities: BTreeMap<String, String>,
}

/// Shared per-room booking lists. Clone it to share; all methods take `&self`.
#[derive(Debug, Clone, Default)]
pub struct BookingStore {
    inner: Arc<RwLock<Inner>>,
}

impl BookingStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a room and the caller identities (SIP addresses) its devices use.
    pub fn add_room(&self, room: &str, identities: &[String]) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        inner.rooms.entry(room.to_owned()).or_insert_with(|| RoomBookings {
            room: room.to_owned(),
            bookings: Vec::new(),
            updated_at: None,
            last_error: None,
            generation: 0,
        });
        for identity in identities {
            inner.identities.insert(normalise_identity(identity), room.to_owned());
        }
    }

    /// Replaces a room's bookings after a successful poll and clears its error.
    pub fn replace(&self, room: &str, mut bookings: Vec<Booking>, at: DateTime<Utc>) {
        bookings.sort_by(|a, b| (a.time.start_time, &a.id).cmp(&(b.time.start_time, &b.id)));
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = inner.rooms.get_mut(room) {
            if entry.bookings != bookings {
                entry.generation += 1;
                entry.bookings = bookings;
            }
            entry.updated_at = Some(at);
            entry.last_error = None;
        }
    }

    /// Notes a failed poll; the bookings stay as they were.
    pub fn record_error(&self, room: &str, error: &dyn std::error::Error) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = inner.rooms.get_mut(room) {
            entry.last_error = Some(error.to_string());
        }
    }

    /// A copy of one room's state.
    pub fn room(&self, room: &str) -> Option<RoomBookings> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner).rooms.get(room).cloned()
    }

    /// Every room id.
    pub fn rooms(&self) -> Vec<String> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner).rooms.keys().cloned().collect()
    }

    /// The room a caller is: a room id, or one of the identities given to [`BookingStore::add_room`].
    pub fn room_for(&self, caller: &str) -> Option<String> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        if inner.rooms.contains_key(caller) {
            return Some(caller.to_owned());
        }
        inner.identities.get(&normalise_identity(caller)).cloned()
    }

    /// Zoom dial-string repair for a call from `caller` (room id or device identity): see [`repair_zoom_dial`].
    pub fn repair_zoom_dial(&self, caller: &str, dialled: &str, now: DateTime<Utc>) -> Option<Rewrite> {
        let room = self.room_for(caller)?;
        let bookings = self.room(&room)?.bookings;
        repair_zoom_dial(&room, &bookings, dialled, now)
    }
}

/// `sip:Room@Ent.example;transport=tls` → `room@ent.example`.
fn normalise_identity(identity: &str) -> String {
    let s = identity.trim().trim_start_matches('<').trim_end_matches('>');
    let s = s.split_once(':').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips")).map_or(s, |(_, rest)| rest);
    s.split([';', '?']).next().unwrap_or(s).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn booking(id: &str) -> Booking {
        let start = DateTime::parse_from_rfc3339("2026-03-10T14:00:00Z").map(|d| d.with_timezone(&Utc)).unwrap_or_default();
        Booking {
            id: id.into(),
            title: "t".into(),
            time: BookingTime { start_time: start, end_time: start + chrono::Duration::hours(1), start_time_buffer: START_TIME_BUFFER },
            meeting_platform: "Other".into(),
            dial_info: DialInfo { connect_mode: "Manual".into(), calls: Vec::new() },
        }
    }

    #[test]
    fn errors_keep_the_last_good_list_and_generation_counts_changes() {
        let store = BookingStore::new();
        store.add_room("board", &["sip:Board@Ent.example".into()]);
        let at = DateTime::UNIX_EPOCH;
        store.replace("board", vec![booking("a")], at);
        store.replace("board", vec![booking("a")], at);
        let err = std::io::Error::other("CalDAV server answered 500");
        store.record_error("board", &err);
        let state = store.room("board");
        assert_eq!(state.as_ref().map(|s| s.bookings.len()), Some(1));
        assert_eq!(state.as_ref().map(|s| s.generation), Some(1));
        assert_eq!(state.and_then(|s| s.last_error).as_deref(), Some("CalDAV server answered 500"));
        assert_eq!(store.room_for("<sip:board@ent.example;transport=tls>").as_deref(), Some("board"));
        assert_eq!(store.room_for("sip:other@ent.example"), None);
    }

    #[test]
    fn booking_is_current_from_five_minutes_before_start_until_end() {
        let b = booking("a");
        let start = b.time.start_time;
        assert!(!b.is_current(start - chrono::Duration::seconds(301)));
        assert!(b.is_current(start - chrono::Duration::seconds(300)));
        assert!(b.is_current(b.time.end_time - chrono::Duration::seconds(1)));
        assert!(!b.is_current(b.time.end_time));
    }
}
