//! [`Io`]: the handle a driver task owns. It binds the listeners, reads the UDP sockets itself, receives what the
//! connection tasks deliver, and sends: UDP straight from the listener socket, TCP/TLS through the connection table.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use causeway_sip::Transport;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::config::{IoConfig, ListenerKind};
use crate::error::{BindError, SendError};
use crate::event::{BoundListener, Event, FlowId, Inbound, Outbound, TransportError};
use crate::shared::{bump, IoStats, Note, Shared};
use crate::stream::{self, Peer};
use crate::table::ConnTable;
use crate::udp::{RecvScratch, UdpPort};
use crate::{listener, tls, udp};

/// UDP batches read per [`Io::try_recv`] call that finds nothing else to return, so a flood of datagrams the
/// driver drops (oversize, keep-alives) cannot keep it from its timers.
const MAX_EMPTY_READS: usize = 4;

/// The transport layer as seen by one driver task.
///
/// Calling order: [`Io::bind`] inside a tokio runtime; then loop on [`Io::recv`] (and [`Io::try_recv`] to drain a
/// burst without re-polling), calling [`Io::send`] for each outgoing message, or [`Io::send_all`] for what a
/// burst produced. Dropping the `Io` (or
/// [`Io::shutdown`]) stops every listener and connection task.
///
/// UDP sockets are read by whoever calls `recv`/`try_recv`, in batches (recvmmsg), in that task: run the driver
/// on a single-threaded runtime and no datagram crosses a thread.
pub struct Io {
    shared: Arc<Shared>,
    notes: mpsc::Receiver<Note>,
    table: ConnTable,
    udp: Vec<UdpPort>,
    /// Datagrams read in the last batch and not yet returned.
    inbox: VecDeque<Inbound>,
    scratch: RecvScratch,
    /// The UDP socket read first next time, so that one busy socket does not starve the others.
    next_udp: usize,
    /// Whether [`Io::try_recv`] looks at the sockets before the connection queue next time (they alternate).
    udp_first: bool,
    listeners: Vec<BoundListener>,
    tls_client: Option<TlsConnector>,
    connect_timeout: Duration,
    /// A [`Event::FlowClosed`] that follows the [`Event::TransportError`] just returned.
    pending: Option<Event>,
}

/// Reads [`IoStats`] from any task while the driver owns the [`Io`].
#[derive(Clone)]
pub struct IoStatsHandle(Arc<Shared>);

impl IoStatsHandle {
    pub fn snapshot(&self) -> IoStats {
        self.0.counters.snapshot()
    }
}

enum Bound {
    Udp(UdpPort),
    Stream(SocketAddr, tokio::net::TcpListener, Option<TlsAcceptor>),
}

