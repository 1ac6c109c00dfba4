//! ICMP for UDP (Linux): a datagram sent to a closed port comes back as `Event::UdpUnreachable` naming where it
//! went, without anything else arriving to wake the reader, and datagrams keep arriving afterwards.

use causeway_io::{Event, ListenerConfig, Outbound, UdpUnreachable};
use causeway_sip::Transport;

use crate::common::{addr, bind, config, localhost, next_event, next_message, options};

#[tokio::test]
async fn rfc3261_18_4_icmp_port_unreachable_is_reported_with_its_destination() {
    let mut edge = bind(config(vec![ListenerConfig::udp(localhost())]));
    let edge_addr = addr(&edge, Transport::Udp);
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("a free port");
    edge.send(Outbound::new(options("icmp1", Transport::Udp, 0), Transport::Udp, closed)).expect("send");
    match next_event(&mut edge).await {
        Event::UdpUnreachable(u) => {
            assert_eq!(u, UdpUnreachable { local: edge_addr, destination: closed, kind: std::io::ErrorKind::ConnectionRefused });
        }
        other => panic!("expected ICMP port unreachable, got {other:?}"),
    }

    // The receive path still works: the error the kernel also holds for the next read is absorbed.
    let mut alice = bind(config(vec![ListenerConfig::udp(localhost())]));
    let request = options("icmp2", Transport::Udp, 0);
    alice.send(Outbound::new(request.clone(), Transport::Udp, edge_addr)).expect("send");
    assert_eq!(next_message(&mut edge).await.bytes, request);
}

#[tokio::test]
async fn an_earlier_datagrams_icmp_error_does_not_fail_a_send_elsewhere() {
    let mut edge = bind(config(vec![ListenerConfig::udp(localhost())]));
    let mut bob = bind(config(vec![ListenerConfig::udp(localhost())]));
    let bob_addr = addr(&bob, Transport::Udp);
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("a free port");
    edge.send(Outbound::new(options("icmp3", Transport::Udp, 0), Transport::Udp, closed)).expect("send");
    assert!(matches!(next_event(&mut edge).await, Event::UdpUnreachable(_)));
    // The kernel also left that error pending on the socket for its next call, which is this send to Bob: it must
    // go out, not fail as if Bob were unreachable.
    let request = options("icmp4", Transport::Udp, 0);
    edge.send(Outbound::new(request.clone(), Transport::Udp, bob_addr)).expect("a send to a live peer succeeds");
    assert_eq!(next_message(&mut bob).await.bytes, request);
}

#[tokio::test]
async fn send_all_is_not_failed_by_an_earlier_datagrams_icmp_error() {
    let mut edge = bind(config(vec![ListenerConfig::udp(localhost())]));
    let mut bob = bind(config(vec![ListenerConfig::udp(localhost())]));
    let bob_addr = addr(&bob, Transport::Udp);
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("a free port");
    edge.send(Outbound::new(options("icmp5", Transport::Udp, 0), Transport::Udp, closed)).expect("send");
    assert!(matches!(next_event(&mut edge).await, Event::UdpUnreachable(_)));
    let requests: Vec<_> = (0..3).map(|i| options(&format!("icmp6-{i}"), Transport::Udp, i)).collect();
    let mut outs: Vec<_> = requests.iter().map(|r| Outbound::new(r.clone(), Transport::Udp, bob_addr)).collect();
    let mut refused = Vec::new();
    edge.send_all(&mut outs, |i, _, error| refused.push((i, error)));
    assert!(refused.is_empty(), "the pending error is the earlier datagram's, not these: {refused:?}");
    for request in &requests {
        assert_eq!(&next_message(&mut bob).await.bytes, request);
    }
}
