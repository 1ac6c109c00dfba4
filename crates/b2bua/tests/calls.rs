//! Calls through the back-to-back user agent in simulated time: flows F1 and F2, every Single
//! Number Reach timer, forwards, CANCEL, re-INVITE/UPDATE relay, BYE from either side, the
//! dual-ringing feature code, and the CDR of each.

mod common;

use std::time::Duration;

use causeway_b2bua::Event;
use causeway_callctl::cdr::{EndCause, Party};
use causeway_callctl::{CallRecord, CancelReason};
use causeway_sip::{Message, Transport};
use common::*;

const COMPLETED_ELSEWHERE: &str = "SIP;cause=200;text=\"Call completed elsewhere\"";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// A node with the example cluster and zones, Bob's and Alice's desk phones registered.
fn node() -> Node {
    let mut node = Node::with(example(), zones(), |_| {});
    register_desks(&mut node);
    node
}

fn record(node: &Node) -> CallRecord {
    match node.events.iter().rev().find_map(|e| match e {
        Event::CallRecord(r) => Some(r.as_ref().clone()),
        _ => None,
    }) {
        Some(r) => r,
        None => panic!("no call record: {:?}", node.events),
    }
}

fn reason(m: &Message) -> Option<String> {
    header(m, "Reason").into_iter().next()
}

#[test]
fn f1_desk_and_cloud_ring_cloud_answers_desk_is_cancelled_completed_elsewhere() {
    let mut node = node();
    let (mut alice, out) = alice_calls(&mut node, "1002", "f1");
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 100"), "{}", dump(&out));
    let desk_invite = one(&out, BOB_DESK, "INVITE sip:1002@127.0.0.1:5070 SIP/2.0");
    assert_eq!(desk_invite.body(), sdp("alice", 4000).as_bytes(), "SDP passed unchanged");
    assert_eq!(header(&desk_invite, "From"), [format!("\"Alice Adams\" <sip:1001@us-cm-pub.ent-pa.com>;tag={}", desk_invite.from_tag().ok().flatten().unwrap_or_default())]);
    assert_eq!(header(&desk_invite, "Supported"), ["timer"], "no 100rel: we do not PRACK");
    assert_eq!(header(&desk_invite, "Session-Expires"), ["1800"]);
    assert_ne!(desk_invite.call_id().ok(), Some("f1"), "each leg has its own Call-ID");
    let out = node.udp(BOB_DESK, &reply(&desk_invite, 180, "desk", BOB_DESK, None));
    let ringing = one(&out, ALICE_DESK, "SIP/2.0 180");
    assert_eq!(ringing.body().len(), 0);
    // After the associated identity's 4 s delay the cloud rings too.
    let out = node.advance(ms(3999));
    assert!(to(&out, CLOUD).is_empty());
    let out = node.advance(ms(1));
    let cloud_invite = one(&out, CLOUD, "INVITE sip:bob@ent-pa.call.webex.com SIP/2.0");
    assert_eq!(header(&cloud_invite, "P-Asserted-Identity"), ["\"Alice Adams\" <sip:alice@ent-pa.com>"]);
    let out = node.udp(CLOUD, &reply(&cloud_invite, 183, "cloud", CLOUD, Some(&sdp("cloud", 6000))));
    let early = one(&out, ALICE_DESK, "SIP/2.0 183");
    assert_eq!(early.body(), sdp("cloud", 6000).as_bytes(), "first 183 with SDP is the early media");
    node.advance(secs(2));
    let out = node.udp(CLOUD, &reply(&cloud_invite, 200, "cloud", CLOUD, Some(&sdp("cloud", 6000))));
    let ok = one(&out, ALICE_DESK, "SIP/2.0 200");
    assert_eq!(ok.body(), sdp("cloud", 6000).as_bytes());
    let cancel = one(&out, BOB_DESK, "CANCEL sip:1002@127.0.0.1:5070");
    assert_eq!(reason(&cancel).as_deref(), Some(COMPLETED_ELSEWHERE));
    let out = node.udp(BOB_DESK, &reply(&cancel, 200, "desk", BOB_DESK, None));
    assert!(out.is_empty(), "{}", dump(&out));
    let out = node.udp(BOB_DESK, &reply(&desk_invite, 487, "desk", BOB_DESK, None));
    assert!(sent(&out, BOB_DESK, "ACK"), "non-2xx ACK by the transaction layer:\n{}", dump(&out));
    // The caller ACKs; the cloud leg gets its ACK then.
    alice.confirmed(&ok);
    assert!(alice.target.starts_with("sip:cwb-"), "{}", alice.target);
    let out = node.udp(ALICE_DESK, &alice.request("ACK", "", None));
    let ack = one(&out, CLOUD, "ACK sip:ua@10.0.0.2:5060");
    assert_eq!(ack.cseq().map(|c| c.seq).ok(), Some(1));
    // Bob in the cloud hangs up: both sides end.
    let mut cloud = Ua::callee(CLOUD, &cloud_invite, "cloud");
    let out = node.udp(CLOUD, &cloud.request("BYE", "", None));
    assert!(sent(&out, CLOUD, "SIP/2.0 200"));
    let bye = one(&out, ALICE_DESK, "BYE sip:ua@127.0.0.1:5072");
    node.udp(ALICE_DESK, &reply(&bye, 200, "x", ALICE_DESK, None));
    let cdr = record(&node);
    assert_eq!((cdr.info.call_id.as_str(), cdr.info.line.as_deref(), cdr.status), ("f1", Some("1002"), Some(200)));
    assert_eq!((cdr.answered_leg, cdr.early_media_leg, cdr.released_by), (Some(1), Some(1), Some(Party::Callee)));
    let legs: Vec<_> = cdr.legs.iter().map(|l| (l.leg, l.target.as_str(), l.status, l.cause, l.reason.as_deref())).collect();
    assert_eq!(
        legs,
        [
            (0, "sip:1002@127.0.0.1:5070", Some(487), Some(EndCause::Cancelled(CancelReason::CompletedElsewhere)), Some(COMPLETED_ELSEWHERE)),
            (1, "sip:bob@ent-pa.call.webex.com", Some(200), Some(EndCause::CalleeHungUp), None),
        ]
    );
    assert_eq!(node.b2bua.calls(), 0);
}

