//! Typed transport settings: listeners, TLS material and the limits that keep a peer from exhausting the node.
//!
//! These are engine types: `causeway-config` produces them from TOML, tests build them directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything [`crate::Io::bind`] needs.
#[derive(Clone, Debug, Default)]
pub struct IoConfig {
    /// Sockets to listen on. Port 0 binds an ephemeral port; [`crate::Io::listeners`] reports the real one.
    pub listeners: Vec<ListenerConfig>,
    /// Settings for connections this node opens (TLS roots, client certificate, timeouts).
    pub client: ClientConfig,
    /// Bounds on connections, buffers and queues.
    pub limits: Limits,
}

/// One listening socket.
#[derive(Clone, Debug)]
pub struct ListenerConfig {
    pub addr: SocketAddr,
    pub kind: ListenerKind,
}

impl ListenerConfig {
    pub fn udp(addr: SocketAddr) -> Self {
        Self { addr, kind: ListenerKind::Udp }
    }

    pub fn tcp(addr: SocketAddr) -> Self {
        Self { addr, kind: ListenerKind::Tcp }
    }

    pub fn tls(addr: SocketAddr, tls: TlsServerConfig) -> Self {
        Self { addr, kind: ListenerKind::Tls(tls) }
    }
}

#[derive(Clone, Debug)]
pub enum ListenerKind {
    Udp,
    Tcp,
    Tls(TlsServerConfig),
}

/// Server side of a TLS listener (RFC 3261 §26.2.1 / RFC 5630).
#[derive(Clone, Debug)]
pub struct TlsServerConfig {
    /// PEM file holding the certificate chain, leaf first.
    pub cert_chain: PathBuf,
    /// PEM file holding the private key (PKCS#8, PKCS#1 or SEC1).
    pub private_key: PathBuf,
    /// Whether clients must present a certificate (mutual TLS).
    pub client_auth: ClientAuth,
}

/// Mutual TLS policy of a listener.
#[derive(Clone, Debug, Default)]
pub enum ClientAuth {
    /// Clients are not asked for a certificate.
    #[default]
    None,
    /// Clients must present a certificate that chains to one in this PEM bundle; the handshake fails otherwise.
    Required { ca_bundle: PathBuf },
    /// A certificate is asked for and verified against this bundle when given, but a client without one is accepted
    /// (its messages carry no peer names, so the routing layer treats it as unverified).
    Optional { ca_bundle: PathBuf },
}

/// Settings for outbound TCP and TLS connections.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// PEM bundles of the CAs trusted to sign next hops' certificates. Empty means no outbound TLS is possible
    /// (every TLS send fails with [`crate::TransportErrorKind::Tls`]).
    pub tls_roots: Vec<PathBuf>,
    /// Certificate chain and key this node presents when a next hop asks for one (mutual TLS).
    pub client_cert: Option<ClientCert>,
    /// How long a TCP connect (plus, for TLS, the handshake) may take before it is reported as failed.
    pub connect_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self { tls_roots: Vec::new(), client_cert: None, connect_timeout: Duration::from_secs(5) }
    }
}

#[derive(Clone, Debug)]
pub struct ClientCert {
    pub cert_chain: PathBuf,
    pub private_key: PathBuf,
}

/// Bounds that keep a hostile or broken peer from exhausting memory, sockets or file descriptors.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest SIP message accepted or sent, in bytes. On a stream a larger message closes that connection only;
    /// over UDP a larger datagram is truncated by the kernel and dropped here.
    pub max_message_size: usize,
    /// Accepted TCP and TLS connections open at once, over all listeners. Further connections are closed at accept.
    pub max_connections: usize,
    /// Accepted connections open at once from one source IP address.
    pub max_connections_per_ip: usize,
    /// A connection with no traffic in either direction for this long is closed.
    pub idle_timeout: Duration,
    /// A TLS handshake on an accepted connection must finish within this time.
    pub tls_handshake_timeout: Duration,
    /// Messages queued for sending on one connection. A send to a full queue is dropped and counted.
    pub send_queue: usize,
    /// Stream messages and connection events queued for the driver. Connection tasks wait while it is full (TCP
    /// back-pressure). UDP datagrams are not queued here: the driver reads them from the socket itself.
    pub event_queue: usize,
    /// Bytes of stream messages waiting for the driver. Connection readers wait while more are waiting, so many
    /// connections sending large messages cannot hold more memory than this while the driver is behind.
    pub event_queue_bytes: usize,
    /// SO_RCVBUF and SO_SNDBUF asked for on UDP sockets (the kernel may cap it at net.core.rmem_max/wmem_max).
    /// Datagrams the driver has not read yet wait in the receive buffer; when it is full the kernel drops them.
    pub udp_socket_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: 65_535,
            max_connections: 10_000,
            max_connections_per_ip: 100,
            idle_timeout: Duration::from_secs(600),
            tls_handshake_timeout: Duration::from_secs(10),
            send_queue: 1024,
            event_queue: 65_536,
            event_queue_bytes: 32 << 20,
            udp_socket_buffer: 4 << 20,
        }
    }
}
