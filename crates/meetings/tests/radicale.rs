//! Room calendars against a real CalDAV server: Radicale on 127.0.0.1 (ephemeral port, temp storage, htpasswd
//! auth). Invites are PUT as an organiser would; one poll answers them like a resource mailbox; the test reads the
//! PARTSTATs back from the server and checks the booking list (store and admin API). Then the failure cases: wrong
//! credentials (401), server down, a server answering 500 or broken XML, and a stale ETag (412).

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use causeway_meetings::booking::BookingStore;
use causeway_meetings::decide::Reply;
use causeway_meetings::ical::event::{read_events, same_address};
use causeway_meetings::ical::parse::{parse, Limits};
use causeway_meetings::service::caldav::{CalDavClient, CalDavError};
use causeway_meetings::service::config::{MeetingsConfig, RoomConfig};
use causeway_meetings::service::poller::Poller;
use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ROOM: &str = "mailto:board@ent.example";

/// Radicale child process, killed (by its pid, through the handle) when dropped.
struct Radicale {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start_radicale() -> Result<Radicale, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let users = dir.path().join("users");
    std::fs::write(&users, "causeway:s3cret\n")?;
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = htpasswd\nhtpasswd_filename = {}\nhtpasswd_encryption = plain\n\
             [rights]\ntype = owner_only\n[storage]\nfilesystem_folder = {}\n[logging]\nlevel = warning\n[web]\ntype = none\n",
            users.display(),
            dir.path().join("collections").display()
        ),
    )?;
    let binary = std::env::var("RADICALE").unwrap_or_else(|_| "radicale".into());
    let child = Command::new(&binary)
        .arg("-C")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start `{binary}` (scripts/install-deps.sh installs it): {e}"))?;
    let server = Radicale { child, port, _dir: dir };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(server);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err("radicale did not start listening within 10 s".into())
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
}