/// Alice calls Bob; the desk rings; after the delay the cloud leg's INVITE comes: returns both.
fn ringing_desk_and_cloud(node: &mut Node, call_id: &str) -> (Ua, Message, Message) {
    let (alice, out) = alice_calls(node, "1002", call_id);
    let desk_invite = one(&out, BOB_DESK, "INVITE");
    node.udp(BOB_DESK, &reply(&desk_invite, 180, "desk", BOB_DESK, None));
    let out = node.advance(secs(4));
    let cloud_invite = one(&out, CLOUD, "INVITE");
    node.udp(CLOUD, &reply(&cloud_invite, 180, "cloud", CLOUD, None));
    (alice, desk_invite, cloud_invite)
}

#[test]
fn answer_too_soon_is_a_voicemail_pickup_released_while_the_desk_rings_on() {
    let mut node = node();
    let (_alice, desk_invite, cloud_invite) = ringing_desk_and_cloud(&mut node, "soon");
    node.advance(ms(1499));
    let out = node.udp(CLOUD, &reply(&cloud_invite, 200, "cloud", CLOUD, Some(&sdp("vm", 7000))));
    assert!(sent(&out, CLOUD, "ACK"), "{}", dump(&out));
    let bye = one(&out, CLOUD, "BYE");
    assert_eq!(reason(&bye), None);
    assert!(to(&out, ALICE_DESK).is_empty() && to(&out, BOB_DESK).is_empty(), "{}", dump(&out));
    node.udp(CLOUD, &reply(&bye, 200, "cloud", CLOUD, None));
    // The desk answers later and wins.
    let out = node.udp(BOB_DESK, &reply(&desk_invite, 200, "desk", BOB_DESK, Some(&sdp("bob", 5000))));
    assert_eq!(one(&out, ALICE_DESK, "SIP/2.0 200").body(), sdp("bob", 5000).as_bytes());
    let c = node.b2bua.counters(node.now);
    assert_eq!((c.calls_active, c.legs_placed, c.legs_answered_too_soon, c.legs_cancelled), (1, 2, 1, 0));
}

#[test]
fn an_answer_at_exactly_answer_too_soon_is_a_real_answer() {
    let mut node = node();
    let (_alice, _desk_invite, cloud_invite) = ringing_desk_and_cloud(&mut node, "exact");
    node.advance(ms(1500));
    let out = node.udp(CLOUD, &reply(&cloud_invite, 200, "cloud", CLOUD, Some(&sdp("cloud", 6000))));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 200") && !sent(&out, CLOUD, "BYE"), "{}", dump(&out));
}

