//! Connections this node keeps open to a peer whatever the traffic — the internal end of a
//! traversal zone dials out to the edge and holds the connection, so the edge can send requests
//! down it (RFC 5626 §5 flow reuse; the edge never connects in). One task per kept flow:
//! connect (TCP, TLS), announce the flow to the driver's table, send CRLF keep-alive pings and
//! expect their pongs (RFC 5626 §4.4.1), and when the connection fails or closes, connect again
//! after a backoff that doubles with each quick failure (RFC 5626 §4.5), with jitter.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use causeway_sip::Transport;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use crate::shared::{Note, Shared};
use crate::stream::{self, Peer};

/// A connection to keep open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptFlow {
    /// TCP or TLS.
    pub transport: Transport,
    /// The peer.
    pub destination: SocketAddr,
    /// TLS server name to verify; `None` checks the destination IP address against the certificate.
    pub server_name: Option<Arc<str>>,
    /// Time between CRLF pings (RFC 5626 §4.4.1 suggests 95-120 s for TCP; traversal zones use less).
    pub ping_interval: Duration,
    /// First wait before reconnecting after a failure.
    pub retry_base: Duration,
    /// Longest wait before reconnecting.
    pub retry_max: Duration,
}

/// Keeps `target` connected until the node shuts down.
pub(crate) async fn keep(target: KeptFlow, tls: Option<TlsConnector>, limit: Duration, shared: Arc<Shared>) {
    let mut failures: u32 = 0;
    loop {
        let who = Peer { flow: shared.next_flow(), transport: target.transport, peer: target.destination };
        let started = Instant::now();
        let tls = tls.clone().map(|connector| (connector, target.server_name.clone()));
        let cancelled = shared.cancel.cancelled();
        let opened = tokio::select! {
            () = cancelled => return,
            opened = stream::open(&who, tls, limit, &shared) => opened,
        };
        match opened {
            Ok(opened) => {
                tracing::info!(peer = %target.destination, flow = %who.flow, "kept connection up");
                let (queue_tx, queue) = mpsc::channel(shared.limits.send_queue);
                let note = Note::Opened { flow: who.flow, transport: who.transport, peer: who.peer, queue: queue_tx };
                if shared.notes.send(note).await.is_err() {
                    return;
                }
                let end = opened.run(&who, queue, &shared, Some(target.ping_interval)).await;
                tracing::info!(peer = %target.destination, flow = %who.flow, ?end, "kept connection down");
                stream::finish(&who, end, &shared).await;
            }
            Err(error) => tracing::debug!(peer = %target.destination, %error, "kept connection failed to open"),
        }
        if shared.cancel.is_cancelled() {
            return;
        }
        // A connection that lived for a while was healthy: start the backoff over.
        failures = if started.elapsed() >= target.retry_max { 0 } else { failures.saturating_add(1) };
        let wait = backoff(&target, failures, rand::random::<f64>());
        tokio::select! {
            () = shared.cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// RFC 5626 §4.5: `min(max-time, base-time * 2^consecutive-failures)`, times a random factor
/// between 50 % and 100 % (`jitter` in 0..1) so that peers cut off together do not come back
/// together.
fn backoff(target: &KeptFlow, failures: u32, jitter: f64) -> Duration {
    let doubled = target.retry_base.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    doubled.min(target.retry_max).mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5626_4_5_backoff_doubles_up_to_the_maximum_with_jitter() {
        let target = KeptFlow {
            transport: Transport::Tls,
            destination: SocketAddr::from(([127, 0, 0, 1], 5061)),
            server_name: None,
            ping_interval: Duration::from_secs(30),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
        };
        let full = |n| backoff(&target, n, 1.0).as_secs();
        assert_eq!([full(1), full(2), full(3), full(7), full(8), full(40)], [1, 2, 4, 60, 60, 60]);
        assert_eq!(backoff(&target, 3, 0.0), Duration::from_secs(2), "jitter takes off at most half");
    }
}
