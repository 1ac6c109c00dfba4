use super::*;
use causeway_meetings::booking::{BookingTime, Call, DialInfo, START_TIME_BUFFER};
use chrono::{Duration, TimeZone};

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).single().expect("valid time")
}

pub(crate) fn booking(id: &str, start: DateTime<Utc>, minutes: i64, number: &str) -> Booking {
    Booking {
        id: id.into(),
        title: format!("Meeting {id}"),
        time: BookingTime {
            start_time: start,
            end_time: start + Duration::minutes(minutes),
            start_time_buffer: START_TIME_BUFFER,
        },
        meeting_platform: "Zoom".into(),
        dial_info: DialInfo {
            connect_mode: "OBTP".into(),
            calls: vec![Call { number: number.into(), protocol: "SIP".into() }],
        },
    }
}

#[test]
fn join_button_shows_five_minutes_before_and_until_the_end() {
    let b = vec![booking("a", at(10, 0), 30, "1234567890.111@zoomcrc.com")];
    assert_eq!(join_button(&b, at(9, 54)), None);
    assert_eq!(join_button(&b, at(9, 55)).and_then(Booking::dial_string), Some("1234567890.111@zoomcrc.com"));
    assert!(join_button(&b, at(10, 29)).is_some());
    assert_eq!(join_button(&b, at(10, 30)), None);
}

#[test]
fn overlapping_bookings_show_the_earliest_start() {
    let b = vec![booking("late", at(10, 30), 30, "late@x"), booking("early", at(10, 0), 40, "early@x")];
    assert_eq!(join_button(&b, at(10, 27)).map(|b| b.id.as_str()), Some("early"));
    assert_eq!(join_button(&b, at(10, 45)).map(|b| b.id.as_str()), Some("late"));
}

#[test]
fn upcoming_drops_ended_bookings_sorts_and_limits() {
    let b = vec![booking("c", at(12, 0), 30, "c@x"), booking("a", at(8, 0), 30, "a@x"), booking("b", at(11, 0), 30, "b@x")];
    let ids: Vec<_> = upcoming(&b, at(9, 0), 1).into_iter().map(|b| b.id).collect();
    assert_eq!(ids, vec!["b"]);
    assert_eq!(upcoming(&b, at(9, 0), 10).len(), 2);
}

#[test]
fn roomos_json_shape_round_trips_with_defaults() {
    let text = r#"{"Booking":[{"Id":"7","Title":"Standup",
        "Time":{"StartTime":"2026-11-23T10:00:00Z","EndTime":"2026-11-23T10:30:00Z"},
        "DialInfo":{"Calls":{"Call":[{"Number":"88@example.webex.com"}]}}}]}"#;
    let list = serde_json::from_str::<BookingList>(text).expect("parses").into_vec();
    let first = list.first().expect("one booking");
    assert_eq!(first.time.start_time_buffer, 300);
    assert_eq!(first.dial_info.connect_mode, "OBTP");
    assert_eq!(first.dial_info.calls.first().map(|c| c.protocol.as_str()), Some("SIP"));
    let json = serde_json::to_value(RoomOsBooking(first)).expect("serializes");
    assert_eq!(json["DialInfo"]["Calls"]["Call"][0]["Number"], "88@example.webex.com");
    assert_eq!(json["Time"]["StartTime"], "2026-11-23T10:00:00Z");
    let bare = format!("[{}]", json);
    assert_eq!(serde_json::from_str::<BookingList>(&bare).map(BookingList::into_vec).ok(), Some(list));
}

#[test]
fn bookings_file_errors_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = BookingsFile::new(dir.path().join("none.json"));
    assert!(matches!(missing.bookings("r"), Err(BookingSourceError::Read { .. })));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"Booking\": 5}").expect("write");
    let err = BookingsFile::new(&bad).bookings("r").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("bad.json") && err.contains("not a RoomOS booking list"), "{err}");
    let good = dir.path().join("good.json");
    let list = vec![booking("a", at(10, 0), 30, "a@x")];
    let file: Vec<_> = list.iter().map(RoomOsBooking).collect();
    std::fs::write(&good, serde_json::to_string(&file).expect("json")).expect("write");
    assert_eq!(BookingsFile::new(&good).bookings("r").ok(), Some(list));
}
