//! L4 call control with real SIP on loopback: SIPp desk phones that register with digest, a SIPp cloud
//! app behind the webex zone, SIPp voicemail behind the unity zone, through `causeway serve` running the
//! shipped ent-pa call-control example with short timers (Bob's cloud identity 1 s after his desk, answer
//! too soon 1.5 s, answer too late 6 s; his line forwards to voicemail after 9 s). Flows F1 and F2, every
//! Single Number Reach timer, busy forwarding and the CDR of each call field by field from
//! `causeway cdr list --json`.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::callctl::*;
use support::{free_port, temp_dir};

const COMPLETED_ELSEWHERE: &str = "SIP;cause=200;text=\"Call completed elsewhere\"";

/// A node, with Bob's (1002) and Alice's (1001) desk phones registered.
struct Setup {
    dir: tempfile::TempDir,
    topo: Topology,
    node: Node,
    bob: u16,
    alice: u16,
}

fn setup() -> Setup {
    let dir = temp_dir();
    let topo = Topology::new();
    let node = Node::start(dir.path(), "causeway", topo.node, &topo.config(dir.path(), &callctl_section()));
    let (bob, alice) = (free_port(), free_port());
    register(dir.path(), &node, bob, "1002", "bob-desk", "bob-pw");
    register(dir.path(), &node, alice, "1001", "alice-desk", "alice-pw");
    Setup { dir, topo, node, bob, alice }
}

/// `value` is within `lo..=hi` (ms between two CDR times).
fn about(what: &str, value: i64, lo: i64, hi: i64) {
    assert!((lo..=hi).contains(&value), "{what}: {value} ms, expected {lo}..={hi}");
}

fn leg(cdr: &Value, i: usize) -> &Value {
    &cdr["legs"][i]
}

fn alice_calls_bob(s: &Setup, hold_ms: u64) {
    let outcome = call(s.dir.path(), &s.node, s.alice, "1001", "1002", hold_ms);
    if outcome.status.and_then(|c| c.code()) != Some(0) {
        panic!("Alice's call failed\n{}\n{}", outcome.report, s.node.log());
    }
}

#[test]
fn f1_desk_and_cloud_ring_the_cloud_answers_and_the_desk_is_cancelled_completed_elsewhere() {
    let s = setup();
    let mut desk = callee(s.dir.path(), "desk", s.bob, 60_000);
    let mut cloud = callee(s.dir.path(), "cloud", s.topo.cloud, 2_500);
    alice_calls_bob(&s, 1_000);
    desk.finish(LIMIT).assert_all_succeeded(1);
    cloud.finish(LIMIT).assert_all_succeeded(1);
    let desk_messages = messages(s.dir.path(), "desk");
    assert!(desk_messages.contains("CANCEL sip:1002@127.0.0.1"), "{desk_messages}");
    assert!(desk_messages.contains(&format!("Reason: {COMPLETED_ELSEWHERE}")), "{desk_messages}");
    let cdr = cdrs(s.dir.path(), 1).remove(0);
    assert_eq!(cdr["calling"], json!({ "number": "1001", "display_name": "Alice Adams", "uri": "alice@ent-pa.com" }));
    assert_eq!(cdr["called"], json!(format!("sip:1002@127.0.0.1:{}", s.topo.node)));
    assert_eq!((&cdr["line"], &cdr["anchored_user"], &cdr["forwarded"]), (&json!("1002"), &Value::Null, &Value::Null));
    assert_eq!((&cdr["status"], &cdr["released_by"], &cdr["answered_leg"]), (&json!(200), &json!("caller"), &json!(1)));
    assert_eq!(cdr["early_media_leg"], Value::Null);
    assert!(cdr["call_id"].as_str().is_some_and(|c| c.ends_with("@127.0.0.1")), "{cdr}");
    assert_eq!(cdr["legs"].as_array().map(Vec::len), Some(2), "{cdr:#}");
    let (desk_leg, cloud_leg) = (leg(&cdr, 0), leg(&cdr, 1));
    assert_eq!(desk_leg["kind"], json!({ "kind": "device", "device": "SEP00AA00000002" }));
    assert_eq!(desk_leg["target"], json!(format!("sip:1002@127.0.0.1:{};transport=UDP", s.bob)));
    assert_eq!((&desk_leg["zone"], &desk_leg["answer"], &desk_leg["status"]), (&Value::Null, &Value::Null, &json!(487)));
    assert_eq!(desk_leg["cause"], json!({ "cause": "cancelled", "reason": "completed-elsewhere" }));
    assert_eq!((&desk_leg["released_by"], &desk_leg["reason"]), (&json!("system"), &json!(COMPLETED_ELSEWHERE)));
    assert!(desk_leg["ringing"].is_string(), "{desk_leg}");
    assert_eq!(cloud_leg["kind"], json!({ "kind": "remote", "user": "bob", "name": "bob-webex", "reach": "associated-identity" }));
    assert_eq!((&cloud_leg["target"], &cloud_leg["zone"]), (&json!("sip:bob@ent-pa.call.webex.com"), &json!("webex")));
    assert_eq!((&cloud_leg["status"], &cloud_leg["cause"]), (&json!(200), &json!({ "cause": "caller-hung-up" })));
    assert_eq!((&cloud_leg["released_by"], &cloud_leg["reason"]), (&json!("caller"), &Value::Null));
    about("delay before ringing", ms_between(&desk_leg["start"], &cloud_leg["start"]), 900, 1_600);
    about("cloud answer after its INVITE", ms_between(&cloud_leg["start"], &cloud_leg["answer"]), 2_400, 3_300);
    assert_eq!(cdr["answer"], cloud_leg["answer"]);
    assert_eq!(desk_leg["end"].as_str().map(|e| e >= cloud_leg["answer"].as_str().unwrap_or_default()), Some(true));
    about("hold time", ms_between(&cdr["answer"], &cdr["end"]), 900, 2_000);
    assert_eq!(cdr["end"], cloud_leg["end"]);
}

