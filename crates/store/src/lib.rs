//! causeway-store keeps Causeway's durable state: call detail records (one causeway-callctl
//! [`CallRecord`](causeway_callctl::cdr::CallRecord) per call, a row per leg), the registrar's
//! bindings and the users' dual-ringing switches, in SQLite (the default, bundled) or PostgreSQL
//! (the `postgres` feature), chosen by a [`DbUrl`] (`sqlite:///var/lib/causeway/causeway.db`,
//! `postgres://user@host/db`). It applies its embedded, versioned schema migrations when it
//! opens a database. It never makes a call decision and never reads a clock for one: binding
//! expiry is checked against the `now` the caller passes. Only the node (io) and admin tools use
//! it.
//!
//! Main types: [`Store`] (the handle); the [`CdrStore`], [`BindingStore`] and [`DirectoryStore`]
//! (per-user dual-ringing switches) traits it implements; [`StoredCall`], [`Binding`],
//! [`StoreError`]. [`export`] has the CSV, JSON and text writers behind `causeway cdr`.
//!
//! # Writes and durability
//!
//! All writes go through one writer per store (a thread for SQLite, a task for PostgreSQL) that
//! group-commits whatever is queued: [`CdrStore::record_call`] resolves only after the
//! transaction holding the call and all its legs has committed. A call's record is written once,
//! at call end, so a record is either wholly in the database or not at all.
//!
//! SQLite runs in WAL mode with `synchronous=FULL`. At COMMIT, SQLite appends the transaction's
//! pages and a commit frame to the `-wal` file with `write(2)` and then fsyncs the WAL, before
//! COMMIT returns. A `kill -9` after that cannot lose the transaction: the bytes were already in
//! the kernel's page cache when the process died (process death never discards the page cache;
//! `synchronous=NORMAL` would be enough for that alone), and the fsync has put them on the disk
//! as well, so a power cut or kernel crash after the acknowledgement loses nothing either (given
//! a disk that honours flushes). On the next open SQLite replays the WAL up to the last commit
//! frame whose checksum is valid; a transaction cut off mid-write has no valid commit frame and
//! disappears whole, which is why a half-written call can never appear. Checkpoints (automatic,
//! every 1000 WAL pages) copy WAL pages into the database file and fsync it before the WAL is
//! reused, so they move committed data without ever leaving it only in memory. The cost is one
//! fsync per batch, not per call: under load the writer commits up to 256 calls per fsync. The
//! `kill9` integration test checks this: a child process writes calls under load and prints each
//! acknowledged one, gets SIGKILL, and every acknowledged call must then be in the database,
//! field for field.
//!
//! PostgreSQL: the session sets `synchronous_commit = on`, so COMMIT returns only after the
//! commit record is flushed to the server's WAL; the acknowledgement follows the COMMIT.

mod binding;
pub mod export;
mod error;
mod migrate;
#[cfg(feature = "postgres")]
mod postgres;
mod record;
mod sqlite;
mod store;
mod url;
mod writer;

pub use binding::{Binding, Received};
pub use error::StoreError;
pub use record::{Cursor, ListFrom, StoredCall};
pub use store::{BindingStore, CdrStore, DirectoryStore, Store};
pub use url::DbUrl;

/// Where Causeway keeps its database unless told otherwise (`--db`, the node's config).
pub const DEFAULT_URL: &str = "sqlite:///var/lib/causeway/causeway.db";