fn invite(uid: &str, created: &str, start: &str, end: &str, extra: &str, body: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Causeway test organiser//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
DTSTAMP:{created}\r\nCREATED:{created}\r\nDTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:{uid}\r\n\
ORGANIZER;CN=Jane Doe:mailto:jane.doe@ent.example\r\nATTENDEE;CN=Jane Doe;PARTSTAT=ACCEPTED:mailto:jane.doe@ent.example\r\n\
ATTENDEE;CN=Board Room;CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:{ROOM}\r\n{extra}\
DESCRIPTION:{body}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

const ZOOM: &str = "Join Zoom Meeting\\nhttps://us02web.zoom.us/j/85012345678?pwd=aBcDeFgHiJ.1\\nMeeting ID: 850 1234 5678\\nPasscode: 739201";
const TEAMS: &str = "Microsoft Teams meeting\\nJoin with a video conferencing device\\n813878896@t.plcm.vc\\nVideo Conference ID: 119 883 744 6";

fn config(base: &str, password: &str) -> Result<MeetingsConfig, Box<dyn std::error::Error>> {
    let text = format!(
        "[meetings]\nhttp_timeout_secs = 5\n[[meetings.rooms]]\nid = \"board\"\ncalendar_url = \"{base}/causeway/board/\"\n\
         address = \"{ROOM}\"\nidentities = [\"sip:board-codec@ent.example\"]\nusername = \"causeway\"\npassword = \"{password}\"\n"
    );
    Ok(MeetingsConfig::from_toml(&text, "test.toml")?)
}

fn room(config: &MeetingsConfig) -> Result<RoomConfig, Box<dyn std::error::Error>> {
    Ok(config.rooms.first().cloned().ok_or("no room")?)
}

async fn send(http: &reqwest::Client, method: &str, url: &str, body: Option<String>) -> Result<reqwest::Response, Box<dyn std::error::Error>> {
    let mut req = http.request(reqwest::Method::from_bytes(method.as_bytes())?, url).basic_auth("causeway", Some("s3cret"));
    if let Some(body) = body {
        req = req.header("Content-Type", "text/calendar; charset=utf-8").body(body);
    }
    Ok(req.send().await?)
}

/// The room's PARTSTAT in each VEVENT of the object at `url`, read back from the server.
async fn partstats(http: &reqwest::Client, url: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let body = send(http, "GET", url, None).await?.text().await?;
    let ical = parse(body.as_bytes(), Limits::default())?;
    let (events, errors) = read_events(&ical, chrono_tz::UTC);
    assert!(errors.is_empty(), "{errors:?}");
    Ok(events.iter().flat_map(|e| e.attendees.iter()).filter(|a| same_address(&a.address, ROOM)).map(|a| a.partstat.clone()).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn radicale_invites_are_answered_and_become_bookings() -> TestResult {
    let server = start_radicale()?;
    let base = format!("http://127.0.0.1:{}", server.port);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
    let collection = format!("{base}/causeway/board/");
    let made = send(&http, "MKCALENDAR", &collection, None).await?;
    assert_eq!(made.status().as_u16(), 201, "MKCALENDAR");
    let objects = [
        ("free.ics", invite("free", "20260301T100000Z", "20260310T140000Z", "20260310T150000Z", "", ZOOM)),
        ("clash.ics", invite("clash", "20260301T110000Z", "20260310T143000Z", "20260310T153000Z", "", ZOOM)),
        ("daily.ics", invite("daily", "20260301T120000Z", "20260311T090000Z", "20260311T093000Z",
            "RRULE:FREQ=DAILY;COUNT=5\r\nEXDATE:20260312T090000Z\r\n", TEAMS)),
    ];
    for (name, body) in &objects {
        let put = send(&http, "PUT", &format!("{collection}{name}"), Some(body.clone())).await?;
        assert!(put.status().is_success(), "PUT {name}: {}", put.status());
    }

    let store = BookingStore::new();
    let good = config(&base, "s3cret")?;
    let poller = Poller::new(good.clone(), store.clone())?;
    let now = t("2026-03-09T12:00:00Z");
    let outcome = poller.poll_room(&room(&good)?, now).await?;
    let replies: Vec<(&str, &str, bool)> = outcome.replies.iter().map(|r| (r.uid.as_str(), r.partstat, r.written.is_ok())).collect();
    assert_eq!(replies, [("free", "ACCEPTED", true), ("clash", "DECLINED", true), ("daily", "ACCEPTED", true)]);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);

    assert_eq!(partstats(&http, &format!("{collection}free.ics")).await?, ["ACCEPTED"]);
    assert_eq!(partstats(&http, &format!("{collection}clash.ics")).await?, ["DECLINED"]);
    assert_eq!(partstats(&http, &format!("{collection}daily.ics")).await?, ["ACCEPTED"]);

    let state = store.room("board").ok_or("room missing")?;
    let shown: Vec<String> = state
        .bookings
        .iter()
        .map(|b| format!("{} {} {}", b.id, b.time.start_time.format("%m-%dT%H:%M"), b.dial_info.calls.first().map_or("-", |c| c.number.as_str())))
        .collect();
    assert_eq!(shown, [
        "free 03-10T14:00 85012345678.739201@zoomcrc.com",
        "daily#20260311T090000Z 03-11T09:00 813878896.1198837446@t.plcm.vc",
        "daily#20260313T090000Z 03-13T09:00 813878896.1198837446@t.plcm.vc",
        "daily#20260314T090000Z 03-14T09:00 813878896.1198837446@t.plcm.vc",
        "daily#20260315T090000Z 03-15T09:00 813878896.1198837446@t.plcm.vc",
    ]);
    let generation = state.generation;

    // A second poll finds everything answered: no replies, same bookings, same generation.
    let again = poller.poll_room(&room(&good)?, now).await?;
    assert!(again.replies.is_empty());
    assert_eq!(store.room("board").map(|s| (s.bookings.len(), s.generation)), Some((5, generation)));

    // The admin API serves the RoomOS shape.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_task = tokio::spawn(causeway_meetings::service::api::serve(listener, store.clone(), async move {
        let _ = stopped.await;
    }));
    let text = http.get(format!("http://{api}/api/rooms/board/bookings")).send().await?.text().await?;
    let json: serde_json::Value = serde_json::from_str(&text)?;
    assert_eq!(json["ResultInfo"]["TotalRows"], 5);
    assert_eq!(json["Booking"][0]["Title"], "free");
    assert_eq!(json["Booking"][0]["Time"]["StartTime"], "2026-03-10T14:00:00Z");
    assert_eq!(json["Booking"][0]["Time"]["StartTimeBuffer"], 300);
    assert_eq!(json["Booking"][0]["MeetingPlatform"], "Zoom");
    assert_eq!(json["Booking"][0]["DialInfo"]["ConnectMode"], "OBTP");
    assert_eq!(json["Booking"][0]["DialInfo"]["Calls"][0]["Number"], "85012345678.739201@zoomcrc.com");
    assert_eq!(json["Booking"][0]["DialInfo"]["Calls"][0]["Protocol"], "SIP");
    assert_eq!(json["Booking"][1]["MeetingPlatform"], "MSTeams");
    let missing = http.get(format!("http://{api}/api/rooms/lobby/bookings")).send().await?;
    assert_eq!(missing.status().as_u16(), 404);

    // The Zoom repair sees the booking through the device identity, 5 minutes before the start.
    let rewrite = store.repair_zoom_dial("sip:board-codec@ent.example", "sip:85012345678@zoomcrc.com", t("2026-03-10T13:55:00Z"));
    assert_eq!(rewrite.map(|r| r.to), Some("sip:85012345678.739201@zoomcrc.com".into()));

    // Wrong password: a clear 401 error, bookings kept.
    let bad = config(&base, "wrong")?;
    let bad_poller = Poller::new(bad.clone(), store.clone())?;
    let err = bad_poller.poll_room(&room(&bad)?, now).await.err();
    assert!(matches!(err, Some(CalDavError::Unauthorized { status: 401, .. })), "{err:?}");
    let state = store.room("board").ok_or("room missing")?;
    assert_eq!(state.bookings.len(), 5);
    assert!(state.last_error.as_deref().is_some_and(|e| e.contains("refused the credentials (401)")), "{:?}", state.last_error);

    // A stale ETag: 412, reported as a change on the server.
    let client = CalDavClient::new(Duration::from_secs(5), 1 << 20)?;
    let stale = Reply {
        href: "/causeway/board/free.ics".into(),
        etag: Some("\"not-the-current-etag\"".into()),
        uid: "free".into(),
        partstat: "DECLINED",
        reason: "test".into(),
        body: objects.first().map(|(_, b)| b.clone()).unwrap_or_default(),
    };
    let err = client.put(&room(&good)?, &stale).await.err();
    assert!(matches!(err, Some(CalDavError::Changed { .. })), "{err:?}");
    assert_eq!(partstats(&http, &format!("{collection}free.ics")).await?, ["ACCEPTED"]);

    // Server down: a clear error, bookings kept, poll succeeds again later.
    drop(server);
    let err = poller.poll_room(&room(&good)?, now).await.err();
    assert!(matches!(err, Some(CalDavError::Unreachable { .. })), "{err:?}");
    let state = store.room("board").ok_or("room missing")?;
    assert_eq!(state.bookings.len(), 5);
    assert!(state.last_error.as_deref().is_some_and(|e| e.contains("unreachable")));
    let _ = stop.send(());
    server_task.await??;
    Ok(())
}

