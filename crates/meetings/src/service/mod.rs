//! The running side (feature `service`): CalDAV polling ([`poller`]), the CalDAV client ([`caldav`]), the
//! `[meetings]` config ([`config`]) and the admin API ([`api`]). Everything here does I/O; every decision it
//! acts on comes from the pure modules.

pub mod api;
pub mod caldav;
pub mod config;
pub mod poller;
