//! The SQLite backend: the shared suite on a fresh file each, plus what only SQLite has (WAL
//! mode on disk, opening a missing file for reading, rows a person edited by hand).

#[path = "../src/bin/load/records.rs"]
mod records;
#[path = "support/suite.rs"]
mod suite;

use causeway_store::{CdrStore, DbUrl, ListFrom, Store, StoreError};

fn fresh() -> (tempfile::TempDir, DbUrl, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("causeway.db");
    let url = format!("sqlite://{}", path.display()).parse().expect("sqlite URL");
    (dir, url, path)
}

#[tokio::test]
async fn cdr_round_trip() {
    let (_dir, url, _) = fresh();
    suite::cdr_round_trip(&url).await;
}

#[tokio::test]
async fn bindings_survive_reopen() {
    let (_dir, url, _) = fresh();
    suite::bindings_persist(&url).await;
}

#[tokio::test]
async fn dual_ring_survives_reopen() {
    let (_dir, url, _) = fresh();
    suite::dual_ring_persists(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent() {
    let (_dir, url, path) = fresh();
    suite::reopen_keeps_data(&url).await;
    let conn = rusqlite::Connection::open(&path).expect("open by hand");
    let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version").expect("prepare");
    let versions: Vec<i64> = stmt.query_map([], |row| row.get(0)).expect("query").collect::<Result<_, _>>().expect("rows");
    suite::assert_versions(&versions);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0)).expect("journal mode");
    assert_eq!(mode, "wal", "WAL is recorded in the file");
}

/// A database version 1 left behind (built here by hand, as that build's migration made it) is
/// brought up to date at open, and keeps its bindings.
#[tokio::test]
async fn a_version_1_database_is_upgraded() {
    let (_dir, url, path) = fresh();
    let conn = rusqlite::Connection::open(&path).expect("create by hand");
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL DEFAULT 'then') STRICT;
         INSERT INTO schema_migrations (version, name) VALUES (1, 'cdr and bindings');",
    )
    .expect("migrations table");
    conn.execute_batch(include_str!("../migrations/sqlite/0001_cdr_and_bindings.sql")).expect("version 1 schema");
    conn.execute(
        "INSERT INTO bindings (aor, contact, expires_us, call_id, cseq, path) VALUES ('sip:a@x', 'sip:a@192.0.2.1', ?1, 'c@h', 1, '[]')",
        [(chrono::Utc::now() + chrono::Duration::hours(1)).timestamp_micros()],
    )
    .expect("a version 1 binding");
    drop(conn);

    let store = Store::open(&url).await.expect("open and upgrade");
    let now = chrono::Utc::now();
    assert_eq!(causeway_store::BindingStore::bindings(&store, "sip:a@x", now).await.expect("old binding").len(), 1);
    suite::dual_ring_persists(&url).await;
    let conn = rusqlite::Connection::open(&path).expect("open by hand");
    let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version").expect("prepare");
    let versions: Vec<i64> = stmt.query_map([], |row| row.get(0)).expect("query").collect::<Result<_, _>>().expect("rows");
    suite::assert_versions(&versions);
    assert!(versions.len() > 1, "the upgrade applied the later migrations: {versions:?}");
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let (_dir, url, path) = fresh();
    drop(Store::open(&url).await.expect("create"));
    let conn = rusqlite::Connection::open(&path).expect("open by hand");
    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')", []).expect("insert");
    drop(conn);
    match Store::open(&url).await {
        Err(StoreError::SchemaTooNew { found: 999, .. }) => {}
        Err(other) => panic!("expected SchemaTooNew, got {other}"),
        Ok(_) => panic!("a database from a newer build was opened"),
    }
}

#[tokio::test]
async fn reading_a_missing_file_creates_nothing() {
    let (_dir, url, path) = fresh();
    match Store::open_existing(&url).await {
        Err(StoreError::Missing { path: p }) => assert_eq!(p, path),
        Err(other) => panic!("expected Missing, got {other}"),
        Ok(_) => panic!("opened a database that does not exist"),
    }
    assert!(!path.exists());
}

#[tokio::test]
async fn a_hand_edited_row_is_a_typed_error() {
    let (_dir, url, path) = fresh();
    let store = Store::open(&url).await.expect("open");
    store.record_call(records::call(0, chrono::DateTime::UNIX_EPOCH).expect("record")).await.expect("write");
    let conn = rusqlite::Connection::open(&path).expect("open by hand");
    conn.execute("UPDATE legs SET kind = '{\"kind\":\"teleport\"}' WHERE leg = 1", []).expect("edit");
    match store.calls(ListFrom::Beginning, 10).await {
        Err(StoreError::Corrupt { column: "legs.kind", value }) => assert!(value.contains("teleport")),
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(calls) => panic!("read a corrupt leg as {calls:?}"),
    }
}