#[test]
fn answer_too_soon_is_a_voicemail_pickup_released_and_the_desk_answers() {
    let s = setup();
    let mut desk = callee(s.dir.path(), "desk", s.bob, 4_000);
    let mut cloud = callee(s.dir.path(), "cloud", s.topo.cloud, 500);
    alice_calls_bob(&s, 500);
    desk.finish(LIMIT).assert_all_succeeded(1);
    cloud.finish(LIMIT).assert_all_succeeded(1);
    let cloud_messages = messages(s.dir.path(), "cloud");
    assert!(cloud_messages.contains("BYE sip:cloud@127.0.0.1"), "the early answer is released with BYE\n{cloud_messages}");
    let cdr = cdrs(s.dir.path(), 1).remove(0);
    assert_eq!((&cdr["answered_leg"], &cdr["status"]), (&json!(0), &json!(200)));
    let cloud_leg = leg(&cdr, 1);
    assert_eq!((&cloud_leg["cause"], &cloud_leg["released_by"]), (&json!({ "cause": "answer-too-soon" }), &json!("system")));
    about("the pickup came", ms_between(&cloud_leg["start"], &cloud_leg["answer"]), 400, 1_400);
    assert_eq!(leg(&cdr, 0)["cause"], json!({ "cause": "caller-hung-up" }));
}

#[test]
fn answer_too_late_cancels_the_cloud_then_no_answer_forwards_to_voicemail() {
    let s = setup();
    let mut desk = callee(s.dir.path(), "desk", s.bob, 60_000);
    let mut cloud = callee(s.dir.path(), "cloud", s.topo.cloud, 60_000);
    let mut voicemail = callee(s.dir.path(), "voicemail", s.topo.unity, 300);
    alice_calls_bob(&s, 500);
    for sipp in [&mut desk, &mut cloud, &mut voicemail] {
        sipp.finish(LIMIT).assert_all_succeeded(1);
    }
    let cloud_messages = messages(s.dir.path(), "cloud");
    assert!(cloud_messages.contains("CANCEL sip:bob@ent-pa.call.webex.com") && !cloud_messages.contains("Reason:"), "{cloud_messages}");
    let cdr = cdrs(s.dir.path(), 1).remove(0);
    assert_eq!(cdr["forwarded"], json!(["no-answer", "8000"]));
    assert_eq!((&cdr["answered_leg"], &cdr["status"]), (&json!(2), &json!(200)));
    let (desk_leg, cloud_leg, vm_leg) = (leg(&cdr, 0), leg(&cdr, 1), leg(&cdr, 2));
    assert_eq!(cloud_leg["cause"], json!({ "cause": "cancelled", "reason": "answer-too-late" }));
    about("answer too late", ms_between(&cloud_leg["start"], &cloud_leg["end"]), 5_900, 7_000);
    assert_eq!(desk_leg["cause"], json!({ "cause": "cancelled", "reason": "no-answer" }));
    assert_eq!(desk_leg["reason"], Value::Null);
    about("forward no answer", ms_between(&cdr["start"], &vm_leg["start"]), 8_900, 10_000);
    assert_eq!(vm_leg["kind"], json!({ "kind": "forward", "reason": "no-answer" }));
    assert_eq!((&vm_leg["target"], &vm_leg["zone"]), (&json!("8000"), &json!("unity")));
    assert_eq!(messages(s.dir.path(), "voicemail").lines().find(|l| l.starts_with("INVITE")), Some(format!("INVITE sip:8000@127.0.0.1:{} SIP/2.0", s.topo.unity).as_str()));
}