#[test]
fn answer_too_late_cancels_the_ringing_cloud_leg_without_completed_elsewhere() {
    let mut node = node();
    let (_alice, _desk_invite, _cloud_invite) = ringing_desk_and_cloud(&mut node, "late");
    let out = node.advance(ms(18_999));
    assert!(to(&out, CLOUD).is_empty(), "{}", dump(&out));
    let out = node.advance(ms(1));
    let cancel = one(&out, CLOUD, "CANCEL");
    assert_eq!(reason(&cancel), None);
    assert!(to(&out, BOB_DESK).is_empty(), "the desk rings on");
}

#[test]
fn no_answer_forwards_to_voicemail_when_the_line_timer_runs_out() {
    let mut node = node();
    let (alice, out) = alice_calls(&mut node, "1002", "cfna");
    let desk_invite = one(&out, BOB_DESK, "INVITE");
    node.udp(BOB_DESK, &reply(&desk_invite, 180, "desk", BOB_DESK, None));
    let out = node.advance(secs(4));
    let cloud_invite = one(&out, CLOUD, "INVITE");
    node.udp(CLOUD, &reply(&cloud_invite, 180, "cloud", CLOUD, None));
    // The line's forward-no-answer time (24 s) runs from the call's arrival; the cloud leg's
    // answer-too-late (19 s after its INVITE at 4 s) would come at 23 s and comes first.
    let out = node.advance(secs(19));
    assert!(sent(&out, CLOUD, "CANCEL"), "{}", dump(&out));
    let out = node.advance(secs(1));
    let cancel = one(&out, BOB_DESK, "CANCEL");
    assert_eq!(reason(&cancel), None);
    let vm = one(&out, UNITY, "INVITE sip:8000@10.0.0.3:5060");
    assert_eq!(vm.body(), sdp("alice", 4000).as_bytes());
    let out = node.udp(UNITY, &reply(&vm, 200, "vm", UNITY, Some(&sdp("vm", 7000))));
    assert_eq!(one(&out, ALICE_DESK, "SIP/2.0 200").body(), sdp("vm", 7000).as_bytes());
    node.udp(BOB_DESK, &reply(&desk_invite, 487, "desk", BOB_DESK, None));
    node.udp(CLOUD, &reply(&cloud_invite, 487, "cloud", CLOUD, None));
    let mut alice = alice;
    alice.confirmed(&parse(out.iter().find(|t| t.destination == addr(ALICE_DESK)).unwrap_or_else(|| panic!("no 200"))));
    node.udp(ALICE_DESK, &alice.request("ACK", "", None));
    let out = node.udp(ALICE_DESK, &alice.request("BYE", "", None));
    let bye = one(&out, UNITY, "BYE");
    node.udp(UNITY, &reply(&bye, 200, "vm", UNITY, None));
    let cdr = record(&node);
    assert_eq!(cdr.forwarded, Some((causeway_callctl::fork::ForwardReason::NoAnswer, "8000".to_owned())));
    assert_eq!((cdr.answered_leg, cdr.released_by), (Some(2), Some(Party::Caller)));
    let causes: Vec<_> = cdr.legs.iter().map(|l| l.cause).collect();
    assert_eq!(
        causes,
        [Some(EndCause::Cancelled(CancelReason::NoAnswer)), Some(EndCause::Cancelled(CancelReason::AnswerTooLate)), Some(EndCause::CallerHungUp)]
    );
    let c = node.b2bua.counters(node.now);
    assert_eq!((c.calls_active, c.calls_answered, c.call_records, c.registrations_active), (0, 1, 1, 2));
    assert_eq!((c.legs_placed, c.legs_cancelled, c.legs_answered_too_late, c.legs_answered_too_soon), (3, 2, 1, 0));
}

#[test]
fn busy_desk_with_cloud_not_yet_ringing_forwards_busy_after_the_cloud_fails_too() {
    let mut node = node();
    let (_alice, out) = alice_calls(&mut node, "1002", "busy");
    let desk_invite = one(&out, BOB_DESK, "INVITE");
    let out = node.udp(BOB_DESK, &reply(&desk_invite, 486, "desk", BOB_DESK, None));
    assert!(to(&out, UNITY).is_empty(), "the cloud leg is still to come");
    let out = node.advance(secs(4));
    let cloud_invite = one(&out, CLOUD, "INVITE");
    let out = node.udp(CLOUD, &reply(&cloud_invite, 486, "cloud", CLOUD, None));
    assert!(sent(&out, UNITY, "INVITE sip:8000@"), "busy everywhere → forward busy\n{}", dump(&out));
}

