//! A trunk zone's identity in simulated time (flow F4, Teams Direct Routing): the Record-Route
//! entry facing the trunk names the zone's `local_fqdn` on calls to it and from it, the entry
//! facing the other side names the listener (RFC 3261 §16.6 step 4, RFC 5658 §3.3: two entries
//! when the sides know the node by different names), and in-dialog requests that come back with
//! those entries as Route are recognised as ours (§16.4).

mod harness;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use causeway_proxy::edge::EdgeRouter;
use causeway_proxy::FlowId;
use causeway_sip::{HeaderName, Message, Method, Transport};
use harness::*;

const FQDN: &str = "sbc.ent-pa.example";

const TABLE: &str = r#"
[[zone]]
name = "cucm"
kind = "neighbor"
authentication = "treat-as-authenticated"
keepalive = { enabled = false }
[[zone.peer]]
address = "192.0.2.10:5060"
transport = "udp"

[[zone]]
name = "teams"
kind = "trunk"
authentication = "treat-as-authenticated"
local_fqdn = "sbc.ent-pa.example"
keepalive = { enabled = false }
[[zone.peer]]
address = "192.0.2.50:5061"
transport = "tls"

[[search_rule]]
name = "to-teams"
priority = 10
pattern_type = "regex"
pattern = '(\+\d{7,15})@teams\.ent-pa\.example'
behaviour = "replace"
replace = '\1@sip.pstnhub.example'
on_match = "stop"
target = "teams"

[[search_rule]]
name = "to-cucm"
priority = 20
pattern_type = "suffix"
pattern = "@ent-pa.example"
target = "cucm"
"#;

/// Microsoft's proxy, as the trunk's peer.
const TEAMS: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 50)), 5061);
/// CUCM: Alice's address in the harness is the cucm zone's peer.
const CUCM: SocketAddr = ALICE;

fn sim() -> Sim<EdgeRouter> {
    let table = causeway_routing::config::load(TABLE).unwrap_or_else(|e| panic!("{e:?}"));
    let mut config = config();
    // The node counts each trunk's FQDN among its domains (causeway-node's routing::domains).
    config.domains.push(FQDN.into());
    Sim::with(config, EdgeRouter::new(Arc::new(table)))
}

fn invites(out: &[(SocketAddr, Message)]) -> Vec<(SocketAddr, Message)> {
    out.iter().filter(|(_, m)| m.method() == Some(&Method::Invite)).cloned().collect()
}

fn from_teams(sim: &mut Sim<EdgeRouter>, text: &str) -> Vec<(SocketAddr, Message)> {
    sim.deliver(Transport::Tls, PROXY_TLS, SocketAddr::new(TEAMS.ip(), 40555), Some(FlowId(9)), Bytes::from(crlf(text)));
    sim.take_msgs()
}

#[test]
fn rfc3261_16_6_a_call_to_the_trunk_carries_its_fqdn_in_the_record_route_facing_it() {
    let mut sim = sim();
    sim.udp(CUCM, &invite("sip:+14155550100@teams.ent-pa.example", "t1", "z9hG4bKt1", ""));
    let sent = invites(&sim.take_msgs());
    assert_eq!(sent.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [TEAMS]);
    let copy = &sent[0].1;
    assert_eq!(copy.request_uri_str(), Some("sip:+14155550100@sip.pstnhub.example"));
    assert_eq!(
        values(copy, HeaderName::RecordRoute),
        [format!("<sip:{FQDN}:5061;transport=tls;lr>"), "<sip:127.0.0.1:5060;transport=udp;lr>".to_owned()],
        "the entry facing Teams names the SBC FQDN; the one facing CUCM the UDP listener"
    );
}

#[test]
fn rfc5658_a_call_from_the_trunk_sees_its_fqdn_and_its_dialog_comes_back_through_us() {
    let mut sim = sim();
    let text = invite("sip:bob@ent-pa.example", "t2", "z9hG4bKt2", "")
        .replace("SIP/2.0/UDP 192.0.2.10:5060", "SIP/2.0/TLS 192.0.2.50:5061")
        .replace("Contact: <sip:alice@192.0.2.10:5060>", "Contact: <sip:+14155550100@sip.pstnhub.example:5061;transport=tls>");
    let sent = invites(&from_teams(&mut sim, &text));
    assert_eq!(sent.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [CUCM]);
    let copy = &sent[0].1;
    let rr = values(copy, HeaderName::RecordRoute);
    assert_eq!(rr.len(), 2, "{rr:?}");
    assert_eq!(rr[0], "<sip:127.0.0.1:5060;transport=udp;lr>", "facing CUCM");
    assert!(rr[1].starts_with("<sip:cwf-") && rr[1].ends_with(&format!("@{FQDN}:5061;transport=tls;lr>")), "facing Teams: {rr:?}");

    // Teams' BYE follows the route set it learnt (the Record-Route in reverse): both entries are
    // ours, so nothing is left and the BYE goes to CUCM's Contact over UDP.
    let bye = format!(
        "BYE sip:bob@192.0.2.10:5060 SIP/2.0\n\
         Via: SIP/2.0/TLS 192.0.2.50:5061;branch=z9hG4bKbye2\n\
         Max-Forwards: 70\n\
         Route: {}, {}\n\
         From: \"Alice\" <sip:alice@example.org>;tag=a-t2\n\
         To: <sip:bob@ent-pa.example>;tag=b-t2\n\
         Call-ID: t2\n\
         CSeq: 2 BYE\n\
         Content-Length: 0\n\n",
        rr[1], rr[0]
    );
    let out = from_teams(&mut sim, &bye);
    let byes: Vec<_> = out.iter().filter(|(_, m)| m.method() == Some(&Method::Bye)).collect();
    assert_eq!(byes.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [CUCM], "{out:?}");
    assert!(values(&byes[0].1, HeaderName::Route).is_empty(), "our two entries were taken off (RFC 3261 §16.4)");
}
