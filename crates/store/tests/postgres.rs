//! The PostgreSQL backend against a real server this test starts (and stops) itself: the shared
//! suite, each step in its own database, plus migration bookkeeping and the refusal of a newer
//! schema. Fails, never skips, when the PostgreSQL binaries are missing.

#[path = "support/pg.rs"]
mod pg;
#[path = "../src/bin/load/records.rs"]
mod records;
#[path = "support/suite.rs"]
mod suite;

use causeway_store::{DbUrl, Store, StoreError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend() {
    let server = pg::Postgres::start();
    let url = |text: String| -> DbUrl { text.parse().expect("postgres URL") };

    suite::cdr_round_trip(&url(server.create_database("cdr").await)).await;
    suite::bindings_persist(&url(server.create_database("bindings").await)).await;
    suite::dual_ring_persists(&url(server.create_database("dual_ring").await)).await;

    let migrated = url(server.create_database("migrations").await);
    suite::reopen_keeps_data(&migrated).await;
    let client = server.client("migrations").await;
    let versions: Vec<i64> = client
        .query("SELECT version FROM schema_migrations ORDER BY version", &[])
        .await
        .expect("versions")
        .iter()
        .map(|row| row.get(0))
        .collect();
    suite::assert_versions(&versions);
    client.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')", &[]).await.expect("insert");
    match Store::open(&migrated).await {
        Err(StoreError::SchemaTooNew { found: 999, .. }) => {}
        Err(other) => panic!("expected SchemaTooNew, got {other}"),
        Ok(_) => panic!("a database from a newer build was opened"),
    }

    match Store::open(&url(server.url("no_such_database"))).await {
        Err(StoreError::Postgres(_)) => {}
        Err(other) => panic!("expected a PostgreSQL error, got {other}"),
        Ok(_) => panic!("opened a database that does not exist"),
    }
}
