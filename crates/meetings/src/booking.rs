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
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::recur::Occurrence;
use crate::repair::{repair_zoom_dial, Rewrite};
use crate::resolve::Candidate;

/// Seconds before the start at which the join button shows (RoomOS `StartTimeBuffer`; OBTP shows it 5 min early).
pub const START_TIME_BUFFER: u32 = 300;

/// A RoomOS booking: `Id, Title, Time{StartTime, EndTime, StartTimeBuffer}, MeetingPlatform,
/// DialInfo{ConnectMode, Calls[]{Number, Protocol}}`.
///
/// Serialized as the admin API serves it (`Calls` a bare array); [`RoomOsBooking`] writes it as a device lists
/// it. Read in either shape, with a device's defaults for what a hand-written booking file leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Booking {
    /// `UID` for a single event, `UID#<instance start, UTC>` for one instance of a recurring one.
    pub id: String,
    /// SUMMARY.
    pub title: String,
    /// When.
    pub time: BookingTime,
    /// `Zoom`, `Webex`, `MSTeams`, `GoogleMeet` or `Other`; empty (and left out of the JSON) when a booking
    /// file does not say.
    #[serde(default, skip_serializing_if = "String::is_empty")]
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
    /// Seconds before start at which the booking is current ([`START_TIME_BUFFER`] when absent).
    #[serde(default = "start_time_buffer")]
    pub start_time_buffer: u32,
}

fn start_time_buffer() -> u32 {
    START_TIME_BUFFER
}

/// `DialInfo` of a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DialInfo {
    /// `OBTP` when there is something to join, `Manual` when the invite had no join information (`OBTP` when
    /// absent).
    #[serde(default = "obtp")]
    pub connect_mode: String,
    /// What to dial; the first is the one-button join. Read as a bare array or as RoomOS' `{"Call": [..]}`.
    #[serde(deserialize_with = "calls_in_either_shape")]
    pub calls: Vec<Call>,
}

fn obtp() -> String {
    "OBTP".to_owned()
}

/// One entry of `DialInfo.Calls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Call {
    /// SIP address (`85012345678.739201@zoomcrc.com`) or, for WebRTC, the join link.
    pub number: String,
    /// `SIP`, `Spark` or `WebRTC` (`SIP` when absent).
    #[serde(default = "sip")]
    pub protocol: String,
}

fn sip() -> String {
    "SIP".to_owned()
}

/// `DialInfo.Calls` as written: RoomOS' `{"Call": [..]}` (ANCHORS §A5) or the admin API's bare array.
#[derive(Deserialize)]
#[serde(untagged)]
enum CallsShape {
    Wrapped {
        #[serde(rename = "Call", default)]
        call: Vec<Call>,
    },
    Bare(Vec<Call>),
}

fn calls_in_either_shape<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Call>, D::Error> {
    CallsShape::deserialize(deserializer).map(|shape| match shape {
        CallsShape::Wrapped { call } | CallsShape::Bare(call) => call,
    })
}

/// A booking as a RoomOS device lists it (`xCommand Bookings List` / `Bookings Get`): `DialInfo.Calls` is
/// `{"Call": [..]}` where [`Booking`]'s own serialization has a bare array.
#[derive(Debug, Clone, Copy)]
pub struct RoomOsBooking<'a>(pub &'a Booking);

impl Serialize for RoomOsBooking<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut json = serde_json::to_value(self.0).map_err(S::Error::custom)?;
        if let Some(calls) = json.pointer_mut("/DialInfo/Calls") {
            *calls = serde_json::json!({ "Call": calls.take() });
        }
        json.serialize(serializer)
    }
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

    /// When the join button appears: `StartTimeBuffer` seconds before the start.
    pub fn button_from(&self) -> DateTime<Utc> {
        self.time.start_time - chrono::Duration::seconds(i64::from(self.time.start_time_buffer))
    }

    /// True from [`Booking::button_from`] until the end.
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        self.button_from() <= now && now < self.time.end_time
    }

    /// The first dial string (the one-button join), if any.
    pub fn dial_string(&self) -> Option<&str> {
        self.dial_info.calls.first().map(|c| c.number.as_str())
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

    #[test]
    fn calls_read_in_either_shape_with_device_defaults_and_write_for_a_device_wrapped() {
        let wrapped = r#"{"Id":"7","Title":"Standup","Time":{"StartTime":"2026-11-23T10:00:00Z","EndTime":"2026-11-23T10:30:00Z"},
            "DialInfo":{"Calls":{"Call":[{"Number":"88@example.webex.com"}]}}}"#;
        let b: Booking = serde_json::from_str(wrapped).expect("RoomOS shape parses");
        assert_eq!(b.time.start_time_buffer, START_TIME_BUFFER);
        assert_eq!(b.dial_info.connect_mode, "OBTP");
        assert_eq!(b.dial_info.calls, vec![Call { number: "88@example.webex.com".into(), protocol: "SIP".into() }]);
        assert_eq!(b.meeting_platform, "");
        let api = serde_json::to_value(&b).expect("json");
        assert_eq!(api["DialInfo"]["Calls"][0]["Number"], "88@example.webex.com");
        assert!(api.get("MeetingPlatform").is_none());
        assert_eq!(serde_json::from_value::<Booking>(api).ok().as_ref(), Some(&b));
        let device = serde_json::to_value(RoomOsBooking(&b)).expect("json");
        assert_eq!(device["DialInfo"]["Calls"]["Call"][0]["Protocol"], "SIP");
        assert_eq!(serde_json::from_value::<Booking>(device).ok(), Some(b));
    }
}
