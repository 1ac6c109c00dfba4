//! The node over real loopback sockets: a UAC and a UAS on ephemeral UDP/TCP ports, the proxy in between, its
//! timer running on the tokio clock. Every wait is bounded.

use std::net::SocketAddr;
use std::time::Duration;

use causeway_io::ListenerConfig;
use causeway_node::{Node, NodeConfig, NodeStats, StatsHandle};
use causeway_proxy::{NextHop, RouteMatch, StaticRoute};
use causeway_sip::Transport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod calls;
mod config_file;
mod keepalive;

const WAIT: Duration = Duration::from_secs(5);

fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A running node and the means to stop it.
struct Running {
    udp: SocketAddr,
    tcp: Option<SocketAddr>,
    stats: StatsHandle,
    stop: oneshot::Sender<()>,
    task: JoinHandle<NodeStats>,
}

impl Running {
    fn start(node: Node) -> Self {
        let find = |t| node.listeners().iter().find(|l| l.transport == t).map(|l| l.local);
        let udp = find(Transport::Udp).expect("a UDP listener");
        let tcp = find(Transport::Tcp);
        let stats = node.stats_handle();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(node.run(async {
            let _ = stopped.await;
        }));
        Self { udp, tcp, stats, stop, task }
    }

    async fn stop(self) -> NodeStats {
        let _ = self.stop.send(());
        tokio::time::timeout(WAIT, self.task).await.expect("node stops in time").expect("node task")
    }
}

/// A node with UDP and TCP listeners on ephemeral ports that routes everything to `next_hop`.
fn node_to(next_hop: NextHop, t1: Option<Duration>) -> Node {
    let listeners = vec![ListenerConfig::udp(localhost()), ListenerConfig::tcp(localhost())];
    let mut config = NodeConfig::new(listeners, vec![StaticRoute { matcher: RouteMatch::Default, next_hop }]);
    config.seed = Some(7);
    if let Some(t1) = t1 {
        config.proxy.timers.t1 = t1;
    }
    Node::build(config).expect("build node")
}

fn udp_hop(address: SocketAddr) -> NextHop {
    NextHop { transport: Transport::Udp, address, flow: None }
}

async fn udp_peer() -> UdpSocket {
    UdpSocket::bind(localhost()).await.expect("bind peer")
}

async fn recv_text(socket: &UdpSocket) -> (String, SocketAddr) {
    let mut buf = vec![0; 65_536];
    let (len, from) =
        tokio::time::timeout(WAIT, socket.recv_from(&mut buf)).await.expect("datagram in time").expect("recv");
    (String::from_utf8_lossy(buf.get(..len).unwrap_or_default()).into_owned(), from)
}

/// Reads one Content-Length framed message (with an empty body) from a stream.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    while !text.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(WAIT, stream.read(&mut buf)).await.expect("read in time").expect("read");
        assert_ne!(n, 0, "connection closed before a response");
        text.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    String::from_utf8_lossy(&text).into_owned()
}

async fn write(stream: &mut TcpStream, text: &str) {
    stream.write_all(text.as_bytes()).await.expect("write");
}

fn request(method: &str, uri: &str, via: &str, call: &str) -> String {
    format!(
        "{method} {uri} SIP/2.0\r\n\
         Via: {via};branch=z9hG4bK{call}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@example.org>;tag=a-{call}\r\n\
         To: <sip:bob@example.com>\r\n\
         Call-ID: {call}@example.org\r\n\
         CSeq: 1 {method}\r\n\
         Contact: <sip:alice@127.0.0.1>\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// A response to `request` (as a UAS builds it, RFC 3261 §8.2.6): its Vias, From, Call-ID and CSeq, To with a tag.
fn respond(request: &str, status: &str) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for line in request.split("\r\n") {
        let name = line.split(':').next().unwrap_or_default();
        match name {
            "Via" | "From" | "Call-ID" | "CSeq" | "Record-Route" => out.push_str(&format!("{line}\r\n")),
            "To" => out.push_str(&format!("{line};tag=uas\r\n")),
            _ => {}
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out
}

fn status_line(message: &str) -> &str {
    message.split("\r\n").next().unwrap_or_default()
}
