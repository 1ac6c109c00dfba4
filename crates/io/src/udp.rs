//! UDP listeners, read by the driver's own task: no receive task, no channel, no other thread between the socket
//! and the core. Datagrams are read in batches with recvmmsg(2) into a reused scratch area, then each is copied
//! into a buffer of its own exact size, so a message that lives on (a request a transaction keeps, a last
//! response) holds only its own bytes, never a large shared receive block.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use bytes::Bytes;
use causeway_sip::Transport;
use nix::sys::socket::{recvmmsg, sendmmsg, ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use crate::event::{Inbound, Outbound};
use crate::shared::{bump, IoCounters};

/// Datagrams read by one recvmmsg(2) call at most.
const BATCH: usize = 32;
/// Datagrams asked for at least.
const MIN_WANT: usize = 4;

thread_local! {
    /// recvmmsg(2)'s message headers, built once per thread rather than per call. They hold raw pointers, so they
    /// cannot live in the (`Send`) [`crate::Io`]; the driver reads from one thread, so one set serves it.
    static HEADERS: RefCell<Option<MultiHeaders<SockaddrStorage>>> = const { RefCell::new(None) };
    /// sendmmsg(2)'s, likewise.
    static SEND_HEADERS: RefCell<Option<MultiHeaders<SockaddrStorage>>> = const { RefCell::new(None) };
}

/// One bound UDP listener.
pub(crate) struct UdpPort {
    pub(crate) local: SocketAddr,
    /// Registered with the runtime, for readiness and reads.
    pub(crate) socket: UdpSocket,
    /// The same socket, for non-blocking sends (sendmmsg(2)) without tokio's readiness bookkeeping (which
    /// reports `WouldBlock` until the reactor has first seen the socket writable).
    pub(crate) sender: std::net::UdpSocket,
}

/// Binds a UDP socket with large kernel buffers: at thousands of calls per second a burst must not overflow the
/// default ~200 KiB receive buffer. Datagrams the driver has not read yet wait there, so that buffer is also the
/// bound on what a flood can queue.
pub(crate) fn bind(addr: SocketAddr, buffer: usize) -> std::io::Result<UdpPort> {
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
    let socket = UdpSocket::from_std(socket.into())?;
    Ok(UdpPort { local: socket.local_addr()?, socket, sender: sender.into() })
}

/// Where recvmmsg(2) writes: [`BATCH`] slots of the largest datagram accepted plus one byte, so an oversize
/// datagram shows as such rather than silently truncated to fit (2 MiB with the default 64 KiB limit). A private
/// anonymous mapping, never written beyond what datagrams fill, so only the pages datagrams touch become
/// resident; a zeroed heap allocation is that only while the allocator hands out fresh pages (an allocator that
/// reuses freed memory zeroes it, and an idle node carried the whole 2 MiB).
pub(crate) struct RecvScratch {
    storage: memmap2::MmapMut,
    slot: usize,
    max: usize,
    /// Length and source of each datagram of the last batch.
    received: Vec<(usize, Option<SocketAddr>)>,
    /// Slots offered to the next recvmmsg(2): twice what the last one filled, so a quiet socket does not pay for
    /// setting up [`BATCH`] headers per datagram and a busy one soon reads full batches.
    want: usize,
}

impl RecvScratch {
    pub(crate) fn new(max_message_size: usize) -> std::io::Result<Self> {
        let slot = max_message_size.saturating_add(1);
        let storage = memmap2::MmapMut::map_anon(slot.saturating_mul(BATCH))?;
        Ok(Self { storage, slot, max: max_message_size, received: Vec::with_capacity(BATCH), want: MIN_WANT })
    }
}

/// Reads one batch of datagrams from `port` into `inbox`. Oversize datagrams and bare CRLF keep-alives are dropped
/// here. Returns how many datagrams were read, 0 when none was waiting.
pub(crate) fn receive(port: &UdpPort, scratch: &mut RecvScratch, counters: &IoCounters, inbox: &mut VecDeque<Inbound>) -> usize {
    let (socket, local) = (&port.socket, port.local);
    let fd = socket.as_raw_fd();
    let slot = scratch.slot;
    let RecvScratch { storage, received, want, .. } = scratch;
    let want = *want;
    received.clear();
    let read = socket.try_io(Interest::READABLE, || {
        HEADERS.with_borrow_mut(|headers| {
            let headers = headers.get_or_insert_with(|| MultiHeaders::preallocate(BATCH, None));
            let mut chunks = storage.chunks_mut(slot);
            let mut slices: [[IoSliceMut<'_>; 1]; BATCH] =
                std::array::from_fn(|_| [IoSliceMut::new(chunks.next().unwrap_or_default())]);
            let batch = recvmmsg(fd, headers, slices.iter_mut().take(want), MsgFlags::MSG_DONTWAIT, None)?;
            received.extend(batch.map(|m| (m.bytes, m.address.and_then(|a| to_std(&a)))));
            Ok(())
        })
    });
    scratch.want = (scratch.received.len() * 2).clamp(MIN_WANT, BATCH);
    match read {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return 0,
        // ICMP errors surface on the next receive (Linux ECONNREFUSED); they concern an earlier send.
        Err(e) => {
            tracing::debug!(%local, error = %e, "UDP receive error");
            return 0;
        }
    };
    for (i, &(len, peer)) in scratch.received.iter().enumerate() {
        bump(&counters.udp_received);
        let Some(peer) = peer else { continue };
        if len > scratch.max {
            bump(&counters.udp_dropped);
            tracing::debug!(%peer, len, max = scratch.max, "oversize UDP datagram dropped");
            continue;
        }
        let Some(datagram) = scratch.storage.get(i * slot..i * slot + len) else { continue };
        // Bare CRLFs are NAT keep-alives some phones send over UDP; they carry no message.
        if datagram.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            continue;
        }
        let bytes = Bytes::copy_from_slice(datagram);
        inbox.push_back(Inbound { bytes, transport: Transport::Udp, local, peer, flow: None, tls_peer_names: None });
    }
    scratch.received.len()
}

/// Sends `datagrams` from `port` in order, up to [`BATCH`] per sendmmsg(2) call: under load
/// the driver has several datagrams to send after each batch it read, and the system call's own cost is then paid
/// once per batch. `failed(i, error)` is told of each datagram that was not sent. As in a single send, an ICMP
/// error recorded on the socket by an earlier datagram (IP_RECVERR, udp_errors.rs) fails the call that finds it
/// without sending anything: that datagram is tried again, a few times.
pub(crate) fn send_batch(port: &UdpPort, datagrams: &[Outbound], mut failed: impl FnMut(usize, std::io::Error)) {
    use std::io::ErrorKind::{ConnectionRefused, HostUnreachable, NetworkUnreachable};
    let fd = port.sender.as_raw_fd();
    let (mut at, mut tries) = (0, 0);
    while let Some(rest) = datagrams.get(at..).filter(|rest| !rest.is_empty()) {
        let chunk = &rest[..rest.len().min(BATCH)];
        let slices: [[IoSlice<'_>; 1]; BATCH] = std::array::from_fn(|i| [IoSlice::new(chunk.get(i).map_or(&[], |d| &d.bytes[..]))]);
        let addresses: [Option<SockaddrStorage>; BATCH] = std::array::from_fn(|i| chunk.get(i).map(|d| SockaddrStorage::from(d.destination)));
        let sent = SEND_HEADERS.with_borrow_mut(|headers| {
            let headers = headers.get_or_insert_with(|| MultiHeaders::preallocate(BATCH, None));
            let none: [ControlMessage<'_>; 0] = [];
            sendmmsg(fd, headers, slices.iter().take(chunk.len()), &addresses[..chunk.len()], none, MsgFlags::MSG_DONTWAIT).map(Iterator::count)
        });
        match sent.map_err(std::io::Error::from) {
            Ok(0) => {
                failed(at, std::io::ErrorKind::WouldBlock.into());
                (at, tries) = (at + 1, 0);
            }
            Ok(n) => (at, tries) = (at + n, 0),
            Err(e) if matches!(e.kind(), ConnectionRefused | HostUnreachable | NetworkUnreachable) && tries < 3 => tries += 1,
            Err(e) => {
                failed(at, e);
                (at, tries) = (at + 1, 0);
            }
        }
    }
}

pub(crate) fn to_std(address: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    address.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_slots_hold_one_byte_more_than_the_limit() {
        let scratch = RecvScratch::new(1000).expect("anonymous mapping");
        assert_eq!((scratch.slot, scratch.storage.len()), (1001, 1001 * BATCH));
    }

    #[test]
    fn peer_addresses_convert_back_unchanged() {
        for addr in [SocketAddr::from(([127, 0, 0, 1], 5060)), "[::1]:5070".parse().unwrap_or_else(|e| panic!("{e}"))] {
            assert_eq!(to_std(&SockaddrStorage::from(addr)), Some(addr));
        }
    }
}
