//! The writer: one task per store owns the write connection and group-commits. It takes the
//! first queued write, drains what else is queued (up to [`MAX_BATCH`]), applies them all in one
//! transaction and commits; only after the commit returns (durable, see the crate docs) does it
//! answer each waiting caller. One fsync thus covers a whole batch under load, and a lone write
//! is not delayed by a timer. If the batch fails, each write is retried in its own transaction,
//! so one bad write fails alone.

use causeway_callctl::cdr::CallRecord;
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use crate::binding::Binding;
use crate::error::StoreError;

/// Most writes committed by one transaction.
pub(crate) const MAX_BATCH: usize = 256;

/// Writes waiting for the writer, at most (callers wait for room beyond that).
pub(crate) const QUEUE: usize = 4096;

/// One write.
#[derive(Debug)]
pub(crate) enum Op {
    /// A finished call: its row and its legs' rows.
    Call(Box<CallRecord>),
    /// The AOR's bindings become exactly these (expired ones of every AOR are dropped too).
    ReplaceBindings {
        /// Address of record.
        aor: String,
        /// Its bindings.
        bindings: Vec<Binding>,
        /// Now: a binding expiring by then is not kept.
        now: DateTime<Utc>,
    },
    /// The dual-ringing overrides become exactly these (user id, on).
    ReplaceDualRing {
        /// Overrides.
        overrides: Vec<(String, bool)>,
    },
    /// Drop every binding expired at `now`.
    PurgeBindings {
        /// Now.
        now: DateTime<Utc>,
    },
}

/// A write and whom to tell when it is durable: the call's row id, or the number of rows.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) op: Op,
    pub(crate) done: oneshot::Sender<Result<i64, StoreError>>,
}

/// A backend's write connection.
pub(crate) trait BatchWriter {
    /// Applies `ops` in one transaction and commits it durably: one result per op, or an error
    /// and nothing written.
    fn write(&mut self, ops: &[&Op]) -> impl std::future::Future<Output = Result<Vec<i64>, StoreError>> + Send;
}

/// Sends one write to the writer and waits until it is durable.
pub(crate) async fn submit(jobs: &mpsc::Sender<Job>, op: Op) -> Result<i64, StoreError> {
    let (done, result) = oneshot::channel();
    jobs.send(Job { op, done }).await.map_err(|_| StoreError::Stopped)?;
    result.await.map_err(|_| StoreError::Stopped)?
}

/// The writer loop; ends when every sender is gone and the queue is empty.
pub(crate) async fn run<W: BatchWriter>(mut writer: W, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcome = {
            let ops: Vec<&Op> = batch.iter().map(|j| &j.op).collect();
            writer.write(&ops).await
        };
        match outcome {
            Ok(ids) => {
                for (job, id) in batch.into_iter().zip(ids) {
                    // A caller that stopped waiting still has its write; nobody to tell.
                    let _ = job.done.send(Ok(id));
                }
            }
            Err(error) if batch.len() == 1 => {
                tracing::warn!(%error, "store write failed");
                for job in batch {
                    let _ = job.done.send(Err(error.clone()));
                }
            }
            Err(error) => {
                tracing::warn!(%error, writes = batch.len(), "store batch failed; writing one at a time");
                for job in batch {
                    match writer.write(&[&job.op]).await {
                        Ok(ids) => {
                            if let Some(&id) = ids.first() {
                                let _ = job.done.send(Ok(id));
                            }
                        }
                        Err(error) => {
                            let _ = job.done.send(Err(error));
                        }
                    }
                }
            }
        }
    }
}
