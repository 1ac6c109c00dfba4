//! iCalendar (RFC 5545) reading: content lines, components, time values and zones, events.

pub mod event;
pub mod parse;
pub mod time;
