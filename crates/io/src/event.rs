//! The data that crosses the io boundary: received messages, messages to send, and transport events.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use causeway_sip::Transport;

use crate::error::TransportErrorKind;

/// Identifies one TCP or TLS connection for as long as it lives. Ids are never reused within a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(u64);

impl FlowId {
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow#{}", self.0)
    }
}

/// One received SIP message (a whole datagram, or one framed message from a stream).
#[derive(Clone, Debug)]
pub struct Inbound {
    /// The message bytes: a UDP datagram in a buffer of its own size; a stream message sliced from its
    /// connection's read buffer.
    pub bytes: Bytes,
    pub transport: Transport,
    /// The listener address it arrived on.
    pub local: SocketAddr,
    /// The source address (RFC 3581 `received`/`rport` come from here).
    pub peer: SocketAddr,
    /// The connection it arrived on; `None` for UDP.
    pub flow: Option<FlowId>,
    /// Names from the peer's verified TLS certificate (SAN dNSName and URI entries, then subject CNs); `None`
    /// unless the connection is TLS and the peer presented a certificate.
    pub tls_peer_names: Option<Arc<[String]>>,
}

/// One SIP message to send.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub bytes: Bytes,
    pub transport: Transport,
    pub destination: SocketAddr,
    /// Send on this connection if it is still open (RFC 3261 §18.2.2: a response goes back on the connection the
    /// request came on). When it has closed, the message goes to `destination` like any other.
    pub flow: Option<FlowId>,
    /// TLS server name (SNI and certificate check) when a new TLS connection is needed: the next hop's host name
    /// when known. Without it the destination IP address is checked against the certificate.
    pub server_name: Option<Arc<str>>,
    /// For UDP, the listener address to send from; `None` picks the first listener of the destination's family.
    pub local: Option<SocketAddr>,
}

impl Outbound {
    /// A message to `destination` over `transport`, with no flow, server name or source preference.
    pub fn new(bytes: Bytes, transport: Transport, destination: SocketAddr) -> Self {
        Self { bytes, transport, destination, flow: None, server_name: None, local: None }
    }
}

/// What [`crate::Io::recv`] reports.
#[derive(Clone, Debug)]
pub enum Event {
    Message(Inbound),
    /// A connection failed to open or to carry data; messages queued on it were lost.
    TransportError(TransportError),
    /// A connection closed (by the peer, for idleness, for bad framing, or after a [`Event::TransportError`]).
    /// The flow id is no longer valid for sending.
    FlowClosed { flow: FlowId, transport: Transport, peer: SocketAddr },
    /// An ICMP error (port, host or network unreachable) for a UDP datagram sent to `destination` (Linux): nothing
    /// serves there, so transactions to it may fail now rather than at Timer B/F (RFC 3261 §17.1.4, §18.4).
    UdpUnreachable(UdpUnreachable),
}

/// What [`Event::UdpUnreachable`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpUnreachable {
    /// The listener that sent the datagram.
    pub local: SocketAddr,
    /// Where it was sent.
    pub destination: SocketAddr,
    /// `ConnectionRefused` for a closed port, `HostUnreachable`, `NetworkUnreachable`, ...
    pub kind: std::io::ErrorKind,
}

/// A connect, handshake or write failure, with the identity a transaction needs to match it
/// (RFC 3261 §17.1.4: a transport failure is treated as a 503 for the client transaction that sent there).
#[derive(Clone, Debug, PartialEq)]
pub struct TransportError {
    pub transport: Transport,
    pub destination: SocketAddr,
    pub flow: FlowId,
    pub kind: TransportErrorKind,
}

/// A socket this node listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundListener {
    pub transport: Transport,
    pub local: SocketAddr,
}
