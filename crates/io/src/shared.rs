//! State shared by the driver handle and the connection tasks: counters, the connection limiter, flow ids, and the
//! channel that carries stream messages and connection events to the driver, with its byte budget. Only connection
//! open/close touches a lock; the per-message path touches atomics and the channel. UDP does not use any of it
//! beyond the counters: the driver reads its sockets itself (`udp.rs`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_sip::framing::FramingLimits;
use causeway_sip::Transport;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::config::Limits;
use crate::error::TransportErrorKind;
use crate::event::{FlowId, Inbound};

/// Least time between two warnings about misbehaving peers.
const WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// What socket tasks tell the driver handle. Everything from one connection goes through the same channel, so the
/// driver sees `Opened` before that connection's first message and `Closed` after its last.
pub(crate) enum Note {
    Message(Inbound),
    /// An accepted connection is ready (TLS handshake done); `queue` feeds its writer.
    Opened { flow: FlowId, transport: Transport, peer: SocketAddr, queue: mpsc::Sender<Bytes> },
    /// A connection ended; `error` is set when a connect, handshake or write failed rather than a normal close.
    Closed { flow: FlowId, error: Option<TransportErrorKind> },
    /// An ICMP error said a datagram the UDP listener `local` sent to `destination` found nothing there
    /// (`udp_errors.rs`).
    Unreachable { local: SocketAddr, destination: SocketAddr, kind: std::io::ErrorKind },
}

pub(crate) struct Shared {
    pub(crate) limits: Limits,
    /// Stream framing bounds derived from `limits`.
    pub(crate) framing: FramingLimits,
    pub(crate) counters: IoCounters,
    pub(crate) notes: mpsc::Sender<Note>,
    pub(crate) cancel: CancellationToken,
    next_flow: AtomicU64,
    /// Bytes of [`Note::Message`]s the driver may have waiting: a connection reader takes permits for a message
    /// before queueing it and waits when there are none left; the driver gives them back when it takes the message.
    queue_budget: Semaphore,
    connections: ConnLimiter,
    /// When the next warning about a misbehaving peer may be logged.
    next_warning: Mutex<Option<Instant>>,
}

impl Shared {
    pub(crate) fn new(limits: Limits, notes: mpsc::Sender<Note>) -> Arc<Self> {
        let max = limits.max_message_size;
        let queue_budget = Semaphore::new(limits.event_queue_bytes.min(Semaphore::MAX_PERMITS));
        let framing =
            FramingLimits { max_head_bytes: max.min(FramingLimits::default().max_head_bytes), max_message_bytes: max };
        Arc::new(Self {
            limits,
            framing,
            counters: IoCounters::default(),
            notes,
            cancel: CancellationToken::new(),
            next_flow: AtomicU64::new(1),
            queue_budget,
            connections: ConnLimiter::default(),
            next_warning: Mutex::new(None),
        })
    }

    /// Whether a warning about a misbehaving peer may be logged now: at most one per [`WARNING_INTERVAL`], so a
    /// peer that opens connection after connection to send garbage cannot flood the log. The counters still count
    /// every event.
    pub(crate) fn may_warn(&self) -> bool {
        let now = Instant::now();
        let mut next = self.next_warning.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if next.is_some_and(|at| now < at) {
            return false;
        }
        *next = Some(now + WARNING_INTERVAL);
        true
    }

    pub(crate) fn next_flow(&self) -> FlowId {
        FlowId::from_raw(self.next_flow.fetch_add(1, Ordering::Relaxed))
    }

    /// The permits a message of `len` bytes takes: its length, capped so that one message never needs more than
    /// the whole budget.
    fn permits(&self, len: usize) -> u32 {
        u32::try_from(len.min(self.limits.event_queue_bytes)).unwrap_or(u32::MAX)
    }

    /// Waits until a stream message of `len` bytes fits in the driver's queue budget, then counts it in. Waiting
    /// is TCP back-pressure: the connection is not read while the driver is behind.
    pub(crate) async fn reserve(&self, len: usize) {
        if let Ok(permit) = self.queue_budget.acquire_many(self.permits(len)).await {
            permit.forget();
        }
    }

    /// The driver took a message of `len` bytes (or the channel dropped it).
    pub(crate) fn release(&self, len: usize) {
        self.queue_budget.add_permits(self.permits(len) as usize);
    }

    /// Admits an accepted connection from `ip` if neither the total nor the per-IP limit is reached.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<ConnPermit> {
        let limits = &self.limits;
        let mut per_ip = self.connections.per_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.connections.total.load(Ordering::Relaxed) >= limits.max_connections {
            return None;
        }
        let count = per_ip.entry(ip).or_insert(0);
        if *count >= limits.max_connections_per_ip {
            return None;
        }
        *count += 1;
        self.connections.total.fetch_add(1, Ordering::Relaxed);
        Some(ConnPermit { shared: Arc::clone(self), ip })
    }
}

#[derive(Default)]
struct ConnLimiter {
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

/// Holds one accepted connection's place in the limits; released on drop.
pub(crate) struct ConnPermit {
    shared: Arc<Shared>,
    ip: IpAddr,
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let limiter = &self.shared.connections;
        let mut per_ip = limiter.per_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = per_ip.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                per_ip.remove(&self.ip);
            }
        }
        limiter.total.fetch_sub(1, Ordering::Relaxed);
    }
}

macro_rules! counters {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        /// Live transport counters, updated with relaxed atomics by every socket task.
        #[derive(Debug, Default)]
        pub(crate) struct IoCounters {
            $($(#[doc = $doc])* pub(crate) $name: AtomicU64,)*
        }

        /// A point-in-time copy of the transport counters, for logs and /metrics.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct IoStats {
            $($(#[doc = $doc])* pub $name: u64,)*
        }

        impl IoCounters {
            pub(crate) fn snapshot(&self) -> IoStats {
                IoStats { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
        }
    };
}

counters! {
    /// Datagrams received on UDP listeners.
    udp_received,
    /// UDP datagrams dropped: larger than the message limit, or the driver's queue was full.
    udp_dropped,
    /// UDP datagrams sent.
    udp_sent,
    /// UDP sends that failed (socket buffer full, unreachable, ...).
    udp_send_errors,
    /// SIP messages framed on TCP and TLS connections.
    stream_received,
    /// CRLF keep-alive pings answered with a pong (RFC 5626 §3.5.1).
    keepalive_pongs,
    /// Connections accepted and admitted.
    connections_accepted,
    /// Connections refused at accept by the total or per-IP limit.
    connections_refused,
    /// Outbound connections opened.
    connections_opened,
    /// Outbound connects that failed or timed out.
    connect_failures,
    /// TLS handshakes that failed or timed out (both directions).
    tls_handshake_failures,
    /// Connections closed because they were idle too long.
    idle_closed,
    /// Connections closed because a message exceeded the size limit.
    oversize_closed,
    /// Connections closed because of bad Content-Length framing.
    framing_closed,
    /// Messages dropped because a connection's send queue was full.
    send_queue_dropped,
    /// Writes on connections that failed.
    write_errors,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
