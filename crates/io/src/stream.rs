//! TCP and TLS connections: one task per connection that frames what it reads (RFC 3261 §18.3), answers CRLF
//! keep-alives (RFC 5626 §3.5.1), and writes what the driver queues for it. Every bound lives here: message size,
//! read buffer, idle time, handshake time, write time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use causeway_sip::framing::{Frame, FramingError};
use causeway_sip::Transport;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::error::TransportErrorKind;
use crate::event::{FlowId, Inbound};
use crate::shared::{bump, ConnPermit, Note, Shared};
use crate::tls::peer_names;

/// Bytes asked of the socket per read; the buffer never holds more than the message limit plus this. Small,
/// because every open connection holds one (10,000 idle connections hold 40 MiB).
const READ_CHUNK: usize = 4 * 1024;
/// Queued messages are coalesced into one write up to this size.
const WRITE_BATCH: usize = 64 * 1024;
/// Longest a write may block on a peer that does not read: 64*T1, a transaction's whole life (RFC 3261 §17.1.2.2);
/// after that nobody waits for the message any more.
const WRITE_TIMEOUT: Duration = Duration::from_secs(32);
/// RFC 5626 §3.5.1: a ping is a double CRLF, the pong a single CRLF.
const PONG: &[u8] = b"\r\n";
const PING: &[u8] = b"\r\n\r\n";
/// RFC 5626 §4.4.1: "If a pong is not received within 10 seconds after sending a ping … the flow has failed."
const PONG_TIMEOUT: Duration = Duration::from_secs(10);

/// Who a connection task is talking to.
pub(crate) struct Peer {
    pub(crate) flow: FlowId,
    pub(crate) transport: Transport,
    pub(crate) peer: SocketAddr,
}

/// Why a connection task stopped.
#[derive(Debug)]
pub(crate) enum End {
    PeerClosed,
    Idle,
    Oversize,
    Framing(FramingError),
    /// The driver dropped this flow's queue, or is gone.
    Released,
    Cancelled,
    Read(TransportErrorKind),
    Write(std::io::ErrorKind),
}

/// Serves an accepted connection: TLS handshake (bounded in time) if a TLS listener, then the message loop.
pub(crate) async fn serve_accepted(
    tcp: TcpStream,
    local: SocketAddr,
    who: Peer,
    tls: Option<TlsAcceptor>,
    permit: ConnPermit,
    shared: Arc<Shared>,
) {
    let _ = tcp.set_nodelay(true);
    let (queue_tx, queue) = mpsc::channel(shared.limits.send_queue);
    let opened = Note::Opened { flow: who.flow, transport: who.transport, peer: who.peer, queue: queue_tx };
    let end = match tls {
        None => {
            if shared.notes.send(opened).await.is_err() {
                return;
            }
            run(tcp, local, &who, None, queue, &shared, None).await
        }
        Some(acceptor) => {
            let handshake = timeout(shared.limits.tls_handshake_timeout, acceptor.accept(tcp)).await;
            let Ok(Ok(stream)) = handshake else {
                bump(&shared.counters.tls_handshake_failures);
                tracing::debug!(peer = %who.peer, "TLS handshake failed or timed out");
                return;
            };
            let names = stream.get_ref().1.peer_certificates().and_then(|c| c.first()).map(peer_names);
            if shared.notes.send(opened).await.is_err() {
                return;
            }
            run(stream, local, &who, names, queue, &shared, None).await
        }
    };
    drop(permit);
    finish(&who, end, &shared).await;
}

/// Opens an outbound connection (TCP, then TLS if a connector is given) and serves it. Messages the driver queued
/// while connecting are written once it is up.
pub(crate) async fn serve_outbound(
    who: Peer,
    tls: Option<(TlsConnector, Option<Arc<str>>)>,
    limit: Duration,
    queue: mpsc::Receiver<Bytes>,
    shared: Arc<Shared>,
) {
    let end = match open(&who, tls, limit, &shared).await {
        Ok(opened) => opened.run(&who, queue, &shared, None).await,
        Err(error) => return report(&who, error, &shared).await,
    };
    finish(&who, end, &shared).await;
}

/// An outbound connection, connected (and TLS-established).
pub(crate) struct Opened {
    local: SocketAddr,
    stream: OpenedStream,
}

