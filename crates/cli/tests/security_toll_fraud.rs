//! L4, flow F3: toll-fraud INVITEs from the internet (the default zone, 127.0.0.2) against an edge running
//! the shipped shared-edge call policy (examples/policy/shared-edge.toml, appended to the config as is). The
//! edge's search rules would send dial strings to a PSTN gateway — a SIPp UAS here — so without policy these
//! calls would reach it; with it every one is answered 403, logged once with the rule that decided, counted
//! per rule, and the gateway's own statistics show that it received nothing. A business-to-business call to
//! the enterprise domain still goes through (to a busy PBX user), so the policy is not simply refusing all.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use support::edge::Edge;
use support::sipp::{Sipp, SippTransport};
use support::{free_port, repo_root, temp_dir};

const LIMIT: Duration = Duration::from_secs(60);

/// One INVITE from the attacker's socket, with `extra` header lines.
fn invite(local: SocketAddr, uri: &str, from: &str, call: &str, extra: &str) -> String {
    format!(
        "INVITE {uri} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK-fraud-{call};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <{from}>;tag=f-{call}\r\n\
         To: <{uri}>\r\n\
         Call-ID: fraud-{call}@127.0.0.2\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:mallory@{local}>\r\n\
         {extra}Content-Length: 0\r\n\r\n"
    )
}

/// The final response to the INVITE of `call` (provisionals skipped), within 5 s.
fn final_status(socket: &UdpSocket, call: &str) -> Option<u16> {
    let mut buf = vec![0u8; 65_536];
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        let Ok((len, _)) = socket.recv_from(&mut buf) else { continue };
        let text = String::from_utf8_lossy(buf.get(..len).unwrap_or_default()).into_owned();
        if !text.contains(&format!("Call-ID: fraud-{call}@")) {
            continue;
        }
        let status: Option<u16> = text.strip_prefix("SIP/2.0 ").and_then(|s| s.get(..3)).and_then(|s| s.parse().ok());
        if status.is_some_and(|s| s >= 200) {
            return status;
        }
    }
    None
}

