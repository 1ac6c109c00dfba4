//! Typed errors: configuration and binding failures (returned), transport failures (reported as events).

use std::net::SocketAddr;
use std::path::PathBuf;

use causeway_sip::Transport;

/// TLS material could not be loaded or does not make a valid rustls configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: no PEM certificate found")]
    NoCertificate { path: PathBuf },
    #[error("{path}: no PEM private key found")]
    NoPrivateKey { path: PathBuf },
    #[error("{path}: {source}")]
    Rustls { path: PathBuf, source: rustls::Error },
    #[error("{path}: client certificate verifier: {source}")]
    ClientVerifier { path: PathBuf, source: rustls::server::VerifierBuilderError },
    #[error("TLS protocol versions: {0}")]
    Versions(rustls::Error),
}

/// [`crate::Io::bind`] failed; nothing was left running.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("{transport} listener {addr}: {source}")]
    Socket { transport: Transport, addr: SocketAddr, source: std::io::Error },
    #[error("UDP receive scratch for {max_message_size}-byte datagrams: {source}")]
    Scratch { max_message_size: usize, source: std::io::Error },
    #[error("TLS listener {addr}: {source}")]
    ListenerTls { addr: SocketAddr, source: TlsConfigError },
    #[error("outbound TLS: {0}")]
    ClientTls(TlsConfigError),
}

/// Why a send could not be handed to a socket. Returned at once by [`crate::Io::send`]; failures that happen later
/// (connect, handshake, write) arrive as [`crate::Event::TransportError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("no {transport} listener can send to {destination}")]
    NoSocket { transport: Transport, destination: SocketAddr },
    #[error("message of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("send queue to {destination} is full; message dropped")]
    QueueFull { destination: SocketAddr },
    #[error("UDP send to {destination}: {kind}")]
    Udp { destination: SocketAddr, kind: std::io::ErrorKind },
    #[error("outbound TLS is not configured (no trusted roots)")]
    NoTlsClient,
}

/// What went wrong on a connection, as carried by [`crate::Event::TransportError`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransportErrorKind {
    #[error("connect failed: {0}")]
    Connect(std::io::ErrorKind),
    #[error("connect timed out")]
    ConnectTimeout,
    #[error("TLS handshake failed: {0}")]
    Tls(rustls::Error),
    #[error("TLS handshake failed: {0}")]
    TlsIo(std::io::ErrorKind),
    #[error("invalid TLS server name {0:?}")]
    InvalidServerName(String),
    #[error("read failed: {0}")]
    Read(std::io::ErrorKind),
    #[error("write failed: {0}")]
    Write(std::io::ErrorKind),
}
