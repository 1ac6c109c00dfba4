//! OPTIONS keepalive over real sockets: one peer answers, one (found through the loopback DNS
//! responder) stays silent; the published peer states follow.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use causeway_io::ListenerConfig;
use causeway_node::{Node, NodeConfig};
use causeway_routing::PeerState;
use causeway_testdns::{DnsTable, TestDns};

use crate::*;

#[tokio::test]
async fn an_answering_peer_is_up_a_silent_one_found_by_dns_goes_down() {
    let answering = udp_peer().await;
    let silent = udp_peer().await;
    let answering_addr = answering.local_addr().expect("addr");
    let silent_port = silent.local_addr().expect("addr").port();
    let dns = TestDns::start(DnsTable::new().address("pbx.cluster.test", IpAddr::from([127, 0, 0, 1]), 60)).expect("dns");
    let zones = format!(
        r#"
[[zone]]
name = "cucm"
kind = "neighbor"
keepalive = {{ interval_secs = 1, timeout_secs = 1, failures_before_down = 2, successes_before_up = 1 }}
[[zone.peer]]
address = "{answering_addr}"
transport = "udp"
[[zone.peer]]
address = "pbx.cluster.test:{silent_port}"
transport = "udp"
priority = 2
"#
    );
    let table = causeway_routing::config::load(&zones).expect("zones");
    let mut config = NodeConfig::new(vec![ListenerConfig::udp(localhost())], Vec::new());
    config.routing = Some(Arc::new(table));
    config.dns.servers = vec![dns.addr()];
    config.dns.timeout = Duration::from_millis(500);
    let node = Running::start(Node::build(config).expect("build"));

    let (options, from) = recv_text(&answering).await;
    assert_eq!(from, node.udp);
    assert!(options.starts_with(&format!("OPTIONS sip:{answering_addr};transport=udp SIP/2.0\r\n")), "{options}");
    assert!(options.contains(&format!("Contact: <sip:{}", node.udp)), "{options}");
    answering.send_to(respond(&options, "200 OK").as_bytes(), from).await.expect("answer");
    let answerer = tokio::spawn(async move {
        loop {
            let (options, from) = recv_text(&answering).await;
            answering.send_to(respond(&options, "200 OK").as_bytes(), from).await.expect("answer");
        }
    });
    let (to_silent, _) = recv_text(&silent).await;
    assert!(to_silent.starts_with(&format!("OPTIONS sip:pbx.cluster.test:{silent_port};transport=udp")), "{to_silent}");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    let states = loop {
        let peers = node.stats.snapshot().peers;
        let states: Vec<(String, PeerState)> = peers.into_iter().map(|p| (p.peer, p.state)).collect();
        if states.iter().all(|(_, s)| *s != PeerState::Unknown) || tokio::time::Instant::now() > deadline {
            break states;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        states,
        [(answering_addr.to_string(), PeerState::Up), (format!("pbx.cluster.test:{silent_port}"), PeerState::Down)]
    );
    let health = node.stats.snapshot().health.expect("health");
    assert_eq!(
        health.peer("cucm", &format!("pbx.cluster.test:{silent_port}")).map(|p| p.addresses.clone()),
        Some(vec![IpAddr::from([127, 0, 0, 1])])
    );
    assert!(dns.asked().iter().any(|a| a.name == "pbx.cluster.test" && a.kind == "A"));
    answerer.abort();
    node.stop().await;
}
