//! The simulator on the network: a WebSocket server at `/ws` (plain or TLS with a self-signed certificate
//! made at start), HTTP Basic or `auth-…` subprotocol authentication, JSON-RPC requests answered by the
//! shared [`Device`], per-connection feedback subscriptions, and injectable faults for tests.

use super::device::{Control, Device};
use super::wire::{check_auth, parse_sim, SimMethod};
use crate::rpc::{self, Message, RpcError};
use crate::tree::{self, Path};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Largest WebSocket message the simulator reads.
pub const MAX_MESSAGE: usize = 1024 * 1024;
/// Most feedback subscriptions one connection may hold.
pub const MAX_SUBSCRIPTIONS: usize = 64;

/// How the simulator listens.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to bind (port 0 for an ephemeral port).
    pub listen: SocketAddr,
    /// Native resolutions of output connectors 1..=n.
    pub displays: Vec<(u32, u32)>,
    /// `wss://` with a self-signed certificate instead of `ws://`.
    pub tls: bool,
    /// Accepted user name.
    pub username: String,
    /// Accepted password.
    pub password: String,
}

/// What an injected fault does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Close the TCP connection without answering (a device dropping the WebSocket mid-command).
    Drop,
    /// Answer with a JSON-RPC error.
    Error,
}

/// A fault for the next `count` requests whose method starts with `method`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Method prefix, e.g. `xSet` or `xCommand/UserInterface`.
    pub method: String,
    /// What to do.
    pub action: FaultAction,
    /// How many requests it applies to.
    pub count: u32,
}

/// Errors starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The socket error.
        source: std::io::Error,
    },
    /// The self-signed certificate could not be made.
    #[error("cannot make a self-signed certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
}

struct Shared {
    device: Mutex<Device>,
    faults: Mutex<Vec<Fault>>,
    feedback: broadcast::Sender<Arc<Value>>,
    kick: watch::Sender<u64>,
    username: String,
    password: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn publish(&self, device: &mut Device) {
        if let Some(delta) = device.take_delta() {
            // No receivers is fine: nobody is connected.
            let _ = self.feedback.send(Arc::new(delta));
        }
    }

    fn take_fault(&self, method: &str) -> Option<FaultAction> {
        let mut faults = lock(&self.faults);
        let pos = faults.iter().position(|f| method.starts_with(&f.method))?;
        let fault = faults.get_mut(pos)?;
        let action = fault.action;
        fault.count = fault.count.saturating_sub(1);
        if fault.count == 0 {
            faults.remove(pos);
        }
        Some(action)
    }
}

/// A running simulator. Dropping it stops the listener and closes every connection.
pub struct Simulator {
    addr: SocketAddr,
    tls: bool,
    cert_pem: Option<String>,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Binds and starts serving.
    pub async fn start(config: SimConfig) -> Result<Simulator, SimError> {
        let listener =
            TcpListener::bind(config.listen).await.map_err(|source| SimError::Bind { addr: config.listen, source })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind { addr: config.listen, source })?;
        let (acceptor, cert_pem) = if config.tls {
            let (acceptor, pem) = self_signed_acceptor()?;
            (Some(acceptor), Some(pem))
        } else {
            (None, None)
        };
        let (feedback, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            device: Mutex::new(Device::new(&config.displays)),
            faults: Mutex::new(Vec::new()),
            feedback,
            kick: watch::channel(0).0,
            username: config.username,
            password: config.password,
        });
        let accept = tokio::spawn(accept_loop(listener, acceptor, Arc::clone(&shared)));
        Ok(Simulator { addr, tls: config.tls, cert_pem, shared, accept: Some(accept) })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://ADDR/ws` or `wss://ADDR/ws`.
    pub fn url(&self) -> String {
        format!("{}://{}/ws", if self.tls { "wss" } else { "ws" }, self.addr)
    }

    /// The self-signed certificate (PEM) when serving TLS, for clients that verify it.
    pub fn cert_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// Reads the device state.
    pub fn with_device<R>(&self, f: impl FnOnce(&Device) -> R) -> R {
        f(&lock(&self.shared.device))
    }

    /// Changes the simulated world and sends the resulting feedback.
    pub fn control(&self, op: Control) -> Result<Value, RpcError> {
        let mut device = lock(&self.shared.device);
        let out = device.control(op);
        self.shared.publish(&mut device);
        out
    }

    /// Arms a fault.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Closes every open connection abruptly (no close frame).
    pub fn drop_connections(&self) {
        self.shared.kick.send_modify(|n| *n += 1);
    }
}

