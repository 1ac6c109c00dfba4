//! `[security] record_route_key_file`: two starts of a node from the same configuration — a restart, or two
//! nodes of a cluster — accept each other's sealed Record-Route, so an in-dialog request of a dialog set up
//! through the first passes the second without the gate. Without the file each start draws its own key, and
//! the same request is checked like a new one (here: refused by call policy).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use causeway_config::Config;
use causeway_node::{Node, NodeConfig, NodeStats};
use causeway_sip::Transport;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const WAIT: Duration = Duration::from_secs(5);

struct Running {
    udp: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<NodeStats>,
}

impl Running {
    fn start(config: &Config) -> Self {
        let node = Node::build(NodeConfig::from_config(config)).expect("build");
        let udp = node.listeners().iter().find(|l| l.transport == Transport::Udp).map(|l| l.local).expect("UDP listener");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(node.run(async {
            let _ = stopped.await;
        }));
        Self { udp, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(WAIT, self.task).await.expect("node stops in time").expect("node task");
    }
}

/// The next datagram that is not a 100 Trying.
async fn recv(socket: &UdpSocket, what: &str) -> String {
    let mut buf = vec![0; 65_536];
    loop {
        let (len, _) = tokio::time::timeout(WAIT, socket.recv_from(&mut buf)).await.unwrap_or_else(|_| panic!("{what} in time")).expect("recv");
        let text = String::from_utf8_lossy(buf.get(..len).unwrap_or_default()).into_owned();
        if !text.starts_with("SIP/2.0 100 ") {
            return text;
        }
    }
}

fn header<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

/// The edge: everything to the PBX (the UAS), and a call-policy rule refusing requests addressed straight to
/// a loopback address — which is what an in-dialog BYE is, unless it follows our sealed Record-Route.
fn config(dir: &Path, uas: SocketAddr, key_file: bool) -> Config {
    let key = if key_file { "[security]\nrecord_route_key_file = \"rr.key\"\n\n" } else { "" };
    let text = format!(
        "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:0\"\n\n{key}\
         [[zone]]\nname = \"default\"\nkind = \"default\"\nauthentication = \"do-not-check\"\n\n\
         [[zone]]\nname = \"pbx\"\nkind = \"neighbor\"\nkeepalive = {{ enabled = false }}\n\
         [[zone.peer]]\naddress = \"{uas}\"\ntransport = \"udp\"\n\n\
         [[search_rule]]\nname = \"enterprise\"\npriority = 10\npattern_type = \"regex\"\npattern = '.*@ent-pa\\.com'\n\
         on_match = \"stop\"\ntarget = \"pbx\"\n\n\
         [policy]\n\n[[policy.rule]]\nname = \"no-direct-addresses\"\ndestination = '.*@127\\.0\\.0\\.1(:\\d+)?'\naction = \"reject\"\n"
    );
    Config::parse(&text, "edge.toml", dir).expect("valid config")
}

fn invite(uac: SocketAddr) -> String {
    format!(
        "INVITE sip:bob@ent-pa.com SIP/2.0\r\nVia: SIP/2.0/UDP {uac};branch=z9hG4bK-rk-1\r\nMax-Forwards: 70\r\n\
         From: <sip:alice@partner.example>;tag=a1\r\nTo: <sip:bob@ent-pa.com>\r\nCall-ID: rk@partner.example\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:alice@{uac}>\r\nContent-Length: 0\r\n\r\n"
    )
}

fn bye(uac: SocketAddr, uas: SocketAddr, route: &str, cseq: u32) -> String {
    format!(
        "BYE sip:bob@{uas} SIP/2.0\r\nVia: SIP/2.0/UDP {uac};branch=z9hG4bK-rk-bye{cseq}\r\nMax-Forwards: 70\r\n\
         Route: {route}\r\nFrom: <sip:alice@partner.example>;tag=a1\r\nTo: <sip:bob@ent-pa.com>;tag=b1\r\n\
         Call-ID: rk@partner.example\r\nCSeq: {cseq} BYE\r\nContent-Length: 0\r\n\r\n"
    )
}

#[tokio::test]
async fn two_starts_with_the_same_key_file_accept_each_others_sealed_record_route() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_path = dir.path().join("rr.key");
    std::fs::write(&key_path, format!("{}\n", "3c".repeat(32))).expect("write key");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let uas = UdpSocket::bind("127.0.0.1:0").await.expect("bind UAS");
    // The caller on another loopback address than the PBX: a source at a zone's peer address is that zone.
    let uac = UdpSocket::bind("127.0.0.2:0").await.expect("bind UAC");
    let (uas_addr, uac_addr) = (uas.local_addr().expect("addr"), uac.local_addr().expect("addr"));

    // First start: the dialog is set up through it; the PBX sees our sealed Record-Route.
    let first = Running::start(&config(dir.path(), uas_addr, true));
    uac.send_to(invite(uac_addr).as_bytes(), first.udp).await.expect("send INVITE");
    let received = recv(&uas, "the INVITE").await;
    assert!(received.starts_with("INVITE sip:bob@ent-pa.com "), "{received}");
    let record_route = header(&received, "Record-Route").expect("Record-Route").to_owned();
    assert!(record_route.contains(";cws="), "sealed: {record_route}");
    let first_addr = first.udp;
    first.stop().await;

    // Second start from the same configuration (a restart; a cluster's other node): its address differs
    // (ephemeral port), so the Route names it as the dialog's route set names the cluster; the seal is
    // the first start's.
    let route_for = |node: SocketAddr| record_route.replace(&first_addr.to_string(), &node.to_string());
    let second = Running::start(&config(dir.path(), uas_addr, true));
    uac.send_to(bye(uac_addr, uas_addr, &route_for(second.udp), 2).as_bytes(), second.udp).await.expect("send BYE");
    let received = recv(&uas, "the sealed BYE").await;
    assert!(received.starts_with(&format!("BYE sip:bob@{uas_addr} ")), "the sealed BYE passes: {received}");
    second.stop().await;

    // The control: a start without the key file draws its own key; the same BYE is no longer ours and meets
    // call policy, which refuses a request addressed straight to an address.
    let third = Running::start(&config(dir.path(), uas_addr, false));
    uac.send_to(bye(uac_addr, uas_addr, &route_for(third.udp), 3).as_bytes(), third.udp).await.expect("send BYE");
    let answer = recv(&uac, "the answer to the unsealed BYE").await;
    assert!(answer.starts_with("SIP/2.0 403 "), "unsealed under another key: {answer}");
    third.stop().await;
}
