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