impl Simulator {
    /// Stops the simulator and waits until its port is free again (a device reboot in tests).
    pub async fn shutdown(mut self) {
        self.drop_connections();
        if let Some(accept) = self.accept.take() {
            accept.abort();
            // The listener is closed once the aborted task has been dropped; its JoinError says "cancelled".
            let _ = accept.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(accept) = &self.accept {
            accept.abort();
        }
        self.drop_connections();
    }
}

fn self_signed_acceptor() -> Result<(tokio_rustls::TlsAcceptor, String), SimError> {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names)?;
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key.into())?;
    Ok((tokio_rustls::TlsAcceptor::from(Arc::new(config)), certified.cert.pem()))
}

async fn accept_loop(listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>, shared: Arc<Shared>) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of file descriptors and the like: pause rather than spin.
                tracing::warn!(error = %e, "simulator: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        let tls = tls.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_tcp(tcp, tls, shared).await {
                tracing::debug!(%peer, error = %e, "simulator: connection ended");
            }
        });
    }
}

async fn serve_tcp(
    tcp: TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    match tls {
        Some(acceptor) => serve(acceptor.accept(tcp).await?, shared).await,
        None => serve(tcp, shared).await,
    }
}

fn unauthorized(reason: String) -> ErrorResponse {
    let mut resp = ErrorResponse::new(Some(reason));
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"xapi\""));
    resp
}

// The handshake callback's error type is tungstenite's HTTP response; its size is not ours to choose.
#[allow(clippy::result_large_err)]
async fn serve<S>(stream: S, shared: Arc<Shared>) -> Result<(), tokio_tungstenite::tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (user, pass) = (shared.username.clone(), shared.password.clone());
    let callback = move |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        if req.uri().path() != "/ws" {
            let mut not_found = ErrorResponse::new(Some("xAPI lives at /ws".to_owned()));
            *not_found.status_mut() = StatusCode::NOT_FOUND;
            return Err(not_found);
        }
        let header_str = |name| req.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok());
        match check_auth(header_str(header::AUTHORIZATION), header_str(header::SEC_WEBSOCKET_PROTOCOL), &user, &pass) {
            Ok(Some(proto)) => {
                let value = HeaderValue::from_str(&proto).map_err(|e| unauthorized(e.to_string()))?;
                resp.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, value);
                Ok(resp)
            }
            Ok(None) => Ok(resp),
            Err(e) => Err(unauthorized(e.to_string())),
        }
    };
    let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE)).max_frame_size(Some(MAX_MESSAGE));
    let mut ws = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await?;
    let mut feedback = shared.feedback.subscribe();
    let mut kick = shared.kick.subscribe();
    let mut subs: Vec<(u64, Path)> = Vec::new();
    let mut next_sub = 1u64;
    loop {
        tokio::select! {
            msg = ws.next() => {
                let Some(msg) = msg else { return Ok(()) };
                let text = match msg? {
                    WsMessage::Text(t) => t,
                    WsMessage::Close(_) => return Ok(()),
                    _ => continue,
                };
                let reply = match rpc::parse(text.as_str()) {
                    Err(e) => Some(rpc::response(Value::Null, Err(e))),
                    Ok(Message::Request { id, method, params }) => {
                        match shared.take_fault(&method) {
                            Some(FaultAction::Drop) => return Ok(()),
                            Some(FaultAction::Error) => id.map(|id| rpc::response(id, Err(RpcError::new(
                                rpc::COMMAND_ERROR, "Simulated failure", format!("fault injected for {method}"))))),
                            None => {
                                let (outcome, initial) = match handle(&shared, &mut subs, &mut next_sub, &method, &params) {
                                    Ok((value, initial)) => (Ok(value), initial),
                                    Err(e) => (Err(e), None),
                                };
                                if let Some(id) = id {
                                    ws.send(WsMessage::text(rpc::response(id, outcome))).await?;
                                }
                                // After the {Id} answer: jsxapi only listens once it knows the subscription id.
                                initial.map(|event| rpc::notification("xFeedback/Event", event))
                            }
                        }
                    }
                    Ok(_) => None,
                };
                if let Some(reply) = reply {
                    ws.send(WsMessage::text(reply)).await?;
                }
            }
            delta = feedback.recv() => {
                let delta = match delta {
                    Ok(d) => d,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "simulator: slow client missed feedback");
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                };
                for (id, query) in &subs {
                    if let Some(Value::Object(mut event)) = tree::select(&delta, query) {
                        event.insert("Id".into(), Value::from(*id));
                        ws.send(WsMessage::text(rpc::notification("xFeedback/Event", Value::Object(event)))).await?;
                    }
                }
            }
            _ = kick.changed() => return Ok(()),
        }
    }
}