impl Io {
    /// Binds every listener and starts its task. Must run inside a tokio runtime. All sockets are bound before
    /// any task starts, so an error leaves nothing running.
    pub fn bind(config: IoConfig) -> Result<Self, BindError> {
        let mut limits = config.limits;
        limits.send_queue = limits.send_queue.max(1);
        limits.event_queue = limits.event_queue.max(1);
        let (notes_tx, notes) = mpsc::channel(limits.event_queue);
        let tls_client = tls::client_config(&config.client).map_err(BindError::ClientTls)?.map(TlsConnector::from);
        let mut bound = Vec::with_capacity(config.listeners.len());
        for listener in &config.listeners {
            let addr = listener.addr;
            let socket_err =
                |transport, source| BindError::Socket { transport, addr, source };
            let entry = match &listener.kind {
                ListenerKind::Udp => {
                    Bound::Udp(udp::bind(addr, limits.udp_socket_buffer).map_err(|e| socket_err(Transport::Udp, e))?)
                }
                ListenerKind::Tcp => {
                    let socket = listener::bind(addr).map_err(|e| socket_err(Transport::Tcp, e))?;
                    let local = socket.local_addr().map_err(|e| socket_err(Transport::Tcp, e))?;
                    Bound::Stream(local, socket, None)
                }
                ListenerKind::Tls(server) => {
                    let config =
                        tls::server_config(server).map_err(|source| BindError::ListenerTls { addr, source })?;
                    let socket = listener::bind(addr).map_err(|e| socket_err(Transport::Tls, e))?;
                    let local = socket.local_addr().map_err(|e| socket_err(Transport::Tls, e))?;
                    Bound::Stream(local, socket, Some(TlsAcceptor::from(config)))
                }
            };
            bound.push(entry);
        }

        let scratch = RecvScratch::new(limits.max_message_size)
            .map_err(|source| BindError::Scratch { max_message_size: limits.max_message_size, source })?;
        let shared = Shared::new(limits, notes_tx);
        let mut udp = Vec::new();
        let mut listeners = Vec::with_capacity(bound.len());
        for entry in bound {
            match entry {
                Bound::Udp(port) => {
                    listeners.push(BoundListener { transport: Transport::Udp, local: port.local });
                    #[cfg(target_os = "linux")]
                    if let Err(error) = crate::udp_errors::watch(&port, &shared) {
                        tracing::warn!(local = %port.local, %error, "ICMP errors for UDP sends are not watched");
                    }
                    udp.push(port);
                }
                Bound::Stream(local, socket, acceptor) => {
                    let transport = if acceptor.is_some() { Transport::Tls } else { Transport::Tcp };
                    tokio::spawn(listener::accept(socket, local, transport, acceptor, Arc::clone(&shared)));
                    listeners.push(BoundListener { transport, local });
                }
            }
        }
        Ok(Self {
            shared,
            notes,
            table: ConnTable::default(),
            udp,
            inbox: VecDeque::new(),
            scratch,
            next_udp: 0,
            udp_first: true,
            listeners,
            tls_client,
            connect_timeout: config.client.connect_timeout,
            pending: None,
        })
    }

    /// The sockets actually bound (with the real port when the config asked for port 0).
    pub fn listeners(&self) -> &[BoundListener] {
        &self.listeners
    }

    pub fn stats(&self) -> IoStats {
        self.shared.counters.snapshot()
    }

    pub fn stats_handle(&self) -> IoStatsHandle {
        IoStatsHandle(Arc::clone(&self.shared))
    }

    /// TCP and TLS connections currently open or opening.
    pub fn open_flows(&self) -> usize {
        self.table.len()
    }

    /// Waits for the next event. Cancel-safe: an event is never lost if the future is dropped.
    pub async fn recv(&mut self) -> Event {
        loop {
            if let Some(event) = self.try_recv() {
                return event;
            }
            if let Some(note) = std::future::poll_fn(|cx| self.poll_wake(cx)).await {
                if let Some(event) = self.handle(note) {
                    return event;
                }
            }
        }
    }