enum OpenedStream {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Opened {
    /// Serves the connection until it ends; `ping` sends RFC 5626 §4.4.1 keep-alives.
    pub(crate) async fn run(self, who: &Peer, queue: mpsc::Receiver<Bytes>, shared: &Shared, ping: Option<Duration>) -> End {
        match self.stream {
            OpenedStream::Tcp(tcp) => run(tcp, self.local, who, None, queue, shared, ping).await,
            OpenedStream::Tls(stream) => {
                let names = stream.get_ref().1.peer_certificates().and_then(|c| c.first()).map(peer_names);
                run(*stream, self.local, who, names, queue, shared, ping).await
            }
        }
    }
}

/// Connects to `who.peer` within `limit` (TCP connect, then the TLS handshake if `tls` is given).
pub(crate) async fn open(
    who: &Peer,
    tls: Option<(TlsConnector, Option<Arc<str>>)>,
    limit: Duration,
    shared: &Shared,
) -> Result<Opened, TransportErrorKind> {
    let tcp = match timeout(limit, TcpStream::connect(who.peer)).await {
        Ok(Ok(tcp)) => tcp,
        failed => {
            bump(&shared.counters.connect_failures);
            return Err(match failed {
                Ok(Err(e)) => TransportErrorKind::Connect(e.kind()),
                _ => TransportErrorKind::ConnectTimeout,
            });
        }
    };
    bump(&shared.counters.connections_opened);
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().map_err(|_| TransportErrorKind::Connect(std::io::ErrorKind::NotConnected))?;
    let Some((connector, server_name)) = tls else {
        return Ok(Opened { local, stream: OpenedStream::Tcp(tcp) });
    };
    let name = match &server_name {
        Some(host) => {
            ServerName::try_from(host.to_string()).map_err(|_| TransportErrorKind::InvalidServerName(host.to_string()))?
        }
        None => ServerName::IpAddress(who.peer.ip().into()),
    };
    match timeout(limit, connector.connect(name, tcp)).await {
        Ok(Ok(stream)) => Ok(Opened { local, stream: OpenedStream::Tls(Box::new(stream)) }),
        failed => {
            bump(&shared.counters.tls_handshake_failures);
            Err(match failed {
                Ok(Err(e)) => stream_error(&e, TransportErrorKind::TlsIo),
                _ => TransportErrorKind::ConnectTimeout,
            })
        }
    }
}

/// A TLS error (handshake failure, alert) if `e` carries one, else `other(kind)`.
fn stream_error(e: &std::io::Error, other: fn(std::io::ErrorKind) -> TransportErrorKind) -> TransportErrorKind {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(tls) => TransportErrorKind::Tls(tls.clone()),
        None => other(e.kind()),
    }
}

pub(crate) async fn report(who: &Peer, error: TransportErrorKind, shared: &Shared) {
    tracing::debug!(peer = %who.peer, transport = %who.transport, %error, "connection failed");
    let _ = shared.notes.send(Note::Closed { flow: who.flow, error: Some(error) }).await;
}

pub(crate) async fn finish(who: &Peer, end: End, shared: &Shared) {
    tracing::debug!(peer = %who.peer, flow = %who.flow, ?end, "connection closed");
    let error = match end {
        End::Write(kind) => {
            bump(&shared.counters.write_errors);
            Some(TransportErrorKind::Write(kind))
        }
        End::Idle => {
            bump(&shared.counters.idle_closed);
            None
        }
        End::Oversize => {
            bump(&shared.counters.oversize_closed);
            if shared.may_warn() {
                tracing::warn!(peer = %who.peer, transport = %who.transport, "message over the size limit; connection closed");
            }
            None
        }
        End::Framing(e) => {
            bump(&shared.counters.framing_closed);
            if shared.may_warn() {
                tracing::warn!(peer = %who.peer, transport = %who.transport, error = %e, "bad framing; connection closed");
            }
            None
        }
        End::Read(kind) => Some(kind),
        End::PeerClosed | End::Released | End::Cancelled => None,
    };
    let _ = shared.notes.send(Note::Closed { flow: who.flow, error }).await;
}

