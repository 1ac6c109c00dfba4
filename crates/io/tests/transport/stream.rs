//! TCP: framing across partial reads, pipelining, keep-alives, limits, idle timeout, connection reuse, aliases.

use std::time::Duration;

use causeway_io::{Event, Limits, ListenerConfig, Outbound};
use causeway_sip::Transport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{addr, bind, config, config_with, localhost, next_event, next_message, ok_response, options, WAIT};

async fn connect(to: std::net::SocketAddr) -> TcpStream {
    TcpStream::connect(to).await.expect("connect")
}

/// Reads exactly `len` bytes, bounded in time.
async fn read_exact(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    tokio::time::timeout(WAIT, stream.read_exact(&mut buf)).await.expect("read in time").expect("read");
    buf
}

/// True when the peer closed (EOF or reset) within the wait.
async fn closed_by_peer(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match tokio::time::timeout(WAIT, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn message_written_in_three_pieces_is_framed_once() {
    let mut edge = bind(config(vec![ListenerConfig::tcp(localhost())]));
    let mut client = connect(addr(&edge, Transport::Tcp)).await;
    let message = options("pieces", Transport::Tcp, 40);
    let (a, rest) = message.split_at(30);
    let (b, c) = rest.split_at(rest.len() - 20);
    for piece in [a, b, c] {
        client.write_all(piece).await.expect("write");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let got = next_message(&mut edge).await;
    assert_eq!(got.bytes, message);
    assert_eq!(got.transport, Transport::Tcp);
    assert_eq!(got.peer, client.local_addr().expect("addr"));
    assert!(got.flow.is_some());
}

#[tokio::test]
async fn pipelined_messages_in_one_write_arrive_in_order() {
    let mut edge = bind(config(vec![ListenerConfig::tcp(localhost())]));
    let mut client = connect(addr(&edge, Transport::Tcp)).await;
    let (first, second) = (options("pipe1", Transport::Tcp, 5), options("pipe2", Transport::Tcp, 0));
    client.write_all(&[first.as_ref(), b"\r\n", second.as_ref()].concat()).await.expect("write");
    let one = next_message(&mut edge).await;
    let two = next_message(&mut edge).await;
    assert_eq!((one.bytes, two.bytes), (first, second));
    assert_eq!(one.flow, two.flow);
    assert_eq!(edge.stats().stream_received, 2);
}

#[tokio::test]
async fn double_crlf_ping_gets_a_single_crlf_pong() {
    let mut edge = bind(config(vec![ListenerConfig::tcp(localhost())]));
    let mut client = connect(addr(&edge, Transport::Tcp)).await;
    client.write_all(b"\r\n\r\n").await.expect("ping");
    assert_eq!(read_exact(&mut client, 2).await, b"\r\n");
    // The connection still carries messages after a keep-alive.
    let message = options("afterping", Transport::Tcp, 0);
    client.write_all(&message).await.expect("write");
    assert_eq!(next_message(&mut edge).await.bytes, message);
    assert_eq!(edge.stats().keepalive_pongs, 1);
}

#[tokio::test]
async fn oversize_message_closes_only_its_connection() {
    let limits = Limits { max_message_size: 2000, ..Limits::default() };
    let mut edge = bind(config_with(vec![ListenerConfig::tcp(localhost())], limits));
    let edge_addr = addr(&edge, Transport::Tcp);
    let mut good = connect(edge_addr).await;
    let mut bad = connect(edge_addr).await;

    bad.write_all(&options("huge", Transport::Tcp, 5000)).await.expect("write");
    assert!(matches!(next_event(&mut edge).await, Event::FlowClosed { .. }));
    assert!(closed_by_peer(&mut bad).await);
    assert_eq!(edge.stats().oversize_closed, 1);

    let message = options("fine", Transport::Tcp, 100);
    good.write_all(&message).await.expect("write");
    assert_eq!(next_message(&mut edge).await.bytes, message);
}

#[tokio::test]
async fn bad_content_length_closes_the_connection() {
    let mut edge = bind(config(vec![ListenerConfig::tcp(localhost())]));
    let mut client = connect(addr(&edge, Transport::Tcp)).await;
    client
        .write_all(b"INVITE sip:a@example.com SIP/2.0\r\nContent-Length: -999\r\n\r\n")
        .await
        .expect("write");
    assert!(matches!(next_event(&mut edge).await, Event::FlowClosed { .. }));
    assert!(closed_by_peer(&mut client).await);
    assert_eq!(edge.stats().framing_closed, 1);
}

#[tokio::test]
async fn idle_connection_is_closed() {
    let limits = Limits { idle_timeout: Duration::from_millis(200), ..Limits::default() };
    let mut edge = bind(config_with(vec![ListenerConfig::tcp(localhost())], limits));
    let mut client = connect(addr(&edge, Transport::Tcp)).await;
    let message = options("idle", Transport::Tcp, 0);
    client.write_all(&message).await.expect("write");
    let flow = next_message(&mut edge).await.flow;
    match next_event(&mut edge).await {
        Event::FlowClosed { flow: closed, peer, .. } => {
            assert_eq!(Some(closed), flow);
            assert_eq!(peer, client.local_addr().expect("addr"));
        }
        other => panic!("expected the idle flow to close, got {other:?}"),
    }
    assert!(closed_by_peer(&mut client).await);
    assert_eq!(edge.stats().idle_closed, 1);
    assert_eq!(edge.open_flows(), 0);
}

#[tokio::test]
async fn connections_over_the_per_ip_limit_are_refused() {
    let limits = Limits { max_connections_per_ip: 2, ..Limits::default() };
    let mut edge = bind(config_with(vec![ListenerConfig::tcp(localhost())], limits));
    let edge_addr = addr(&edge, Transport::Tcp);
    let mut first = connect(edge_addr).await;
    let mut second = connect(edge_addr).await;
    // Both admitted connections deliver before the third is tried, so the order of accepts is fixed.
    for (i, client) in [&mut first, &mut second].into_iter().enumerate() {
        let message = options(&format!("limit{i}"), Transport::Tcp, 0);
        client.write_all(&message).await.expect("write");
        assert_eq!(next_message(&mut edge).await.bytes, message);
    }
    let mut third = connect(edge_addr).await;
    assert!(closed_by_peer(&mut third).await, "the third connection is closed at accept");
    assert_eq!(edge.stats().connections_refused, 1);

    // Closing one frees its place.
    drop(first);
    assert!(matches!(next_event(&mut edge).await, Event::FlowClosed { .. }));
    let mut fourth = connect(edge_addr).await;
    let message = options("limit4", Transport::Tcp, 0);
    fourth.write_all(&message).await.expect("write");
    assert_eq!(next_message(&mut edge).await.bytes, message);
    assert_eq!(edge.stats().connections_accepted, 3);
}

#[tokio::test]
async fn total_connection_limit_is_enforced() {
    let limits = Limits { max_connections: 1, ..Limits::default() };
    let mut edge = bind(config_with(vec![ListenerConfig::tcp(localhost())], limits));
    let edge_addr = addr(&edge, Transport::Tcp);
    let mut first = connect(edge_addr).await;
    let message = options("total", Transport::Tcp, 0);
    first.write_all(&message).await.expect("write");
    assert_eq!(next_message(&mut edge).await.bytes, message);
    let mut second = connect(edge_addr).await;
    assert!(closed_by_peer(&mut second).await);
    assert_eq!(edge.stats().connections_refused, 1);
}

#[tokio::test]
async fn reply_to_the_peer_goes_down_the_inbound_connection() {
    let mut edge = bind(config(vec![ListenerConfig::tcp(localhost())]));
    let mut client = connect(addr(&edge, Transport::Tcp)).await;
    client.write_all(&options("reuse", Transport::Tcp, 0)).await.expect("write");
    let request = next_message(&mut edge).await;

    // By address alone (RFC 3261 §18.2.2: the source address of the request).
    let reply = ok_response("reuse", Transport::Tcp);
    let used = edge.send(Outbound::new(reply.clone(), Transport::Tcp, request.peer)).expect("send");
    assert_eq!(used, request.flow);
    assert_eq!(read_exact(&mut client, reply.len()).await, reply);

    // By flow, even when the destination names another address.
    let other = "127.0.0.1:9".parse().expect("addr");
    let out = Outbound { flow: request.flow, ..Outbound::new(reply.clone(), Transport::Tcp, other) };
    assert_eq!(edge.send(out).expect("send"), request.flow);
    assert_eq!(read_exact(&mut client, reply.len()).await, reply);
    assert_eq!(edge.stats().connections_opened, 0, "no new connection was opened");
}

#[tokio::test]
async fn alias_routes_requests_for_the_senders_via_address_down_its_connection() {
    let mut edge = bind(config(vec![ListenerConfig::tcp(localhost())]));
    let mut client = connect(addr(&edge, Transport::Tcp)).await;
    client.write_all(&options("alias", Transport::Tcp, 0)).await.expect("write");
    let request = next_message(&mut edge).await;
    let flow = request.flow.expect("flow");
    let sent_by = "127.0.0.1:5999".parse().expect("addr");
    assert!(edge.alias(flow, sent_by));
    let message = options("toclient", Transport::Tcp, 3);
    assert_eq!(edge.send(Outbound::new(message.clone(), Transport::Tcp, sent_by)).expect("send"), Some(flow));
    assert_eq!(read_exact(&mut client, message.len()).await, message);
}

#[tokio::test]
async fn outbound_tcp_is_reused_both_ways_and_refusal_is_reported() {
    let mut alice = bind(config(vec![ListenerConfig::tcp(localhost())]));
    let mut edge = bind(config(vec![ListenerConfig::tcp(localhost())]));
    let edge_addr = addr(&edge, Transport::Tcp);

    let first = options("out1", Transport::Tcp, 0);
    let flow = alice.send(Outbound::new(first.clone(), Transport::Tcp, edge_addr)).expect("send");
    let second = options("out2", Transport::Tcp, 0);
    assert_eq!(alice.send(Outbound::new(second.clone(), Transport::Tcp, edge_addr)).expect("send"), flow);
    let got = next_message(&mut edge).await;
    assert_eq!(got.bytes, first);
    assert_eq!(next_message(&mut edge).await.bytes, second);

    let reply = ok_response("out1", Transport::Tcp);
    edge.send(Outbound::new(reply.clone(), Transport::Tcp, got.peer)).expect("reply");
    let back = next_message(&mut alice).await;
    assert_eq!((back.bytes, back.flow, back.peer), (reply, flow, edge_addr));
    assert_eq!(alice.stats().connections_opened, 1);

    // Nothing listens on the port edge's listener had once it is gone: connect is refused, and reported.
    drop(edge);
    let closed = loop {
        if let Event::FlowClosed { flow: closed, .. } = next_event(&mut alice).await {
            break closed;
        }
    };
    assert_eq!(Some(closed), flow);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let retry = alice.send(Outbound::new(options("out3", Transport::Tcp, 0), Transport::Tcp, edge_addr)).expect("send");
    assert_ne!(retry, flow, "a closed flow is never reused");
    match next_event(&mut alice).await {
        Event::TransportError(error) => {
            assert_eq!((error.transport, error.destination, Some(error.flow)), (Transport::Tcp, edge_addr, retry));
            assert_eq!(error.kind, causeway_io::TransportErrorKind::Connect(std::io::ErrorKind::ConnectionRefused));
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(matches!(next_event(&mut alice).await, Event::FlowClosed { .. }));
}

#[tokio::test]
async fn send_queue_to_a_peer_that_stops_reading_is_bounded() {
    let limits = Limits { send_queue: 4, ..Limits::default() };
    let mut edge = bind(config_with(Vec::new(), limits));
    // A peer that accepts and never reads: once the kernel buffers are full, the writer blocks.
    let stalled = tokio::net::TcpListener::bind(localhost()).await.expect("bind");
    let peer = stalled.local_addr().expect("addr");
    let accept = tokio::spawn(async move { stalled.accept().await });
    let big = options("stall", Transport::Tcp, 60_000);
    let mut refused = None;
    for sent in 0..2_000 {
        match edge.send(Outbound::new(big.clone(), Transport::Tcp, peer)) {
            Ok(_) => tokio::task::yield_now().await,
            Err(error) => {
                refused = Some((sent, error));
                break;
            }
        }
    }
    let (sent, error) = refused.expect("the queue fills before 2000 x 60 KB are accepted");
    assert!(matches!(error, causeway_io::SendError::QueueFull { destination } if destination == peer), "{error}");
    assert!(sent > 4, "the kernel took some before the queue filled ({sent})");
    assert_eq!(edge.stats().send_queue_dropped, 1);
    let _held = accept.await.expect("accept task").expect("accepted");
}
