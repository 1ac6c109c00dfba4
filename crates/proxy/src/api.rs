//! The data that crosses the sans-IO boundary: what the I/O layer hands the [`Core`](crate::Core)
//! and what it gets back. Plain data, no handles, no sockets (quinn-proto `Transmit`).

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use causeway_sip::Transport;

/// An opaque name the I/O layer gives one connection (TCP/TLS) so the core can ask for the
/// same connection again (RFC 3261 §18.2.2 responses on the request's connection, RFC 5626 §5
/// flows). The core never interprets the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(pub u64);

/// One received SIP message (a datagram, or one framed message from a stream).
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The message octets, exactly as received (framing already done for streams).
    pub bytes: Bytes,
    /// The transport it came over.
    pub transport: Transport,
    /// The local listener address it arrived on.
    pub local: SocketAddr,
    /// The source address (RFC 3581 `received`/`rport` come from here).
    pub peer: SocketAddr,
    /// The connection it came on, for stream transports.
    pub flow: Option<FlowId>,
    /// Subject names of the peer's TLS certificate (mutual TLS only); for zone classification.
    pub tls_peer_names: Option<Arc<[String]>>,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The whole serialized message.
    pub bytes: Bytes,
    /// Transport to send it over.
    pub transport: Transport,
    /// The listener address to send from: the address our Via `sent-by` / Record-Route name,
    /// so replies come back to the same socket.
    pub local: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// Preferred connection (stream transports): reuse it if it is still open, else connect to
    /// `destination` (RFC 3261 §18.2.2, RFC 5626 §5.3).
    pub flow: Option<FlowId>,
}

/// A send that the I/O layer could not complete (RFC 3261 §17.1.4, §18.4): connection refused,
/// ICMP unreachable, connection reset before the message left. The core fails the client
/// transactions that were sending there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportFailure {
    /// Transport of the failed send.
    pub transport: Transport,
    /// Destination of the failed send.
    pub destination: SocketAddr,
    /// Connection of the failed send, if any.
    pub flow: Option<FlowId>,
}

impl TransportFailure {
    /// Whether a transaction sending to this destination over `flow` is one the failure
    /// reaches: a failure or a transaction not tied to a connection matches any.
    #[must_use]
    pub fn reaches(&self, flow: Option<FlowId>) -> bool {
        self.flow.is_none() || flow.is_none() || flow == self.flow
    }
}
