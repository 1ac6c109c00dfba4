//! Checks every backend must pass, run by tests/sqlite.rs and tests/postgres.rs on their own
//! database.

use std::net::SocketAddr;

use causeway_callctl::cdr::CallRecord;
use causeway_sip::Transport;
use causeway_store::export::{each_call, CsvWriter, CSV_COLUMNS};
use causeway_store::{Binding, BindingStore, CdrStore, DbUrl, DirectoryStore, ListFrom, Received, Store, StoreError, StoredCall};
use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::records;

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().expect("valid time")
}

fn sample(n: u64) -> CallRecord {
    let start = base() + Duration::seconds(37 * i64::try_from(n).expect("small n"));
    records::call(n, start).expect("sample record")
}

/// Calls written out of order come back whole, in start order, in one listing or in pages,
/// from a start time, and by Call-ID; the CSV export has one line per leg.
pub(crate) async fn cdr_round_trip(url: &DbUrl) {
    let store = Store::open(url).await.expect("open");
    let mut written = Vec::new();
    for n in (0..30).rev() {
        let record = sample(n);
        let id = store.record_call(record.clone()).await.expect("record call");
        written.push(StoredCall { id, record });
    }
    written.sort_by_key(|c| (c.record.start, c.id));
    let mut ids: Vec<i64> = written.iter().map(|c| c.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 30, "every call gets its own row id");

    assert_eq!(store.calls(ListFrom::Beginning, 1000).await.expect("list"), written);
    let mut paged = Vec::new();
    let mut from = ListFrom::Beginning;
    loop {
        let page = store.calls(from, 7).await.expect("page");
        let Some(last) = page.last() else { break };
        from = ListFrom::After(last.cursor());
        paged.extend(page);
    }
    assert_eq!(paged, written, "pages of 7 add up to the whole listing");
    let since = written.get(10).expect("eleventh call").record.start;
    assert_eq!(store.calls(ListFrom::Since(since), 1000).await.expect("since"), written.get(10..).expect("tail"));
    assert!(store.calls(ListFrom::Since(base() + Duration::days(1)), 10).await.expect("none").is_empty());

    // The same SIP Call-ID twice (a reused Call-ID is two calls, not an overwrite).
    let again = sample(3 + 300);
    let mut reused = again.clone();
    reused.info.call_id = sample(3).info.call_id;
    let second = store.record_call(reused.clone()).await.expect("record reused Call-ID");
    let found = store.calls_by_call_id(&reused.info.call_id).await.expect("by Call-ID");
    assert_eq!(found.len(), 2);
    assert_eq!(found.last(), Some(&StoredCall { id: second, record: reused }));
    assert!(store.calls_by_call_id("nobody@nowhere").await.expect("unknown Call-ID").is_empty());

    // A call refused before any leg started (a 404 from the dial plan) has no legs.
    let mut legless = sample(7 + 300);
    legless.info.call_id = "legless@192.0.2.1".to_owned();
    legless.legs.clear();
    (legless.answer, legless.answered_leg, legless.early_media_leg, legless.status) = (None, None, None, Some(404));
    let legless_id = store.record_call(legless.clone()).await.expect("record a call without legs");
    let found = store.calls_by_call_id("legless@192.0.2.1").await.expect("legless by Call-ID");
    assert_eq!(found, vec![StoredCall { id: legless_id, record: legless }]);

    let mut seen = 0;
    let count = each_call(&store, ListFrom::Beginning, |_| {
        seen += 1;
        Ok(())
    })
    .await
    .expect("each call");
    assert_eq!((count, seen), (32, 32));

    let mut csv = CsvWriter::new(Vec::new()).expect("csv header");
    each_call(&store, ListFrom::Beginning, |c| csv.write(c)).await.expect("csv");
    let csv = String::from_utf8(csv.finish().expect("finish")).expect("utf-8");
    let legs: usize = written.iter().map(|c| c.record.legs.len()).sum::<usize>() + again.legs.len() + 1;
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    assert_eq!(reader.headers().expect("header").iter().collect::<Vec<_>>(), CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("RFC 4180 CSV");
    assert_eq!(rows.len(), legs, "one line per leg, and one for the call without legs");
    let first = written.first().expect("first call");
    let row = rows.first().expect("first line");
    assert_eq!(row.get(1), Some(first.record.info.call_id.as_str()));
    assert_eq!(row.get(3), first.record.info.calling.display_name.as_deref().or(Some("")), "quotes and CRLF survive");
    assert!(csv.ends_with("\r\n"));
}

fn binding(contact: &str, expires: DateTime<Utc>, cseq: u32, received: Option<Received>) -> Binding {
    Binding {
        contact: contact.to_owned(),
        expires,
        q: Some(700),
        call_id: format!("reg-{cseq}@192.0.2.1"),
        cseq,
        instance_id: received.map(|_| "<urn:uuid:00000000-0000-1000-8000-aabbccddeeff>".to_owned()),
        reg_id: received.map(|_| 1),
        path: vec!["<sip:edge1.example.com;lr>".to_owned(), "<sip:edge2.example.com;lr;ob>".to_owned()],
        received,
    }
}

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("socket address")
}

