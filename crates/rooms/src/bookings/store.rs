//! causeway-meetings' booking store as a [`BookingSource`]: the calendar poller fills the store, the
//! controller pushes what it holds. The store keeps the last good list when a poll fails, so an answer here
//! is always the last good state; a room never polled successfully is an error (nothing is pushed, so a
//! device's list is not wiped by a poller that has not run yet).

use super::{Booking, BookingSource, BookingSourceError};
use causeway_meetings::booking as meetings;

impl BookingSource for meetings::BookingStore {
    fn bookings(&self, room: &str) -> Result<Vec<Booking>, BookingSourceError> {
        let state = self.room(room).ok_or_else(|| BookingSourceError::UnknownRoom { room: room.to_owned() })?;
        if state.updated_at.is_none() {
            return Err(BookingSourceError::NotYetPolled { room: room.to_owned(), last_error: state.last_error });
        }
        Ok(state.bookings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn meetings_booking() -> meetings::Booking {
        let start = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).single().expect("time");
        meetings::Booking {
            id: "uid-1#20261123T100000Z".into(),
            title: "Weekly".into(),
            time: meetings::BookingTime {
                start_time: start,
                end_time: start + chrono::Duration::minutes(30),
                start_time_buffer: meetings::START_TIME_BUFFER,
            },
            meeting_platform: "Zoom".into(),
            dial_info: meetings::DialInfo {
                connect_mode: "OBTP".into(),
                calls: vec![meetings::Call { number: "85012345678.739201@zoomcrc.com".into(), protocol: "SIP".into() }],
            },
        }
    }

    #[test]
    fn store_answers_only_after_a_successful_poll_and_keeps_it_through_errors() {
        let store = meetings::BookingStore::new();
        assert!(matches!(store.bookings("oslo"), Err(BookingSourceError::UnknownRoom { .. })));
        store.add_room("oslo", &[]);
        store.record_error("oslo", &std::io::Error::other("401 from CalDAV"));
        let err = store.bookings("oslo").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("no calendar poll has succeeded yet") && err.contains("401 from CalDAV"), "{err}");
        let b = meetings_booking();
        store.replace("oslo", vec![b.clone()], b.time.start_time);
        store.record_error("oslo", &std::io::Error::other("500 from CalDAV"));
        let got = store.bookings("oslo").expect("last good list");
        assert_eq!(got.len(), 1);
        let first = got.first().expect("one");
        assert_eq!(first.dial_string(), Some("85012345678.739201@zoomcrc.com"));
        assert_eq!(first.button_from(), b.time.start_time - chrono::Duration::minutes(5));
        assert_eq!(first.meeting_platform, "Zoom");
    }

    #[test]
    fn meetings_api_json_reads_as_a_booking_list() {
        let api = serde_json::json!({"room": "oslo", "ResultInfo": {"TotalRows": 1}, "Booking": [meetings_booking()]});
        let list: super::super::BookingList = serde_json::from_value(api).expect("the meetings API shape parses");
        let ours = list.into_vec();
        assert_eq!(ours, vec![meetings_booking()]);
        let roomos = serde_json::to_value(ours.iter().map(super::super::RoomOsBooking).collect::<Vec<_>>()).expect("json");
        assert_eq!(roomos[0]["DialInfo"]["Calls"]["Call"][0]["Protocol"], "SIP");
    }
}
