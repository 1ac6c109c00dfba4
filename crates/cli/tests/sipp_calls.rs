//! L4: SIPp UAC → causeway → SIPp UAS, 50 calls at 20 calls/s over UDP, TCP and TLS, with 0 failed calls.
//! Each call is INVITE / 100 / 180 / 200 / ACK / BYE / 200; ACK and BYE follow the Record-Route set
//! through causeway (uac.xml learns it from the 200). The verdict is read twice, from SIPp's exit code
//! (0 only when every call succeeded) and from its `-trace_stat` counters, on both ends.

mod support;

use std::time::Duration;

use support::sipp::{Sipp, SippTransport};
use support::{free_port, temp_dir, tls, Causeway, NodeSpec};

const CALLS: u32 = 50;
const LIMIT: Duration = Duration::from_secs(90);

fn calls_through_causeway(transport: &str) {
    let dir = temp_dir();
    let pki = tls::make_pki(dir.path());
    let sipp_transport = match transport {
        "udp" => SippTransport::Udp,
        "tcp" => SippTransport::Tcp,
        _ => SippTransport::Tls { cert: pki.cert.clone(), key: pki.key.clone() },
    };
    let uas_port = free_port();
    let mut uas = Sipp::new("uas", dir.path(), "uas-answer.xml", &sipp_transport, uas_port, CALLS, LIMIT).spawn_uas();
    let spec = NodeSpec {
        next_hop: format!("sip:127.0.0.1:{uas_port};transport={transport}"),
        tls: Some((&pki.cert, &pki.key, &pki.ca)),
        extra: String::new(),
    };
    let mut causeway = Causeway::start(dir.path(), &spec);
    let target_port = if transport == "tls" { causeway.tls_port.unwrap_or(causeway.port) } else { causeway.port };
    let uac = Sipp::new("uac", dir.path(), "uac.xml", &sipp_transport, free_port(), CALLS, LIMIT)
        .arg("-s")
        .arg("1000")
        .arg("-r")
        .arg("20")
        .arg("-rp")
        .arg("1000")
        .arg("-d")
        .arg("100")
        .run_uac(std::net::SocketAddr::from(([127, 0, 0, 1], target_port)), LIMIT);
    let uas = uas.finish(Duration::from_secs(30));
    let logs = || format!("{}\n{}", uas.report, causeway.process.log_tail());
    if uac.status.and_then(|s| s.code()) != Some(0) {
        panic!("UAC failed over {transport}\n{}\n{}", uac.report, logs());
    }
    uac.assert_all_succeeded(u64::from(CALLS));
    uas.assert_all_succeeded(u64::from(CALLS));
    causeway.assert_alive();
}

#[test]
fn sipp_calls_over_udp_complete() {
    calls_through_causeway("udp");
}

#[test]
fn sipp_calls_over_tcp_complete() {
    calls_through_causeway("tcp");
}

#[test]
fn sipp_calls_over_tls_complete() {
    calls_through_causeway("tls");
}