#[test]
fn busy_everywhere_forwards_busy() {
    let s = setup();
    let mut desk = busy(s.dir.path(), "desk", s.bob);
    let mut cloud = busy(s.dir.path(), "cloud", s.topo.cloud);
    let mut voicemail = callee(s.dir.path(), "voicemail", s.topo.unity, 300);
    alice_calls_bob(&s, 300);
    for sipp in [&mut desk, &mut cloud, &mut voicemail] {
        sipp.finish(LIMIT).assert_all_succeeded(1);
    }
    let cdr = cdrs(s.dir.path(), 1).remove(0);
    assert_eq!(cdr["forwarded"], json!(["busy", "8000"]));
    let statuses: Vec<&Value> = cdr["legs"].as_array().map(|l| l.iter().map(|l| &l["status"]).collect()).unwrap_or_default();
    assert_eq!(statuses, [&json!(486), &json!(486), &json!(200)]);
    assert_eq!(leg(&cdr, 2)["kind"], json!({ "kind": "forward", "reason": "busy" }));
}

#[test]
fn f2_a_cloud_call_is_anchored_on_alice_and_never_forked_back_to_the_cloud() {
    let s = setup();
    let mut desk = callee(s.dir.path(), "desk", s.bob, 2_500);
    let outcome = support::sipp::Sipp::new("l2sip", s.dir.path(), "callctl/cloud-caller.xml", support::sipp::SippTransport::Udp, free_port(), 1, LIMIT)
        .arg("-d")
        .arg("300")
        .run_uac(s.topo.node_addr(), LIMIT);
    if outcome.status.and_then(|c| c.code()) != Some(0) {
        panic!("the cloud's call failed\n{}\n{}", outcome.report, s.node.log());
    }
    desk.finish(LIMIT).assert_all_succeeded(1);
    let desk_messages = messages(s.dir.path(), "desk");
    assert!(desk_messages.contains("From: \"Alice Adams\" <sip:1001@us-cm-pub.ent-pa.com>;tag="), "enterprise identity\n{desk_messages}");
    assert!(desk_messages.contains("P-Asserted-Identity: \"Alice Adams\" <sip:alice@ent-pa.com>"), "{desk_messages}");
    let cdr = cdrs(s.dir.path(), 1).remove(0);
    assert_eq!(cdr["anchored_user"], json!("alice"));
    assert_eq!(cdr["calling"], json!({ "number": "1001", "display_name": "Alice Adams", "uri": "alice@ent-pa.com" }));
    assert_eq!((&cdr["called"], &cdr["line"], &cdr["status"]), (&json!("sip:bob@ent-pa.com"), &json!("1002"), &json!(200)));
    let kinds: Vec<&Value> = cdr["legs"].as_array().map(|l| l.iter().map(|l| &l["kind"]["kind"]).collect()).unwrap_or_default();
    assert_eq!(kinds, [&json!("device")], "loop avoidance: no leg back to bob@ent-pa.call.webex.com\n{cdr:#}");
}

