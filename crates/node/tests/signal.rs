//! SIGTERM stops a running node and `run` returns its final counters. Its own test binary: the signal goes to
//! the whole process, so no other test may share it.

use std::time::Duration;

use causeway_io::ListenerConfig;
use causeway_node::{shutdown_signal, Node, NodeConfig};

#[tokio::test]
async fn sigterm_stops_the_node_gracefully() {
    let listeners = vec![ListenerConfig::udp(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))];
    let node = Node::build(NodeConfig::new(listeners, Vec::new())).expect("build");
    let udp = node.listeners().first().map(|l| l.local).expect("listener");
    let running = tokio::spawn(node.run(shutdown_signal()));
    // Let `run` poll the shutdown future once, which installs the handlers.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let stats = tokio::time::timeout(Duration::from_secs(5), running).await.expect("stops in time").expect("task");
    assert_eq!(stats.io.udp_received, 0);
    // The socket is closed: the port can be bound again.
    tokio::time::sleep(Duration::from_millis(50)).await;
    std::net::UdpSocket::bind(udp).expect("the listener's port is free again");
}
