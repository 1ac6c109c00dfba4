//! UDP: round trip between two nodes, replies from the listener port, oversize datagrams dropped, nothing read
//! before the driver asks.

use causeway_io::{Limits, ListenerConfig, Outbound, SendError};
use causeway_sip::Transport;

use crate::common::{addr, bind, config, config_with, localhost, next_message, ok_response, options};

#[tokio::test]
async fn udp_round_trip_reply_comes_from_the_listener_port() {
    let mut alice = bind(config(vec![ListenerConfig::udp(localhost())]));
    let mut edge = bind(config(vec![ListenerConfig::udp(localhost())]));
    let (alice_addr, edge_addr) = (addr(&alice, Transport::Udp), addr(&edge, Transport::Udp));

    let request = options("udp1", Transport::Udp, 0);
    let sent = alice.send(Outbound::new(request.clone(), Transport::Udp, edge_addr)).expect("send");
    assert_eq!(sent, None, "UDP has no flow");

    let got = next_message(&mut edge).await;
    assert_eq!(got.bytes, request);
    assert_eq!((got.transport, got.local, got.peer, got.flow), (Transport::Udp, edge_addr, alice_addr, None));
    assert!(got.tls_peer_names.is_none());

    let reply = ok_response("udp1", Transport::Udp);
    edge.send(Outbound::new(reply.clone(), Transport::Udp, got.peer)).expect("reply");
    let back = next_message(&mut alice).await;
    assert_eq!(back.bytes, reply);
    assert_eq!(back.peer, edge_addr, "the reply leaves from the port alice talked to");
    assert_eq!(edge.stats().udp_received, 1);
    assert_eq!(edge.stats().udp_sent, 1);
}

#[tokio::test]
async fn udp_burst_arrives_whole_and_in_order() {
    let alice = bind(config(vec![ListenerConfig::udp(localhost())]));
    let mut edge = bind(config(vec![ListenerConfig::udp(localhost())]));
    let edge_addr = addr(&edge, Transport::Udp);
    let mut alice = alice;
    let sent: Vec<_> = (0..200).map(|i| options(&format!("burst{i}"), Transport::Udp, i)).collect();
    for message in &sent {
        alice.send(Outbound::new(message.clone(), Transport::Udp, edge_addr)).expect("send");
    }
    for message in &sent {
        assert_eq!(&next_message(&mut edge).await.bytes, message);
    }
}

#[tokio::test]
async fn oversize_datagram_is_dropped_and_counted_and_oversize_send_refused() {
    let limits = Limits { max_message_size: 1000, ..Limits::default() };
    let mut edge = bind(config_with(vec![ListenerConfig::udp(localhost())], limits.clone()));
    let mut alice = bind(config(vec![ListenerConfig::udp(localhost())]));
    let edge_addr = addr(&edge, Transport::Udp);

    alice.send(Outbound::new(options("big", Transport::Udp, 1500), Transport::Udp, edge_addr)).expect("send big");
    let small = options("small", Transport::Udp, 10);
    alice.send(Outbound::new(small.clone(), Transport::Udp, edge_addr)).expect("send small");
    assert_eq!(next_message(&mut edge).await.bytes, small, "the big one never arrives, the next one does");
    assert_eq!(edge.stats().udp_dropped, 1);

    let refused = edge.send(Outbound::new(options("big2", Transport::Udp, 1500), Transport::Udp, edge_addr));
    assert!(matches!(refused, Err(SendError::TooLarge { limit: 1000, .. })), "{refused:?}");
}

#[tokio::test]
async fn udp_send_without_a_listener_of_that_family_is_refused() {
    let mut edge = bind(config(vec![ListenerConfig::udp(localhost())]));
    let v6 = "[::1]:5060".parse().expect("addr");
    let refused = edge.send(Outbound::new(options("v6", Transport::Udp, 0), Transport::Udp, v6));
    assert_eq!(refused, Err(SendError::NoSocket { transport: Transport::Udp, destination: v6 }));
}

#[tokio::test]
async fn datagrams_wait_in_the_socket_until_the_driver_reads_them() {
    let mut edge = bind(config(vec![ListenerConfig::udp(localhost())]));
    let mut alice = bind(config(vec![ListenerConfig::udp(localhost())]));
    let edge_addr = addr(&edge, Transport::Udp);
    let sent: Vec<_> = (0..5).map(|i| options(&format!("q{i}"), Transport::Udp, 700)).collect();
    for message in &sent {
        alice.send(Outbound::new(message.clone(), Transport::Udp, edge_addr)).expect("send");
    }
    // No task reads behind the driver's back: what it has not asked for stays in the kernel's buffer, so a
    // flood can queue no more than the socket buffer holds.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(edge.stats().udp_received, 0);
    for message in &sent {
        assert_eq!(&next_message(&mut edge).await.bytes, message);
    }
    assert_eq!((edge.stats().udp_received, edge.stats().udp_dropped), (5, 0));
}

#[tokio::test]
async fn send_all_sends_a_mixed_batch_in_order_and_names_each_message_refused() {
    let limits = Limits { max_message_size: 1000, ..Limits::default() };
    let mut edge = bind(config_with(vec![ListenerConfig::udp(localhost())], limits));
    let mut alice = bind(config(vec![ListenerConfig::udp(localhost())]));
    let mut bob = bind(config(vec![ListenerConfig::udp(localhost())]));
    let (alice_addr, bob_addr) = (addr(&alice, Transport::Udp), addr(&bob, Transport::Udp));
    let v6: std::net::SocketAddr = "[::1]:5060".parse().expect("addr");
    // More than one sendmmsg(2) batch (32), alternating destinations, with refusals in the middle.
    let mut outs = Vec::new();
    for i in 0..70 {
        let to = if i % 2 == 0 { alice_addr } else { bob_addr };
        outs.push(Outbound::new(options(&format!("all{i}"), Transport::Udp, i), Transport::Udp, to));
        if i == 40 {
            outs.push(Outbound::new(options("too-big", Transport::Udp, 1500), Transport::Udp, alice_addr));
            outs.push(Outbound::new(options("v6", Transport::Udp, 0), Transport::Udp, v6));
        }
    }
    let expected: Vec<_> = outs.iter().map(|o| (o.bytes.clone(), o.destination)).collect();
    let mut refused = Vec::new();
    edge.send_all(&mut outs, |i, out, error| refused.push((i, out.destination, error)));
    assert!(outs.is_empty(), "send_all empties the queue");
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(matches!(refused[0], (41, _, SendError::TooLarge { limit: 1000, .. })), "{refused:?}");
    assert_eq!(refused[1], (42, v6, SendError::NoSocket { transport: Transport::Udp, destination: v6 }));
    for (bytes, to) in expected.iter().filter(|(_, to)| *to != v6).filter(|(b, _)| b.len() <= 1000) {
        let got = if *to == alice_addr { next_message(&mut alice).await } else { next_message(&mut bob).await };
        assert_eq!(&got.bytes, bytes, "each destination gets its datagrams in order");
    }
    assert_eq!(edge.stats().udp_sent, 70);
}
