//! Requests in early dialogs, in simulated time: while Alice's call to Bob rings, her UPDATE and
//! INFO reach the leg whose 183 with SDP she hears (RFC 3311 §5.1, RFC 6086), that leg's come
//! back to her, each on its own dialog (Call-ID, tags, CSeq, Contact); glare gets 491 (RFC 3311
//! §5.2), an offer on top of one's own unanswered offer 500 with Retry-After, a second INVITE the
//! RFC 3261 §14.2 answer, a leg she does not hear 480, and a dialog that is over 481.

mod common;

use std::time::Duration;

use causeway_sip::Message;
use common::*;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn cseq(m: &Message) -> u32 {
    m.cseq().map(|c| c.seq).unwrap_or_default()
}

/// One early call: Alice's dialog with the node, the desk's INVITE (180, no SDP), the cloud's INVITE
/// and its dialog as the fork whose 183 with SDP Alice hears.
struct Early {
    node: Node,
    alice: Ua,
    desk_invite: Message,
    cloud_invite: Message,
    cloud: Ua,
}

/// Alice calls Bob; the desk rings (180 without SDP, relayed); 4 s later the cloud leg rings from one
/// fork (`cloud-a`, 180) and sends early media from another (`cloud`, 183 with SDP), which Alice gets.
fn early(call_id: &str) -> Early {
    let mut node = Node::with(example(), zones(), |_| {});
    register_desks(&mut node);
    let (mut alice, out) = alice_calls(&mut node, "1002", call_id);
    let desk_invite = one(&out, BOB_DESK, "INVITE");
    let out = node.udp(BOB_DESK, &reply(&desk_invite, 180, "desk", BOB_DESK, None));
    one(&out, ALICE_DESK, "SIP/2.0 180");
    let out = node.advance(secs(4));
    let cloud_invite = one(&out, CLOUD, "INVITE");
    node.udp(CLOUD, &reply(&cloud_invite, 180, "cloud-a", CLOUD, None));
    let out = node.udp(CLOUD, &reply(&cloud_invite, 183, "cloud", CLOUD, Some(&sdp("cloud", 6000))));
    let early = one(&out, ALICE_DESK, "SIP/2.0 183");
    assert_eq!(early.body(), sdp("cloud", 6000).as_bytes());
    alice.confirmed(&early);
    let cloud = Ua::callee(CLOUD, &cloud_invite, "cloud");
    Early { node, alice, desk_invite, cloud_invite, cloud }
}

#[test]
fn rfc3311_an_early_update_reaches_the_leg_of_the_early_media_and_its_answer_comes_back() {
    let Early { mut node, mut alice, cloud_invite, mut cloud, .. } = early("early-update");
    let offer = sdp("alice-early", 4002);
    let out = node.udp(ALICE_DESK, &alice.request("UPDATE", "", Some(&offer)));
    let update = one(&out, CLOUD, "UPDATE sip:ua@10.0.0.2:5060 SIP/2.0");
    assert!(to(&out, BOB_DESK).is_empty() && to(&out, ALICE_DESK).is_empty(), "{}", dump(&out));
    // The leg's dialog: its Call-ID and From tag, the tag of the fork that sent the SDP, its CSeq space.
    assert_eq!(update.call_id().ok(), cloud_invite.call_id().ok());
    assert_eq!(update.from_tag().ok().flatten(), cloud_invite.from_tag().ok().flatten());
    assert_eq!(update.to_tag().ok().flatten(), Some("cloud"), "the early media's fork, not the first to ring");
    assert_eq!(cseq(&update), 2, "after the leg's INVITE (CSeq 1)");
    assert_eq!(update.body(), offer.as_bytes(), "SDP unchanged");
    let contact = header(&update, "Contact");
    assert!(contact.first().is_some_and(|c| c.starts_with("<sip:cwb-") && !c.contains(".c@")), "the leg's Contact: {contact:?}");
    let out = node.udp(CLOUD, &reply(&update, 200, "cloud", CLOUD, Some(&sdp("cloud-early", 6002))));
    let ok = one(&out, ALICE_DESK, "SIP/2.0 200");
    assert_eq!(ok.call_id().ok(), Some("early-update"));
    assert_eq!(cseq(&ok), alice.cseq);
    assert_eq!(ok.body(), sdp("cloud-early", 6002).as_bytes());
    assert_eq!(header(&ok, "Contact"), [format!("<{}>", alice.target)], "Alice's dialog keeps our Contact");
    // INFO from the cloud's early dialog reaches Alice on hers.
    let out = node.udp(CLOUD, &cloud.request("INFO", "Content-Type: application/dtmf-relay\n", None));
    let info = one(&out, ALICE_DESK, "INFO sip:ua@127.0.0.1:5072 SIP/2.0");
    assert_eq!((info.call_id().ok(), cseq(&info)), (Some("early-update"), 1), "our CSeq space on Alice's dialog");
    assert_eq!(info.to_tag().ok().flatten(), Some("t-early-update"));
    assert_eq!(info.from_tag().ok().flatten(), alice.remote.rsplit_once(";tag=").map(|(_, t)| t));
    let out = node.udp(ALICE_DESK, &reply(&info, 200, "x", ALICE_DESK, None));
    assert_eq!(cseq(&one(&out, CLOUD, "SIP/2.0 200")), cloud.cseq);
    // The cloud answers: the call goes on as usual.
    let out = node.advance(secs(2));
    assert!(to(&out, ALICE_DESK).is_empty(), "{}", dump(&out));
    let out = node.udp(CLOUD, &reply(&cloud_invite, 200, "cloud", CLOUD, Some(&sdp("cloud-early", 6002))));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 200") && sent(&out, BOB_DESK, "CANCEL"), "{}", dump(&out));
}

