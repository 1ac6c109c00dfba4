//! One complete dual-ring call through call control in simulated time, the flow of
//! `scripts/bench.sh --mode dual-ring`: the caller dials the line whose user has two remote
//! destinations without delay; leg A rings then answers, leg B rings, is CANCELled ("completed
//! elsewhere") and answers 200/487; the caller ACKs, and after the hold sends BYE.
//! Run: `cargo bench -p causeway-b2bua --bench dual_ring`; for a fixed number of calls (what
//! callgrind measures, see docs/b2bua.md "Speed"): `<bench binary> --calls N`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use causeway_callctl::Cluster;
use causeway_policy::SourceText;
use common::*;
use criterion::Criterion;

/// The SIPp UAC and the two SIPp UASes of the bench.
const UAC: &str = "127.0.0.1:5090";
const UAS_A: &str = "127.0.0.1:5080";
const UAS_B: &str = "127.0.0.1:5082";

/// The zones and search rules `scripts/bench.sh` writes for dual-ring mode.
const ROUTING: &str = r#"
[[zone]]
name = "uas-a"
kind = "neighbor"
keepalive = { enabled = false }
peer = [{ address = "127.0.0.1:5080", transport = "udp" }]

[[zone]]
name = "uas-b"
kind = "neighbor"
keepalive = { enabled = false }
peer = [{ address = "127.0.0.1:5082", transport = "udp" }]

[[search_rule]]
name = "leg-a"
pattern_type = "exact"
pattern = "a@bench.invalid"
target = "uas-a"

[[search_rule]]
name = "leg-b"
pattern_type = "exact"
pattern = "b@bench.invalid"
target = "uas-b"
"#;

/// The call control `scripts/bench.sh` writes for dual-ring mode, with the simulated node's FQDN.
const CALLCTL: &str = r#"
[callctl]
cluster_fqdns = ["127.0.0.1"]
[[callctl.partition]]
name = "Bench"
[[callctl.css]]
name = "CSS-Bench"
partitions = ["Bench"]
[[callctl.trunk]]
zone = "uas-a"
css = "CSS-Bench"
[[callctl.user]]
userid = "bench"
directory_uri = "bench@127.0.0.1"
[[callctl.user.remote_destination]]
name = "a"
destination = "sip:a@bench.invalid"
delay_before_ringing_ms = 0
answer_too_soon_ms = 0
answer_too_late_ms = 0
[[callctl.user.remote_destination]]
name = "b"
destination = "sip:b@bench.invalid"
delay_before_ringing_ms = 0
answer_too_soon_ms = 0
answer_too_late_ms = 0
[[callctl.line]]
dn = "2000"
partition = "Bench"
user = "bench"
"#;

fn node() -> Node {
    let table = causeway_routing::config::load(ROUTING).unwrap_or_else(|e| panic!("{e:?}"));
    let zones = causeway_b2bua::Zones::new(Some(std::sync::Arc::new(table)));
    let cluster = Cluster::from_toml_str(SourceText::new("bench.toml", CALLCTL), &["uas-a", "uas-b"]).unwrap_or_else(|e| panic!("{e}"));
    Node::with(cluster, zones, |_| {})
}

/// One dual-ring call, checked at each step so a broken flow cannot pass as a fast one; then
/// simulated time runs on until every transaction of the call is gone.
fn call(node: &mut Node, n: u64) {
    let call_id = format!("bench-{n}");
    let mut uac = Ua::caller(UAC, "<sip:sipp@127.0.0.1:5090>", "sip:bench@127.0.0.1:5060", &call_id);
    let out = node.udp(UAC, &uac.request("INVITE", "Subject: sip-cps bench\n", Some(&sdp("user1", 6000))));
    let invite_a = one(&out, UAS_A, "INVITE");
    let invite_b = one(&out, UAS_B, "INVITE");
    node.udp(UAS_A, &reply(&invite_a, 180, "a", UAS_A, None));
    node.udp(UAS_B, &reply(&invite_b, 180, "b", UAS_B, None));
    let out = node.udp(UAS_A, &reply(&invite_a, 200, "a", UAS_A, Some(&sdp("uas", 7000))));
    let ok = one(&out, UAC, "SIP/2.0 200");
    let cancel = one(&out, UAS_B, "CANCEL");
    node.udp(UAS_B, &reply(&cancel, 200, "b", UAS_B, None));
    let out = node.udp(UAS_B, &reply(&invite_b, 487, "b", UAS_B, None));
    assert!(sent(&out, UAS_B, "ACK"), "{}", dump(&out));
    uac.confirmed(&ok);
    let out = node.udp(UAC, &uac.request("ACK", "", None));
    assert!(sent(&out, UAS_A, "ACK"), "{}", dump(&out));
    node.advance(Duration::from_millis(100));
    let out = node.udp(UAC, &uac.request("BYE", "", None));
    // RFC 3261 §15.1.2: the caller's BYE is answered at once; the callee's leg is released.
    assert!(sent(&out, UAC, "SIP/2.0 200"), "{}", dump(&out));
    let bye = one(&out, UAS_A, "BYE");
    node.udp(UAS_A, &reply(&bye, 200, "a", UAS_A, None));
    node.advance(Duration::from_secs(40));
    node.events.clear();
    assert_eq!(node.b2bua.calls(), 0);
}

fn main() {
    let mut args = std::env::args().skip_while(|a| a != "--calls").skip(1);
    if let Some(calls) = args.next() {
        let calls: u64 = calls.parse().unwrap_or_else(|e| panic!("--calls {calls}: {e}"));
        let mut node = node();
        for n in 0..calls {
            call(&mut node, n);
        }
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    let mut node = node();
    let mut n = 0;
    criterion.bench_function("dual-ring call (sans-IO, with the simulated peers)", |b| {
        b.iter(|| {
            n += 1;
            call(&mut node, n);
        });
    });
    criterion.final_summary();
}
