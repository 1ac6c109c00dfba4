//! [`Net`]: what every part of the engine sends through — the transaction table, the
//! identifier generator, our listeners — and the few ways to send: start a client transaction,
//! answer a server transaction, send an ACK for a 2xx outside any transaction (§13.2.2.4).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use causeway_proxy::{FlowId, Transmit};
use causeway_sip::build::ResponseBuilder;
use causeway_sip::{HeaderName, Message, Method, StatusCode, Transport};
use causeway_txn::{TransactionTable, TxnId, TxnMap};
use causeway_callctl::LegId;

use crate::call::CallKey;
use crate::config::B2buaConfig;
use crate::dialog::Hop;
use crate::ids::Ids;
use crate::local::{Local, Locals};
use crate::route::Lookups;

/// Where a transaction sends: the `P` of the transaction table.
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
    pub(crate) fn transmit(self, bytes: Bytes) -> Transmit {
        Transmit { bytes, transport: self.transport, local: self.local, destination: self.destination, flow: self.flow }
    }
}

impl From<Hop> for Peer {
    fn from(h: Hop) -> Self {
        Self { transport: h.transport, local: h.local, destination: h.destination, flow: h.flow }
    }
}

/// What a client transaction of ours is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Client {
    /// A leg's INVITE.
    Invite(CallKey, LegId),
    /// A request relayed from the other side of a call (its server transaction answers with
    /// what this one gets).
    Relay(CallKey),
    /// A request whose answer changes nothing (CANCEL, BYE).
    Fire,
}

/// A response we write: status, detail for the reason phrase, extra fields, body.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answer<'a> {
    pub(crate) reason: Option<&'a str>,
    pub(crate) to_tag: Option<&'a str>,
    pub(crate) headers: Vec<(&'a str, Cow<'a, str>)>,
    pub(crate) body: Option<(&'a str, &'a [u8])>,
}

/// The sending half of the engine.
#[derive(Debug)]
pub(crate) struct Net {
    pub(crate) config: B2buaConfig,
    pub(crate) ids: Ids,
    pub(crate) locals: Locals,
    pub(crate) txns: TransactionTable<Peer>,
    pub(crate) transmits: VecDeque<Transmit>,
    /// Our client transactions and what they are for.
    pub(crate) clients: TxnMap<Client>,
    /// DNS lookups legs wait for.
    pub(crate) lookups: Lookups,
}

impl Net {
    /// The listener requests over `hop` leave from.
    pub(crate) fn local_for(&self, hop: &Hop) -> Option<&Local> {
        self.locals.egress(hop.transport, Some(hop.local))
    }

    /// Starts a client transaction for a request we wrote (`build` gets our Via with a new
    /// branch), sending to `hop`.
    pub(crate) fn send_request(
        &mut self,
        now: Instant,
        hop: Hop,
        method: &Method,
        purpose: Client,
        build: impl FnOnce(&str) -> Bytes,
    ) -> Option<(TxnId, Bytes)> {
        let branch = self.ids.branch();
        let via = self.local_for(&hop)?.via(&branch);
        let bytes = build(&via);
        match self.txns.start_client_bytes(now, bytes.clone(), method, &branch, hop.transport, Peer::from(hop)) {
            Ok(txn) => {
                self.clients.insert(txn, purpose);
                Some((txn, bytes))
            }
            Err(error) => {
                tracing::warn!(%error, method = method.as_str(), "cannot start a client transaction");
                None
            }
        }
    }

    /// Sends an ACK for a 2xx (RFC 3261 §13.2.2.4: its own branch, no transaction) or any
    /// bytes again.
    pub(crate) fn send_raw(&mut self, hop: Hop, bytes: Bytes) {
        self.transmits.push_back(Peer::from(hop).transmit(bytes));
    }

    /// A new Via for a request sent outside a transaction (ACK).
    pub(crate) fn via(&mut self, hop: &Hop) -> Option<String> {
        let branch = self.ids.branch();
        self.local_for(hop).map(|l| l.via(&branch))
    }

    /// Answers the server transaction `txn` of `request`; `Server` is added.
    pub(crate) fn respond(&mut self, now: Instant, txn: TxnId, request: &Message, status: StatusCode, answer: &Answer<'_>) -> Option<Bytes> {
        let tag;
        let to_tag = match answer.to_tag {
            Some(t) => t,
            None => {
                tag = self.ids.tag();
                tag.as_str()
            }
        };
        let mut builder = ResponseBuilder::new(request, status).to_tag(to_tag);
        if let Some(reason) = answer.reason {
            builder = builder.reason(reason);
        }
        for (name, value) in &answer.headers {
            builder = builder.header(name, value);
        }
        if let Some(server) = &self.config.server {
            builder = builder.header(HeaderName::Server.as_str(), server);
        }
        if let Some((content_type, body)) = answer.body {
            builder = builder.body(content_type, body);
        }
        let bytes = match builder.build() {
            Ok(built) => built.into_bytes(),
            Err(error) => {
                tracing::debug!(%error, "cannot build a response");
                return None;
            }
        };
        match self.txns.respond_bytes(now, txn, status, bytes.clone()) {
            Ok(()) => Some(bytes),
            Err(error) => {
                tracing::debug!(%error, "response not sent");
                None
            }
        }
    }

    /// A response with a detail in its reason phrase: `Bad Request (why)`.
    pub(crate) fn refuse(&mut self, now: Instant, txn: TxnId, request: &Message, status: StatusCode, detail: &str, headers: Vec<(&str, String)>) {
        let reason = match detail {
            "" => status.default_reason().to_owned(),
            d => format!("{} ({d})", status.default_reason()),
        };
        let headers = headers.into_iter().map(|(name, value)| (name, Cow::Owned(value))).collect();
        let answer = Answer { reason: Some(&reason), headers, ..Answer::default() };
        self.respond(now, txn, request, status, &answer);
    }
}
