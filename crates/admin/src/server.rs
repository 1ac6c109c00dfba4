//! The HTTP side: `GET /status` on a loopback listener, and the client `causeway status` uses.
//!
//! The endpoint only ever listens on a loopback address: it has no authentication, and what it
//! shows (peer addresses, traffic counters) is for the operator of the machine.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use causeway_node::StatsHandle;
use causeway_routing::RoutingTable;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::report::{Clock, StatusReport};

/// How long `causeway status` waits for the node.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Only loopback addresses are allowed (the endpoint has no authentication).
    #[error("admin listen address {0} is not a loopback address")]
    NotLoopback(SocketAddr),
    /// The socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Why `causeway status` got no report.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node did not answer (not running, wrong address, timeout).
    #[error("cannot reach {url}: {source}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The node answered with an HTTP error.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The answer is not a status report.
    #[error("{url} did not send a status report: {source}")]
    Malformed {
        /// The URL asked.
        url: String,
        /// Why.
        source: serde_json::Error,
    },
}

/// What the endpoint reads: the node's published counters and peer states, and its zones.
#[derive(Clone)]
pub struct StatusSource {
    node: Arc<str>,
    started: Instant,
    table: Option<Arc<RoutingTable>>,
    stats: StatsHandle,
}

impl StatusSource {
    /// The status of node `node` (started now), whose zones are `table`, read through `stats`.
    pub fn new(node: &str, table: Option<Arc<RoutingTable>>, stats: StatsHandle) -> Self {
        Self { node: node.into(), started: Instant::now(), table, stats }
    }

    /// The report as of now.
    pub fn report(&self) -> StatusReport {
        StatusReport::new(&self.node, self.started, self.table.as_deref(), &self.stats.snapshot(), Clock::read())
    }
}

/// `GET /status` over `source`; merge other routers (meetings' `/api/...`) into it.
pub fn router(source: StatusSource) -> Router {
    Router::new().route("/status", get(status)).with_state(source)
}

async fn status(State(source): State<StatusSource>) -> Json<StatusReport> {
    Json(source.report())
}

/// A running endpoint; stops when [`AdminServer::stop`] is called or it is dropped.
pub struct AdminServer {
    local: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl AdminServer {
    /// Listens on `addr` (loopback only; port 0 picks a free port) and serves `router`.
    pub async fn start(addr: SocketAddr, router: Router) -> Result<Self, AdminError> {
        if !addr.ip().is_loopback() {
            return Err(AdminError::NotLoopback(addr));
        }
        let listener = TcpListener::bind(addr).await.map_err(|source| AdminError::Bind { addr, source })?;
        let local = listener.local_addr().map_err(|source| AdminError::Bind { addr, source })?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::warn!(%error, "admin endpoint stopped");
            }
        });
        Ok(Self { local, stop: Some(stop), task })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stops listening and waits for open requests to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Fetches the status report from `base` (`http://127.0.0.1:8180`; `/status` is appended).
pub async fn fetch(base: &str) -> Result<StatusReport, ClientError> {
    let url = format!("{}/status", base.trim_end_matches('/'));
    let unreachable = |source| ClientError::Unreachable { url: url.clone(), source };
    let client = reqwest::Client::builder().timeout(CLIENT_TIMEOUT).build().map_err(unreachable)?;
    let response = client.get(&url).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(ClientError::Status { url, status: response.status().as_u16() });
    }
    let body = response.bytes().await.map_err(unreachable)?;
    serde_json::from_slice(&body).map_err(|source| ClientError::Malformed { url, source })
}
