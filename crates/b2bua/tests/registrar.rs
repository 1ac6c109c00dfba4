//! The registrar through the proxy core's agent hook, in simulated time (RFC 3261 §10.3,
//! RFC 5626 flows).

mod common;

use std::time::Duration;

use causeway_b2bua::{BindingRecord, Event};
use causeway_sip::Transport;
use common::*;

const BOB: &str = "127.0.0.1:5070";

/// Registers `phone` as `aor_user` with `contacts`, answering the first challenge.
fn register(node: &mut Node, phone: &mut Phone, aor_user: &str, transport: Transport, flow: Option<u64>, contacts: &str) -> String {
    let out = node.deliver(&phone.addr.clone(), transport, flow, &phone.register(aor_user, transport, contacts));
    let response = only(&out);
    if status_line(response).starts_with("SIP/2.0 401") {
        phone.challenged(&parse(response));
        let out = node.deliver(&phone.addr.clone(), transport, flow, &phone.register(aor_user, transport, contacts));
        return String::from_utf8_lossy(&only(&out).bytes).into_owned();
    }
    String::from_utf8_lossy(&response.bytes).into_owned()
}

fn bindings(node: &Node) -> Vec<(String, String, u64)> {
    node.b2bua.registrar().bindings(node.now).into_iter().map(|(_, device, contact, left)| (device, contact, left)).collect()
}

#[test]
fn rfc3261_10_3_challenge_then_bind_with_digest_and_persist() {
    let mut node = Node::new(example());
    let mut bob = Phone::new("bob-desk", "bob-pw", BOB);
    let out = node.udp(BOB, &bob.register("1002", Transport::Udp, "Contact: <sip:bob@127.0.0.1:5070>\n"));
    let challenge = parse(only(&out));
    assert_eq!(challenge.status().map(|s| s.as_u16()), Some(401));
    let offered = header(&challenge, "WWW-Authenticate");
    assert!(offered.len() == 2 && offered[0].contains("SHA-256") && offered[1].contains("MD5"), "{offered:?}");
    assert_eq!(only(&out).destination, addr(BOB));
    bob.challenged(&challenge);
    let out = node.udp(BOB, &bob.register("1002", Transport::Udp, "Contact: <sip:bob@127.0.0.1:5070>\n"));
    let ok = parse(only(&out));
    assert_eq!(ok.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(header(&ok, "Contact"), ["<sip:bob@127.0.0.1:5070>;expires=3600"]);
    assert_eq!(bindings(&node), [("SEP00AA00000002".into(), "sip:bob@127.0.0.1:5070".into(), 3600)]);
    let Some(Event::Bindings { aor, bindings }) = node.events.last() else { panic!("nothing persisted") };
    assert_eq!(aor, "sip:bob-desk@ent-pa.com");
    let expected_expiry = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 24, 18, 0, 0).single();
    assert_eq!(
        bindings.as_slice(),
        [BindingRecord {
            contact: "sip:bob@127.0.0.1:5070".into(),
            expires: expected_expiry.unwrap_or_default(),
            q: None,
            call_id: bob.call_id.clone(),
            cseq: 2,
            instance_id: None,
            reg_id: None,
            path: Vec::new(),
            received: Some((Transport::Udp, addr(BOB), addr(NODE))),
        }]
    );
}

#[test]
fn wrong_password_and_unknown_user_get_the_same_challenge() {
    let mut node = Node::new(example());
    for (user, password) in [("bob-desk", "wrong"), ("mallory", "bob-pw")] {
        let mut phone = Phone::new(user, password, BOB);
        let reply = register(&mut node, &mut phone, user, Transport::Udp, None, "Contact: <sip:x@127.0.0.1:5070>\n");
        assert!(reply.starts_with("SIP/2.0 401 Unauthorized"), "{user}: {reply}");
    }
    assert!(bindings(&node).is_empty());
}

#[test]
fn rfc3261_10_3_step_5_a_device_binds_only_its_own_addresses() {
    let mut node = Node::new(example());
    let mut bob = Phone::new("bob-desk", "bob-pw", BOB);
    let reply = register(&mut node, &mut bob, "1001", Transport::Udp, None, "Contact: <sip:bob@127.0.0.1:5070>\n");
    assert!(reply.starts_with("SIP/2.0 403 Forbidden (not allowed to register this address)"), "{reply}");
    // Its username, device name and DN are one address of record.
    for user in ["bob-desk", "SEP00AA00000002", "1002"] {
        let reply = register(&mut node, &mut bob, user, Transport::Udp, None, "Contact: <sip:bob@127.0.0.1:5070>\n");
        assert!(reply.starts_with("SIP/2.0 200"), "{user}: {reply}");
    }
    assert_eq!(bindings(&node).len(), 1);
}

