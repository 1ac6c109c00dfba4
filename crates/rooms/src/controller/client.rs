//! One xAPI connection from the controller to a device: `ws://` or `wss://` (rustls, verified against a CA
//! file or the system roots, or not at all for lab devices that say so), HTTP Basic auth on the upgrade,
//! JSON-RPC requests with a timeout, and the `xFeedback/Event` notifications that arrive meanwhile.

use crate::rpc::{self, Message, RpcError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::Value;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, Uri};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::WebSocketStream;

/// How a `wss://` device certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsVerify {
    /// Against the operating system's trust store.
    SystemRoots,
    /// Against the CA certificates (PEM) in this file; the device's own self-signed certificate works too.
    CaFile(PathBuf),
    /// Not at all (explicit opt-in for lab devices): the link is encrypted but not authenticated.
    Insecure,
}

/// Where and how to reach one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTarget {
    /// `wss://host[:port]/ws` or `ws://…`.
    pub url: String,
    /// xAPI user.
    pub username: String,
    /// xAPI password.
    pub password: String,
    /// Certificate checking for `wss://`.
    pub tls: TlsVerify,
}

/// Why a connection or a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not `ws://` or `wss://` with a host.
    #[error("bad device URL {url:?}: expected ws://host[:port]/ws or wss://host[:port]/ws")]
    BadUrl {
        /// The URL given.
        url: String,
    },
    /// TCP connect or TLS handshake failed.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The device URL.
        url: String,
        /// The socket or TLS error.
        source: std::io::Error,
    },
    /// The CA file could not be used.
    #[error("CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// rustls refused the client configuration.
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
    /// The WebSocket upgrade or the WebSocket itself failed (401 lands here).
    #[error("WebSocket error with {url}: {source}")]
    WebSocket {
        /// The device URL.
        url: String,
        /// The protocol error.
        source: Box<tungstenite::Error>,
    },
    /// The device closed the connection.
    #[error("device closed the connection")]
    Closed,
    /// No answer in time.
    #[error("no answer to {method} within {timeout:?}")]
    Timeout {
        /// The request method.
        method: String,
        /// The time allowed.
        timeout: Duration,
    },
    /// The device answered with a JSON-RPC error.
    #[error("{method} failed: {error}")]
    Rpc {
        /// The request method.
        method: String,
        /// The device's error.
        error: RpcError,
    },
    /// The device sent more than [`MAX_QUEUED_EVENTS`] feedback events while a request was pending.
    #[error("device flooded feedback events while waiting for {method}")]
    FeedbackFlood {
        /// The request method.
        method: String,
    },
    /// The device sent something that is not JSON-RPC.
    #[error("device sent an unreadable message: {0}")]
    BadMessage(RpcError),
}

/// Most feedback events kept while waiting for an answer; a device flooding more is treated as broken (the
/// session ends and the next one reads the state afresh) rather than allowed to grow memory.
pub const MAX_QUEUED_EVENTS: usize = 4096;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open xAPI session.
pub struct XapiClient {
    url: String,
    ws: WebSocketStream<Box<dyn Io>>,
    next_id: u64,
    timeout: Duration,
    queued: VecDeque<Value>,
}

fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")))
}

impl XapiClient {
    /// Connects and authenticates; `timeout` bounds the connect and every later request.
    pub async fn connect(target: &DeviceTarget, timeout: Duration) -> Result<XapiClient, ClientError> {
        let url = target.url.clone();
        let bad_url = || ClientError::BadUrl { url: url.clone() };
        let uri: Uri = url.parse().map_err(|_| bad_url())?;
        let secure = match uri.scheme_str() {
            Some("wss") => true,
            Some("ws") => false,
            _ => return Err(bad_url()),
        };
        let host = uri.host().ok_or_else(bad_url)?.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let connect_err = |source| ClientError::Connect { url: url.clone(), source };
        let connecting = async {
            let tcp = TcpStream::connect((host.as_str(), port)).await.map_err(connect_err)?;
            let _ = tcp.set_nodelay(true);
            let io: Box<dyn Io> = if secure {
                let config = client_tls(&target.tls)?;
                let name = ServerName::try_from(host.clone()).map_err(|_| bad_url())?;
                let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(connect_err)?;
                Box::new(tls)
            } else {
                Box::new(tcp)
            };
            let mut request = url.as_str().into_client_request().map_err(|e| ClientError::WebSocket {
                url: url.clone(),
                source: Box::new(e),
            })?;
            let auth = HeaderValue::from_str(&basic(&target.username, &target.password)).map_err(|_| bad_url())?;
            request.headers_mut().insert(header::AUTHORIZATION, auth);
            let config = WebSocketConfig::default().max_message_size(Some(crate::sim::MAX_MESSAGE));
            let (ws, _) = tokio_tungstenite::client_async_with_config(request, io, Some(config))
                .await
                .map_err(|e| ClientError::WebSocket { url: url.clone(), source: Box::new(e) })?;
            Ok::<_, ClientError>(ws)
        };
        let ws = tokio::time::timeout(timeout, connecting)
            .await
            .map_err(|_| ClientError::Timeout { method: "connect".into(), timeout })??;
        Ok(XapiClient { url, ws, next_id: 1, timeout, queued: VecDeque::new() })
    }

