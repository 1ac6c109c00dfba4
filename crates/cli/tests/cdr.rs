//! `causeway cdr list|export` as the built binary, on a SQLite store written through
//! causeway-store with records built by call control's CdrBuilder.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use causeway_callctl::cdr::{CallInfo, CallRecord, CdrBuilder, CdrEvent, EndCause, Party};
use causeway_callctl::fork::{LegKind, LegTarget};
use causeway_callctl::snr::LegId;
use causeway_store::{CdrStore, DbUrl, Store};
use chrono::{DateTime, TimeZone, Utc};

fn causeway(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_causeway")).args(args).output().unwrap_or_else(|e| panic!("run causeway: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A call from 1001 to 1002 that the desk phone answers after 3 s and the caller ends after 60 s.
fn answered_call(call_id: &str, start: DateTime<Utc>) -> CallRecord {
    let t0 = Instant::now();
    let info = CallInfo { call_id: call_id.to_owned(), called: "1002".to_owned(), ..CallInfo::default() };
    let mut cdr = CdrBuilder::new(info, t0, start);
    let leg = LegId(0);
    let events = [
        CdrEvent::LegStarted {
            leg,
            kind: LegKind::Device { device: "bob-desk".to_owned() },
            target: LegTarget::Contact { contact: "sip:bob@192.0.2.10".to_owned() },
            at: t0,
        },
        CdrEvent::LegRinging { leg, at: t0 + Duration::from_millis(200) },
        CdrEvent::LegAnswered { leg, at: t0 + Duration::from_secs(3) },
        CdrEvent::CallAnswered { leg, at: t0 + Duration::from_secs(3) },
        CdrEvent::LegEnded { leg, at: t0 + Duration::from_secs(63), status: 200, cause: EndCause::CallerHungUp, reason: None },
        CdrEvent::CallEnded { at: t0 + Duration::from_secs(63), status: 200, released_by: Party::Caller },
    ];
    for event in events {
        cdr.apply(event).unwrap_or_else(|e| panic!("CDR event: {e}"));
    }
    cdr.into_record()
}

#[test]
fn list_and_export_read_what_the_store_wrote() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let db = format!("sqlite://{}", dir.path().join("cdr.db").display());
    let first = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().unwrap_or_else(|| panic!("time"));
    let second = first + chrono::Duration::minutes(5);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime.block_on(async {
        let url: DbUrl = db.parse().unwrap_or_else(|e| panic!("URL: {e}"));
        let store = Store::open(&url).await.unwrap_or_else(|e| panic!("open: {e}"));
        for (call_id, start) in [("first@192.0.2.1", first), ("second@192.0.2.1", second)] {
            store.record_call(answered_call(call_id, start)).await.unwrap_or_else(|e| panic!("record: {e}"));
        }
    });

    let out = causeway(&["cdr", "list", "--db", &db, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let calls: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON: {e}"));
    let calls = calls.as_array().unwrap_or_else(|| panic!("an array"));
    assert_eq!(calls.len(), 2);
    let call = &calls[0];
    assert_eq!(call["call_id"], "first@192.0.2.1");
    assert_eq!(call["start"], "2026-03-02T09:00:00Z");
    assert_eq!(call["answer"], "2026-03-02T09:00:03Z");
    assert_eq!(call["released_by"], "caller");
    assert_eq!(call["legs"][0]["kind"]["device"], "bob-desk");
    assert_eq!(call["legs"][0]["ringing"], "2026-03-02T09:00:00.200Z");
    assert_eq!(call["legs"][0]["cause"]["cause"], "caller-hung-up");

    let out = causeway(&["cdr", "list", "--db", &db, "--since", "2026-03-02T10:01:00+01:00"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(listing.starts_with("#2 2026-03-02T09:05:00.000000Z"), "{listing}");
    assert!(!listing.contains("first@"), "--since leaves the earlier call out: {listing}");

    let out = causeway(&["cdr", "export", "--csv", "--db", &db]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 3, "header and one line per leg: {csv}");
    assert!(lines[0].starts_with("id,call_id,"));
    assert!(lines[1].starts_with("1,first@192.0.2.1,,,,1002,"), "{}", lines[1]);
}

#[test]
fn refusals_exit_2_with_a_reason() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let missing = format!("sqlite://{}", dir.path().join("none.db").display());
    let out = causeway(&["cdr", "list", "--db", &missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no database at"), "{}", text(&out.stderr));
    assert!(!dir.path().join("none.db").exists(), "listing creates no database");

    let out = causeway(&["cdr", "export", "--db", &missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--csv"), "{}", text(&out.stderr));

    let out = causeway(&["cdr", "list", "--db", "mysql://root@localhost/cdr"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("sqlite:///absolute/path"), "{}", text(&out.stderr));
}