/// Answers one request; the second value is an initial feedback event to send after the answer
/// (`NotifyCurrentValue`).
fn handle(
    shared: &Shared,
    subs: &mut Vec<(u64, Path)>,
    next_sub: &mut u64,
    method: &str,
    params: &Value,
) -> Result<(Value, Option<Value>), RpcError> {
    let bad = |cause: String| RpcError::new(rpc::INVALID_PARAMS, "Invalid or missing parameters", cause);
    match method {
        "xFeedback/Subscribe" => {
            let query = tree::parse_path(params.get("Query").unwrap_or(&Value::Null)).map_err(|e| bad(e.to_string()))?;
            if subs.len() >= MAX_SUBSCRIPTIONS {
                return Err(RpcError::new(rpc::COMMAND_ERROR, "Too many subscriptions", format!("at most {MAX_SUBSCRIPTIONS}")));
            }
            let id = *next_sub;
            *next_sub += 1;
            let notify = params.get("NotifyCurrentValue").and_then(Value::as_bool).unwrap_or(false);
            let initial = notify
                .then(|| tree::select(lock(&shared.device).tree(), &query))
                .flatten()
                .and_then(|v| match v {
                    Value::Object(mut m) => {
                        m.insert("Id".into(), Value::from(id));
                        Some(Value::Object(m))
                    }
                    _ => None,
                });
            subs.push((id, query));
            Ok((json!({ "Id": id }), initial))
        }
        "xFeedback/Unsubscribe" => {
            let id = params.get("Id").and_then(Value::as_u64).ok_or_else(|| bad("Id is required".into()))?;
            let before = subs.len();
            subs.retain(|(s, _)| *s != id);
            if subs.len() == before {
                return Err(RpcError::new(rpc::COMMAND_ERROR, "No such subscription", id.to_string()));
            }
            Ok((Value::Bool(true), None))
        }
        _ => {
            if let Some(sim) = parse_sim(method, params) {
                return sim_method(shared, sim?).map(|v| (v, None));
            }
            let mut device = lock(&shared.device);
            let out = device.handle_request(method, params);
            shared.publish(&mut device);
            out.map(|v| (v, None))
        }
    }
}

fn sim_method(shared: &Shared, method: SimMethod) -> Result<Value, RpcError> {
    match method {
        SimMethod::Control(op) => {
            let mut device = lock(&shared.device);
            let out = device.control(op);
            shared.publish(&mut device);
            out
        }
        SimMethod::JoinButton(at) => Ok(match lock(&shared.device).join_button(at) {
            Some((id, number)) => json!({"BookingId": id, "Number": number}),
            None => json!({}),
        }),
        SimMethod::Fault(fault) => {
            lock(&shared.faults).push(fault);
            Ok(json!({"status": "OK"}))
        }
    }
}
