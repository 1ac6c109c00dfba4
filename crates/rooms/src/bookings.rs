//! Room bookings in the RoomOS shape (`xCommand Bookings List` / `Bookings Get`), where they come from
//! ([`BookingSource`]), and when a device shows the join button ([`join_button`], a pure function of `now`).
//!
//! The booking store itself belongs to causeway-meetings (calendar polling); this crate only needs "the
//! current list for room R", so any store can implement [`BookingSource`]. [`BookingsFile`] reads a JSON
//! file in the `Bookings List` shape, for labs and for rooms without a calendar.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Default `Time StartTimeBuffer`: the join button shows 5 minutes before the start (RoomOS OBTP).
pub const DEFAULT_START_BUFFER_SECS: u32 = 300;

/// One booking, serialized exactly as RoomOS presents it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Booking {
    /// Booking id, unique per room.
    pub id: String,
    /// Meeting title.
    pub title: String,
    /// Start, end and buffers.
    pub time: BookingTime,
    /// `Webex`, `MSTeams`, `GoogleMeet`, `Zoom`, … (free text on the device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_platform: Option<String>,
    /// How to join.
    pub dial_info: DialInfo,
}

/// `Booking Time`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BookingTime {
    /// Meeting start (UTC, ISO 8601).
    pub start_time: DateTime<Utc>,
    /// Meeting end.
    pub end_time: DateTime<Utc>,
    /// Seconds before the start that the join button appears.
    #[serde(default = "default_buffer")]
    pub start_time_buffer: u32,
}

fn default_buffer() -> u32 {
    DEFAULT_START_BUFFER_SECS
}

/// `Booking DialInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DialInfo {
    /// `OBTP` (one button to push) or `Manual`.
    #[serde(default = "default_connect_mode")]
    pub connect_mode: String,
    /// Dial strings, best first.
    pub calls: Calls,
}

fn default_connect_mode() -> String {
    "OBTP".to_owned()
}

/// `DialInfo Calls`, serialized as RoomOS does (`{"Call":[…]}`); a bare array (the meetings admin API's
/// `Calls:[…]`) is accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", from = "CallsRepr")]
pub struct Calls {
    /// `Calls Call[n]`.
    pub call: Vec<DialCall>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CallsRepr {
    Wrapped {
        #[serde(rename = "Call", default)]
        call: Vec<DialCall>,
    },
    Bare(Vec<DialCall>),
}

impl From<CallsRepr> for Calls {
    fn from(repr: CallsRepr) -> Self {
        match repr {
            CallsRepr::Wrapped { call } | CallsRepr::Bare(call) => Calls { call },
        }
    }
}

/// `DialInfo Calls Call[n]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DialCall {
    /// The dial string (`123456789.abcd@zoomcrc.com`).
    pub number: String,
    /// `SIP`, `Spark` or `WebRTC`.
    #[serde(default = "default_protocol")]
    pub protocol: String,
}

fn default_protocol() -> String {
    "SIP".to_owned()
}

impl Booking {
    /// The first dial string, if any.
    pub fn dial_string(&self) -> Option<&str> {
        self.dial_info.calls.call.first().map(|c| c.number.as_str())
    }

    /// When the join button appears.
    pub fn button_from(&self) -> DateTime<Utc> {
        self.time.start_time - Duration::seconds(i64::from(self.time.start_time_buffer))
    }
}

/// The booking whose join button a device shows at `now`: from `StartTime - StartTimeBuffer` until
/// `EndTime`; when several overlap, the one starting first.
pub fn join_button(bookings: &[Booking], now: DateTime<Utc>) -> Option<&Booking> {
    bookings
        .iter()
        .filter(|b| b.button_from() <= now && now < b.time.end_time)
        .min_by_key(|b| (b.time.start_time, b.id.as_str()))
}

/// Bookings worth sending to a device at `now`: not yet ended, soonest first, at most `limit`.
pub fn upcoming(bookings: &[Booking], now: DateTime<Utc>, limit: usize) -> Vec<Booking> {
    let mut out: Vec<Booking> = bookings.iter().filter(|b| b.time.end_time > now).cloned().collect();
    out.sort_by(|a, b| (a.time.start_time, &a.id).cmp(&(b.time.start_time, &b.id)));
    out.truncate(limit);
    out
}

/// A list of bookings as files and `Bookings Put` bodies carry it: `{"Booking":[…]}` or a bare array.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum BookingList {
    /// `{"Booking": […]}` (the `Bookings List` result shape).
    Wrapped {
        /// The bookings.
        #[serde(rename = "Booking", default)]
        booking: Vec<Booking>,
    },
    /// A bare array.
    Bare(Vec<Booking>),
}

impl BookingList {
    /// The bookings inside.
    pub fn into_vec(self) -> Vec<Booking> {
        match self {
            BookingList::Wrapped { booking } | BookingList::Bare(booking) => booking,
        }
    }
}

/// Why a booking source could not answer. The controller keeps the last good list when this happens.
#[derive(Debug, thiserror::Error)]
pub enum BookingSourceError {
    /// The bookings file could not be read.
    #[error("cannot read bookings file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bookings file is not a booking list.
    #[error("bookings file {path} is not a RoomOS booking list: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and why parsing failed.
        source: serde_json::Error,
    },
    /// The meetings booking store does not know the room (the room names of both configs must match).
    #[error("the meetings booking store has no room {room:?}")]
    UnknownRoom {
        /// The room asked for.
        room: String,
    },
    /// The meetings store has not had a successful calendar poll for the room yet.
    #[error("no calendar poll has succeeded yet for room {room:?}{}", .last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default())]
    NotYetPolled {
        /// The room asked for.
        room: String,
        /// The poller's last error, if any.
        last_error: Option<String>,
    },
    /// Another store failed.
    #[error("booking store has no list for room {room}: {source}")]
    Store {
        /// The room asked for.
        room: String,
        /// The store's own error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Anything that can give the current booking list of a room.
pub trait BookingSource: Send + Sync {
    /// The room's bookings as of now (any order).
    fn bookings(&self, room: &str) -> Result<Vec<Booking>, BookingSourceError>;
}

/// Bookings read from a JSON file (re-read on every call, so edits take effect at the next push).
#[derive(Debug, Clone)]
pub struct BookingsFile {
    path: PathBuf,
}

impl BookingsFile {
    /// A source backed by `path`.
    pub fn new(path: impl AsRef<Path>) -> Self {
        BookingsFile { path: path.as_ref().to_owned() }
    }
}

impl BookingSource for BookingsFile {
    fn bookings(&self, _room: &str) -> Result<Vec<Booking>, BookingSourceError> {
        let text = std::fs::read_to_string(&self.path)
            .map_err(|source| BookingSourceError::Read { path: self.path.clone(), source })?;
        serde_json::from_str::<BookingList>(&text)
            .map(BookingList::into_vec)
            .map_err(|source| BookingSourceError::Parse { path: self.path.clone(), source })
    }
}

mod store;

#[cfg(test)]
mod tests;
