//! Helpers: listener configs, bounded waits, raw stream clients, SIP test messages.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use causeway_io::{Event, Inbound, Io, IoConfig, Limits, ListenerConfig};
use causeway_sip::Transport;

/// Upper bound for anything a test waits for.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

pub(crate) fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

pub(crate) fn config(listeners: Vec<ListenerConfig>) -> IoConfig {
    IoConfig { listeners, ..IoConfig::default() }
}

pub(crate) fn config_with(listeners: Vec<ListenerConfig>, limits: Limits) -> IoConfig {
    IoConfig { listeners, limits, ..IoConfig::default() }
}

/// The bound address of the first listener of `transport`.
pub(crate) fn addr(io: &Io, transport: Transport) -> SocketAddr {
    io.listeners()
        .iter()
        .find(|l| l.transport == transport)
        .map(|l| l.local)
        .unwrap_or_else(|| panic!("no {transport} listener"))
}

pub(crate) async fn next_event(io: &mut Io) -> Event {
    tokio::time::timeout(WAIT, io.recv()).await.unwrap_or_else(|_| panic!("no event within {WAIT:?}"))
}

pub(crate) async fn next_message(io: &mut Io) -> Inbound {
    match next_event(io).await {
        Event::Message(inbound) => inbound,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// An OPTIONS request with a body of `body_len` bytes, framed by Content-Length.
pub(crate) fn options(tag: &str, transport: Transport, body_len: usize) -> Bytes {
    let body = "x".repeat(body_len);
    Bytes::from(format!(
        "OPTIONS sip:edge@example.com SIP/2.0\r\n\
         Via: SIP/2.0/{transport} client.example.com;branch=z9hG4bK{tag}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@example.com>;tag={tag}\r\n\
         To: <sip:edge@example.com>\r\n\
         Call-ID: {tag}@client.example.com\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: {body_len}\r\n\
         \r\n{body}"
    ))
}

/// A 200 response, framed by Content-Length, for replies in tests.
pub(crate) fn ok_response(tag: &str, transport: Transport) -> Bytes {
    Bytes::from(format!(
        "SIP/2.0 200 OK\r\n\
         Via: SIP/2.0/{transport} client.example.com;branch=z9hG4bK{tag}\r\n\
         From: <sip:alice@example.com>;tag={tag}\r\n\
         To: <sip:edge@example.com>;tag=edge\r\n\
         Call-ID: {tag}@client.example.com\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\
         \r\n"
    ))
}

pub(crate) fn bind(config: IoConfig) -> Io {
    Io::bind(config).unwrap_or_else(|e| panic!("bind: {e}"))
}