/// The message loop of one connection: read and frame, write what is queued, close when idle.
async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    local: SocketAddr,
    who: &Peer,
    names: Option<Arc<[String]>>,
    mut queue: mpsc::Receiver<Bytes>,
    shared: &Shared,
    ping: Option<Duration>,
) -> End {
    let limits = &shared.limits;
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    // Registered once: a fresh `cancelled()` per wake-up would lock the token's waiter list every time.
    let cancelled = shared.cancel.cancelled();
    tokio::pin!(cancelled);
    let write_limit = WRITE_TIMEOUT.min(limits.idle_timeout);
    let idle = tokio::time::sleep(limits.idle_timeout);
    tokio::pin!(idle);
    // RFC 5626 §4.4.1: a ping every `ping`; the pong must come within PONG_TIMEOUT.
    let far = Duration::from_secs(86_400 * 365);
    let next_ping = tokio::time::sleep(ping.unwrap_or(far));
    tokio::pin!(next_ping);
    let pong_due = tokio::time::sleep(far);
    tokio::pin!(pong_due);
    let mut awaiting_pong = false;
    loop {
        if buf.capacity() - buf.len() < READ_CHUNK / 2 {
            buf.reserve(READ_CHUNK);
        }
        tokio::select! {
            () = &mut cancelled => return End::Cancelled,
            () = &mut idle => return End::Idle,
            () = &mut next_ping, if ping.is_some() => {
                if let Err(kind) = write_all(&mut wr, PING, write_limit).await {
                    return End::Write(kind);
                }
                next_ping.as_mut().reset(Instant::now() + ping.unwrap_or(far));
                if !awaiting_pong {
                    awaiting_pong = true;
                    pong_due.as_mut().reset(Instant::now() + PONG_TIMEOUT);
                }
            }
            () = &mut pong_due, if awaiting_pong => {
                return End::Read(TransportErrorKind::Read(std::io::ErrorKind::TimedOut));
            }
            read = rd.read_buf(&mut buf) => {
                match read {
                    Ok(0) => return End::PeerClosed,
                    Ok(_) => {}
                    // Many SIP peers close TLS without close_notify; that is a close, not a failure.
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return End::PeerClosed,
                    Err(e) => return End::Read(stream_error(&e, TransportErrorKind::Read)),
                }
                idle.as_mut().reset(Instant::now() + limits.idle_timeout);
                let inbound = Inbound {
                    bytes: Bytes::new(),
                    transport: who.transport,
                    local,
                    peer: who.peer,
                    flow: Some(who.flow),
                    tls_peer_names: names.clone(),
                };
                let mut pong = false;
                if let Some(end) = deframe(&mut buf, &mut wr, inbound, shared, &mut pong).await {
                    return end;
                }
                awaiting_pong &= !pong;
            }
            queued = queue.recv() => {
                let Some(first) = queued else { return End::Released };
                if let Err(kind) = write_batch(&mut wr, first, &mut queue, write_limit).await {
                    return End::Write(kind);
                }
                idle.as_mut().reset(Instant::now() + limits.idle_timeout);
            }
        }
    }
}

/// Takes every complete message and keep-alive off the front of `buf`. `template` carries the connection's
/// identity; each message gets a copy with its own bytes.
async fn deframe<W: AsyncWrite + Unpin>(
    buf: &mut BytesMut,
    wr: &mut W,
    template: Inbound,
    shared: &Shared,
    pong: &mut bool,
) -> Option<End> {
    let max = shared.framing.max_message_bytes;
    loop {
        match causeway_sip::framing::frame(buf, &shared.framing) {
            Ok(Frame::NeedMore) => return (buf.len() > max).then_some(End::Oversize),
            Ok(Frame::KeepAlive { len, ping }) => {
                buf.advance(len);
                *pong |= !ping;
                if ping {
                    bump(&shared.counters.keepalive_pongs);
                    if let Err(e) = write_all(wr, PONG, WRITE_TIMEOUT.min(shared.limits.idle_timeout)).await {
                        return Some(End::Write(e));
                    }
                }
            }
            Ok(Frame::Message { len }) => {
                if len > max {
                    return Some(End::Oversize);
                }
                let bytes = buf.split_to(len).freeze();
                bump(&shared.counters.stream_received);
                // Waiting here is TCP back-pressure: the peer is not read while the driver is behind.
                shared.reserve(len).await;
                let inbound = Inbound { bytes, ..template.clone() };
                if shared.notes.send(Note::Message(inbound)).await.is_err() {
                    return Some(End::Released);
                }
            }
            Err(FramingError::HeadTooLarge { .. } | FramingError::MessageTooLarge { .. }) => {
                return Some(End::Oversize)
            }
            Err(e) => return Some(End::Framing(e)),
        }
    }
}

async fn write_all<W: AsyncWrite + Unpin>(wr: &mut W, bytes: &[u8], limit: Duration) -> Result<(), std::io::ErrorKind> {
    let write = async {
        wr.write_all(bytes).await?;
        wr.flush().await
    };
    match timeout(limit, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.kind()),
        Err(_) => Err(std::io::ErrorKind::TimedOut),
    }
}

/// Writes `first` plus whatever else is already queued, coalesced into one write when there is more than one.
async fn write_batch<W: AsyncWrite + Unpin>(
    wr: &mut W,
    first: Bytes,
    queue: &mut mpsc::Receiver<Bytes>,
    limit: Duration,
) -> Result<(), std::io::ErrorKind> {
    let Ok(second) = queue.try_recv() else {
        return write_all(wr, &first, limit).await;
    };
    let mut batch = BytesMut::with_capacity(WRITE_BATCH);
    batch.extend_from_slice(&first);
    batch.extend_from_slice(&second);
    while batch.len() < WRITE_BATCH {
        match queue.try_recv() {
            Ok(more) => batch.extend_from_slice(&more),
            Err(_) => break,
        }
    }
    write_all(wr, &batch, limit).await
}
