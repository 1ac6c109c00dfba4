//! The Zoom dial-string repair with real peers (issue 6 item 3, flow F5): a room's calendar lives in Radicale; an
//! invite for a Zoom meeting that starts now is in it. The node runs the meetings service in-process
//! (`[meetings] config = …`): it answers the invite for the room and keeps the booking. A room device (a SIPp UAC
//! whose From is the room's device identity) dials `<id>@zoomcrc.com` without the passcode; the far end (a SIPp
//! UAS standing in for Zoom's SIP gateway) receives `<id>.<passcode>@zoomcrc.com`. `causeway locate` shows the
//! rewrite for the same call.

mod edge_support;
mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DurationRound, Utc};
use edge_support::{invites_received, loopback, start_node};
use support::sipp::{Sipp, SippTransport};
use support::{causeway_bin, free_port, temp_dir, wait_until, ChildGuard};

const LIMIT: Duration = Duration::from_secs(30);
const ROOM: &str = "mailto:board@ent.example";
const DEVICE: &str = "board-codec@ent.example";

/// Radicale on 127.0.0.1:`port` with one user (`causeway`/`s3cret`) and its storage in `dir`.
fn radicale(dir: &Path, port: u16) -> ChildGuard {
    let users = dir.join("radicale-users");
    std::fs::write(&users, "causeway:s3cret\n").unwrap_or_else(|e| panic!("write: {e}"));
    let config = dir.join("radicale.conf");
    let text = format!(
        "[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = htpasswd\nhtpasswd_filename = {}\nhtpasswd_encryption = plain\n\
         [rights]\ntype = owner_only\n[storage]\nfilesystem_folder = {}\n[logging]\nlevel = warning\n[web]\ntype = none\n",
        users.display(),
        dir.join("collections").display()
    );
    std::fs::write(&config, text).unwrap_or_else(|e| panic!("write: {e}"));
    let mut process = ChildGuard::spawn_with("radicale", Command::new("radicale").arg("-C").arg(&config), dir);
    let up = wait_until(Duration::from_secs(15), || {
        process.try_status().is_some() || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up && process.try_status().is_none(), "radicale did not start\n{}", process.log_tail());
    process
}

/// `curl` with the room's credentials; returns the HTTP status.
fn curl(method: &str, url: &str, body: Option<&str>) -> u16 {
    let mut command = Command::new("curl");
    command.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10", "-u", "causeway:s3cret", "-X", method]);
    if let Some(body) = body {
        command.args(["-H", "Content-Type: text/calendar; charset=utf-8", "--data-binary", body]);
    }
    let out = command.arg(url).stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("curl: {e}"));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0)
}

/// An invite from an organiser to the room for a Zoom meeting from `start` for an hour.
fn invite(start: chrono::DateTime<Utc>) -> String {
    let fmt = |t: chrono::DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Causeway edge test//EN\r\nBEGIN:VEVENT\r\nUID:zoom-review\r\n\
         DTSTAMP:{stamp}\r\nDTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:Quarterly review\r\n\
         ORGANIZER;CN=Jane Doe:mailto:jane.doe@ent.example\r\n\
         ATTENDEE;CN=Board Room;CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:{ROOM}\r\n\
         DESCRIPTION:Join Zoom Meeting\\nhttps://us02web.zoom.us/j/85012345678?pwd=aBcDeFgHiJ.1\\nMeeting ID: 850 1234 5678\\nPasscode: 739201\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
        stamp = fmt(start - chrono::Duration::days(1)),
        start = fmt(start),
        end = fmt(start + chrono::Duration::hours(1)),
    )
}

