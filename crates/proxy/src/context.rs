//! The response context of one proxied request (RFC 3261 §16.7 step 1): the server
//! transaction it answers, its branches with their client transactions and Timer C, and the
//! best final response so far. Contexts live in a slab and are named by index + generation,
//! so a stale reference (a late event after the context ended) is detected, never confused
//! with a newer context that reuses the slot.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use causeway_sip::{HeaderName, Message, StatusCode, Transport};
use causeway_txn::TxnId;
use smallvec::SmallVec;

use crate::api::{FlowId, Transmit};
use crate::best::BestResponse;

/// Where a transaction sends: the `P` of the transaction table, turned into a [`Transmit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Peer {
    pub(crate) transport: Transport,
    pub(crate) local: SocketAddr,
    pub(crate) destination: SocketAddr,
    pub(crate) flow: Option<FlowId>,
}

/// A transport failure names transport and destination; the flow is matched by the TU.
impl causeway_txn::PeerKey for Peer {
    type Key = (Transport, SocketAddr);
    fn peer_key(&self) -> (Transport, SocketAddr) {
        (self.transport, self.destination)
    }
}

impl Peer {
    pub(crate) fn transmit(&self, bytes: Bytes) -> Transmit {
        Transmit { bytes, transport: self.transport, local: self.local, destination: self.destination, flow: self.flow }
    }
}

/// A context's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CtxId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// Why a branch is being cancelled; becomes the CANCEL's Reason header (RFC 3326).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CancelReason {
    /// Another branch answered 2xx (§16.7 step 5; RFC 3326 §2 example).
    CompletedElsewhere,
    /// Another branch answered 6xx (§16.7 step 5).
    GlobalFailure(StatusCode),
    /// The caller cancelled (§16.10): its Reason values, copied.
    Upstream(Option<String>),
    /// Timer C fired (§16.6 step 11).
    TimerC,
    /// A CPL `proxy` node's `timeout` ran out (RFC 3880 §6.1: the attempt ends as "noanswer").
    NoAnswer,
}

impl CancelReason {
    /// The Reason header value, if any.
    pub(crate) fn header(&self) -> Option<String> {
        match self {
            Self::CompletedElsewhere => Some("SIP;cause=200;text=\"Call completed elsewhere\"".to_owned()),
            Self::GlobalFailure(code) => Some(format!("SIP;cause={code};text=\"{}\"", code.default_reason())),
            Self::Upstream(reason) => reason.clone(),
            Self::TimerC => None,
            Self::NoAnswer => Some("SIP;cause=480;text=\"No answer\"".to_owned()),
        }
    }
}

/// Where a branch is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BranchState {
    /// Sent; no response yet.
    Calling,
    /// A provisional response arrived (a CANCEL may now be sent, RFC 3261 §9.1).
    Proceeding,
    /// A final response arrived, or the branch failed (timeout, transport error).
    Done(StatusCode),
}

/// The CANCEL side of a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cancel {
    /// Not cancelled.
    No,
    /// To cancel as soon as a provisional arrives (§9.1: never before one).
    Pending(CancelReason),
    /// CANCEL sent; waiting for the final (487), at most 64*T1 (§9.1).
    Sent,
}

/// One branch (§16.6: one client transaction per target).
#[derive(Debug)]
pub(crate) struct Branch {
    /// The client transaction, until it terminates.
    pub(crate) txn: Option<TxnId>,
    pub(crate) peer: Peer,
    pub(crate) state: BranchState,
    pub(crate) cancel: Cancel,
    /// Timer C (§16.6 step 11), or after a CANCEL the §9.1 give-up time.
    pub(crate) deadline: Option<Instant>,
    /// The time of this branch's one entry in the deadline heap, if it has one. Restarting
    /// Timer C on every provisional only moves `deadline`; the entry is re-queued when it
    /// surfaces, so a peer sending many provisionals cannot grow the heap.
    pub(crate) queued: Option<Instant>,
}

impl Branch {
    /// Set the deadline to `at`, queueing an entry unless one is queued no later than `at`.
    pub(crate) fn arm(&mut self, at: Instant, id: CtxId, b: usize, heap: &mut BinaryHeap<Reverse<(Instant, CtxId, usize)>>) {
        self.deadline = Some(at);
        if self.queued.is_none_or(|q| at < q) {
            heap.push(Reverse((at, id, b)));
            self.queued = Some(at);
        }
    }
}