/// Bindings survive a restart (close and reopen); expiry is checked against the `now` passed;
/// purging and replacement behave as documented.
pub(crate) async fn bindings_persist(url: &DbUrl) {
    let now = base();
    let alice_aor = "sip:alice@ent-pa.example.com";
    let bob_aor = "sip:bob@ent-pa.example.com";
    let tls = Received { transport: Transport::Tls, source: addr("[2001:db8::10]:50123"), local: addr("[2001:db8::1]:5061") };
    let udp = Received { transport: Transport::Udp, source: addr("192.0.2.10:5060"), local: addr("127.0.0.1:5060") };
    let alice = vec![
        binding("sip:alice@192.0.2.10:5060", now + Duration::seconds(3600), 7, Some(udp)),
        binding("sips:alice@[2001:db8::10]:50123;transport=tls;ob", now + Duration::seconds(600), 3, Some(tls)),
    ];
    let bob = vec![Binding { q: None, path: Vec::new(), ..binding("sip:bob@192.0.2.20", now + Duration::seconds(60), 1, None) }];
    {
        let store = Store::open(url).await.expect("open");
        assert_eq!(store.replace_bindings(alice_aor, alice.clone(), now).await.expect("alice"), 2);
        assert_eq!(store.replace_bindings(bob_aor, bob.clone(), now).await.expect("bob"), 1);
    }
    let store = Store::open(url).await.expect("reopen");
    let mut alice_sorted = alice.clone();
    alice_sorted.sort_by(|a, b| a.contact.cmp(&b.contact));
    assert_eq!(store.bindings(alice_aor, now).await.expect("alice after restart"), alice_sorted);
    let everyone: Vec<(String, Binding)> = alice_sorted
        .iter()
        .map(|b| (alice_aor.to_owned(), b.clone()))
        .chain(bob.iter().map(|b| (bob_aor.to_owned(), b.clone())))
        .collect();
    assert_eq!(store.all_bindings(now).await.expect("all"), everyone);

    let later = now + Duration::seconds(120);
    assert!(store.bindings(bob_aor, later).await.expect("bob later").is_empty(), "bob's 60 s binding has lapsed");
    assert_eq!(store.bindings(alice_aor, later).await.expect("alice later").len(), 2);
    assert_eq!(store.purge_expired_bindings(later).await.expect("purge"), 1);
    assert_eq!(store.purge_expired_bindings(later).await.expect("purge again"), 0);

    // A refresh replaces the set; a contact given already expired is not kept.
    let refreshed = binding("sip:alice@192.0.2.10:5060", later + Duration::seconds(3600), 8, Some(udp));
    let stale = binding("sip:alice@198.51.100.1", later - Duration::seconds(1), 8, None);
    assert_eq!(store.replace_bindings(alice_aor, vec![refreshed.clone(), stale], later).await.expect("refresh"), 1);
    assert_eq!(store.bindings(alice_aor, later).await.expect("alice refreshed"), vec![refreshed.clone()]);

    // One contact twice is refused and changes nothing.
    let twice = vec![refreshed.clone(), refreshed.clone()];
    let error = store.replace_bindings(alice_aor, twice, later).await.expect_err("duplicate contact");
    assert!(matches!(error, StoreError::DuplicateContact { .. }), "{error}");
    assert_eq!(store.bindings(alice_aor, later).await.expect("unchanged"), vec![refreshed]);

    // Unregister (`Contact: *`).
    assert_eq!(store.replace_bindings(alice_aor, Vec::new(), later).await.expect("unregister"), 0);
    assert!(store.all_bindings(later).await.expect("none left").is_empty());
}

/// Dual-ringing switches survive a restart; the last word on a user wins; an empty set clears.
pub(crate) async fn dual_ring_persists(url: &DbUrl) {
    {
        let store = Store::open(url).await.expect("open");
        assert!(store.dual_ring_overrides().await.expect("none yet").is_empty());
        let overrides = vec![("bob".to_owned(), false), ("alice".to_owned(), true), ("bob".to_owned(), true)];
        assert_eq!(store.replace_dual_ring_overrides(overrides).await.expect("save"), 2);
    }
    let store = Store::open(url).await.expect("reopen");
    let expected = vec![("alice".to_owned(), true), ("bob".to_owned(), true)];
    assert_eq!(store.dual_ring_overrides().await.expect("after restart"), expected);
    assert_eq!(store.replace_dual_ring_overrides(vec![("carol".to_owned(), false)]).await.expect("replace"), 1);
    assert_eq!(store.dual_ring_overrides().await.expect("replaced"), vec![("carol".to_owned(), false)]);
    assert_eq!(store.replace_dual_ring_overrides(Vec::new()).await.expect("clear"), 0);
    assert!(store.dual_ring_overrides().await.expect("cleared").is_empty());
}

/// Opening an already migrated database again, or twice at once, migrates nothing and keeps
/// the data.
pub(crate) async fn reopen_keeps_data(url: &DbUrl) {
    let record = sample(42);
    let id = Store::open(url).await.expect("open").record_call(record.clone()).await.expect("record");
    let (a, b) = tokio::join!(Store::open(url), Store::open(url));
    let (a, b) = (a.expect("open a"), b.expect("open b"));
    let expected = vec![StoredCall { id, record }];
    assert_eq!(a.calls(ListFrom::Beginning, 10).await.expect("list a"), expected);
    assert_eq!(b.calls(ListFrom::Beginning, 10).await.expect("list b"), expected);
}

/// The `schema_migrations` versions, checked to be 1, 2, … with none applied twice.
pub(crate) fn assert_versions(versions: &[i64]) {
    assert!(!versions.is_empty(), "no migration recorded");
    let expected: Vec<i64> = (1..).take(versions.len()).collect();
    assert_eq!(versions, expected.as_slice());
}
