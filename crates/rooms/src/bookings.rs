//! Room bookings on a device (`xCommand Bookings List` / `Bookings Get`), where they come from
//! ([`BookingSource`]), and when a device shows the join button ([`join_button`], a pure function of `now`).
//!
//! The booking model and store belong to causeway-meetings (calendar polling); this crate only needs "the
//! current list for room R", so any store can implement [`BookingSource`]. [`BookingsFile`] reads a JSON
//! file in the `Bookings List` shape, for labs and for rooms without a calendar.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The booking model is causeway-meetings': a device lists it as [`RoomOsBooking`].
pub use causeway_meetings::booking::{Booking, RoomOsBooking};

/// The booking whose join button a device shows at `now`: from `StartTime - StartTimeBuffer` until
/// `EndTime`; when several overlap, the one starting first.
pub fn join_button(bookings: &[Booking], now: DateTime<Utc>) -> Option<&Booking> {
    bookings
        .iter()
        .filter(|b| b.is_current(now))
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