#[test]
fn caller_cancel_cancels_every_leg_without_completed_elsewhere_and_gets_487() {
    let mut node = node();
    let (mut alice, desk_invite, cloud_invite) = ringing_desk_and_cloud(&mut node, "cxl");
    let out = node.udp(ALICE_DESK, &alice.request("CANCEL", "", None));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 200") && sent(&out, ALICE_DESK, "SIP/2.0 487"), "{}", dump(&out));
    for leg in [BOB_DESK, CLOUD] {
        assert_eq!(reason(&one(&out, leg, "CANCEL")), None, "{leg}");
    }
    for (leg, invite) in [(BOB_DESK, &desk_invite), (CLOUD, &cloud_invite)] {
        node.udp(leg, &reply(invite, 487, "x", leg, None));
    }
    let c = node.b2bua.counters(node.now);
    assert_eq!((c.calls_active, c.calls_cancelled, c.calls_answered, c.legs_cancelled, c.call_records), (0, 1, 0, 2, 1));
}

/// Alice calls 1002 and the desk answers; returns Alice's and the desk's dialogs.
fn connected(node: &mut Node, call_id: &str) -> (Ua, Ua) {
    let (mut alice, out) = alice_calls(node, "1002", call_id);
    let desk_invite = one(&out, BOB_DESK, "INVITE");
    let out = node.udp(BOB_DESK, &reply(&desk_invite, 200, "desk", BOB_DESK, Some(&sdp("bob", 5000))));
    let ok = one(&out, ALICE_DESK, "SIP/2.0 200");
    alice.confirmed(&ok);
    let out = node.udp(ALICE_DESK, &alice.request("ACK", "", None));
    assert!(sent(&out, BOB_DESK, "ACK"), "{}", dump(&out));
    (alice, Ua::callee(BOB_DESK, &desk_invite, "desk"))
}

#[test]
fn reinvite_and_update_are_relayed_across_and_bye_from_the_callee_ends_both() {
    let mut node = node();
    let (mut alice, mut bob) = connected(&mut node, "relay");
    // Hold from Alice: a re-INVITE with new SDP reaches Bob unchanged on Bob's own dialog.
    let out = node.udp(ALICE_DESK, &alice.request("INVITE", "", Some(&sdp("alice-hold", 4000))));
    let reinvite = one(&out, BOB_DESK, "INVITE sip:ua@127.0.0.1:5070");
    assert_eq!(reinvite.body(), sdp("alice-hold", 4000).as_bytes());
    assert_eq!(reinvite.cseq().map(|c| c.seq).ok(), Some(2), "the leg's own CSeq space");
    let out = node.udp(BOB_DESK, &reply(&reinvite, 200, "desk", BOB_DESK, Some(&sdp("bob-held", 5000))));
    let ok = one(&out, ALICE_DESK, "SIP/2.0 200");
    assert_eq!(ok.body(), sdp("bob-held", 5000).as_bytes());
    let out = node.udp(ALICE_DESK, &alice.request("ACK", "", None));
    assert_eq!(one(&out, BOB_DESK, "ACK").cseq().map(|c| c.seq).ok(), Some(2));
    // UPDATE from Bob reaches Alice.
    let out = node.udp(BOB_DESK, &bob.request("UPDATE", "Session-Expires: 1800;refresher=uas\n", Some(&sdp("bob2", 5002))));
    let update = one(&out, ALICE_DESK, "UPDATE sip:ua@127.0.0.1:5072");
    assert_eq!(header(&update, "Session-Expires"), ["1800;refresher=uas"]);
    let out = node.udp(ALICE_DESK, &reply(&update, 200, "x", ALICE_DESK, Some(&sdp("alice2", 4002))));
    assert_eq!(one(&out, BOB_DESK, "SIP/2.0 200").body(), sdp("alice2", 4002).as_bytes());
    // BYE from Bob ends both.
    let out = node.udp(BOB_DESK, &bob.request("BYE", "", None));
    assert!(sent(&out, BOB_DESK, "SIP/2.0 200"));
    let bye = one(&out, ALICE_DESK, "BYE");
    node.udp(ALICE_DESK, &reply(&bye, 200, "x", ALICE_DESK, None));
    assert_eq!(node.b2bua.calls(), 0);
    assert_eq!(record(&node).released_by, Some(Party::Callee));
}

