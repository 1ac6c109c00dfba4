//! A call-control leg goes where edge routing's search sends it (one search-rule engine for the
//! proxy core and call control): the rule's behaviour rewrites the leg's Request-URI, and when
//! every peer of an `on_match = continue` rule's zone fails, the leg goes on to the next rule's
//! zone (RFC 3263 §4.3) before the call hears of it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use causeway_b2bua::Zones;
use common::*;

/// The backup cloud zone's peer.
const BACKUP: &str = "10.0.0.12:5060";

/// `common::ROUTING`'s zones; Bob's cloud identity is searched in webex first (continue), then,
/// renamed for it, in webex-backup.
const CHAIN: &str = concat!(r#"
[[zone]]
name = "webex"
kind = "neighbor"
peer = [{ address = "10.0.0.2:5060", transport = "udp" }]
keepalive = { enabled = false }
authentication = "treat-as-authenticated"

[[zone]]
name = "webex-backup"
kind = "neighbor"
peer = [{ address = "10.0.0.12:5060", transport = "udp" }]
keepalive = { enabled = false }

"#,
    neighbour_zones!(),
    r#"[[search_rule]]
name = "to-webex"
priority = 50
source = "any-authenticated"
request_must_be_authenticated = true
pattern_type = "regex"
pattern = '.*@ent-pa\.call\.webex\.com'
on_match = "continue"
target = "webex"

[[search_rule]]
name = "to-webex-backup"
priority = 60
pattern_type = "regex"
pattern = '(.*)@ent-pa\.call\.webex\.com'
behaviour = "replace"
replace = '\1@backup.call.webex.com'
on_match = "stop"
target = "webex-backup"
"#);

#[test]
fn a_continue_chain_sends_the_leg_to_the_next_zone_with_its_rewritten_request_uri() {
    let table = causeway_routing::config::load(CHAIN).unwrap_or_else(|e| panic!("{e:?}"));
    let zones = Zones::new(Some(Arc::new(table)));
    let mut node = Node::with(example(), zones, |c| c.timers.t1 = Duration::from_millis(100));
    register_desks(&mut node);
    let mut alice = Ua::caller(ALICE_DESK, "\"Alice\" <sip:1001@ent-pa.com>", "sip:1002@127.0.0.1:5060", "chain");
    let out = node.udp(ALICE_DESK, &alice.request("INVITE", "", Some(&sdp("alice", 4000))));
    let desk = one(&out, BOB_DESK, "INVITE");
    node.udp(BOB_DESK, &reply(&desk, 180, "desk", BOB_DESK, None));
    let out = node.advance(Duration::from_secs(4));
    let first = one(&out, CLOUD, "INVITE sip:bob@ent-pa.call.webex.com");
    let out = node.udp(CLOUD, &reply(&first, 503, "c1", CLOUD, None));
    let second = one(&out, BACKUP, "INVITE sip:bob@backup.call.webex.com");
    assert_ne!(second.call_id().ok(), first.call_id().ok(), "a new attempt");
    assert!(to(&out, ALICE_DESK).is_empty(), "the caller hears nothing of the failed zone\n{}", dump(&out));
    node.udp(BACKUP, &reply(&second, 180, "c2", BACKUP, None));
    node.advance(Duration::from_secs(2));
    let out = node.udp(BACKUP, &reply(&second, 200, "c2", BACKUP, Some(&sdp("cloud", 6000))));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 200"), "{}", dump(&out));
    assert!(sent(&out, BOB_DESK, "CANCEL"), "{}", dump(&out));
}
