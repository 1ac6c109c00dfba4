//! L4: call control sits behind the edge's gate. A node running the ent-pa call-control example, whose dial
//! plan lets callers from the internet (the default zone, 127.0.0.2) and from a branch office (a zone that
//! checks credentials, 127.0.0.3) reach international route patterns and voicemail. The edge's call policy
//! refuses dial strings from the default zone: a call to `9011…@<cluster FQDN>` is answered 403 by that rule
//! and the PSTN gateway (a SIPp UAS) receives nothing, although call control alone would have routed it there;
//! a call to voicemail from the same caller completes. From the branch office a call-control INVITE is
//! challenged with 407 and passes with a desk phone's own digest credentials (call control's directory
//! feeds the gate's credential table).

mod support;

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use support::callctl::*;
use support::sipp::{Sipp, SippTransport};
use support::temp_dir;

/// The example dial plan plus a trunk for the default zone and the branch zone whose CSS reaches
/// voicemail and the PSTN, international included (a permissive dial plan: call policy is the guard).
fn permissive_callctl() -> String {
    format!(
        "{}\n[[callctl.css]]\nname = \"CSS-Trunk-Open\"\npartitions = [\"Voicemail\", \"PSTN\", \"Intl\"]\n\n\
         [[callctl.trunk]]\nzone = \"default\"\ncss = \"CSS-Trunk-Open\"\n\n\
         [[callctl.trunk]]\nzone = \"branch\"\ncss = \"CSS-Trunk-Open\"\n",
        callctl_section()
    )
}

/// The node's config: the call-control topology, a branch zone (127.0.0.3) that checks credentials, digest
/// in the directory's realm, and a call policy refusing dial strings from the default zone.
fn config(topo: &Topology, dir: &std::path::Path) -> String {
    format!(
        "{}\n[[zone]]\nname = \"branch\"\nkind = \"neighbor\"\npeer = [{{ address = \"127.0.0.3:5060\", transport = \"udp\" }}]\n\
         keepalive = {{ enabled = false }}\nauthentication = \"check-credentials\"\n\n\
         [security.digest]\nrealm = \"ent-pa.com\"\nalgorithms = [\"MD5\"]\n\n\
         [[policy.rule]]\nname = \"dial-out-prefix\"\nsource_zone = \"default\"\ndestination = '[09]\\d*(@.*)?'\naction = \"reject\"\nstatus = 403\n",
        topo.config(dir, &permissive_callctl())
    )
}

/// One INVITE from `socket`; the final status that comes back within 5 s.
fn invite_status(socket: &UdpSocket, node: SocketAddr, uri: &str, call: &str) -> Option<u16> {
    let local = socket.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        "INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{call};rport\r\nMax-Forwards: 70\r\n\
         From: <sip:mallory@203.0.113.5>;tag=f-{call}\r\nTo: <{uri}>\r\nCall-ID: {call}@127.0.0.2\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:mallory@{local}>\r\nContent-Length: 0\r\n\r\n"
    );
    socket.send_to(text.as_bytes(), node).unwrap_or_else(|e| panic!("send: {e}"));
    let mut buf = vec![0u8; 65_536];
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        let Ok((len, _)) = socket.recv_from(&mut buf) else { continue };
        let text = String::from_utf8_lossy(buf.get(..len).unwrap_or_default()).into_owned();
        let status: Option<u16> = text.strip_prefix("SIP/2.0 ").and_then(|s| s.get(..3)).and_then(|s| s.parse().ok());
        if text.contains(&format!("Call-ID: {call}@")) && status.is_some_and(|s| s >= 200) {
            return status;
        }
    }
    None
}

#[test]
fn call_control_calls_meet_call_policy_and_authentication() {
    let dir = temp_dir();
    let topo = Topology::new();
    let mut gateway = Sipp::new("pstn-gw", dir.path(), "uas-answer.xml", SippTransport::Udp, topo.pstn, 2, LIMIT).spawn_uas();
    let mut voicemail = Sipp::new("unity", dir.path(), "uas-answer.xml", SippTransport::Udp, topo.unity, 2, LIMIT).spawn_uas();
    let node = Node::start(dir.path(), "causeway", topo.node, &config(&topo, dir.path()));

    // Toll fraud through call control from the internet: the call-policy rule refuses it.
    let socket = UdpSocket::bind("127.0.0.2:0").unwrap_or_else(|e| panic!("bind 127.0.0.2: {e}"));
    socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap_or_else(|e| panic!("{e}"));
    for (call, uri) in [("intl", "sip:9011441234567@us-cm-pub.ent-pa.com"), ("national", "sip:914085550123@ent-pa.com")] {
        assert_eq!(invite_status(&socket, topo.node_addr(), uri, call), Some(403), "{uri}\n{}", node.log());
    }

    // The same caller may reach voicemail: policy allows it and call control routes it.
    let allowed = Sipp::new("internet-caller", dir.path(), "uac-dial.xml", SippTransport::Udp, support::free_port(), 1, LIMIT)
        .on(Ipv4Addr::new(127, 0, 0, 2))
        .arg("-key")
        .arg("to")
        .arg("8000@us-cm-pub.ent-pa.com")
        .arg("-key")
        .arg("from")
        .arg("partner@partner.example")
        .arg("-d")
        .arg("200")
        .run_uac(topo.node_addr(), LIMIT);
    assert_eq!(allowed.status.and_then(|s| s.code()), Some(0), "the allowed call completes\n{}\n{}", allowed.report, node.log());

    // From the branch office: challenged with 407, then through with a desk phone's own credentials.
    let branch = Sipp::new("branch-caller", dir.path(), "security/uac-dial-auth.xml", SippTransport::Udp, 5060, 1, LIMIT)
        .on(Ipv4Addr::new(127, 0, 0, 3))
        .arg("-key")
        .arg("to")
        .arg("8000@us-cm-pub.ent-pa.com")
        .arg("-key")
        .arg("from")
        .arg("alice-desk@ent-pa.com")
        .arg("-au")
        .arg("alice-desk")
        .arg("-ap")
        .arg("alice-pw")
        // The digest `uri` must be the Request-URI (RFC 3261 §22.4); SIPp's default is the remote address.
        .arg("-auth_uri")
        .arg("8000@us-cm-pub.ent-pa.com")
        .arg("-d")
        .arg("200")
        .run_uac(topo.node_addr(), LIMIT);
    let sent = messages(dir.path(), "branch-caller");
    assert_eq!(branch.status.and_then(|s| s.code()), Some(0), "407, then the call with credentials\n{sent}\n{}", node.log());
    assert!(sent.contains("SIP/2.0 407"), "the branch caller was challenged\n{sent}");

    assert_eq!(gateway.finish(Duration::from_secs(2)).counter("IncomingCall(C)"), 0, "the PSTN gateway received nothing");
    assert_eq!(voicemail.finish(Duration::from_secs(10)).counter("IncomingCall(C)"), 2, "both allowed calls reached voicemail");
    let log = node.log();
    assert_eq!(log.matches("Event=\"Call Rejected\"").count(), 2, "one audit line per refused call\n{log}");
}