#[test]
fn bye_from_the_caller_ends_both() {
    let mut node = node();
    let (mut alice, _bob) = connected(&mut node, "bye");
    let out = node.udp(ALICE_DESK, &alice.request("BYE", "", None));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 200") && sent(&out, BOB_DESK, "BYE"), "{}", dump(&out));
    assert_eq!(record(&node).released_by, Some(Party::Caller));
}

#[test]
fn rfc4028_an_unrefreshed_session_ends_and_a_refreshed_one_lives_on() {
    let mut node = node();
    let (mut alice, out) = alice_calls(&mut node, "1002", "se");
    let desk_invite = one(&out, BOB_DESK, "INVITE");
    let ok = reply(&desk_invite, 200, "desk", BOB_DESK, Some(&sdp("bob", 5000))).replace("Content-Type", "Session-Expires: 90;refresher=uac\r\nRequire: timer\r\nContent-Type");
    let out = node.udp(BOB_DESK, &ok);
    let answer = one(&out, ALICE_DESK, "SIP/2.0 200");
    assert_eq!(header(&answer, "Session-Expires"), ["90;refresher=uac"]);
    assert_eq!(header(&answer, "Require"), ["timer"]);
    alice.confirmed(&answer);
    node.udp(ALICE_DESK, &alice.request("ACK", "", None));
    // Alice refreshes at 45 s with UPDATE: the session runs to 135 s.
    node.advance(secs(45));
    let out = node.udp(ALICE_DESK, &alice.request("UPDATE", "Session-Expires: 90;refresher=uac\n", None));
    let update = one(&out, BOB_DESK, "UPDATE");
    node.udp(BOB_DESK, &reply(&update, 200, "desk", BOB_DESK, None).replace("Content-Length", "Session-Expires: 90;refresher=uac\r\nContent-Length"));
    let out = node.advance(secs(89));
    assert!(out.iter().all(|t| !status_line(t).starts_with("BYE")), "{}", dump(&out));
    let out = node.advance(secs(1));
    assert!(sent(&out, BOB_DESK, "BYE") && sent(&out, ALICE_DESK, "BYE"), "{}", dump(&out));
}

#[test]
fn a_2xx_never_acknowledged_is_retransmitted_then_the_call_is_torn_down() {
    let mut node = node();
    let (_alice, out) = alice_calls(&mut node, "1002", "noack");
    let desk_invite = one(&out, BOB_DESK, "INVITE");
    node.udp(BOB_DESK, &reply(&desk_invite, 200, "desk", BOB_DESK, Some(&sdp("bob", 5000))));
    let out = node.advance(ms(500));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 200"), "T1 retransmission\n{}", dump(&out));
    let out = node.advance(secs(32));
    assert!(sent(&out, BOB_DESK, "ACK") && sent(&out, BOB_DESK, "BYE") && sent(&out, ALICE_DESK, "BYE"), "{}", dump(&out));
}

#[test]
fn f2_cloud_call_is_anchored_on_alice_and_not_forked_back_to_the_cloud() {
    let mut node = node();
    let mut cloud = Ua::caller(CLOUD, "\"Alice\" <sip:alice@ent-pa.call.webex.com>", "sip:bob@ent-pa.com", "f2");
    let invite = cloud.request(
        "INVITE",
        "P-Asserted-Identity: <sip:alice@ent-pa.call.webex.com>\nRoute: <sip:127.0.0.1:5060;lr>, <sip:us-cm-pub.ent-pa.com;lr>\n",
        Some(&sdp("cloud-alice", 6000)),
    )
    .replace("Contact: <sip:ua@10.0.0.2:5060>", "Contact: \"l2sip\" <sip:l2sip@10.0.0.2:5060;transport=udp>;call-type=squared");
    let out = node.udp(CLOUD, &invite);
    let desk = one(&out, BOB_DESK, "INVITE");
    assert_eq!(header(&desk, "From").first().map(|f| f.split(";tag=").next().unwrap_or_default().to_owned()), Some("\"Alice Adams\" <sip:1001@us-cm-pub.ent-pa.com>".to_owned()));
    let out = node.advance(secs(10));
    assert!(!sent(&out, CLOUD, "INVITE"), "loop avoidance: no fork back to the cloud\n{}", dump(&out));
    let out = node.udp(BOB_DESK, &reply(&desk, 486, "desk", BOB_DESK, None));
    let vm = one(&out, UNITY, "INVITE");
    let out = node.udp(UNITY, &reply(&vm, 480, "vm", UNITY, None));
    assert!(sent(&out, CLOUD, "SIP/2.0 480"), "{}", dump(&out));
    let cdr = record(&node);
    assert_eq!(cdr.info.anchored_user.as_deref(), Some("alice"));
    assert_eq!(cdr.info.calling.number.as_deref(), Some("1001"));
}

