//! UDP listeners: one receive task per socket, datagrams sliced zero-copy out of a shared receive block.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use causeway_sip::Transport;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::error::TrySendError;

use crate::event::Inbound;
use crate::shared::{bump, Note, Shared};

/// Datagrams read per readiness wake-up before yielding to other tasks.
const RECV_BATCH: usize = 64;

/// Binds a UDP socket with large kernel buffers: at thousands of calls per second a burst must not overflow the
/// default ~200 KiB receive buffer. Returns the tokio socket for the receive task and a duplicate of the same
/// socket for sending: the driver sends with one non-blocking `sendto`, without tokio's readiness bookkeeping
/// (which reports `WouldBlock` until the reactor has first seen the socket writable).
pub(crate) fn bind(addr: SocketAddr, buffer: usize) -> std::io::Result<(UdpSocket, std::net::UdpSocket)> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // The kernel caps these at net.core.{r,w}mem_max; a smaller buffer is not an error.
    let _ = socket.set_recv_buffer_size(buffer);
    let _ = socket.set_send_buffer_size(buffer);
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    let sender = socket.try_clone()?;
    Ok((UdpSocket::from_std(socket.into())?, sender.into()))
}

/// Receives datagrams until cancelled. Each wake-up drains up to [`RECV_BATCH`] datagrams with non-blocking reads.
/// Every datagram is a `Bytes` slice of a large block, so the driver gets it without a copy; a new block is
/// allocated only when the current one cannot hold a maximum-size datagram.
pub(crate) async fn receive(socket: UdpSocket, local: SocketAddr, shared: Arc<Shared>) {
    let max = shared.limits.max_message_size;
    // One byte over the limit so an oversize datagram is seen as such rather than silently truncated to fit.
    let slot = max.saturating_add(1);
    let block = slot.saturating_mul(16).max(1 << 20);
    // Registered once: a fresh `cancelled()` per wake-up would lock the token's waiter list every time.
    let cancelled = shared.cancel.cancelled();
    tokio::pin!(cancelled);
    let mut buf = BytesMut::with_capacity(block);
    loop {
        tokio::select! {
            () = &mut cancelled => return,
            ready = socket.readable() => if ready.is_err() { return },
        }
        for _ in 0..RECV_BATCH {
            if buf.capacity() - buf.len() < slot {
                buf = BytesMut::with_capacity(block);
            }
            let (len, peer) = match socket.try_recv_buf_from(&mut buf) {
                Ok(received) => received,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                // ICMP errors surface on the next receive (Linux ECONNREFUSED); they concern an earlier send.
                Err(e) => {
                    tracing::debug!(%local, error = %e, "UDP receive error");
                    continue;
                }
            };
            let bytes = buf.split().freeze();
            bump(&shared.counters.udp_received);
            if len > max {
                bump(&shared.counters.udp_dropped);
                tracing::debug!(%peer, len, max, "oversize UDP datagram dropped");
                continue;
            }
            // Bare CRLFs are NAT keep-alives some phones send over UDP; they carry no message.
            if bytes.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                continue;
            }
            if !shared.reserve_datagram(len) {
                bump(&shared.counters.udp_dropped);
                continue;
            }
            let inbound =
                Inbound { bytes, transport: Transport::Udp, local, peer, flow: None, tls_peer_names: None };
            match shared.notes.try_send(Note::Message(inbound)) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    shared.release(len);
                    bump(&shared.counters.udp_dropped);
                }
                Err(TrySendError::Closed(_)) => return,
            }
        }
    }
}