#[test]
fn rfc3311_5_2_glare_gets_491_and_an_offer_on_an_unanswered_offer_500() {
    let Early { mut node, mut alice, mut cloud, .. } = early("glare");
    let out = node.udp(ALICE_DESK, &alice.request("UPDATE", "", Some(&sdp("alice-early", 4002))));
    let update = one(&out, CLOUD, "UPDATE");
    // The cloud offers too before answering Alice's offer: glare.
    let out = node.udp(CLOUD, &cloud.request("UPDATE", "", Some(&sdp("cloud-early", 6002))));
    assert!(sent(&out, CLOUD, "SIP/2.0 491"), "{}", dump(&out));
    assert!(to(&out, ALICE_DESK).is_empty(), "{}", dump(&out));
    // Alice offers again on top of her own unanswered offer.
    let out = node.udp(ALICE_DESK, &alice.request("UPDATE", "", Some(&sdp("alice-again", 4004))));
    let refused = one(&out, ALICE_DESK, "SIP/2.0 500");
    assert!(header(&refused, "Retry-After").first().is_some_and(|v| v.parse::<u32>().is_ok_and(|s| s <= 10)), "{}", dump(&out));
    // INFO is no offer: it is relayed meanwhile, and an UPDATE without SDP too.
    let out = node.udp(ALICE_DESK, &alice.request("INFO", "", None));
    assert_eq!(cseq(&one(&out, CLOUD, "INFO")), 3);
    let out = node.udp(CLOUD, &cloud.request("UPDATE", "", None));
    one(&out, ALICE_DESK, "UPDATE");
    // Once answered, the cloud's offer goes through.
    node.udp(CLOUD, &reply(&update, 200, "cloud", CLOUD, Some(&sdp("cloud-early", 6002))));
    let out = node.udp(CLOUD, &cloud.request("UPDATE", "", Some(&sdp("cloud-new", 6004))));
    assert_eq!(one(&out, ALICE_DESK, "UPDATE").body(), sdp("cloud-new", 6004).as_bytes());
}

#[test]
fn rfc3261_14_2_a_second_invite_in_an_early_dialog_is_refused_both_ways() {
    let Early { mut node, mut alice, mut cloud, .. } = early("reinvite");
    let out = node.udp(ALICE_DESK, &alice.request("INVITE", "", Some(&sdp("alice-2", 4002))));
    let refused = one(&out, ALICE_DESK, "SIP/2.0 500");
    assert_eq!(header(&refused, "Retry-After").len(), 1, "{}", dump(&out));
    assert!(to(&out, CLOUD).is_empty(), "{}", dump(&out));
    let out = node.udp(CLOUD, &cloud.request("INVITE", "", Some(&sdp("cloud-2", 6002))));
    assert!(sent(&out, CLOUD, "SIP/2.0 491"), "{}", dump(&out));
}

#[test]
fn a_leg_the_caller_does_not_hear_gets_480_and_a_cancelled_call_481() {
    let Early { mut node, mut alice, desk_invite, .. } = early("unheard");
    // The desk rang first, but the cloud's early media took over: the desk reaches nobody.
    let mut desk = Ua::callee(BOB_DESK, &desk_invite, "desk");
    let out = node.udp(BOB_DESK, &desk.request("INFO", "", None));
    assert!(sent(&out, BOB_DESK, "SIP/2.0 480"), "{}", dump(&out));
    assert!(to(&out, ALICE_DESK).is_empty(), "{}", dump(&out));
    // Alice gives up: her dialog ends, and what the legs still send in theirs finds no dialog.
    let out = node.udp(ALICE_DESK, &alice.request("CANCEL", "", None));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 487"), "{}", dump(&out));
    let out = node.udp(BOB_DESK, &desk.request("INFO", "", None));
    assert!(sent(&out, BOB_DESK, "SIP/2.0 481"), "{}", dump(&out));
}

#[test]
fn without_early_media_the_ringing_leg_is_the_early_peer_until_it_stops() {
    let mut node = Node::with(example(), zones(), |_| {});
    register_desks(&mut node);
    let (mut alice, out) = alice_calls(&mut node, "1002", "ringing");
    let desk_invite = one(&out, BOB_DESK, "INVITE");
    let out = node.udp(BOB_DESK, &reply(&desk_invite, 180, "desk", BOB_DESK, None));
    alice.confirmed(&one(&out, ALICE_DESK, "SIP/2.0 180"));
    let out = node.udp(ALICE_DESK, &alice.request("INFO", "", None));
    let info = one(&out, BOB_DESK, "INFO sip:ua@127.0.0.1:5070");
    assert_eq!(info.to_tag().ok().flatten(), Some("desk"));
    node.udp(BOB_DESK, &reply(&info, 200, "desk", BOB_DESK, None));
    // The desk is busy after all; the cloud leg is still to ring: Alice's dialog lives, with nobody behind it.
    node.udp(BOB_DESK, &reply(&desk_invite, 486, "desk", BOB_DESK, None));
    let out = node.udp(ALICE_DESK, &alice.request("INFO", "", None));
    assert!(sent(&out, ALICE_DESK, "SIP/2.0 480"), "{}", dump(&out));
}
