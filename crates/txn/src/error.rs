//! Typed errors of the transaction layer.

use crate::TxnId;

/// Why the table refused an input. None of these is fatal to the table; each concerns one
/// message or one call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxnError {
    /// The id names no live transaction (it terminated, or never existed).
    #[error("no live transaction {0:?}")]
    NoSuchTransaction(TxnId),
    /// `respond` was called with a client transaction's id.
    #[error("transaction {0:?} is a client transaction; only server transactions send responses")]
    NotServer(TxnId),
    /// The TU sent a response the transaction's state no longer allows (RFC 3261 §17.2.1,
    /// §17.2.2: responses after a non-2xx final are discarded; RFC 6026 §8.7: only 2xx
    /// follow a 2xx).
    #[error("a {status} response cannot follow the final response already sent")]
    AfterFinal {
        /// The refused status code.
        status: u16,
    },
    /// ACK never starts a client transaction: the ACK for a non-2xx is the INVITE client
    /// transaction's, the ACK for a 2xx is sent by the TU directly (RFC 3261 §17.1.1.3, §13.2.2.4).
    #[error("ACK does not start a client transaction (RFC 3261 §17.1.1.3)")]
    AckStartsNoTransaction,
    /// A request was given where a response is needed, or the reverse.
    #[error("expected a {expected}")]
    WrongKind {
        /// "request" or "response".
        expected: &'static str,
    },
    /// The message lacks a field that matching needs (RFC 3261 §17.1.3, §17.2.3).
    #[error("cannot match the message: {0}")]
    Unmatchable(Missing),
    /// A client transaction with the same branch and method is already live; the TU must
    /// use a fresh branch per request (RFC 3261 §8.1.1.7).
    #[error("a client transaction with this branch and method already exists")]
    DuplicateBranch,
    /// The table holds `TxnConfig::max_transactions` transactions already.
    #[error("transaction table full ({max} transactions)")]
    TableFull {
        /// The configured limit.
        max: usize,
    },
}

/// What a message lacked for matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Missing {
    /// No parsable top Via.
    #[error("no valid top Via header")]
    TopVia,
    /// The top Via has no branch and a client transaction needs one (RFC 3261 §8.1.1.7).
    #[error("top Via has no branch parameter")]
    Branch,
    /// No parsable CSeq.
    #[error("no valid CSeq header")]
    CSeq,
    /// No Call-ID (needed by the RFC 2543 fallback, §17.2.3).
    #[error("no Call-ID header")]
    CallId,
    /// No parsable From (needed by the RFC 2543 fallback, §17.2.3).
    #[error("no valid From header")]
    From,
}