#[test]
fn the_feature_code_toggles_dual_ringing_for_the_caller() {
    let mut node = node();
    let mut bob = Ua::caller(BOB_DESK, "<sip:1002@ent-pa.com>", "sip:*88@127.0.0.1:5060", "toggle");
    let out = node.udp(BOB_DESK, &bob.request("INVITE", "", None));
    assert!(sent(&out, BOB_DESK, "SIP/2.0 603 Dual Ringing Off"), "{}", dump(&out));
    assert_eq!(node.events.last(), Some(&Event::DualRing(vec![("bob".to_owned(), false)])));
    let (_alice, out) = alice_calls(&mut node, "1002", "after-toggle");
    assert!(sent(&out, BOB_DESK, "INVITE"));
    let out = node.advance(secs(10));
    assert!(to(&out, CLOUD).is_empty(), "dual ringing is off\n{}", dump(&out));
}

#[test]
fn a_leg_that_never_answers_ends_with_timer_b_and_leaves_no_state() {
    let mut node = node();
    let mut lobby = Phone::new("lobby", "lobby-pw", "127.0.0.1:5074");
    let out = node.udp(lobby.addr.clone().as_str(), &lobby.register("1900", Transport::Udp, "Contact: <sip:lobby@127.0.0.1:5074>\n"));
    lobby.challenged(&parse(only(&out)));
    node.udp("127.0.0.1:5074", &lobby.register("1900", Transport::Udp, "Contact: <sip:lobby@127.0.0.1:5074>\n"));
    let (_alice, _out) = alice_calls(&mut node, "1900", "silent");
    let out = node.advance(secs(40));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 408"), "{}", dump(&out));
    node.advance(secs(60));
    assert_eq!(node.b2bua.calls(), 0);
}

#[test]
fn a_ringing_leg_is_cancelled_by_timer_c() {
    let mut node = Node::with(example(), zones(), |c| c.timers.timer_c = secs(181));
    let mut lobby = Phone::new("lobby", "lobby-pw", "127.0.0.1:5074");
    let out = node.udp("127.0.0.1:5074", &lobby.register("1900", Transport::Udp, "Contact: <sip:lobby@127.0.0.1:5074>\n"));
    lobby.challenged(&parse(only(&out)));
    node.udp("127.0.0.1:5074", &lobby.register("1900", Transport::Udp, "Contact: <sip:lobby@127.0.0.1:5074>\n"));
    let mut caller = Ua::caller(PSTN, "<sip:+14155550100@10.0.0.4>", "sip:+14085551900@us-cm-pub.ent-pa.com", "timer-c");
    let out = node.udp(PSTN, &caller.request("INVITE", "", Some(&sdp("pstn", 9000))));
    let invite = one(&out, "127.0.0.1:5074", "INVITE");
    node.udp("127.0.0.1:5074", &reply(&invite, 180, "lobby", "127.0.0.1:5074", None));
    let out = node.advance(secs(180));
    assert!(!sent(&out, "127.0.0.1:5074", "CANCEL"));
    let out = node.advance(secs(1));
    let cancel = one(&out, "127.0.0.1:5074", "CANCEL");
    let out = node.udp("127.0.0.1:5074", &reply(&invite, 487, "lobby", "127.0.0.1:5074", None));
    assert!(sent(&out, PSTN, "SIP/2.0 487"), "{}", dump(&out));
    drop(cancel);
}

