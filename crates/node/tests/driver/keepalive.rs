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

/// A CA, and a leaf for `name` only (no IP address in it), written into `dir`: `(ca, cert, key)`.
fn name_only_pki(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("ca key");
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec![name.to_owned()]).expect("params").signed_by(&key, &ca, &ca_key).expect("leaf");
    let paths = (dir.join("ca.pem"), dir.join("leaf.pem"), dir.join("leaf.key"));
    for (path, pem) in [(&paths.0, ca.pem()), (&paths.1, leaf.pem()), (&paths.2, key.serialize_pem())] {
        std::fs::write(path, pem).expect("write pem");
    }
    paths
}

#[tokio::test]
async fn rfc5922_a_tls_peer_named_by_host_is_verified_by_that_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = name_only_pki(dir.path(), "tlspeer.test");
    // The peer: a node with a TLS listener whose certificate names only tlspeer.test; OPTIONS to that name are its own.
    let tls = causeway_io::TlsServerConfig { cert_chain: cert, private_key: key, client_auth: causeway_io::ClientAuth::None };
    let mut peer_config = NodeConfig::new(vec![ListenerConfig::tls(localhost(), tls)], Vec::new());
    peer_config.proxy.domains.push("tlspeer.test".into());
    let peer = Node::build(peer_config).expect("peer");
    let peer_addr = peer.listeners().first().map(|l| l.local).expect("listener");
    let (stop_peer, peer_stopped) = tokio::sync::oneshot::channel::<()>();
    let peer_task = tokio::spawn(peer.run(async {
        let _ = peer_stopped.await;
    }));

    let dns = TestDns::start(DnsTable::new().address("tlspeer.test", IpAddr::from([127, 0, 0, 1]), 60)).expect("dns");
    let zones = format!(
        "[[zone]]\nname = \"trunk\"\nkind = \"neighbor\"\nkeepalive = {{ interval_secs = 1, timeout_secs = 1, failures_before_down = 1 }}\n\
         [[zone.peer]]\naddress = \"tlspeer.test:{}\"\ntransport = \"tls\"\n",
        peer_addr.port()
    );
    let mut config = NodeConfig::new(vec![ListenerConfig::udp(localhost()), ListenerConfig::tls(localhost(), causeway_io::TlsServerConfig {
        cert_chain: dir.path().join("leaf.pem"),
        private_key: dir.path().join("leaf.key"),
        client_auth: causeway_io::ClientAuth::None,
    })], Vec::new());
    config.io.client.tls_roots = vec![ca];
    config.routing = Some(Arc::new(causeway_routing::config::load(&zones).expect("zones")));
    config.dns.servers = vec![dns.addr()];
    let node = Running::start(Node::build(config).expect("build"));
    let key = format!("tlspeer.test:{}", peer_addr.port());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    let state = loop {
        let state = node.stats.snapshot().peers.into_iter().find(|p| p.peer == key).map(|p| p.state);
        if state.is_some_and(|s| s != PeerState::Unknown) || tokio::time::Instant::now() > deadline {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(state, Some(PeerState::Up), "the TLS handshake checked the certificate against tlspeer.test");
    node.stop().await;
    let _ = stop_peer.send(());
    let _ = peer_task.await;
}
