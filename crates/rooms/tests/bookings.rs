//! Bookings pushed by the controller: the device lists them (`xCommand Bookings List` over the wire), the
//! join button shows 5 minutes before the start with the booking's dial string, a failing booking source
//! leaves the last good list in force, and a rebooted device gets that list again.

mod common;

use causeway_meetings::booking::{BookingTime, Call, DialInfo};
use causeway_rooms::bookings::{Booking, BookingSource, BookingSourceError, RoomOsBooking};
use causeway_rooms::controller::{spawn_room, TlsVerify, XapiClient};
use chrono::{DateTime, Duration, Utc};
use common::*;
use serde_json::json;
use std::sync::{Arc, Mutex};

fn booking(id: &str, start: DateTime<Utc>, number: &str) -> Booking {
    Booking {
        id: id.into(),
        title: format!("Meeting {id}"),
        time: BookingTime { start_time: start, end_time: start + Duration::minutes(30), start_time_buffer: 300 },
        meeting_platform: "Zoom".into(),
        dial_info: DialInfo {
            connect_mode: "OBTP".into(),
            calls: vec![Call { number: number.into(), protocol: "SIP".into() }],
        },
    }
}

/// A booking store whose answer the test controls; `None` means "the calendar is down".
struct TestStore(Mutex<Option<Vec<Booking>>>);

impl TestStore {
    fn set(&self, list: Option<Vec<Booking>>) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = list;
    }
}

impl BookingSource for TestStore {
    fn bookings(&self, room: &str) -> Result<Vec<Booking>, BookingSourceError> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone().ok_or_else(|| BookingSourceError::Store {
            room: room.to_owned(),
            source: Box::new(std::io::Error::other("CalDAV server answered 500")),
        })
    }
}

fn ids(sim: &causeway_rooms::sim::Simulator) -> Vec<String> {
    sim.with_device(|d| d.bookings().iter().map(|b| b.id.clone()).collect())
}

#[tokio::test]
async fn pushed_bookings_drive_the_join_button_and_survive_source_outages() {
    let sim = sim(&[(1920, 1080)]).await;
    let start = Utc::now() + Duration::minutes(10);
    let zoom = "85512345678.42@zoomcrc.com";
    let ended = booking("old", Utc::now() - Duration::hours(2), "old@example.com");
    let store = Arc::new(TestStore(Mutex::new(Some(vec![booking("zoom", start, zoom), ended]))));
    let target = room(sim.url(), TlsVerify::Insecure).device;
    let mut room = spawn_room(room(sim.url(), TlsVerify::Insecure), settings(), Some(store.clone()));
    wait_state(&mut room, "first push", |s| s.connected && s.bookings_pushed >= 1).await;
    assert_eq!(ids(&sim), vec!["zoom"], "ended bookings are not pushed");

    // The join button: not 6 minutes before, yes 5 minutes before, with the booking's dial string.
    assert_eq!(sim.with_device(|d| d.join_button(start - Duration::minutes(6))), None);
    assert_eq!(
        sim.with_device(|d| d.join_button(start - Duration::minutes(5))),
        Some(("zoom".to_owned(), zoom.to_owned()))
    );

    // What any xAPI client sees on the device.
    let mut client = XapiClient::connect(&target, std::time::Duration::from_secs(2)).await.expect("connect");
    let list = client.call("xCommand/Bookings/List", json!({})).await.expect("Bookings List");
    assert_eq!(list["ResultInfo"]["TotalRows"], json!(1));
    assert_eq!(list["Booking"][0]["DialInfo"]["Calls"]["Call"][0]["Number"], json!(zoom));
    assert_eq!(list["Booking"][0]["Time"]["StartTimeBuffer"], json!(300));
    let button = client.call("Sim/JoinButton", json!({"At": (start - Duration::minutes(4)).to_rfc3339()})).await;
    assert_eq!(button.expect("Sim/JoinButton")["Number"], json!(zoom));

    // A new invite arrives: pushed at the next refresh.
    store.set(Some(vec![booking("zoom", start, zoom), booking("webex", start + Duration::hours(1), "88@acme.webex.com")]));
    wait_state(&mut room, "second push", |s| s.bookings_pushed >= 2).await;
    assert_eq!(ids(&sim), vec!["zoom", "webex"]);

    // The calendar goes down: nothing is lost on the device, and a rebooted device gets the last good list.
    store.set(None);
    let pushed = room.state().bookings_pushed;
    let addr = sim.local_addr();
    drop(client);
    sim.shutdown().await;
    let rebooted = sim_at(addr, &[(1920, 1080)], false).await;
    wait_state(&mut room, "pushes to the rebooted device", |s| s.connected && s.bookings_pushed > pushed).await;
    assert_eq!(ids(&rebooted), vec!["zoom", "webex"]);
}

#[tokio::test]
async fn bookings_file_is_used_when_no_store_is_wired_in() {
    let sim = sim(&[(1920, 1080)]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("room.json");
    let start = Utc::now() + Duration::minutes(30);
    let list = json!({ "Booking": [RoomOsBooking(&booking("f1", start, "1234@example.com"))] });
    std::fs::write(&file, list.to_string()).expect("write bookings file");
    let mut cfg = room(sim.url(), TlsVerify::Insecure);
    cfg.bookings_file = Some(file.clone());
    let mut room = spawn_room(cfg, settings(), None);
    wait_state(&mut room, "file pushed", |s| s.bookings_pushed >= 1).await;
    assert_eq!(ids(&sim), vec!["f1"]);

    // A broken edit keeps the last good list; the controller stays connected.
    std::fs::write(&file, "{ half a file").expect("write");
    let _ = room.wait_for(std::time::Duration::from_millis(300), |s| !s.connected).await;
    let state = room.state();
    assert!(state.connected && state.failures == 0, "{state:?}");
    assert_eq!(ids(&sim), vec!["f1"]);
}
