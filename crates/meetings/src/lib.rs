//! Causeway meetings: from calendar invites to one-button joins (flow F5).
//!
//! What it does: reads iCalendar invites (RFC 5545) with a parser that bounds memory and keeps byte spans
//! ([`ical`]); finds every way to join a meeting and picks the best by a configurable priority ([`resolve`]);
//! expands recurrences for a window ([`recur`]); decides like a resource mailbox whether a room accepts an invite
//! ([`decide`]); keeps per room a booking list in the RoomOS shape ([`booking::BookingStore`]); and repairs a Zoom
//! dial string a room dialled without its passcode ([`repair`]). With the `service` feature (default) it also
//! polls room calendars on a CalDAV server, writes the room's PARTSTAT back, and serves the bookings on a loopback
//! admin API ([`service`]).
//!
//! What it never does: the pure modules read no clock (`now` is a parameter), open no socket and spawn no task;
//! only [`service`] does I/O. Main types: [`resolve::Candidate`], [`resolve::ResolverConfig`],
//! [`booking::Booking`], [`booking::BookingStore`], [`repair::Rewrite`].

pub mod booking;
pub mod decide;
pub mod ical;
pub mod recur;
pub mod repair;
pub mod resolve;
#[cfg(feature = "service")]
pub mod service;
pub mod text;