#[test]
fn f3_toll_fraud_is_rejected_and_the_pstn_gateway_receives_nothing() {
    let dir = temp_dir();
    let (gw_port, pbx_port) = (free_port(), free_port());
    let mut gateway = Sipp::new("pstn-gw", dir.path(), "uas-answer.xml", SippTransport::Udp, gw_port, 1, LIMIT).spawn_uas();
    let mut pbx = Sipp::new("pbx", dir.path(), "uas-busy.xml", SippTransport::Udp, pbx_port, 2, LIMIT).spawn_uas();
    let policy = std::fs::read_to_string(repo_root().join("examples/policy/shared-edge.toml")).unwrap_or_else(|e| panic!("{e}"));
    let routing = format!(
        "[[zone]]\nname = \"default\"\nkind = \"default\"\nauthentication = \"do-not-check\"\n\n\
         [[zone]]\nname = \"pstn\"\nkind = \"neighbor\"\nkeepalive = {{ enabled = false }}\n\
         [[zone.peer]]\naddress = \"127.0.0.1:{gw_port}\"\ntransport = \"udp\"\n\n\
         [[zone]]\nname = \"pbx\"\nkind = \"neighbor\"\nkeepalive = {{ enabled = false }}\n\
         [[zone.peer]]\naddress = \"127.0.0.1:{pbx_port}\"\ntransport = \"udp\"\n\n\
         [[search_rule]]\nname = \"dial-strings-to-the-pstn\"\npriority = 10\npattern_type = \"regex\"\n\
         pattern = '[+0-9][-+0-9.()]*([;@].*)?'\non_match = \"stop\"\ntarget = \"pstn\"\n\n\
         [[search_rule]]\nname = \"enterprise\"\npriority = 20\npattern_type = \"regex\"\npattern = '.*@ent-pa\\.com'\n\
         on_match = \"stop\"\ntarget = \"pbx\"\n\n"
    );
    let edge = Edge::start(dir.path(), &format!("{routing}{policy}"));
    let socket = UdpSocket::bind("127.0.0.2:0").unwrap_or_else(|e| panic!("bind 127.0.0.2: {e}"));
    socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap_or_else(|e| panic!("{e}"));
    let local = socket.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let mallory = "sip:mallory@203.0.113.5";
    let gateway_uri = format!("sip:9011441234567@127.0.0.1:{gw_port}");
    let gateway_route = format!("Route: <sip:127.0.0.1:{gw_port};lr>\r\n");
    let edge_route = format!("<sip:{};lr>", edge.addr());
    let forged_dialog = format!("Route: {edge_route}\r\nX-Forged: in-dialog\r\n");
    // (Request-URI, From, extra headers, the shared-edge rule that must stop it)
    let attempts = [
        ("sip:9011441234567@ent-pa.com", mallory, String::new(), "dial-out-prefix"),
        ("sip:0044201234567@ent-pa.com", mallory, String::new(), "dial-out-prefix"),
        ("sip:011441234567@ent-pa.com", mallory, String::new(), "dial-out-prefix"),
        ("sip:+12125550100@ent-pa.com", mallory, String::new(), "e164-and-dial-strings"),
        ("sip:9-011-44-1234567@ent-pa.com", mallory, String::new(), "e164-and-dial-strings"),
        ("sip:alice@ent-pa.com", "sip:ceo@ent-pa.com", String::new(), "spoofed-enterprise-domain"),
        ("sip:alice@ent-pa.com", mallory, "P-Asserted-Identity: <sip:ceo@ent-pa.com>\r\n".to_owned(), "spoofed-enterprise-domain"),
        ("sip:alice@ent-pa.com", "sip:bob@ent-pa.call.webex.com", String::new(), "spoofed-cloud-domain"),
        // A Route straight at the gateway does not get around call policy.
        (gateway_uri.as_str(), mallory, gateway_route.clone(), "dial-out-prefix"),
        // A forged "in-dialog" request (To tag) naming the edge in a Route without the edge's seal is
        // checked like a new call (RFC 3261 §16.12: only our own sealed Record-Route skips the gate).
        (gateway_uri.as_str(), mallory, forged_dialog.clone(), "dial-out-prefix"),
    ];
    for (i, (uri, from, extra, _)) in attempts.iter().enumerate() {
        let call = format!("t{i}");
        let mut text = invite(local, uri, from, &call, extra);
        if extra.contains("X-Forged") {
            text = text.replacen(&format!("To: <{uri}>"), &format!("To: <{uri}>;tag=forged"), 1);
        }
        socket.send_to(text.as_bytes(), edge.addr()).unwrap_or_else(|e| panic!("send: {e}"));
        assert_eq!(final_status(&socket, &call), Some(403), "{uri} from {from} {extra}");
    }
    // The control: a business-to-business call to the enterprise is routed (and the PBX user is busy).
    socket.send_to(invite(local, "sip:alice@ent-pa.com", "sip:partner@partner.example", "b2b", "").as_bytes(), edge.addr())
        .unwrap_or_else(|e| panic!("send: {e}"));
    assert_eq!(final_status(&socket, "b2b"), Some(486), "the allowed call reached the PBX");
    // An allowed destination with a preloaded Route at the gateway behind the edge's own: the default zone
    // does not honour Route headers, so the Route is dropped and the call is routed by its Request-URI.
    let preloaded = format!("Route: {edge_route}, <sip:127.0.0.1:{gw_port};lr>\r\n");
    socket.send_to(invite(local, "sip:alice@ent-pa.com", "sip:partner@partner.example", "pre", &preloaded).as_bytes(), edge.addr())
        .unwrap_or_else(|e| panic!("send: {e}"));
    assert_eq!(final_status(&socket, "pre"), Some(486), "routed to the PBX by the search rules, not to the Route");

    assert_eq!(gateway.finish(Duration::from_secs(2)).counter("IncomingCall(C)"), 0, "the PSTN gateway received nothing");
    assert_eq!(pbx.finish(Duration::from_secs(5)).counter("IncomingCall(C)"), 2, "only the allowed calls reached the PBX");
    let report = edge.stop();
    assert_eq!(report.count("responses_sent", "403"), attempts.len() as u64, "{}", report.text);
    assert_eq!(report.count("requests_sent", "INVITE"), 2, "two INVITEs forwarded: the allowed ones\n{}", report.text);
    let audit = report.audit();
    assert_eq!(audit.len(), attempts.len(), "one audit line per rejected call: {audit:#?}");
    for ((uri, _, _, rule), line) in attempts.iter().zip(&audit) {
        for field in ["Event=\"Call Rejected\"", "Zone=\"default\"", "Src-ip=\"127.0.0.2\"", "Response-code=403", &format!("\\\"{rule}\\\"")] {
            assert!(line.contains(field), "{uri}: {field} missing in {line}");
        }
    }
    for (rule, rejected) in [("dial-out-prefix", 5), ("e164-and-dial-strings", 2), ("spoofed-enterprise-domain", 2), ("spoofed-cloud-domain", 1)] {
        let counted = report.text.contains(&format!("\"{rule}\": allowed=0 rejected={rejected} "));
        assert!(counted, "rule {rule} counted {rejected} rejections\n{}", report.text);
    }
    assert!(report.text.contains("\"enterprise-domain\": allowed=2 rejected=0 "), "{}", report.text);
}
