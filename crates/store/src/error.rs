//! Typed errors. Every error is `Clone` (driver errors are shared behind an `Arc`) because the
//! writer fans one failed commit out to every call record of its batch. A wrapped driver or I/O
//! error is part of the message (the drivers' own messages already carry their causes), so it
//! is not repeated as a `source()`; tokio-postgres keeps the cause in `source()` only, so its chain
//! is written out.

use std::path::PathBuf;
use std::sync::Arc;

/// What went wrong opening, migrating, writing or reading a store.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("database URL {url:?}: expected sqlite:///absolute/path, sqlite://relative/path or postgres://…")]
    UnknownScheme {
        /// The URL up to its first `:` (never the credentials).
        url: String,
    },
    /// `sqlite://` with nothing after it.
    #[error("database URL sqlite:// names no file (write sqlite:///absolute/path or sqlite://relative/path)")]
    EmptySqlitePath,
    /// A `postgres://` URL that tokio-postgres cannot parse.
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL URL: {}", chain(&**.0))]
    InvalidPostgresUrl(Arc<tokio_postgres::Error>),
    /// A `postgres://` URL, but this build has no PostgreSQL support.
    #[error("PostgreSQL support is not built in (causeway-store's `postgres` feature)")]
    PostgresNotBuilt,
    /// Opening for reading a SQLite file that does not exist.
    #[error("no database at {}", path.display())]
    Missing {
        /// The file looked for.
        path: PathBuf,
    },
    /// SQLite failed.
    #[error("SQLite: {0}")]
    Sqlite(Arc<rusqlite::Error>),
    /// PostgreSQL failed (connection, statement or commit).
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL: {}", chain(&**.0))]
    Postgres(Arc<tokio_postgres::Error>),
    /// The database was migrated by a newer Causeway.
    #[error("database schema version {found} is newer than this build knows ({known}): upgrade causeway")]
    SchemaTooNew {
        /// Highest version recorded in the database.
        found: i64,
        /// Highest version this build embeds.
        known: i64,
    },
    /// A stored value this build cannot read back (a hand-edited row, or a newer writer).
    #[error("stored {column} value {value:?} is not valid")]
    Corrupt {
        /// Column.
        column: &'static str,
        /// The value, as stored.
        value: String,
    },
    /// A value could not be encoded for storage.
    #[error("encoding {what}: {error}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why.
        error: Arc<serde_json::Error>,
    },
    /// Writing an export (CSV, JSON, text) failed.
    #[error("writing the export: {0}")]
    Export(Arc<std::io::Error>),
    /// Starting the SQLite writer thread failed.
    #[error("starting the store writer: {0}")]
    Spawn(Arc<std::io::Error>),
    /// Two bindings of one AOR with the same contact in one replacement (RFC 3261 §10.3: a
    /// contact URI is bound once per AOR).
    #[error("AOR {aor}: contact {contact} given twice")]
    DuplicateContact {
        /// Address of record.
        aor: String,
        /// The contact.
        contact: String,
    },
    /// The writer, or a blocking read, is gone (it panicked, or the runtime is shutting down).
    #[error("the store's writer or reader has stopped")]
    Stopped,
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(Arc::new(error))
    }
}

#[cfg(feature = "postgres")]
impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Postgres(Arc::new(error))
    }
}

impl StoreError {
    pub(crate) fn corrupt(column: &'static str, value: impl ToString) -> Self {
        Self::Corrupt { column, value: value.to_string() }
    }
}

/// `error: cause: cause's cause`.
#[cfg(feature = "postgres")]
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