/// A stand-in for a CalDAV server that is broken in a way Radicale cannot be made to be: it answers every request
/// with `response` (a full HTTP/1.1 response), `count` times.
async fn broken_server(response: &'static str, count: usize) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        for _ in 0..count {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let mut buf = vec![0u8; 16 * 1024];
            let _ = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await;
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    Ok(addr)
}

#[tokio::test]
async fn server_errors_and_broken_xml_keep_the_last_good_bookings() -> TestResult {
    let cases: [(&'static str, &str); 3] = [
        ("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", "answered 500"),
        ("HTTP/1.1 207 Multi-Status\r\nContent-Length: 27\r\nConnection: close\r\n\r\n<multistatus><response></x>", "bad multistatus XML"),
        ("HTTP/1.1 207 Multi-Status\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n", "response larger than"),
    ];
    for (response, expected) in cases {
        let addr = broken_server(response, 1).await?;
        let config = config(&format!("http://{addr}"), "s3cret")?;
        let store = BookingStore::new();
        let poller = Poller::new(config.clone(), store.clone())?;
        let kept = store.room("board").map(|s| s.bookings);
        let err = poller.poll_room(&room(&config)?, t("2026-03-09T12:00:00Z")).await.err().map(|e| e.to_string());
        assert!(err.as_deref().is_some_and(|e| e.contains(expected)), "{err:?} should contain {expected}");
        let state = store.room("board").ok_or("room missing")?;
        assert_eq!(Some(state.bookings), kept);
        assert!(state.last_error.is_some_and(|e| e.contains(expected)));
    }
    Ok(())
}

#[test]
fn example_config_in_docs_loads() -> TestResult {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/meetings.example.toml");
    let config = MeetingsConfig::load(&path)?;
    assert!(!config.rooms.is_empty());
    Ok(())
}