impl Branch {
    /// Nothing more is expected from this branch for the response context.
    pub(crate) fn is_settled(&self) -> bool {
        matches!(self.state, BranchState::Done(_)) || self.txn.is_none()
    }
}

/// A final response the context may send upstream.
#[derive(Debug)]
pub(crate) enum Candidate {
    /// A response from branch `.0`, relayed with our Via removed.
    Received(usize, Box<Message>),
    /// A response we generate (408 for a timeout, 503 for a transport error).
    Local,
}

/// The response context of one proxied request.
#[derive(Debug)]
pub(crate) struct ProxyCtx {
    pub(crate) generation: u32,
    /// The server transaction answered through.
    pub(crate) server: TxnId,
    /// The request as received (for the responses we generate).
    pub(crate) request: Message,
    pub(crate) is_invite: bool,
    /// Responses upstream need Content-Length (stream transport).
    pub(crate) upstream_stream: bool,
    pub(crate) branches: SmallVec<[Branch; 2]>,
    pub(crate) best: BestResponse<Candidate>,
    /// WWW-Authenticate / Proxy-Authenticate values of every 401/407 (§16.7 step 7), with
    /// the branch they came from.
    pub(crate) challenges: Vec<(usize, HeaderName, Bytes)>,
    /// A final response went upstream.
    pub(crate) final_sent: bool,
    /// Hops and target groups still to try (RFC 3263 §4.3); `None` for a plain target set.
    pub(crate) failover: Option<Box<crate::failover::Failover>>,
    /// The CPL `proxy` attempt this request is (RFC 3880 §6.1); `None` for other requests.
    pub(crate) cpl: Option<Box<crate::security::CplAttempt>>,
}

impl ProxyCtx {
    /// Every branch is settled.
    pub(crate) fn all_settled(&self) -> bool {
        self.branches.iter().all(Branch::is_settled)
    }

    /// The context has nothing left to do: the caller has its final response and no branch
    /// still owes one (or waits to be cancelled).
    pub(crate) fn is_finished(&self) -> bool {
        self.final_sent && self.all_settled()
    }
}

/// The live context `id` names in `ctxs` (a free function so callers can borrow other core
/// fields at the same time).
pub(crate) fn ctx_in(ctxs: &mut slab::Slab<ProxyCtx>, id: CtxId) -> Option<&mut ProxyCtx> {
    ctxs.get_mut(id.index as usize).filter(|c| c.generation == id.generation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn restarting_timer_c_keeps_one_heap_entry_per_branch() {
        let t0 = Instant::now();
        let addr = SocketAddr::from(([192, 0, 2, 1], 5060));
        let peer = Peer { transport: Transport::Udp, local: addr, destination: addr, flow: None };
        let mut b = Branch { txn: None, peer, state: BranchState::Proceeding, cancel: Cancel::No, deadline: None, queued: None };
        let id = CtxId { index: 0, generation: 1 };
        let mut heap = BinaryHeap::new();
        for s in 1..=100 {
            b.arm(t0 + Duration::from_secs(180 + s), id, 0, &mut heap);
        }
        assert_eq!((heap.len(), b.deadline), (1, Some(t0 + Duration::from_secs(280))));
        // An earlier deadline (the §9.1 give-up after a CANCEL) needs its own entry.
        b.arm(t0 + Duration::from_secs(32), id, 0, &mut heap);
        assert_eq!((heap.len(), b.queued), (2, Some(t0 + Duration::from_secs(32))));
    }

    #[test]
    fn rfc3326_reason_values() {
        assert_eq!(
            CancelReason::CompletedElsewhere.header().as_deref(),
            Some("SIP;cause=200;text=\"Call completed elsewhere\"")
        );
        assert_eq!(
            CancelReason::GlobalFailure(StatusCode::DECLINE).header().as_deref(),
            Some("SIP;cause=603;text=\"Decline\"")
        );
        assert_eq!(CancelReason::TimerC.header(), None);
    }
}
