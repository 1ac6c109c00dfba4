//! Flow F2 behind the gate: the cloud zone honours Route headers (`honor_route_header`), so a cloud
//! call that names the user's home cluster only in its Route — its Request-URI the called user's
//! cloud address, no cluster FQDN — reaches call control; from a zone that does not honour Route
//! headers the same Route is not the caller's to set, and the core routes the call by its
//! Request-URI itself.

mod common;

use causeway_sip::StatusCode;
use common::*;

fn invite_via_cluster_route(from_zone: &str, call_id: &str) -> String {
    let mut caller = Ua::caller(from_zone, "\"Alice\" <sip:alice@ent-pa.call.webex.com>", "sip:bob@ent-pa.call.webex.com", call_id);
    caller.request(
        "INVITE",
        "P-Asserted-Identity: <sip:alice@ent-pa.call.webex.com>\nRoute: <sip:127.0.0.1:5060;lr>, <sip:us-cm-pub.ent-pa.com;lr>\n",
        Some(&sdp("cloud-alice", 6000)),
    )
}

/// Who answered the call: `true` when the core did (call control never saw it).
fn answered_by_the_core(node: &Node) -> bool {
    node.core.counters().responses_sent.get(StatusCode::NOT_FOUND) > 0
}

#[test]
fn f2_a_cloud_call_naming_the_cluster_only_in_its_route_reaches_call_control() {
    let mut node = Node::with(example(), zones(), |_| {});
    let out = node.udp(CLOUD, &invite_via_cluster_route(CLOUD, "f2-route"));
    // Call control took it (100 Trying from its transaction) and ran its dial plan, which does not
    // know Bob's cloud address as a called party (404 from call control, not from the core).
    assert!(out.iter().any(|t| status_line(t).starts_with("SIP/2.0 100")), "{}", dump(&out));
    assert!(sent(&out, CLOUD, "SIP/2.0 404"), "{}", dump(&out));
    assert!(!answered_by_the_core(&node), "call control answered\n{}", dump(&out));

    // The same INVITE from Unity, whose zone does not honour Route headers: the Route is removed
    // and the core routes the Request-URI (no route here: 404 from the core itself).
    let mut node = Node::with(example(), zones(), |_| {});
    let out = node.udp(UNITY, &invite_via_cluster_route(UNITY, "not-honoured"));
    assert!(sent(&out, UNITY, "SIP/2.0 404"), "{}", dump(&out));
    assert!(answered_by_the_core(&node), "the core answered, call control never saw it\n{}", dump(&out));
}
