//! What the table hands back: bytes to send ([`Transmit`]) and news for the TU ([`Event`]).

use bytes::Bytes;
use causeway_sip::{Message, Transport};

use crate::timer::Timer;

/// A transaction handle. Stale handles (of terminated transactions) are detected, never
/// confused with a later transaction that reuses the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxnId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// A map keyed by [`TxnId`], for what the TU keeps per transaction. Ids are the table's own
/// (slot and generation), never chosen by a peer, so they need no keyed (flood-resistant)
/// hashing: Fx costs a multiply where std's SipHash costs a pass over the key.
pub type TxnMap<V> = std::collections::HashMap<TxnId, V, rustc_hash::FxBuildHasher>;

/// Bytes for the transport: a first send or a retransmission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<P> {
    /// The transaction sending; report a send failure with
    /// [`crate::TransactionTable::handle_transport_error`].
    pub txn: TxnId,
    /// The serialized message, shared with the transaction (no copy per retransmission).
    pub bytes: Bytes,
    /// The transport the transaction runs over.
    pub transport: Transport,
    /// Where to send: the value the TU gave when the transaction started, passed through.
    pub to: P,
}

/// News for the transaction user.
#[derive(Debug)]
pub enum Event<P> {
    /// A new request created a server transaction (RFC 3261 §17.2.1, §17.2.2). Answer it with
    /// [`crate::TransactionTable::respond`]; for an INVITE send 100 (Trying) at once unless a
    /// response follows within 200 ms (§17.2.1).
    Request {
        /// The new server transaction.
        txn: TxnId,
        /// The request.
        request: Message,
    },
    /// A response for a client transaction: a provisional, the final, or (RFC 6026 §8.4) a
    /// further 2xx while the INVITE client transaction is Accepted. Retransmitted non-2xx
    /// finals are absorbed and never reported.
    Response {
        /// The client transaction.
        txn: TxnId,
        /// The response.
        response: Message,
    },
    /// An ACK the transaction layer does not absorb: an ACK for a 2xx, which matches no
    /// transaction (RFC 3261 §17.2.3), or any ACK matching an INVITE server transaction in
    /// RFC 6026's Accepted state (§7.1). A proxy forwards it (§16.11 / §16.6).
    Ack {
        /// The Accepted INVITE server transaction it matched, if any.
        txn: Option<TxnId>,
        /// The ACK.
        request: Message,
        /// Where it came from, as given to `handle_message`.
        from: P,
    },
    /// A response that matches no client transaction. RFC 6026 §8.9: any element other than
    /// a stateless proxy MUST silently discard it; it is reported so the TU can count it.
    StrayResponse {
        /// The response.
        response: Message,
        /// Where it came from.
        from: P,
    },
    /// A give-up timer fired: B (INVITE client) or F (non-INVITE client) — the TU acts as if
    /// a 408 arrived (§8.1.3.1, §16.7 step 6) — or H (INVITE server, the ACK never came).
    /// The transaction then terminates.
    Timeout {
        /// The transaction.
        txn: TxnId,
        /// B, F or H.
        timer: Timer,
    },
    /// A send reported through `handle_transport_error` failed (RFC 3261 §17.1.4, §17.2.4).
    /// Client and non-INVITE server transactions terminate; INVITE server transactions keep
    /// their state and let their timers end them (RFC 6026 §7.1).
    TransportError {
        /// The transaction.
        txn: TxnId,
    },
    /// The transaction is gone; its id is stale from now on.
    Terminated {
        /// The transaction.
        txn: TxnId,
    },
}

/// Which of the four state machines a transaction runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxnKind {
    /// RFC 3261 §17.1.1.
    InviteClient,
    /// RFC 3261 §17.1.2.
    NonInviteClient,
    /// RFC 3261 §17.2.1.
    InviteServer,
    /// RFC 3261 §17.2.2.
    NonInviteServer,
}

impl TxnKind {
    /// A transaction we sent the request of.
    #[must_use]
    pub fn is_client(self) -> bool {
        matches!(self, Self::InviteClient | Self::NonInviteClient)
    }
}

/// A live transaction's state, as named in RFC 3261 §17 and RFC 6026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxnState {
    /// INVITE client, before any response.
    Calling,
    /// Non-INVITE client before any response, or non-INVITE server before any response.
    Trying,
    /// A provisional was received (client) or sent (server).
    Proceeding,
    /// A final was received (client) or a non-2xx final sent (server); absorbing retransmissions.
    Completed,
    /// INVITE server: the ACK for the non-2xx final arrived.
    Confirmed,
    /// RFC 6026: a 2xx to an INVITE was received (client) or sent (server).
    Accepted,
}
