//! Kept flows: the node dials out, answers the peer's requests on that connection, pings it
//! with CRLF (RFC 5626 §4.4.1), and dials again when the peer drops it.

use std::time::Duration;

use causeway_io::{Event, Io, KeptFlow};
use causeway_sip::Transport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::*;

async fn accept(listener: &TcpListener) -> TcpStream {
    let (stream, _) = tokio::time::timeout(WAIT, listener.accept()).await.expect("a connection in time").expect("accept");
    stream
}

async fn read_some(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(WAIT, stream.read(&mut buf)).await.expect("bytes in time").expect("read");
    buf.truncate(n);
    buf
}

#[tokio::test]
async fn a_kept_flow_carries_the_peers_requests_pings_and_comes_back_after_a_drop() {
    let edge = TcpListener::bind(localhost()).await.expect("bind");
    let edge_addr = edge.local_addr().expect("addr");
    let mut io = Io::bind(config(Vec::new())).expect("io");
    let target = KeptFlow {
        transport: Transport::Tcp,
        destination: edge_addr,
        server_name: None,
        ping_interval: Duration::from_millis(200),
        retry_base: Duration::from_millis(100),
        retry_max: Duration::from_secs(2),
    };
    io.keep_flow(target).expect("keep");

    // The node dialled out; the edge sends a request down the connection.
    let mut first = accept(&edge).await;
    first.write_all(&options("down1", Transport::Tcp, 0)).await.expect("write");
    let request = next_message(&mut io).await;
    assert_eq!((request.transport, request.peer), (Transport::Tcp, edge_addr));
    let flow = request.flow.expect("a flow");
    // A response goes back up the same connection.
    io.send(causeway_io::Outbound { flow: Some(flow), ..causeway_io::Outbound::new(ok_response("down1", Transport::Tcp), Transport::Tcp, edge_addr) })
        .expect("send");
    let answer = read_some(&mut first).await;
    assert!(answer.starts_with(b"SIP/2.0 200 OK\r\n"), "{}", String::from_utf8_lossy(&answer));
    // RFC 5626 §4.4.1: a double-CRLF ping within the interval; the pong is a single CRLF.
    let ping = read_some(&mut first).await;
    assert_eq!(ping, b"\r\n\r\n");
    first.write_all(b"\r\n").await.expect("pong");

    // The edge drops the connection: the node reports it closed and dials again.
    drop(first);
    match next_event(&mut io).await {
        Event::FlowClosed { flow: closed, .. } => assert_eq!(closed, flow),
        other => panic!("expected the flow to close, got {other:?}"),
    }
    let mut second = accept(&edge).await;
    second.write_all(&options("down2", Transport::Tcp, 0)).await.expect("write");
    let again = next_message(&mut io).await;
    assert_ne!(again.flow, Some(flow), "a new connection is a new flow");
    // Sending to the edge's address uses the kept connection, not a new one.
    io.send(causeway_io::Outbound::new(ok_response("down2", Transport::Tcp), Transport::Tcp, edge_addr)).expect("send");
    let answer = read_some(&mut second).await;
    assert!(answer.starts_with(b"SIP/2.0 200 OK\r\n"), "{}", String::from_utf8_lossy(&answer));
}
