//! SQLite (bundled): one write connection owned by a writer thread, one read connection for
//! queries (run on tokio's blocking pool). WAL lets the reader see committed data while the
//! writer commits. The durability argument is in the crate docs.

mod binding;
mod cdr;
mod directory;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};
use tokio::sync::mpsc;

use crate::error::StoreError;
use crate::migrate;
use crate::writer::{self, BatchWriter, Job, Op};

/// How long a connection waits for another's lock before failing (another process migrating, a
/// checkpoint).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating it when `create`) and migrates the database at `path`; starts the writer.
pub(crate) async fn open(path: PathBuf, create: bool) -> Result<(mpsc::Sender<Job>, Reader), StoreError> {
    let (write, read) = tokio::task::spawn_blocking(move || connect(&path, create)).await.map_err(|_| StoreError::Stopped)??;
    let (jobs, queue) = mpsc::channel(writer::QUEUE);
    let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(|e| StoreError::Spawn(Arc::new(e)))?;
    std::thread::Builder::new()
        .name("causeway-store-sqlite".to_owned())
        .spawn(move || runtime.block_on(writer::run(Writer { conn: write }, queue)))
        .map_err(|e| StoreError::Spawn(Arc::new(e)))?;
    Ok((jobs, Reader { conn: Arc::new(Mutex::new(read)) }))
}

fn connect(path: &std::path::Path, create: bool) -> Result<(Connection, Connection), StoreError> {
    if !create && !path.exists() {
        return Err(StoreError::Missing { path: path.to_owned() });
    }
    let mut write = Connection::open(path)?;
    write.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: a commit appends to the -wal file; readers keep reading the last committed state.
    let mode: String = write.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // Some file systems (network mounts) refuse WAL; the rollback journal with
        // synchronous=FULL is durable too, only slower and blocking readers during commits.
        tracing::warn!(path = %path.display(), %mode, "SQLite refused WAL mode");
    }
    // FULL: every commit fsyncs the WAL before COMMIT returns (see the crate docs).
    write.pragma_update(None, "synchronous", "FULL")?;
    write.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&mut write)?;
    let read = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    read.busy_timeout(BUSY_TIMEOUT)?;
    read.pragma_update(None, "query_only", "ON")?;
    Ok((write, read))
}

/// Applies the pending migrations under an immediate (write-locked) transaction, so two
/// processes opening one file migrate it once.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             name    TEXT NOT NULL,
             applied TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ) STRICT",
    )?;
    let applied: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |row| row.get(0))?;
    for m in migrate::pending(migrate::SQLITE, applied)? {
        tx.execute_batch(m.sql)?;
        tx.execute("INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)", params![m.version, m.name])?;
        tracing::info!(version = m.version, name = m.name, "SQLite schema migrated");
    }
    tx.commit()?;
    Ok(())
}

/// The write connection, on the writer thread.
struct Writer {
    conn: Connection,
}

impl BatchWriter for Writer {
    async fn write(&mut self, ops: &[&Op]) -> Result<Vec<i64>, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut done = Vec::with_capacity(ops.len());
        for op in ops {
            done.push(match op {
                Op::Call(record) => cdr::insert(&tx, record)?,
                Op::ReplaceBindings { aor, bindings, now } => binding::replace(&tx, aor, bindings, *now)?,
                Op::PurgeBindings { now } => binding::purge(&tx, *now)?,
                Op::ReplaceDualRing { overrides } => directory::replace(&tx, overrides)?,
            });
        }
        tx.commit()?;
        Ok(done)
    }
}

/// The read connection; queries run one at a time on tokio's blocking pool.
#[derive(Clone)]
pub(crate) struct Reader {
    conn: Arc<Mutex<Connection>>,
}

impl Reader {
    async fn run<T: Send + 'static>(
        &self,
        query: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic in an earlier query left no transaction open (rusqlite rolls back on drop).
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            query(&mut conn)
        })
        .await
        .map_err(|_| StoreError::Stopped)?
    }

    pub(crate) async fn calls(&self, from: crate::ListFrom, limit: u32) -> Result<Vec<crate::StoredCall>, StoreError> {
        self.run(move |conn| cdr::list(conn, from, limit)).await
    }

    pub(crate) async fn calls_by_call_id(&self, call_id: String) -> Result<Vec<crate::StoredCall>, StoreError> {
        self.run(move |conn| cdr::by_call_id(conn, &call_id)).await
    }

    pub(crate) async fn bindings(&self, aor: Option<String>, now: DateTime<Utc>) -> Result<Vec<(String, crate::Binding)>, StoreError> {
        self.run(move |conn| binding::lookup(conn, aor.as_deref(), now)).await
    }

    pub(crate) async fn dual_ring_overrides(&self) -> Result<Vec<(String, bool)>, StoreError> {
        self.run(directory::overrides).await
    }
}

/// Times are stored as microseconds since the epoch; chrono's range fits in an i64 of them.
fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn time(column: &'static str, micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| StoreError::corrupt(column, micros))
}

fn opt_time(column: &'static str, micros: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    micros.map(|m| time(column, m)).transpose()
}