#[test]
fn zoom_repair_a_room_dialling_the_short_string_joins_with_the_bookings_passcode() {
    let dir = temp_dir();
    let radicale_port = free_port();
    let _radicale = radicale(dir.path(), radicale_port);
    let collection = format!("http://127.0.0.1:{radicale_port}/causeway/board/");
    assert_eq!(curl("MKCALENDAR", &collection, None), 201, "MKCALENDAR");
    let start = Utc::now().duration_trunc(chrono::Duration::minutes(1)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(curl("PUT", &format!("{collection}review.ics"), Some(&invite(start))), 201, "PUT the invite");

    let api_port = free_port();
    let meetings = format!(
        "[meetings]\nlisten = \"127.0.0.1:{api_port}\"\npoll_interval_secs = 2\nhttp_timeout_secs = 5\n\n\
         [[meetings.rooms]]\nid = \"board\"\ncalendar_url = \"{collection}\"\naddress = \"{ROOM}\"\n\
         identities = [\"sip:{DEVICE}\"]\nusername = \"causeway\"\npassword = \"s3cret\"\n"
    );
    std::fs::write(dir.path().join("meetings.toml"), meetings).unwrap_or_else(|e| panic!("write: {e}"));
    let zoom = SocketAddr::from((loopback(6), free_port()));
    let mut gateway = Sipp::new("uas-zoom", dir.path(), "uas-answer.xml", SippTransport::Udp, zoom.port(), 1, LIMIT)
        .on(loopback(6))
        .spawn_uas();
    let routing = format!(
        r#"
[meetings]
config = "meetings.toml"

# Zoom's SIP gateway (zoomcrc.com), here a SIPp UAS.
[[zone]]
name = "zoom"
kind = "neighbor"
keepalive = {{ enabled = false }}
[[zone.peer]]
address = "{zoom}"
transport = "udp"

[[search_rule]]
name = "to-zoom"
pattern_type = "suffix"
pattern = "@zoomcrc.com"
on_match = "stop"
target = "zoom"
"#
    );
    let mut node = start_node(dir.path(), free_port(), None, &routing);

    // The booking exists once the in-process service has polled the room and accepted the invite.
    let bookings = format!("http://127.0.0.1:{api_port}/api/rooms/board/bookings");
    let booked = wait_until(Duration::from_secs(20), || {
        let out = Command::new("curl").args(["-s", "-m", "5", &bookings]).output().map(|o| o.stdout).unwrap_or_default();
        serde_json::from_slice::<serde_json::Value>(&out).is_ok_and(|v| v["ResultInfo"]["TotalRows"] == 1)
    });
    assert!(booked, "no booking for the room\n{}", node.process.log_tail());

    let config = dir.path().join("causeway.toml");
    let locate = Command::new(causeway_bin())
        .args(["locate", "-c"])
        .arg(&config)
        .args(["--from", &format!("sip:{DEVICE}"), "--to", "sip:85012345678@zoomcrc.com", "--source", "127.0.0.7:5060"])
        .output()
        .unwrap_or_else(|e| panic!("locate: {e}"));
    let shown = String::from_utf8_lossy(&locate.stdout);
    assert!(
        shown.contains("zoom repair: sip:85012345678@zoomcrc.com → sip:85012345678.739201@zoomcrc.com (zoom repair: room board dialled meeting 85012345678 without the passcode; booking 'Quarterly review'"),
        "{shown}{}",
        String::from_utf8_lossy(&locate.stderr)
    );
    assert!(shown.contains("Request-URI sip:85012345678.739201@zoomcrc.com"), "{shown}");

    let uac = Sipp::new("uac-room", dir.path(), "uac-dial.xml", SippTransport::Udp, free_port(), 1, LIMIT)
        .on(loopback(7))
        .arg("-key")
        .arg("to")
        .arg("85012345678@zoomcrc.com")
        .arg("-key")
        .arg("from")
        .arg(DEVICE)
        .run_uac(node.addr(), LIMIT);
    if uac.status.and_then(|s| s.code()) != Some(0) {
        panic!("the room's call failed\n{}\n{}", uac.report, node.process.log_tail());
    }
    uac.assert_all_succeeded(1);
    gateway.finish(Duration::from_secs(10)).assert_all_succeeded(1);
    assert_eq!(invites_received(dir.path(), "uas-zoom"), ["sip:85012345678.739201@zoomcrc.com"]);
    node.assert_alive();
}
