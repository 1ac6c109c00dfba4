//! L4: SIPp UAC → causeway → SIPp UAS, 50 calls at 20 calls/s over UDP, TCP and TLS, with 0 failed calls.
//! Each call is INVITE / 100 / 180 / 200 / ACK / BYE / 200; ACK and BYE follow the Record-Route set
//! through causeway (uac.xml learns it from the 200). The verdict is read twice, from SIPp's exit code
//! (0 only when every call succeeded) and from its `-trace_stat` counters, on both ends.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use support::sipp::{RunningSipp, Sipp, SippTransport};
use support::{free_port, temp_dir, tls, tunnel, Causeway, NodeSpec};

const CALLS: u32 = 50;
const LIMIT: Duration = Duration::from_secs(90);

/// Run the UAC against `target` and check both ends and the node.
fn run_calls(dir: &Path, transport: SippTransport, target: SocketAddr, mut uas: RunningSipp, causeway: &mut Causeway) {
    let uac = Sipp::new("uac", dir, "uac.xml", transport, free_port(), CALLS, LIMIT)
        .arg("-s")
        .arg("1000")
        .arg("-r")
        .arg("20")
        .arg("-rp")
        .arg("1000")
        .arg("-d")
        .arg("100")
        .run_uac(target, LIMIT);
    let uas = uas.finish(Duration::from_secs(30));
    if uac.status.and_then(|s| s.code()) != Some(0) {
        panic!("UAC failed\n{}\n{}\n{}", uac.report, uas.report, causeway.process.log_tail());
    }
    uac.assert_all_succeeded(u64::from(CALLS));
    uas.assert_all_succeeded(u64::from(CALLS));
    causeway.assert_alive();
}

fn plain_calls(transport: SippTransport, name: &str) {
    let dir = temp_dir();
    let uas_port = free_port();
    let uas = Sipp::new("uas", dir.path(), "uas-answer.xml", transport, uas_port, CALLS, LIMIT).spawn_uas();
    let spec = NodeSpec { next_hop: format!("sip:127.0.0.1:{uas_port};transport={name}"), tls: None, extra: String::new() };
    let mut causeway = Causeway::start(dir.path(), &spec);
    let target = causeway.addr();
    run_calls(dir.path(), transport, target, uas, &mut causeway);
}

#[test]
fn sipp_calls_over_udp_complete() {
    plain_calls(SippTransport::Udp, "udp");
}

#[test]
fn sipp_calls_over_tcp_complete() {
    plain_calls(SippTransport::Tcp, "tcp");
}

/// Both of causeway's hops are TLS: the UAC's TCP is wrapped by a socat TLS client that verifies
/// causeway's certificate, and causeway's TLS next hop is a socat TLS server in front of the UAS, whose
/// certificate causeway verifies against `[outbound] tls_roots`. The UAS's Contact names the tunnel, so
/// ACK and BYE travel over TLS too.
#[test]
fn sipp_calls_over_tls_complete() {
    let dir = temp_dir();
    let pki = tls::make_pki(dir.path());
    let (uas_port, tunnel_out) = (free_port(), free_port());
    let uas = Sipp::new("uas", dir.path(), "uas-answer-tls.xml", SippTransport::Tcp, uas_port, CALLS, LIMIT)
        .arg("-key")
        .arg("tls_port")
        .arg(tunnel_out.to_string())
        .spawn_uas();
    let _server = tunnel::tls_server(dir.path(), tunnel_out, &pki, uas_port);
    let spec = NodeSpec {
        next_hop: format!("sip:127.0.0.1:{tunnel_out};transport=tls"),
        tls: Some((&pki.cert, &pki.key, &pki.ca)),
        extra: String::new(),
    };
    let mut causeway = Causeway::start(dir.path(), &spec);
    let tls_port = causeway.tls_port.unwrap_or_else(|| panic!("no TLS listener"));
    let tunnel_in = free_port();
    let _client = tunnel::tls_client(dir.path(), tunnel_in, &pki, tls_port);
    run_calls(dir.path(), SippTransport::Tcp, SocketAddr::from(([127, 0, 0, 1], tunnel_in)), uas, &mut causeway);
}