    /// Sends one request and waits for its answer; notifications that arrive first are kept for
    /// [`Self::next_notification`].
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let text = rpc::request(id, method, params);
        let timeout = self.timeout;
        let exchange = async {
            self.ws.send(WsMessage::text(text)).await.map_err(|e| self.ws_err(e))?;
            loop {
                match self.read().await? {
                    Message::Result { id: got, result } if got == id => return Ok(result),
                    Message::Error { id: got, error } if got == id || got.is_null() => {
                        return Err(ClientError::Rpc { method: method.to_owned(), error })
                    }
                    Message::Request { id: None, method: m, params } if m == "xFeedback/Event" => {
                        if self.queued.len() >= MAX_QUEUED_EVENTS {
                            return Err(ClientError::FeedbackFlood { method: method.to_owned() });
                        }
                        self.queued.push_back(params);
                    }
                    other => tracing::debug!(url = %self.url, message = ?other, "ignoring unexpected xAPI message"),
                }
            }
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| ClientError::Timeout { method: method.to_owned(), timeout })?
    }

    /// The next `xFeedback/Event` params (waits without a timeout; the device may be quiet for hours).
    pub async fn next_notification(&mut self) -> Result<Value, ClientError> {
        if let Some(params) = self.queued.pop_front() {
            return Ok(params);
        }
        loop {
            match self.read().await? {
                Message::Request { id: None, method, params } if method == "xFeedback/Event" => return Ok(params),
                other => tracing::debug!(url = %self.url, message = ?other, "ignoring unexpected xAPI message"),
            }
        }
    }

    async fn read(&mut self) -> Result<Message, ClientError> {
        loop {
            let msg = self.ws.next().await.ok_or(ClientError::Closed)?.map_err(|e| self.ws_err(e))?;
            match msg {
                WsMessage::Text(text) => return rpc::parse(text.as_str()).map_err(ClientError::BadMessage),
                WsMessage::Close(_) => return Err(ClientError::Closed),
                _ => continue,
            }
        }
    }

    fn ws_err(&self, e: tungstenite::Error) -> ClientError {
        match e {
            tungstenite::Error::ConnectionClosed
            | tungstenite::Error::AlreadyClosed
            | tungstenite::Error::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => {
                ClientError::Closed
            }
            e => ClientError::WebSocket { url: self.url.clone(), source: Box::new(e) },
        }
    }
}

fn client_tls(verify: &TlsVerify) -> Result<rustls::ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider)).with_safe_default_protocol_versions()?;
    let mut roots = rustls::RootCertStore::empty();
    match verify {
        TlsVerify::Insecure => {
            return Ok(builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
                .with_no_client_auth())
        }
        TlsVerify::SystemRoots => {
            let found = rustls_native_certs::load_native_certs();
            for err in &found.errors {
                tracing::warn!(error = %err, "problem loading a system CA certificate");
            }
            roots.add_parsable_certificates(found.certs);
        }
        TlsVerify::CaFile(path) => {
            let ca_err = |reason: String| ClientError::CaFile { path: path.clone(), reason };
            let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
            let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
                .collect::<Result<_, _>>()
                .map_err(|e| ca_err(e.to_string()))?;
            if certs.is_empty() {
                return Err(ca_err("no PEM certificate in it".into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| ca_err(e.to_string()))?;
            }
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// Accepts any server certificate but still checks the handshake signatures (`TlsVerify::Insecure`).
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