#[test]
fn several_contacts_unregister_one_then_star_removes_all() {
    let mut node = Node::new(example());
    let mut bob = Phone::new("bob-desk", "bob-pw", BOB);
    let two = "Contact: <sip:bob@127.0.0.1:5070>;expires=600, <sip:bob@127.0.0.1:5071>;q=0.5\n";
    let reply = register(&mut node, &mut bob, "1002", Transport::Udp, None, two);
    assert!(reply.contains("Contact: <sip:bob@127.0.0.1:5070>;expires=600\r\n") && reply.contains("5071>;expires=3600"), "{reply}");
    assert_eq!(bindings(&node).len(), 2);
    let reply = register(&mut node, &mut bob, "1002", Transport::Udp, None, "Contact: <sip:bob@127.0.0.1:5070>;expires=0\n");
    assert!(reply.starts_with("SIP/2.0 200") && !reply.contains("5070>"), "{reply}");
    assert_eq!(bindings(&node), [("SEP00AA00000002".into(), "sip:bob@127.0.0.1:5071".into(), 3600)]);
    let reply = register(&mut node, &mut bob, "1002", Transport::Udp, None, "Contact: *\nExpires: 0\n");
    assert!(reply.starts_with("SIP/2.0 200") && !reply.contains("Contact:"), "{reply}");
    assert!(bindings(&node).is_empty());
    assert_eq!(node.events.last(), Some(&Event::Bindings { aor: "sip:bob-desk@ent-pa.com".into(), bindings: Vec::new() }));
}

#[test]
fn refusals_name_their_reason() {
    let mut node = Node::new(example());
    let mut bob = Phone::new("bob-desk", "bob-pw", BOB);
    let reply = register(&mut node, &mut bob, "1002", Transport::Udp, None, "Contact: <sip:bob@127.0.0.1:5070>;expires=10\n");
    assert!(reply.starts_with("SIP/2.0 423 Interval Too Brief\r\n") && reply.contains("Min-Expires: 60\r\n"), "{reply}");
    let reply = register(&mut node, &mut bob, "1002", Transport::Udp, None, "Contact: <tel:+14085551002>\n");
    assert!(reply.starts_with("SIP/2.0 400 Bad Request (Contact is not a SIP URI)\r\n"), "{reply}");
    let reply = register(&mut node, &mut bob, "1002", Transport::Udp, None, "Contact: *\n");
    assert!(reply.starts_with("SIP/2.0 400 Bad Request (Contact * must be alone and with Expires: 0)"), "{reply}");
    let reply = register(&mut node, &mut bob, "1002", Transport::Udp, None, "Require: gruu\nContact: <sip:bob@127.0.0.1:5070>\n");
    assert!(reply.starts_with("SIP/2.0 420") && reply.contains("Unsupported: gruu\r\n"), "{reply}");
    assert!(bindings(&node).is_empty());
}

#[test]
fn rfc3261_10_3_step_7_an_older_cseq_of_the_same_call_id_fails() {
    let mut node = Node::new(example());
    let mut bob = Phone::new("bob-desk", "bob-pw", BOB);
    register(&mut node, &mut bob, "1002", Transport::Udp, None, "Contact: <sip:bob@127.0.0.1:5070>\n");
    bob.cseq = 0;
    let reply = register(&mut node, &mut bob, "1002", Transport::Udp, None, "Contact: <sip:bob@127.0.0.1:5070>;expires=0\n");
    assert!(reply.starts_with("SIP/2.0 500"), "{reply}");
    assert_eq!(bindings(&node).len(), 1);
}

#[test]
fn bindings_lapse_at_their_expiry() {
    let mut node = Node::new(example());
    let mut bob = Phone::new("bob-desk", "bob-pw", BOB);
    register(&mut node, &mut bob, "1002", Transport::Udp, None, "Contact: <sip:bob@127.0.0.1:5070>;expires=60\n");
    node.advance(Duration::from_secs(59));
    assert_eq!(bindings(&node).len(), 1);
    node.advance(Duration::from_secs(1));
    assert!(bindings(&node).is_empty());
}

