//! causeway-io: the tokio transport layer. It binds UDP, TCP and TLS (rustls) listeners, frames stream traffic
//! with `causeway_sip::framing` (RFC 3261 §18.3), answers CRLF keep-alives (RFC 5626 §3.5.1), keeps the connection
//! table for reuse and aliasing (RFC 3261 §18, RFC 5923), records the names in a mutual-TLS peer's certificate,
//! and enforces the limits that keep a peer from exhausting the node (connections in total and per IP, idle and
//! handshake timeouts, message size, bounded buffers and queues).
//!
//! It never parses SIP beyond framing and knows nothing of transactions or routing: the driver (`causeway-node`)
//! feeds each [`Inbound`] to the sans-IO core and hands each outgoing message to [`Io::send`].
//!
//! Main types: [`Io`] (the handle a driver task owns), [`IoConfig`], [`Event`], [`Inbound`], [`Outbound`],
//! [`FlowId`], [`IoStats`].

mod config;
mod endpoint;
mod error;
mod event;
mod kept;
mod listener;
mod shared;
mod stream;
mod table;
mod tls;
mod udp;
#[cfg(target_os = "linux")]
mod udp_errors;

pub use config::{ClientAuth, ClientCert, ClientConfig, IoConfig, Limits, ListenerConfig, ListenerKind, TlsServerConfig};
pub use endpoint::{Io, IoStatsHandle};
pub use error::{BindError, SendError, TlsConfigError, TransportErrorKind};
pub use event::{BoundListener, Event, FlowId, Inbound, Outbound, TransportError, UdpUnreachable};
pub use kept::KeptFlow;
pub use shared::IoStats;
