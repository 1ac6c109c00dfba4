//! The Zoom dial-string repair as a routing stage (issue 6 item 3, flow F5): a room device that
//! dials `<id>@zoomcrc.com` without the passcode gets the full dial string of the room's current
//! booking for that meeting, before transforms and search rules run, so the call joins without
//! a prompt. The decision is causeway-meetings' [`BookingStore::repair_zoom_dial`]; this module
//! only feeds it the caller and the time.

use std::sync::Arc;

use causeway_meetings::booking::BookingStore;
use causeway_routing::{AliasRewriter, ExternalRewrite};
use causeway_sip::header::addr::NameAddr;
use chrono::{DateTime, Utc};

/// Wall-clock time, supplied by the I/O layer (the core reads no clock, STYLE §6.2): bookings
/// are in calendar time.
pub type WallClock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Rewrites short Zoom dial strings from rooms with a current booking.
#[derive(Clone)]
pub struct ZoomRepair {
    store: BookingStore,
    clock: WallClock,
}

impl ZoomRepair {
    /// A repair stage over `store` (filled by the meetings poller), at the time `clock` gives.
    pub fn new(store: BookingStore, clock: WallClock) -> Self {
        Self { store, clock }
    }
}

impl std::fmt::Debug for ZoomRepair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoomRepair").field("rooms", &self.store.rooms()).finish_non_exhaustive()
    }
}

impl AliasRewriter for ZoomRepair {
    fn name(&self) -> &str {
        "zoom repair"
    }

    /// `caller` is the From value; the room is the one whose device identities include its URI.
    fn rewrite(&self, caller: Option<&str>, request_uri: &str) -> Option<ExternalRewrite> {
        let caller = NameAddr::parse(caller?).ok()?;
        let rewrite = self.store.repair_zoom_dial(caller.uri_str(), request_uri, (self.clock)())?;
        Some(ExternalRewrite { request_uri: rewrite.to, why: rewrite.why })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_meetings::booking::{Booking, BookingTime, Call, DialInfo, START_TIME_BUFFER};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    fn repair(now: &'static str) -> ZoomRepair {
        let store = BookingStore::new();
        store.add_room("board", &["sip:board-codec@ent.example".into()]);
        let start = at("2026-03-10T14:00:00Z");
        let booking = Booking {
            id: "b1".into(),
            title: "Quarterly review".into(),
            time: BookingTime { start_time: start, end_time: start + chrono::Duration::hours(1), start_time_buffer: START_TIME_BUFFER },
            meeting_platform: "Zoom".into(),
            dial_info: DialInfo {
                connect_mode: "OBTP".into(),
                calls: vec![Call { number: "85012345678.739201@zoomcrc.com".into(), protocol: "SIP".into() }],
            },
        };
        store.replace("board", vec![booking], start);
        ZoomRepair::new(store, Arc::new(move || at(now)))
    }

    #[test]
    fn the_room_named_by_from_gets_its_bookings_passcode() {
        let r = repair("2026-03-10T13:58:00Z");
        let from = "\"Board\" <sip:board-codec@ent.example>;tag=77";
        let out = r.rewrite(Some(from), "sip:85012345678@zoomcrc.com");
        assert_eq!(out.as_ref().map(|o| o.request_uri.as_str()), Some("sip:85012345678.739201@zoomcrc.com"));
        assert!(out.is_some_and(|o| o.why.contains("booking 'Quarterly review'")));
    }

    #[test]
    fn other_callers_times_and_strings_are_left_alone() {
        let r = repair("2026-03-10T13:58:00Z");
        assert_eq!(r.rewrite(Some("<sip:lobby@ent.example>;tag=1"), "sip:85012345678@zoomcrc.com"), None);
        assert_eq!(r.rewrite(None, "sip:85012345678@zoomcrc.com"), None);
        assert_eq!(r.rewrite(Some("garbage <"), "sip:85012345678@zoomcrc.com"), None);
        let later = repair("2026-03-10T15:00:00Z");
        assert_eq!(later.rewrite(Some("<sip:board-codec@ent.example>"), "sip:85012345678@zoomcrc.com"), None);
    }
}
