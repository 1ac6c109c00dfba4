//! [`Node`]: one task that runs the proxy core over the transports.
//!
//! The loop follows quinn's `drive_timer` (STYLE.md §1): feed the core what the sockets deliver, drain
//! `poll_transmit()` into the sockets, then arm the one timer from `poll_timeout()`, re-arming only when the
//! deadline changed. The node owns the clock: `tokio::time::Instant::now()` converted to `std::time::Instant`,
//! so tests with a paused tokio clock drive the core in virtual time.

use std::future::Future;
use std::time::{Duration, Instant};

use causeway_io::{BindError, BoundListener, Event, Io, Outbound, SendError};
use causeway_proxy::{Core, FlowId, Inbound, ListenerConfig, Transmit, TransportFailure};
use tokio::sync::watch;

use crate::callctl::CallControl;
use crate::dns::Dns;
use crate::routing::NodeLocator;
use crate::settings::NodeConfig;
use crate::stats::{CoreStats, NodeStats, StatsHandle};

/// Events handled per wake-up before the timer and shutdown are looked at again.
const EVENT_BATCH: usize = 256;
/// Received messages handled before what they produced is sent: enough to fill a sendmmsg(2) batch, few enough
/// that a burst does not hold back the first answers.
const FLUSH_EVERY: usize = 32;
/// How long a stopping node waits for call control's writes to the store.
const STORE_DRAIN: Duration = Duration::from_secs(2);
/// How often the proxy counters are published to [`StatsHandle`] readers.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// Why a node could not be built. Nothing is left running.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error("proxy configuration: {0}")]
    Proxy(#[from] causeway_proxy::ConfigError),
    #[error("call control configuration: {0}")]
    CallControl(#[from] causeway_b2bua::ConfigError),
}

/// A bound, ready node: sockets open, core built. [`Node::run`] drives it.
pub struct Node {
    io: Io,
    core: Core<NodeLocator>,
    stats: watch::Sender<CoreStats>,
    /// The core's DNS lookups in flight.
    dns: Dns,
    /// The registrar and call control, lent to the core for each message, when configured.
    call_control: Option<CallControl>,
    /// Call control's DNS lookups in flight (its legs through DNS zones), on a resolver of their own.
    call_dns: Dns,
    /// What [`Node::flush`] hands the I/O layer at once: everything one batch of received messages produced.
    outbox: Vec<Outbound>,
}

impl Node {
    /// Binds every listener and builds the core for the addresses actually bound. Must run inside a tokio
    /// runtime. Returns at once; nothing is received until [`Node::run`].
    pub fn build(config: NodeConfig) -> Result<Self, BuildError> {
        let dns = Dns::new(&config.dns);
        let mut io = Io::bind(config.io)?;
        for kept in config.routing.as_deref().map(crate::traversal::kept_flows).unwrap_or_default() {
            if let Err(error) = io.keep_flow(kept.clone()) {
                tracing::warn!(%error, peer = %kept.destination, "cannot keep a traversal connection");
            }
        }
        let mut proxy = config.proxy;
        proxy.listeners = io
            .listeners()
            .iter()
            .map(|l| ListenerConfig { advertised_host: config.advertised_host.clone(), ..ListenerConfig::new(l.transport, l.local) })
            .collect();
        proxy.domains = crate::routing::domains(&proxy.domains, config.routing.as_ref());
        let seed = config.seed.unwrap_or_else(rand::random);
        let call_control = match &config.call_control {
            Some(cc) => {
                let (listeners, server, timers) = (proxy.listeners.clone(), proxy.server.clone(), proxy.timers);
                Some(CallControl::new(cc, listeners, server, timers, config.routing.clone(), seed.rotate_left(32), now())?)
            }
            None => None,
        };
        let locator = crate::routing::locator(
            config.routing.as_ref(),
            config.routes,
            config.zoom_repair,
            &proxy.listeners,
            &proxy.domains,
            seed,
        );
        let mut core = Core::new(proxy, locator, seed)?;
        if let Some(security) = config.security {
            core = core.with_security(now(), chrono::Utc::now(), security);
        }
        if let Some(table) = &config.routing {
            core.monitor_peers(now(), table);
        }
        let (stats, _) = watch::channel(CoreStats::default());
        let call_dns = Dns::new(&config.dns);
        let mut node = Self { io, core, stats, dns, call_control, call_dns, outbox: Vec::new() };
        node.share_health();
        Ok(node)
    }

    /// Keeps the registrar's bindings, the dual-ringing switches and the CDRs in `store`, after
    /// loading the bindings and switches it holds (a restart keeps registrations). Without call
    /// control there is nothing to keep.
    pub async fn attach_store(&mut self, store: causeway_store::Store) -> Result<(), causeway_store::StoreError> {
        match &mut self.call_control {
            Some(cc) => cc.attach(store, now()).await,
            None => Ok(()),
        }
    }

    /// The sockets bound (with real ports when the config asked for port 0).
    pub fn listeners(&self) -> &[BoundListener] {
        self.io.listeners()
    }

    /// A handle that reads the node's counters from any task, while the node runs and after.
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle::new(self.io.stats_handle(), self.stats.subscribe())
    }

    /// Runs until `shutdown` completes (for the binary: [`crate::shutdown_signal`]), then closes every socket
    /// and returns the final counters. Transactions still open are abandoned; peers retransmit or time out.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> NodeStats {
        tokio::pin!(shutdown);
        let timer = tokio::time::sleep_until(tokio::time::Instant::now());
        tokio::pin!(timer);
        let mut armed = None;
        let mut publish = tokio::time::interval(PUBLISH_EVERY);
        publish.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = &mut timer, if armed.is_some() => {
                    armed = None;
                    self.core.handle_timeout(now());
                    if let Some(cc) = &mut self.call_control {
                        cc.b2bua.handle_timeout(now());
                    }
                    self.flush();
                }
                event = self.io.recv() => {
                    self.on_event(event);
                    for n in 1..EVENT_BATCH {
                        let Some(event) = self.io.try_recv() else { break };
                        self.on_event(event);
                        if n % FLUSH_EVERY == 0 {
                            self.flush();
                        }
                    }
                    self.flush();
                }
                (id, answer) = self.dns.recv() => {
                    self.core.handle_resolved(now(), id, answer);
                    self.flush();
                }
                (id, answer) = self.call_dns.recv() => {
                    if let Some(cc) = &mut self.call_control {
                        cc.b2bua.handle_resolved(now(), id, answer);
                    }
                    self.flush();
                }
                _ = publish.tick() => {
                    self.publish();
                    // Peer addresses and traversal connections change without a state change.
                    self.share_health();
                }
            }
            let agent = self.call_control.as_mut().and_then(|cc| cc.b2bua.poll_timeout());
            let next = [self.core.poll_timeout(), agent].into_iter().flatten().min();
            if next != armed {
                armed = next;
                if let Some(deadline) = next {
                    timer.as_mut().reset(tokio::time::Instant::from_std(deadline));
                }
            }
        }
        self.io.shutdown();
        self.publish();
        if let Some(cc) = self.call_control.take() {
            cc.close(STORE_DRAIN).await;
        }
        let stats = self.stats_handle().snapshot();
        tracing::info!(?stats.io, "node stopped");
        stats
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Message(m) => {
                let inbound = Inbound {
                    bytes: m.bytes,
                    transport: m.transport,
                    local: m.local,
                    peer: m.peer,
                    flow: m.flow.map(|f| FlowId(f.get())),
                    tls_peer_names: m.tls_peer_names,
                };
                match &mut self.call_control {
                    Some(cc) => self.core.handle_inbound_with(now(), inbound, &mut cc.b2bua),
                    None => self.core.handle_inbound(now(), inbound),
                }
            }
            Event::TransportError(e) => {
                tracing::debug!(destination = %e.destination, transport = %e.transport, kind = %e.kind, "transport error");
                let failure =
                    TransportFailure { transport: e.transport, destination: e.destination, flow: Some(FlowId(e.flow.get())) };
                self.transport_failed(failure);
            }
            // ICMP port/host unreachable for a UDP send: the destination serves nothing, so its transactions fail
            // now, not at Timer B/F (RFC 3261 §17.1.4, §18.4), and the request fails over (RFC 3263 §4.3).
            Event::UdpUnreachable(u) => {
                tracing::debug!(destination = %u.destination, local = %u.local, kind = %u.kind, "ICMP unreachable");
                self.transport_failed(TransportFailure { transport: causeway_sip::Transport::Udp, destination: u.destination, flow: None });
            }
            Event::FlowClosed { flow, transport, peer } => {
                tracing::debug!(%flow, %transport, %peer, "connection closed");
                self.core.handle_flow_closed(FlowId(flow.get()));
            }
        }
    }

    /// A transport failure reported by the I/O layer, for the proxy core and call control alike.
    fn transport_failed(&mut self, failure: TransportFailure) {
        self.core.handle_transport_error(now(), failure);
        if let Some(cc) = &mut self.call_control {
            cc.b2bua.handle_transport_error(now(), failure);
        }
    }

    /// Sends everything the core and call control have queued, in one hand-over to the I/O layer (UDP datagrams
    /// of one listener share a system call). A send that fails at once is a transport error for whoever sent it
    /// (RFC 3261 §18.4), except a full UDP socket buffer, which is loss that retransmission covers (§17.1.1.2);
    /// what the failure makes them send (another destination, RFC 3263 §4.3) goes out in the next round.
    fn flush(&mut self) {
        loop {
            while let Some(resolve) = self.core.poll_resolve() {
                self.dns.start(resolve);
            }
            while let Some(transmit) = self.core.poll_transmit() {
                let server_name = server_name(&transmit, self.core.health());
                self.outbox.push(Outbound { server_name, ..outbound(transmit) });
            }
            let from_core = self.outbox.len();
            if std::iter::from_fn(|| self.core.poll_peer_change()).count() > 0 {
                self.share_health();
            }
            if let Some(cc) = &mut self.call_control {
                while let Some(transmit) = cc.b2bua.poll_transmit() {
                    // Call control's legs find their hops as the core does; its health holds its own lookups' answers.
                    let server_name = server_name(&transmit, Some(cc.b2bua.health()));
                    self.outbox.push(Outbound { server_name, ..outbound(transmit) });
                }
            }
            if self.outbox.is_empty() {
                break;
            }
            let mut failures = Vec::new();
            self.io.send_all(&mut self.outbox, |i, out, error| {
                if !matches!(error, SendError::Udp { kind: std::io::ErrorKind::WouldBlock, .. }) {
                    tracing::debug!(%error, "send failed");
                    let failure =
                        TransportFailure { transport: out.transport, destination: out.destination, flow: out.flow.map(|f| FlowId(f.get())) };
                    failures.push((i < from_core, failure));
                }
            });
            for (by_core, failure) in failures {
                match &mut self.call_control {
                    Some(cc) if !by_core => cc.b2bua.handle_transport_error(now(), failure),
                    _ => self.core.handle_transport_error(now(), failure),
                }
            }
        }
        let Some(cc) = &mut self.call_control else { return };
        // After the sends: a failed send may have sent a leg to its next hop, which needs DNS.
        while let Some(resolve) = cc.b2bua.poll_resolve() {
            self.call_dns.start(resolve);
        }
        cc.persist();
    }

    /// Call control's legs leave through zones as the core's requests do: it gets the core's
    /// peer health (keepalive states, peer addresses, traversal connections).
    fn share_health(&mut self) {
        if let (Some(cc), Some(health)) = (&mut self.call_control, self.core.health()) {
            cc.b2bua.set_health(health.clone());
        }
    }

    fn publish(&self) {
        let core = CoreStats {
            counters: self.core.counters().clone(),
            peers: self.core.peer_status(),
            health: self.core.health().cloned(),
            flood: self.core.flood_status(now()),
            call_control: self.call_control.as_ref().map(|cc| cc.stats(now())),
        };
        self.stats.send_replace(core);
    }
}

/// RFC 5922 §4: a new TLS connection verifies the name its next hop was found under (a peer's
/// configured host name, the domain whose SRV records named it, the name of its A/AAAA records).
fn server_name(transmit: &Transmit, health: Option<&causeway_routing::HealthSnapshot>) -> Option<std::sync::Arc<str>> {
    if transmit.transport != causeway_sip::Transport::Tls || transmit.flow.is_some() {
        return None;
    }
    health?.host_of(transmit.destination).map(std::sync::Arc::from)
}

fn outbound(t: Transmit) -> Outbound {
    Outbound {
        bytes: t.bytes,
        transport: t.transport,
        destination: t.destination,
        flow: t.flow.map(|f| causeway_io::FlowId::from_raw(f.0)),
        server_name: None,
        local: Some(t.local),
    }
}

/// The core's clock: tokio's (virtual in paused-time tests) as a `std` instant.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}
