//! A node built from a configuration file's text, and stopped by its shutdown future.

use std::path::Path;

use causeway_config::Config;
use causeway_node::{Node, NodeConfig};
use causeway_sip::{Method, Transport};

use crate::*;

#[tokio::test]
async fn node_from_a_config_file_binds_ephemeral_ports_answers_and_stops() {
    let toml = r#"
        [node]
        name = "test-edge"

        [[listener]]
        transport = "udp"
        address = "127.0.0.1:0"

        [[listener]]
        transport = "tcp"
        address = "127.0.0.1:0"

        [[route]]
        default = true
        next_hop = "sip:127.0.0.1:5080;transport=udp"
    "#;
    let config = Config::parse(toml, "test.toml", Path::new(".")).expect("valid config");
    let node = Node::build(NodeConfig::from_config(&config)).expect("build");
    let bound: Vec<_> = node.listeners().iter().map(|l| (l.transport, l.local.port() != 0)).collect();
    assert_eq!(bound, [(Transport::Udp, true), (Transport::Tcp, true)]);

    let node = Running::start(node);
    let uac = udp_peer().await;
    let via = format!("SIP/2.0/UDP {}", uac.local_addr().expect("addr"));
    uac.send_to(request("OPTIONS", &format!("sip:{}", node.udp), &via, "cfg1").as_bytes(), node.udp).await.expect("send");
    let (answer, _) = recv_text(&uac).await;
    assert_eq!(status_line(&answer), "SIP/2.0 200 OK");
    assert!(answer.contains("Server: Causeway\r\n"), "{answer}");

    let live = node.stats.clone();
    let stats = node.stop().await;
    assert_eq!(stats.proxy.requests_received.get(&Method::Options), 1);
    assert_eq!(live.snapshot(), stats, "the handle reads the final counters after the node stopped");
}

#[test]
fn a_port_in_use_is_a_build_error() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let taken = std::net::UdpSocket::bind(localhost()).expect("bind");
        let addr = taken.local_addr().expect("addr");
        let config = NodeConfig::new(vec![causeway_io::ListenerConfig::udp(addr)], Vec::new());
        let error = Node::build(config).err().expect("bind must fail");
        assert!(error.to_string().contains(&addr.to_string()), "{error}");
    });
}