    /// Ready when a connection note arrived (returned) or a UDP socket has datagrams to read (`None`).
    fn poll_wake(&mut self, cx: &mut Context<'_>) -> Poll<Option<Note>> {
        // `self.shared` holds a sender, so the channel never reports closed.
        if let Poll::Ready(Some(note)) = self.notes.poll_recv(cx) {
            return Poll::Ready(Some(note));
        }
        // An error means the runtime is shutting down: such a socket never wakes us again.
        if self.udp.iter().any(|port| matches!(port.socket.poll_recv_ready(cx), Poll::Ready(Ok(())))) {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    /// The next event if one is ready now.
    pub fn try_recv(&mut self) -> Option<Event> {
        let mut empty_reads = 0;
        loop {
            if let Some(event) = self.pending.take() {
                return Some(event);
            }
            if let Some(inbound) = self.inbox.pop_front() {
                return Some(Event::Message(inbound));
            }
            self.udp_first = !self.udp_first;
            if !self.udp_first {
                if let Ok(note) = self.notes.try_recv() {
                    if let Some(event) = self.handle(note) {
                        return Some(event);
                    }
                    continue;
                }
            }
            if empty_reads < MAX_EMPTY_READS && self.read_udp() > 0 {
                if self.inbox.is_empty() {
                    empty_reads += 1;
                }
                continue;
            }
            let note = self.notes.try_recv().ok()?;
            if let Some(event) = self.handle(note) {
                return Some(event);
            }
        }
    }

    /// Reads one batch from the first UDP socket, in turn, that has datagrams waiting. Returns how many were read.
    fn read_udp(&mut self) -> usize {
        let count = self.udp.len();
        for i in 0..count {
            let index = (self.next_udp + i) % count;
            let Some(port) = self.udp.get(index) else { continue };
            let read = udp::receive(port, &mut self.scratch, &self.shared.counters, &mut self.inbox);
            if read > 0 {
                self.next_udp = (index + 1) % count;
                return read;
            }
        }
        0
    }

    fn handle(&mut self, note: Note) -> Option<Event> {
        match note {
            Note::Message(inbound) => {
                self.shared.release(inbound.bytes.len());
                Some(Event::Message(inbound))
            }
            Note::Opened { flow, transport, peer, queue } => {
                self.table.insert(flow, transport, peer, queue);
                None
            }
            Note::Closed { flow, error } => {
                let entry = self.table.remove(flow)?;
                let closed = Event::FlowClosed { flow, transport: entry.transport, peer: entry.peer };
                match error {
                    None => Some(closed),
                    Some(kind) => {
                        self.pending = Some(closed);
                        let (transport, destination) = (entry.transport, entry.peer);
                        Some(Event::TransportError(TransportError { transport, destination, flow, kind }))
                    }
                }
            }
            Note::Unreachable { local, destination, kind } => {
                Some(Event::UdpUnreachable(crate::event::UdpUnreachable { local, destination, kind }))
            }
        }
    }

    /// Sends one message without waiting. UDP goes out of a listener socket at once. TCP/TLS goes on `out.flow`
    /// if open, else on an open connection to the destination (RFC 3261 §18.1.1, §18.2.2), else on a new
    /// connection; the flow used is returned. Failures after this returns arrive as [`Event::TransportError`].
    pub fn send(&mut self, out: Outbound) -> Result<Option<FlowId>, SendError> {
        let limit = self.shared.limits.max_message_size;
        if out.bytes.len() > limit {
            return Err(SendError::TooLarge { size: out.bytes.len(), limit });
        }
        match out.transport {
            Transport::Udp => self.send_udp(&out).map(|()| None),
            Transport::Tcp | Transport::Tls => self.send_stream(out).map(Some),
        }
    }

    /// Sends `outs` in order and empties it, each as [`Io::send`] would; UDP datagrams that leave one listener back
    /// to back go out together (sendmmsg(2), udp.rs), so a driver that queues what one batch of received
    /// datagrams produced pays one system call for the lot. `failed` gets each message that was not sent, with
    /// what `send` would have returned, and its index in `outs`.
    pub fn send_all(&mut self, outs: &mut Vec<Outbound>, mut failed: impl FnMut(usize, &Outbound, SendError)) {
        let mut at = 0;
        while let Some(out) = outs.get(at) {
            let port = match self.udp_port(out) {
                Ok(Some(port)) => port,
                Ok(None) => {
                    if let Err(error) = self.send(out.clone()) {
                        failed(at, out, error);
                    }
                    at += 1;
                    continue;
                }
                Err(error) => {
                    failed(at, out, error);
                    at += 1;
                    continue;
                }
            };
            let run = outs[at..].iter().take_while(|o| matches!(self.udp_port(o), Ok(Some(p)) if p == port)).count();
            self.send_datagrams(port, &outs[at..at + run], |i, error| failed(at + i, &outs[at + i], error));
            at += run;
        }
        outs.clear();
    }

    /// The UDP listener `out` leaves from (`None` for TCP/TLS), or why it cannot be sent.
    fn udp_port(&self, out: &Outbound) -> Result<Option<usize>, SendError> {
        let limit = self.shared.limits.max_message_size;
        if out.bytes.len() > limit {
            return Err(SendError::TooLarge { size: out.bytes.len(), limit });
        }
        if out.transport != Transport::Udp {
            return Ok(None);
        }
        let destination = out.destination;
        self.udp
            .iter()
            .position(|port| match out.local {
                Some(wanted) => port.local == wanted,
                None => port.local.is_ipv4() == destination.is_ipv4(),
            })
            .map(Some)
            .ok_or(SendError::NoSocket { transport: Transport::Udp, destination })
    }

    fn send_udp(&self, out: &Outbound) -> Result<(), SendError> {
        let Some(port) = self.udp_port(out)? else { return Err(SendError::NoSocket { transport: Transport::Udp, destination: out.destination }) };
        let mut failure = None;
        self.send_datagrams(port, std::slice::from_ref(out), |_, error| failure = Some(error));
        failure.map_or(Ok(()), Err)
    }

    /// Sends `outs` from UDP listener `port`, counting; `failed(i, error)` for each not sent.
    fn send_datagrams(&self, port: usize, outs: &[Outbound], mut failed: impl FnMut(usize, SendError)) {
        let counters = &self.shared.counters;
        let mut errors = 0;
        udp::send_batch(&self.udp[port], outs, |i, e| {
            errors += 1;
            failed(i, SendError::Udp { destination: outs[i].destination, kind: e.kind() });
        });
        counters.udp_send_errors.fetch_add(errors, Ordering::Relaxed);
        counters.udp_sent.fetch_add(outs.len() as u64 - errors, Ordering::Relaxed);
    }

    fn send_stream(&mut self, mut out: Outbound) -> Result<FlowId, SendError> {
        let destination = out.destination;
        if let Some((flow, queue)) = self.table.find(out.transport, out.flow, destination) {
            match queue.try_send(out.bytes) {
                Ok(()) => return Ok(flow),
                Err(TrySendError::Full(_)) => {
                    bump(&self.shared.counters.send_queue_dropped);
                    return Err(SendError::QueueFull { destination });
                }
                // The connection task has ended and its close note is on the way: open a new connection.
                Err(TrySendError::Closed(bytes)) => {
                    self.table.detach(flow);
                    out.bytes = bytes;
                }
            }
        }
        self.connect(out)
    }

    fn connect(&mut self, out: Outbound) -> Result<FlowId, SendError> {
        let tls = match out.transport {
            Transport::Tls => Some((self.tls_client.clone().ok_or(SendError::NoTlsClient)?, out.server_name)),
            Transport::Tcp | Transport::Udp => None,
        };
        let flow = self.shared.next_flow();
        let (queue_tx, queue) = mpsc::channel(self.shared.limits.send_queue);
        // A new queue has room for at least one message.
        let _ = queue_tx.try_send(out.bytes);
        self.table.insert(flow, out.transport, out.destination, queue_tx);
        let who = Peer { flow, transport: out.transport, peer: out.destination };
        tokio::spawn(stream::serve_outbound(who, tls, self.connect_timeout, queue, Arc::clone(&self.shared)));
        Ok(flow)
    }

    /// Registers `flow` as the connection for sending to `sent_by` too: the address a peer advertises in its Via
    /// when it wants requests back on the connection it opened (RFC 5923 §5, `alias` Via parameter; RFC 5626
    /// flows). The caller decides whether the peer is entitled to it. False if the flow has closed.
    pub fn alias(&mut self, flow: FlowId, sent_by: SocketAddr) -> bool {
        self.table.alias(flow, sent_by)
    }

    /// Keeps a connection to `target` open from now on, reconnecting after failures, with CRLF keep-alives
    /// (RFC 5626 §4.4.1); the peer may send requests down it like on any flow. Fails at once if `target` is TLS
    /// and no outbound TLS is configured, or is UDP.
    pub fn keep_flow(&mut self, target: crate::KeptFlow) -> Result<(), SendError> {
        let tls = match target.transport {
            Transport::Tls => Some(self.tls_client.clone().ok_or(SendError::NoTlsClient)?),
            Transport::Tcp => None,
            Transport::Udp => return Err(SendError::NoSocket { transport: Transport::Udp, destination: target.destination }),
        };
        tokio::spawn(crate::kept::keep(target, tls, self.connect_timeout, Arc::clone(&self.shared)));
        Ok(())
    }

    /// Stops every listener and connection task. Also happens on drop.
    pub fn shutdown(&self) {
        self.shared.cancel.cancel();
    }
}

impl Drop for Io {
    fn drop(&mut self) {
        self.shutdown();
    }
}