/// The feature code from Bob's desk, over a plain socket bound to the desk's registered port: the
/// final response's reason phrase is the new state.
fn toggle(s: &Setup) -> String {
    let socket = std::net::UdpSocket::bind(("127.0.0.1", s.bob)).unwrap_or_else(|e| panic!("bind {}: {e}", s.bob));
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap_or_else(|e| panic!("{e}"));
    let (node, desk) = (s.topo.node, s.bob);
    let token = format!("toggle{}", free_port());
    let call_id = format!("{token}@127.0.0.1");
    let head = |method: &str| {
        format!(
            "{method} sip:*88@127.0.0.1:{node} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{desk};branch=z9hG4bK{token}\r\nMax-Forwards: 70\r\n\
             From: <sip:1002@ent-pa.com>;tag=t88\r\nTo: <sip:*88@127.0.0.1:{node}>\r\nCall-ID: {call_id}\r\nCSeq: 1 {method}\r\n"
        )
    };
    let invite = format!("{}Contact: <sip:1002@127.0.0.1:{desk}>\r\nContent-Length: 0\r\n\r\n", head("INVITE"));
    socket.send_to(invite.as_bytes(), s.topo.node_addr()).unwrap_or_else(|e| panic!("{e}"));
    let mut buf = [0u8; 4096];
    loop {
        let (n, _) = socket.recv_from(&mut buf).unwrap_or_else(|e| panic!("no final response to *88: {e}\n{}", s.node.log()));
        let text = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
        let status = text.lines().next().unwrap_or_default().to_owned();
        if !status.starts_with("SIP/2.0 1") {
            let to = text.lines().find(|l| l.starts_with("To:")).unwrap_or_default().to_owned();
            let ack = head("ACK").replace(&format!("To: <sip:*88@127.0.0.1:{node}>"), &to) + "Content-Length: 0\r\n\r\n";
            socket.send_to(ack.as_bytes(), s.topo.node_addr()).unwrap_or_else(|e| panic!("{e}"));
            return status;
        }
    }
}

#[test]
fn the_feature_code_turns_dual_ringing_off_and_the_switch_survives_a_restart() {
    let s = setup();
    assert_eq!(toggle(&s), "SIP/2.0 603 Dual Ringing Off");
    // A restart reads the switch back from the store.
    let Setup { dir, topo, node, bob, alice } = s;
    drop(node);
    let node = Node::start(dir.path(), "causeway-again", topo.node, &topo.config(dir.path(), &callctl_section()));
    let s = Setup { dir, topo, node, bob, alice };
    let mut desk = callee(s.dir.path(), "desk", s.bob, 2_500);
    alice_calls_bob(&s, 300);
    desk.finish(LIMIT).assert_all_succeeded(1);
    let cdr = cdrs(s.dir.path(), 1).remove(0);
    assert_eq!(cdr["legs"].as_array().map(Vec::len), Some(1), "dual ringing is off: the cloud is not rung\n{cdr:#}");
    assert_eq!(toggle(&s), "SIP/2.0 603 Dual Ringing On");
}

#[test]
fn rfc3311_an_update_during_early_media_reaches_the_ringing_phone_and_its_200_comes_back() {
    let s = setup();
    // Bob's desk plays early media and takes Alice's UPDATE; it answers 2 s later, once his cloud leg rings.
    let mut desk = early_callee(s.dir.path(), "desk", s.bob, 2_000);
    let mut cloud = callee(s.dir.path(), "cloud", s.topo.cloud, 60_000);
    // The caller's scenario checks that its UPDATE's 200 carries the desk's answer (o=early-callee-update).
    let outcome = call_with("callctl/caller-early-update.xml", s.dir.path(), &s.node, s.alice, "1001", "1002", 500);
    if outcome.status.and_then(|c| c.code()) != Some(0) {
        panic!("Alice's call failed\n{}\n{}", outcome.report, s.node.log());
    }
    desk.finish(LIMIT).assert_all_succeeded(1);
    cloud.finish(LIMIT).assert_all_succeeded(1);
    let desk_messages = messages(s.dir.path(), "desk").replace("\r\n", "\n");
    let update = desk_messages.split("UPDATE sip:early@").nth(1).unwrap_or_else(|| panic!("no UPDATE reached the desk\n{desk_messages}"));
    let update = update.split("\n\n").next().unwrap_or_default();
    assert!(update.contains("CSeq: 2 UPDATE") && update.contains("Contact: <sip:cwb-"), "the leg's dialog\n{update}");
    let call_id = update.lines().find(|l| l.starts_with("Call-ID:")).unwrap_or_default();
    assert!(!call_id.ends_with("@127.0.0.1"), "the leg's own Call-ID, not the caller's: {call_id}");
    let caller_messages = messages(s.dir.path(), &format!("caller-{}", s.alice));
    assert!(caller_messages.contains("CSeq: 2 UPDATE") && caller_messages.contains("o=early-callee-update"), "{caller_messages}");
    let cloud_messages = messages(s.dir.path(), "cloud");
    assert!(cloud_messages.contains(&format!("Reason: {COMPLETED_ELSEWHERE}")), "{cloud_messages}");
    let cdr = cdrs(s.dir.path(), 1).remove(0);
    assert_eq!((&cdr["status"], &cdr["answered_leg"], &cdr["early_media_leg"]), (&json!(200), &json!(0), &json!(0)), "{cdr:#}");
}
