//! [`Io`]: the handle a driver task owns. It binds the listeners, receives what the socket tasks deliver, and
//! sends: UDP straight from the listener socket, TCP/TLS through the connection table.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use causeway_sip::Transport;
use tokio::net::UdpSocket;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::config::{IoConfig, ListenerKind};
use crate::error::{BindError, SendError};
use crate::event::{BoundListener, Event, FlowId, Outbound, TransportError};
use crate::shared::{bump, IoStats, Note, Shared};
use crate::stream::{self, Peer};
use crate::table::ConnTable;
use crate::{listener, tls, udp};

/// The transport layer as seen by one driver task.
///
/// Calling order: [`Io::bind`] inside a tokio runtime; then loop on [`Io::recv`] (and [`Io::try_recv`] to drain a
/// burst without re-polling), calling [`Io::send`] for each outgoing message. Dropping the `Io` (or
/// [`Io::shutdown`]) stops every listener and connection task.
pub struct Io {
    shared: Arc<Shared>,
    notes: mpsc::Receiver<Note>,
    table: ConnTable,
    udp: Vec<(SocketAddr, std::net::UdpSocket)>,
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
    Udp(SocketAddr, UdpSocket, std::net::UdpSocket),
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
                    let (socket, sender) =
                        udp::bind(addr, limits.udp_socket_buffer).map_err(|e| socket_err(Transport::Udp, e))?;
                    let local = socket.local_addr().map_err(|e| socket_err(Transport::Udp, e))?;
                    Bound::Udp(local, socket, sender)
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

        let shared = Shared::new(limits, notes_tx);
        let mut udp = Vec::new();
        let mut listeners = Vec::with_capacity(bound.len());
        for entry in bound {
            match entry {
                Bound::Udp(local, socket, sender) => {
                    tokio::spawn(udp::receive(socket, local, Arc::clone(&shared)));
                    listeners.push(BoundListener { transport: Transport::Udp, local });
                    udp.push((local, sender));
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
            if let Some(event) = self.pending.take() {
                return event;
            }
            // `self.shared` holds a sender, so the channel never reports closed.
            let Some(note) = self.notes.recv().await else {
                return std::future::pending().await;
            };
            if let Some(event) = self.handle(note) {
                return event;
            }
        }
    }

    /// The next event if one is ready now.
    pub fn try_recv(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.take() {
                return Some(event);
            }
            let note = self.notes.try_recv().ok()?;
            if let Some(event) = self.handle(note) {
                return Some(event);
            }
        }
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

    fn send_udp(&self, out: &Outbound) -> Result<(), SendError> {
        let destination = out.destination;
        let (_, socket) = self
            .udp
            .iter()
            .find(|(local, _)| match out.local {
                Some(wanted) => *local == wanted,
                None => local.is_ipv4() == destination.is_ipv4(),
            })
            .ok_or(SendError::NoSocket { transport: Transport::Udp, destination })?;
        match socket.send_to(&out.bytes, destination) {
            Ok(_) => {
                bump(&self.shared.counters.udp_sent);
                Ok(())
            }
            Err(e) => {
                bump(&self.shared.counters.udp_send_errors);
                Err(SendError::Udp { destination, kind: e.kind() })
            }
        }
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
