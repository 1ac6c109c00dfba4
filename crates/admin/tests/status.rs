//! `GET /status` from a running node: a peer that answers OPTIONS shows up, with the time it
//! came up; the endpoint refuses to listen beyond loopback.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use causeway_admin::{fetch, router, AdminError, AdminServer, StatusSource};
use causeway_io::ListenerConfig;
use causeway_node::{Node, NodeConfig};
use tokio::net::UdpSocket;

fn ok_for(options: &str) -> String {
    let mut out = String::from("SIP/2.0 200 OK\r\n");
    for line in options.split("\r\n") {
        match line.split(':').next().unwrap_or_default() {
            "Via" | "From" | "Call-ID" | "CSeq" => out.push_str(&format!("{line}\r\n")),
            "To" => out.push_str(&format!("{line};tag=peer\r\n")),
            _ => {}
        }
    }
    out + "Content-Length: 0\r\n\r\n"
}

#[tokio::test]
async fn status_lists_zones_peers_their_state_and_the_counters() {
    let peer = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let peer_addr = peer.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        while let Ok((len, from)) = peer.recv_from(&mut buf).await {
            let text = String::from_utf8_lossy(buf.get(..len).unwrap_or_default()).into_owned();
            let _ = peer.send_to(ok_for(&text).as_bytes(), from).await;
        }
    });
    let zones = format!(
        "[[zone]]\nname = \"cucm\"\nkind = \"neighbor\"\nkeepalive = {{ interval_secs = 1, timeout_secs = 1 }}\n\
         [[zone.peer]]\naddress = \"{peer_addr}\"\ntransport = \"udp\"\n"
    );
    let table = Arc::new(causeway_routing::config::load(&zones).expect("zones"));
    let mut config = NodeConfig::new(vec![ListenerConfig::udp(SocketAddr::from(([127, 0, 0, 1], 0)))], Vec::new());
    config.routing = Some(Arc::clone(&table));
    let node = Node::build(config).expect("node");
    let source = StatusSource::new("edge-test", Some(table), node.stats_handle());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(node.run(async {
        let _ = stopped.await;
    }));
    let admin = AdminServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), router(source)).await.expect("admin");
    let base = format!("http://{}", admin.local_addr());

    let mut report = fetch(&base).await.expect("status");
    for _ in 0..40 {
        if report.zones.first().and_then(|z| z.peers.first()).is_some_and(|p| p.state == "up") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        report = fetch(&base).await.expect("status");
    }
    assert_eq!(report.node, "edge-test");
    let cucm = report.zones.first().expect("zone");
    assert_eq!((cucm.name.as_str(), cucm.kind.as_str()), ("cucm", "neighbor"));
    let p = cucm.peers.first().expect("peer");
    assert_eq!((p.peer.as_str(), p.transport.as_str(), p.state.as_str()), (peer_addr.to_string().as_str(), "udp", "up"));
    assert!(p.last_change.is_some() && p.since_secs.is_some(), "{p:?}");
    assert!(report.counters.requests_sent.get("OPTIONS").is_some_and(|n| *n >= 1), "{:?}", report.counters);
    assert!(report.counters.responses_received.contains_key("200"));

    admin.stop().await;
    let _ = stop.send(());
    let _ = running.await;
    assert!(fetch(&base).await.is_err(), "a stopped endpoint is unreachable");
}

#[tokio::test]
async fn the_endpoint_listens_on_loopback_only() {
    let addr = SocketAddr::from(([0, 0, 0, 0], 0));
    let refused = AdminServer::start(addr, empty_router()).await;
    assert!(matches!(refused, Err(AdminError::NotLoopback(a)) if a == addr));
}

fn empty_router() -> causeway_admin::Router {
    causeway_admin::Router::new()
}
