//! Traversal zones at the edge, in simulated time: the internal node's connection is learnt
//! from its first message (classified by its certificate), requests for the zone go down it,
//! the Record-Route facing the internal node carries it for in-dialog requests, and when it
//! closes the zone is down (503).

mod harness;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use causeway_proxy::edge::EdgeRouter;
use causeway_proxy::{FlowId, Inbound};
use causeway_sip::{HeaderName, Method, Transport};
use harness::*;

const TABLE: &str = r#"
[[zone]]
name = "internal"
kind = "traversal"
role = "server"
authentication = "treat-as-authenticated"
tls_verify_subject = ["internal.example.com"]

[[search_rule]]
name = "to-internal"
pattern_type = "suffix"
pattern = "@internal.example.com"
target = "internal"
"#;

/// The internal node's end of its connection to the edge's TLS listener.
const INTERNAL: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 99)), 41000);
const FLOW: FlowId = FlowId(17);

fn sim() -> Sim<EdgeRouter> {
    let table = causeway_routing::config::load(TABLE).unwrap_or_else(|e| panic!("{e:?}"));
    let mut sim = Sim::with(config(), EdgeRouter::new(Arc::new(table.clone())));
    let now = sim.now;
    sim.core.monitor_peers(now, &table);
    sim
}

/// The internal node's keepalive OPTIONS over its connection, with its certificate's names.
fn internal_says_hello(sim: &mut Sim<EdgeRouter>, names: &[&str]) {
    let options = request("OPTIONS", "sip:127.0.0.1:5061;transport=tls", "hello", "z9hG4bKhello", "")
        .replace("SIP/2.0/UDP 192.0.2.10:5060", &format!("SIP/2.0/TLS {INTERNAL}"));
    let names: Arc<[String]> = names.iter().map(|n| (*n).to_owned()).collect();
    let inbound = Inbound {
        bytes: Bytes::from(crlf(&options)),
        transport: Transport::Tls,
        local: PROXY_TLS,
        peer: INTERNAL,
        flow: Some(FLOW),
        tls_peer_names: Some(names),
    };
    let now = sim.now;
    sim.core.handle_inbound(now, inbound);
    let sent = std::iter::from_fn(|| sim.core.poll_transmit()).collect::<Vec<_>>();
    assert_eq!(sent.iter().map(|t| (t.destination, t.flow)).collect::<Vec<_>>(), [(INTERNAL, Some(FLOW))], "the OPTIONS is answered on its connection");
}

#[test]
fn requests_for_the_zone_go_down_the_connection_the_internal_node_opened() {
    let mut sim = sim();
    internal_says_hello(&mut sim, &["internal.example.com"]);
    assert_eq!(sim.core.traversal_connection("internal").map(|c| c.flow), Some(FLOW.0));
    sim.udp(ALICE, &invite("sip:bob@internal.example.com", "t1", "z9hG4bKt1", ""));
    let sent = sim.take();
    let forwarded = sent.iter().find(|t| t.destination == INTERNAL).unwrap_or_else(|| panic!("nothing sent to the internal node: {sent:?}"));
    assert_eq!((forwarded.transport, forwarded.flow), (Transport::Tls, Some(FLOW)));
    let msg = causeway_sip::Message::parse(forwarded.bytes.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(msg.method(), Some(&Method::Invite));
    // RFC 5626 §5.3: the Record-Route entry facing the internal node names the connection.
    let rr = values(&msg, HeaderName::RecordRoute);
    assert!(rr.first().is_some_and(|r| r.starts_with(&format!("<sip:cwf-{:016x}@", FLOW.0))), "{rr:?}");
}

#[test]
fn a_connection_without_the_zones_certificate_serves_nothing_and_a_closed_one_takes_the_zone_down() {
    let mut sim = sim();
    internal_says_hello(&mut sim, &["intruder.example.com"]);
    assert_eq!(sim.core.traversal_connection("internal"), None, "a certificate that does not match never admits");
    sim.udp(ALICE, &invite("sip:bob@internal.example.com", "t2", "z9hG4bKt2", ""));
    let statuses: Vec<u16> = sim.take_msgs().into_iter().filter_map(|(_, m)| m.status().map(|s| s.as_u16())).collect();
    assert_eq!(statuses, [503]);

    let mut sim = self::sim();
    internal_says_hello(&mut sim, &["internal.example.com"]);
    sim.core.handle_flow_closed(FLOW);
    assert_eq!(sim.core.traversal_connection("internal"), None);
    sim.udp(ALICE, &invite("sip:bob@internal.example.com", "t3", "z9hG4bKt3", ""));
    let statuses: Vec<u16> = sim.take_msgs().into_iter().filter_map(|(_, m)| m.status().map(|s| s.as_u16())).collect();
    assert_eq!(statuses, [503], "no connection: the zone cannot route the request (RFC 3263 §4.3)");
}
