//! PostgreSQL through tokio-postgres: one connection owned by the writer task (statements
//! prepared once per connection), one shared by queries. Both reconnect when their connection
//! has closed. Commits are durable because the session sets `synchronous_commit = on` (the
//! server's default, forced in case the server's configuration turns it off): COMMIT returns
//! only after the commit record is flushed to the server's WAL.
//!
//! Plain TCP or Unix socket only: this build has no TLS for PostgreSQL (`sslmode=require` fails
//! to connect with tokio-postgres's own error); keep the database on the host or a private link.

mod binding;
mod cdr;
mod directory;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, Mutex};
use tokio_postgres::{Client, Config, NoTls, Statement};

use crate::error::StoreError;
use crate::migrate;
use crate::writer::{self, BatchWriter, Job, Op};

/// How long a connection attempt may take when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Serialises concurrent migrations of one database (`pg_advisory_xact_lock`): "causeway" in ASCII.
const MIGRATION_LOCK: i64 = 0x6361_7573_6577_6179;

/// Connects, migrates, and starts the writer task.
pub(crate) async fn open(config: &Config) -> Result<(mpsc::Sender<Job>, Reader), StoreError> {
    let mut client = connect(config).await?;
    migrate(&mut client).await?;
    let statements = Statements::prepare(&client).await?;
    let (jobs, queue) = mpsc::channel(writer::QUEUE);
    let write = Writer { config: config.clone(), conn: Some((client, statements)) };
    tokio::spawn(writer::run(write, queue));
    let read = ReadConn { config: config.clone(), client: Some(connect(config).await?) };
    Ok((jobs, Reader { conn: Arc::new(Mutex::new(read)) }))
}

async fn connect(config: &Config) -> Result<Client, StoreError> {
    let mut config = config.clone();
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("causeway");
    }
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "PostgreSQL connection ended");
        }
    });
    client.batch_execute("SET synchronous_commit = on").await?;
    Ok(client)
}

async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY,
             name    TEXT NOT NULL,
             applied TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let applied: i64 = tx.query_one("SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations", &[]).await?.try_get(0)?;
    for m in migrate::pending(migrate::POSTGRES, applied)? {
        tx.batch_execute(m.sql).await?;
        tx.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", &[&m.version, &m.name]).await?;
        tracing::info!(version = m.version, name = m.name, "PostgreSQL schema migrated");
    }
    tx.commit().await?;
    Ok(())
}

/// The writer's prepared statements.
struct Statements {
    insert_call: Statement,
    clear_bindings: Statement,
    insert_binding: Statement,
    purge_bindings: Statement,
    clear_dual_ring: Statement,
    upsert_dual_ring: Statement,
}

impl Statements {
    async fn prepare(client: &Client) -> Result<Self, StoreError> {
        Ok(Self {
            insert_call: client.prepare(cdr::INSERT_CALL).await?,
            clear_bindings: client.prepare(binding::CLEAR).await?,
            insert_binding: client.prepare(binding::INSERT).await?,
            purge_bindings: client.prepare(binding::PURGE).await?,
            clear_dual_ring: client.prepare(directory::CLEAR).await?,
            upsert_dual_ring: client.prepare(directory::UPSERT).await?,
        })
    }
}

/// The write connection, in the writer task.
struct Writer {
    config: Config,
    conn: Option<(Client, Statements)>,
}

impl BatchWriter for Writer {
    async fn write(&mut self, ops: &[&Op]) -> Result<Vec<i64>, StoreError> {
        let (client, statements) = match self.conn.take() {
            Some((client, statements)) if !client.is_closed() => self.conn.insert((client, statements)),
            _ => {
                let client = connect(&self.config).await?;
                let statements = Statements::prepare(&client).await?;
                self.conn.insert((client, statements))
            }
        };
        let tx = client.transaction().await?;
        let mut done = Vec::with_capacity(ops.len());
        let mut ops = ops.iter().peekable();
        while let Some(op) = ops.next() {
            let id = match op {
                Op::Call(record) => {
                    // A run of calls is pipelined: the statements go out back to back and the
                    // server runs them in order, so the batch costs about one round trip.
                    let mut run = vec![cdr::insert(&tx, statements, record)];
                    while let Some(Op::Call(record)) = ops.peek().copied() {
                        run.push(cdr::insert(&tx, statements, record));
                        ops.next();
                    }
                    done.extend(futures_util::future::try_join_all(run).await?);
                    continue;
                }
                Op::ReplaceBindings { aor, bindings, now } => binding::replace(&tx, statements, aor, bindings, *now).await?,
                Op::PurgeBindings { now } => binding::purge(&tx, statements, *now).await?,
                Op::ReplaceDualRing { overrides } => directory::replace(&tx, statements, overrides).await?,
            };
            done.push(id);
        }
        tx.commit().await?;
        Ok(done)
    }
}

/// The query connection, shared by every clone of the store.
#[derive(Clone)]
pub(crate) struct Reader {
    conn: Arc<Mutex<ReadConn>>,
}

struct ReadConn {
    config: Config,
    client: Option<Client>,
}

impl Reader {
    /// The query connection, reconnected if it has closed.
    async fn client(conn: &mut ReadConn) -> Result<&Client, StoreError> {
        match conn.client.take() {
            Some(client) if !client.is_closed() => Ok(conn.client.insert(client)),
            _ => Ok(conn.client.insert(connect(&conn.config).await?)),
        }
    }

    pub(crate) async fn calls(&self, from: crate::ListFrom, limit: u32) -> Result<Vec<crate::StoredCall>, StoreError> {
        let mut conn = self.conn.lock().await;
        cdr::list(Self::client(&mut conn).await?, from, limit).await
    }

    pub(crate) async fn calls_by_call_id(&self, call_id: &str) -> Result<Vec<crate::StoredCall>, StoreError> {
        let mut conn = self.conn.lock().await;
        cdr::by_call_id(Self::client(&mut conn).await?, call_id).await
    }

    pub(crate) async fn bindings(&self, aor: Option<&str>, now: DateTime<Utc>) -> Result<Vec<(String, crate::Binding)>, StoreError> {
        let mut conn = self.conn.lock().await;
        binding::lookup(Self::client(&mut conn).await?, aor, now).await
    }

    pub(crate) async fn dual_ring_overrides(&self) -> Result<Vec<(String, bool)>, StoreError> {
        let mut conn = self.conn.lock().await;
        directory::overrides(Self::client(&mut conn).await?).await
    }
}
