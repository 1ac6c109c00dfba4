//! Calls and requests through a running node.

use std::time::Duration;

use causeway_proxy::NextHop;
use causeway_sip::{Method, StatusCode, Transport};
use tokio::net::TcpStream;

use crate::*;

#[tokio::test]
async fn udp_invite_is_proxied_and_the_answer_comes_back() {
    let uas = udp_peer().await;
    let uac = udp_peer().await;
    let node = Running::start(node_to(udp_hop(uas.local_addr().expect("addr")), None));
    let via = format!("SIP/2.0/UDP {}", uac.local_addr().expect("addr"));
    let invite = request("INVITE", "sip:bob@example.com", &via, "call1");
    uac.send_to(invite.as_bytes(), node.udp).await.expect("send");

    let (trying, from) = recv_text(&uac).await;
    assert_eq!((status_line(&trying), from), ("SIP/2.0 100 Trying", node.udp));
    let (forwarded, from) = recv_text(&uas).await;
    assert_eq!(from, node.udp, "forwarded from the listener socket");
    assert!(forwarded.starts_with("INVITE sip:bob@example.com SIP/2.0\r\n"), "{forwarded}");
    assert!(forwarded.contains(&format!("Via: SIP/2.0/UDP {};branch=z9hG4bK", node.udp)), "{forwarded}");
    assert!(forwarded.contains("Max-Forwards: 69\r\n"), "{forwarded}");

    uas.send_to(respond(&forwarded, "200 OK").as_bytes(), node.udp).await.expect("answer");
    let (ok, _) = recv_text(&uac).await;
    assert_eq!(status_line(&ok), "SIP/2.0 200 OK");
    assert_eq!(ok.matches("Via:").count(), 1, "the node's Via is removed: {ok}");

    let stats = node.stop().await;
    assert_eq!(stats.proxy.requests_received.get(&Method::Invite), 1);
    assert_eq!(stats.proxy.responses_sent.get(StatusCode::OK), 1);
    assert_eq!((stats.io.udp_received, stats.io.udp_sent), (2, 3));
}

#[tokio::test]
async fn options_to_the_node_over_tcp_is_answered_on_the_same_connection() {
    let node = Running::start(node_to(udp_hop(localhost()), None));
    let tcp = node.tcp.expect("a TCP listener");
    let mut client = TcpStream::connect(tcp).await.expect("connect");
    let via = format!("SIP/2.0/TCP {}", client.local_addr().expect("addr"));
    write(&mut client, &request("OPTIONS", &format!("sip:{tcp}"), &via, "ping1")).await;
    let answer = read_response(&mut client).await;
    assert_eq!(status_line(&answer), "SIP/2.0 200 OK", "{answer}");
    let stats = node.stop().await;
    assert_eq!(stats.io.connections_opened, 0, "the answer used the inbound connection");
}

#[tokio::test]
async fn unanswered_request_gets_408_when_timer_f_fires() {
    let black_hole = udp_peer().await;
    let uac = udp_peer().await;
    // T1 = 10 ms: Timer F fires after 64*T1 = 640 ms, driven by the node's one timer.
    let node = Running::start(node_to(udp_hop(black_hole.local_addr().expect("addr")), Some(Duration::from_millis(10))));
    let via = format!("SIP/2.0/UDP {}", uac.local_addr().expect("addr"));
    uac.send_to(request("OPTIONS", "sip:bob@example.com", &via, "lost1").as_bytes(), node.udp).await.expect("send");

    let (timeout, _) = recv_text(&uac).await;
    assert_eq!(status_line(&timeout), "SIP/2.0 408 Request Timeout", "{timeout}");
    // Timer E retransmitted the request to the black hole (RFC 3261 §17.1.2.2).
    let mut copies = 0;
    while tokio::time::timeout(Duration::from_millis(50), black_hole.recv_from(&mut [0; 4096])).await.is_ok() {
        copies += 1;
    }
    assert!(copies > 3, "only {copies} copies reached the next hop");
    let stats = node.stop().await;
    assert_eq!(stats.proxy.responses_sent.get(StatusCode::REQUEST_TIMEOUT), 1);
}

#[tokio::test]
async fn refused_tcp_next_hop_is_a_transport_error_and_the_caller_gets_an_error_response() {
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind(localhost()).expect("bind").local_addr().expect("addr");
    let uac = udp_peer().await;
    let node = Running::start(node_to(NextHop { transport: Transport::Tcp, address: closed, flow: None }, None));
    let via = format!("SIP/2.0/UDP {}", uac.local_addr().expect("addr"));
    uac.send_to(request("OPTIONS", "sip:bob@example.com", &via, "refused1").as_bytes(), node.udp).await.expect("send");
    let (answer, _) = recv_text(&uac).await;
    // RFC 3261 §16.7 step 6: the branch's 503 goes upstream as 500.
    assert_eq!(status_line(&answer), "SIP/2.0 500 Server Internal Error", "{answer}");
    let stats = node.stop().await;
    assert_eq!((stats.io.connect_failures, stats.proxy.transport_errors), (1, 1));
}