#[test]
fn rfc5626_tcp_binding_is_reached_over_its_connection_and_same_instance_replaces() {
    let mut node = Node::new(example());
    let mut carol = Phone::new("carol-desk", "carol-pw", "127.0.0.1:40000");
    let first = "Supported: outbound\nContact: <sip:carol@10.9.9.9:5060;transport=tcp>;+sip.instance=\"<urn:uuid:c1>\";reg-id=1\n";
    let reply = register(&mut node, &mut carol, "1003", Transport::Tcp, Some(7), first);
    assert!(reply.starts_with("SIP/2.0 200") && reply.contains("Require: outbound\r\n"), "{reply}");
    // A new contact URI for the same instance and reg-id replaces the binding.
    let second = "Supported: outbound\nContact: <sip:carol@10.9.9.9:6000;transport=tcp>;+sip.instance=\"<urn:uuid:c1>\";reg-id=1\n";
    register(&mut node, &mut carol, "1003", Transport::Tcp, Some(7), second);
    assert_eq!(bindings(&node), [("SEP00AA00000003".into(), "sip:carol@10.9.9.9:6000;transport=tcp".into(), 3600)]);
    // A request to the AOR forks to the contact over the registering connection.
    let out = node.udp(
        "127.0.0.1:5099",
        "MESSAGE sip:carol-desk@ent-pa.com SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKm1\nMax-Forwards: 70\n\
         From: <sip:x@127.0.0.1:5099>;tag=m\nTo: <sip:carol-desk@ent-pa.com>\nCall-ID: m1\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n",
    );
    let forwarded = out.iter().find(|t| t.transport == Transport::Tcp).unwrap_or_else(|| panic!("not forwarded:\n{}", dump(&out)));
    assert_eq!((forwarded.destination, forwarded.flow.map(|f| f.0)), (addr("127.0.0.1:40000"), Some(7)));
    assert!(status_line(forwarded).starts_with("MESSAGE sip:carol@10.9.9.9:6000;transport=tcp SIP/2.0"), "{}", dump(&out));
}

#[test]
fn a_request_to_an_aor_forks_to_every_contact() {
    let mut node = Node::new(example());
    let mut bob = Phone::new("bob-desk", "bob-pw", BOB);
    register(&mut node, &mut bob, "1002", Transport::Udp, None, "Contact: <sip:bob@127.0.0.1:5070>, <sip:bob2@127.0.0.1:5070>\n");
    let out = node.udp(
        "127.0.0.1:5099",
        "OPTIONS sip:bob-desk@ent-pa.com SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKo1\nMax-Forwards: 70\n\
         From: <sip:x@127.0.0.1:5099>;tag=o\nTo: <sip:bob-desk@ent-pa.com>\nCall-ID: o1\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n",
    );
    let mut uris: Vec<String> = out.iter().filter(|t| t.destination == addr(BOB)).map(status_line).collect();
    uris.sort();
    assert_eq!(uris, ["OPTIONS sip:bob2@127.0.0.1:5070 SIP/2.0", "OPTIONS sip:bob@127.0.0.1:5070 SIP/2.0"], "{}", dump(&out));
}

#[test]
fn a_restart_keeps_the_bindings_the_store_kept() {
    let mut node = Node::new(example());
    let mut bob = Phone::new("bob-desk", "bob-pw", BOB);
    register(&mut node, &mut bob, "1002", Transport::Udp, None, "Contact: <sip:bob@127.0.0.1:5070>;expires=600\n");
    let Some(Event::Bindings { aor, bindings }) = node.events.last().cloned() else { panic!("nothing persisted") };
    // A new node, started 100 s later (same wall clock anchor + 100 s).
    let mut restarted = Node::new(example());
    restarted.advance(Duration::from_secs(100));
    assert_eq!(restarted.b2bua.load_bindings(restarted.now, bindings.into_iter().map(|b| (aor.clone(), b))), 1);
    let now = restarted.now;
    let left: Vec<u64> = restarted.b2bua.registrar().bindings(now).into_iter().map(|b| b.3).collect();
    assert_eq!(left, [500]);
    assert_eq!(restarted.b2bua.registrar().snapshot(now).contacts("SEP00AA00000002"), ["sip:bob@127.0.0.1:5070"]);
}
