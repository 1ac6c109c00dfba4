//! L4 bad input: every RFC 4475 message the RFC calls invalid, sent over UDP from a plain socket. The node
//! must answer with an error (or drop it), never crash, never answer 2xx, and still serve calls afterwards.
//!
//! Each message's top Via sent-by is pointed at the test's socket (`rport` added) so that whatever the node
//! answers comes back here instead of to the documentation addresses (192.0.2.x) the RFC uses. Everything
//! else, the fault included, is sent as archived.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use support::sipp::{Sipp, SippTransport};
use support::{free_port, options_ping, rfc4475, temp_dir, Causeway, NodeSpec};

const CALLS: u32 = 20;
const LIMIT: Duration = Duration::from_secs(60);
/// Copies of each message, back to back, to exercise the per-source rate limit on malformed-message logs.
const REPEAT: usize = 20;

/// Replace the sent-by of the first Via header with `local;rport`, byte for byte (the messages may hold
/// octets that are not UTF-8).
fn point_via_at(message: &[u8], local: SocketAddr) -> Vec<u8> {
    let find = |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).position(|w| w == needle);
    let via_value = [b"\r\nVia: ".as_slice(), b"\r\nv: ".as_slice()]
        .iter()
        .filter_map(|name| find(message, name).map(|i| i + name.len()))
        .min();
    // `SIP/2.0/UDP host[:port]`: the sent-by starts after the space and ends at `;`, `,` or the line end.
    let span = via_value.and_then(|at| {
        let start = at + message.get(at..)?.iter().position(|&b| b == b' ')? + 1;
        let len = message.get(start..)?.iter().position(|&b| matches!(b, b';' | b',' | b'\r'))?;
        Some((start, start + len))
    });
    let Some((start, end)) = span else { return message.to_vec() };
    let mut out = Vec::with_capacity(message.len() + 32);
    out.extend_from_slice(message.get(..start).unwrap_or_default());
    out.extend_from_slice(format!("{local};rport").as_bytes());
    out.extend_from_slice(message.get(end..).unwrap_or_default());
    out
}

/// Status code of a response datagram.
fn status_of(datagram: &[u8]) -> Option<u16> {
    let line = datagram.split(|&b| b == b'\r').next()?;
    let text = std::str::from_utf8(line).ok()?;
    text.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

#[test]
fn invalid_torture_messages_are_rejected_and_calls_still_work() {
    let dir = temp_dir();
    let uas_port = free_port();
    // Calls to 1000 go to the SIPp UAS; anything else a liberal parser forwards goes to a port nobody uses,
    // so it cannot disturb the UAS's call count.
    let spec = NodeSpec {
        next_hop: format!("sip:127.0.0.1:{};transport=udp", free_port()),
        tls: None,
        extra: format!("[[route]]\nprefix = \"1000\"\nnext_hop = \"sip:127.0.0.1:{uas_port};transport=udp\"\n"),
    };
    let mut causeway = Causeway::start(dir.path(), &spec);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let local = socket.local_addr().unwrap_or_else(|e| panic!("local_addr: {e}"));
    socket.set_read_timeout(Some(Duration::from_millis(300))).unwrap_or_else(|e| panic!("timeout: {e}"));

    let invalid: Vec<_> = rfc4475::manifest().into_iter().filter(|m| !m.well_formed()).collect();
    assert!(invalid.len() >= 19, "the RFC's section 3.1.2 alone has 19 invalid messages");
    let mut answers = Vec::new();
    for message in &invalid {
        let bytes = std::fs::read(&message.path).unwrap_or_else(|e| panic!("{}: {e}", message.path.display()));
        let datagram = point_via_at(&bytes, local);
        for _ in 0..REPEAT {
            socket.send_to(&datagram, causeway.addr()).unwrap_or_else(|e| panic!("send: {e}"));
        }
        let mut buf = vec![0u8; 65_536];
        let mut statuses = Vec::new();
        while let Ok((len, _)) = socket.recv_from(&mut buf) {
            let reply = buf.get(..len).unwrap_or_default();
            let status = status_of(reply)
                .unwrap_or_else(|| panic!("{}: the node sent back a non-response:\n{}", message.path.display(), String::from_utf8_lossy(reply)));
            statuses.push(status);
        }
        // 100 Trying is allowed: RFC 4475 lets a liberal element accept and forward several of these.
        let wrong: Vec<_> = statuses.iter().filter(|&&s| (101..400).contains(&s)).collect();
        assert!(wrong.is_empty(), "{}: invalid message answered with {wrong:?}", message.path.display());
        causeway.assert_alive();
        answers.push(format!("{}: {statuses:?}", message.path.file_name().map(|f| f.to_string_lossy()).unwrap_or_default()));
    }
    eprintln!("responses per invalid message (x{REPEAT} each):\n{}", answers.join("\n"));

    assert_eq!(
        options_ping(causeway.addr(), Duration::from_secs(2)).as_deref(),
        Some("SIP/2.0 200 OK"),
        "the node no longer answers OPTIONS\n{}",
        causeway.process.log_tail()
    );
    let mut uas = Sipp::new("uas", dir.path(), "uas-answer.xml", SippTransport::Udp, uas_port, CALLS, LIMIT).spawn_uas();
    let uac = Sipp::new("uac", dir.path(), "uac.xml", SippTransport::Udp, free_port(), CALLS, LIMIT)
        .arg("-s")
        .arg("1000")
        .arg("-r")
        .arg("20")
        .arg("-d")
        .arg("100")
        .run_uac(causeway.addr(), LIMIT);
    let uas = uas.finish(Duration::from_secs(30));
    if uac.status.and_then(|s| s.code()) != Some(0) {
        panic!("calls after malformed input failed\n{}\n{}\n{}", uac.report, uas.report, causeway.process.log_tail());
    }
    uac.assert_all_succeeded(u64::from(CALLS));
    uas.assert_all_succeeded(u64::from(CALLS));
    causeway.assert_alive();
}

#[test]
fn via_rewrite_keeps_the_rest_of_the_message() {
    let local: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 40000));
    let message = b"INVITE sip:u@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.15;;,;,,\r\nv: SIP/2.0/UDP x\r\n\r\n\xff";
    let rewritten = point_via_at(message, local);
    assert_eq!(
        rewritten,
        b"INVITE sip:u@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;rport;;,;,,\r\nv: SIP/2.0/UDP x\r\n\r\n\xff"
    );
}