#[test]
fn rfc3261_13_2_2_4_the_answering_fork_makes_the_dialog_and_a_second_answer_is_acked_and_released() {
    let mut node = node();
    let (mut alice, out) = alice_calls(&mut node, "1002", "forked");
    let desk_invite = one(&out, BOB_DESK, "INVITE");
    node.udp(BOB_DESK, &reply(&desk_invite, 180, "fork-a", BOB_DESK, None));
    let out = node.udp(BOB_DESK, &reply(&desk_invite, 200, "fork-b", BOB_DESK, Some(&sdp("fork-b", 5000))));
    alice.confirmed(&one(&out, ALICE_DESK, "SIP/2.0 200"));
    let out = node.udp(ALICE_DESK, &alice.request("ACK", "", None));
    let ack = one(&out, BOB_DESK, "ACK");
    assert_eq!(ack.to_tag().ok().flatten(), Some("fork-b"));
    let out = node.udp(BOB_DESK, &reply(&desk_invite, 200, "fork-c", BOB_DESK, Some(&sdp("fork-c", 5002))));
    assert_eq!(one(&out, BOB_DESK, "ACK").to_tag().ok().flatten(), Some("fork-c"));
    assert_eq!(one(&out, BOB_DESK, "BYE").to_tag().ok().flatten(), Some("fork-c"));
    assert!(to(&out, ALICE_DESK).is_empty(), "{}", dump(&out));
    // The retransmitted 2xx of the kept fork gets our ACK again.
    let out = node.udp(BOB_DESK, &reply(&desk_invite, 200, "fork-b", BOB_DESK, Some(&sdp("fork-b", 5000))));
    assert_eq!(one(&out, BOB_DESK, "ACK").to_tag().ok().flatten(), Some("fork-b"));
}

#[test]
fn rfc5626_a_phone_registered_over_tcp_is_called_and_acked_over_its_connection() {
    let mut node = node();
    let mut carol = Phone::new("carol-desk", "carol-pw", "127.0.0.1:40000");
    let contact = "Contact: <sip:1003@10.9.9.9:5060;transport=tcp>\n";
    let out = node.deliver("127.0.0.1:40000", Transport::Tcp, Some(7), &carol.register("1003", Transport::Tcp, contact));
    carol.challenged(&parse(only(&out)));
    let out = node.deliver("127.0.0.1:40000", Transport::Tcp, Some(7), &carol.register("1003", Transport::Tcp, contact));
    assert!(status_line(only(&out)).starts_with("SIP/2.0 200"));
    let (mut alice, out) = alice_calls(&mut node, "1003", "tcp-flow");
    let invite = out.iter().find(|t| t.transport == Transport::Tcp).unwrap_or_else(|| panic!("no INVITE over TCP\n{}", dump(&out)));
    assert_eq!((invite.destination, invite.flow.map(|f| f.0)), (addr("127.0.0.1:40000"), Some(7)));
    let invite = parse(invite);
    // The phone's Contact names its listening address; the dialog stays on the registered flow.
    let out = node.deliver("127.0.0.1:40000", Transport::Tcp, Some(7), &reply(&invite, 200, "carol", "10.9.9.9:5060", Some(&sdp("carol", 5004))));
    alice.confirmed(&one(&out, ALICE_DESK, "SIP/2.0 200"));
    let out = node.udp(ALICE_DESK, &alice.request("ACK", "", None));
    let ack = out.iter().find(|t| status_line(t).starts_with("ACK")).unwrap_or_else(|| panic!("no ACK\n{}", dump(&out)));
    assert_eq!((ack.transport, ack.destination, ack.flow.map(|f| f.0)), (Transport::Tcp, addr("127.0.0.1:40000"), Some(7)));
}

#[test]
fn rfc3262_4_a_caller_that_requires_100rel_gets_420_and_no_leg_rings() {
    let mut node = node();
    let mut alice = Ua::caller(ALICE_DESK, "\"Alice\" <sip:1001@ent-pa.com>", "sip:1002@127.0.0.1:5060", "prack");
    let out = node.udp(ALICE_DESK, &alice.request("INVITE", "Require: 100rel\nSupported: timer\n", Some(&sdp("alice", 4000))));
    let refused = one(&out, ALICE_DESK, "SIP/2.0 420");
    assert_eq!(header(&refused, "Unsupported"), ["100rel"]);
    assert!(to(&out, BOB_DESK).is_empty(), "{}", dump(&out));
    assert_eq!(node.b2bua.calls(), 0);
}
