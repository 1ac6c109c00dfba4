//! [`Store`]: the handle the node and tools hold, and the two traits it implements.

use std::future::Future;

use causeway_callctl::cdr::CallRecord;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::binding::Binding;
use crate::error::StoreError;
use crate::record::{ListFrom, StoredCall};
use crate::url::DbUrl;
use crate::writer::{self, Job, Op};

/// Call detail records: written once per call at call end, read back for listings and export.
pub trait CdrStore {
    /// Writes a finished call (its row and its legs' rows, in one transaction). Resolves, with
    /// the call's row id, only once the record is durable: a crash after that loses nothing.
    fn record_call(&self, record: CallRecord) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Up to `limit` calls from `from` on, oldest first (by start, then row id); page on with
    /// [`ListFrom::After`] and the last call's [`StoredCall::cursor`].
    fn calls(&self, from: ListFrom, limit: u32) -> impl Future<Output = Result<Vec<StoredCall>, StoreError>> + Send;

    /// Every call recorded with this SIP Call-ID (usually one).
    fn calls_by_call_id(&self, call_id: &str) -> impl Future<Output = Result<Vec<StoredCall>, StoreError>> + Send;
}

/// Registrar bindings, kept across restarts. Expiry is checked against the `now` each call
/// passes: nothing runs in the background, and expired bindings are deleted lazily.
pub trait BindingStore {
    /// The AOR's bindings become exactly `bindings` (an empty list unregisters it, RFC 3261
    /// §10.3 step 6 `*`); bindings expired at `now`, of this AOR or any other, are dropped.
    /// Resolves once durable, with how many bindings the AOR now has.
    fn replace_bindings(
        &self,
        aor: &str,
        bindings: Vec<Binding>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The AOR's bindings still valid at `now`, ordered by contact.
    fn bindings(&self, aor: &str, now: DateTime<Utc>) -> impl Future<Output = Result<Vec<Binding>, StoreError>> + Send;

    /// Every binding still valid at `now` as (AOR, binding), ordered by AOR then contact: what a
    /// registrar loads at start.
    fn all_bindings(&self, now: DateTime<Utc>) -> impl Future<Output = Result<Vec<(String, Binding)>, StoreError>> + Send;

    /// Deletes every binding expired at `now`; resolves with how many.
    fn purge_expired_bindings(&self, now: DateTime<Utc>) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// The directory's runtime state. The directory itself (users, lines, devices, remote
/// destinations) is loaded from config by causeway-callctl; what changes while Causeway runs and
/// must survive a restart lives here: each user's dual-ringing switch (the `*88` feature code,
/// the admin API), as causeway-callctl's `DualRingSwitches::overrides`.
pub trait DirectoryStore {
    /// The overrides become exactly `overrides` (user id, dual ringing on); a user named twice:
    /// the last wins. Resolves once durable, with how many overrides there are.
    fn replace_dual_ring_overrides(&self, overrides: Vec<(String, bool)>) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Every override, ordered by user id: what the node hands to `DualRingSwitches::set` at start.
    fn dual_ring_overrides(&self) -> impl Future<Output = Result<Vec<(String, bool)>, StoreError>> + Send;
}

/// An open store. Cloning is cheap (all clones share one writer); the writer finishes the queued
/// writes and stops when the last clone is dropped.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<Job>,
    reader: Reader,
}

#[derive(Clone)]
enum Reader {
    Sqlite(crate::sqlite::Reader),
    #[cfg(feature = "postgres")]
    Postgres(crate::postgres::Reader),
}

impl Store {
    /// Opens the database `url` names (creating a SQLite file that does not exist yet), applies
    /// the pending migrations and starts the writer. Needs a tokio runtime.
    pub async fn open(url: &DbUrl) -> Result<Self, StoreError> {
        Self::open_with(url, true).await
    }

    /// As [`Store::open`], but a SQLite file that does not exist is an error, not a new database
    /// (for tools that only read, such as `causeway cdr list`).
    pub async fn open_existing(url: &DbUrl) -> Result<Self, StoreError> {
        Self::open_with(url, false).await
    }

    async fn open_with(url: &DbUrl, create: bool) -> Result<Self, StoreError> {
        let (jobs, reader) = match url {
            DbUrl::Sqlite(path) => {
                let (jobs, reader) = crate::sqlite::open(path.clone(), create).await?;
                (jobs, Reader::Sqlite(reader))
            }
            #[cfg(feature = "postgres")]
            DbUrl::Postgres(config) => {
                let (jobs, reader) = crate::postgres::open(config).await?;
                (jobs, Reader::Postgres(reader))
            }
        };
        Ok(Self { jobs, reader })
    }

    async fn write(&self, op: Op) -> Result<u64, StoreError> {
        let n = writer::submit(&self.jobs, op).await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn read_bindings(&self, aor: Option<&str>, now: DateTime<Utc>) -> Result<Vec<(String, Binding)>, StoreError> {
        match &self.reader {
            Reader::Sqlite(r) => r.bindings(aor.map(str::to_owned), now).await,
            #[cfg(feature = "postgres")]
            Reader::Postgres(r) => r.bindings(aor, now).await,
        }
    }
}

impl CdrStore for Store {
    async fn record_call(&self, record: CallRecord) -> Result<i64, StoreError> {
        writer::submit(&self.jobs, Op::Call(Box::new(record))).await
    }

    async fn calls(&self, from: ListFrom, limit: u32) -> Result<Vec<StoredCall>, StoreError> {
        match &self.reader {
            Reader::Sqlite(r) => r.calls(from, limit).await,
            #[cfg(feature = "postgres")]
            Reader::Postgres(r) => r.calls(from, limit).await,
        }
    }

    async fn calls_by_call_id(&self, call_id: &str) -> Result<Vec<StoredCall>, StoreError> {
        match &self.reader {
            Reader::Sqlite(r) => r.calls_by_call_id(call_id.to_owned()).await,
            #[cfg(feature = "postgres")]
            Reader::Postgres(r) => r.calls_by_call_id(call_id).await,
        }
    }
}

impl DirectoryStore for Store {
    async fn replace_dual_ring_overrides(&self, overrides: Vec<(String, bool)>) -> Result<u64, StoreError> {
        self.write(Op::ReplaceDualRing { overrides }).await
    }

    async fn dual_ring_overrides(&self) -> Result<Vec<(String, bool)>, StoreError> {
        match &self.reader {
            Reader::Sqlite(r) => r.dual_ring_overrides().await,
            #[cfg(feature = "postgres")]
            Reader::Postgres(r) => r.dual_ring_overrides().await,
        }
    }
}

impl BindingStore for Store {
    async fn replace_bindings(&self, aor: &str, bindings: Vec<Binding>, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write(Op::ReplaceBindings { aor: aor.to_owned(), bindings, now }).await
    }

    async fn bindings(&self, aor: &str, now: DateTime<Utc>) -> Result<Vec<Binding>, StoreError> {
        Ok(self.read_bindings(Some(aor), now).await?.into_iter().map(|(_, b)| b).collect())
    }

    async fn all_bindings(&self, now: DateTime<Utc>) -> Result<Vec<(String, Binding)>, StoreError> {
        self.read_bindings(None, now).await
    }

    async fn purge_expired_bindings(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write(Op::PurgeBindings { now }).await
    }
}
