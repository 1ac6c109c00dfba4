//! L4: an INVITE flood from one source (SIPp on 127.0.0.2, a few thousand INVITEs per second for 10 s, to a
//! toll-fraud destination) while a business partner on 127.0.0.3 places ordinary calls through the same edge
//! (SIPp UAC → causeway → SIPp UAS). The flood guard bans the flooding source after its first requests and
//! drops the rest unparsed; the partner is never counted against it. Checked: the partner's calls succeed
//! (≥ 99 %), the flood was really sent and really dropped (SIPp's and the node's counters), only one source
//! was banned, and the node's resident memory stays bounded (/proc/PID/status before and after).

mod support;

use std::net::Ipv4Addr;
use std::time::Duration;

use support::edge::{rss_kib, Edge};
use support::sipp::{Sipp, SippTransport};
use support::{free_port, repo_root, temp_dir};

const FLOOD_SOURCE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const PARTNER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const FLOOD_RATE: u32 = 3000;
const FLOOD_SECS: u32 = 10;
const CALLS: u32 = 100;
/// Calls per second of the partner: 3 requests per call, 15 per second, under the default 200 per 10 s.
const CALL_RATE: u32 = 5;
const LIMIT: Duration = Duration::from_secs(90);
/// Resident memory the node may gain while it is flooded.
const MAX_GROWTH_KIB: u64 = 32 * 1024;

#[test]
fn a_flood_from_one_source_is_dropped_while_another_source_calls_normally() {
    let dir = temp_dir();
    let pbx_port = free_port();
    let mut pbx = Sipp::new("pbx", dir.path(), "uas-answer.xml", SippTransport::Udp, pbx_port, CALLS, LIMIT).spawn_uas();
    let policy = std::fs::read_to_string(repo_root().join("examples/policy/shared-edge.toml")).unwrap_or_else(|e| panic!("{e}"));
    let config = format!(
        "[[zone]]\nname = \"pbx\"\nkind = \"neighbor\"\nkeepalive = {{ enabled = false }}\n\
         [[zone.peer]]\naddress = \"127.0.0.1:{pbx_port}\"\ntransport = \"udp\"\n\n\
         [[search_rule]]\nname = \"enterprise\"\npriority = 10\npattern_type = \"regex\"\npattern = '.*@ent-pa\\.com'\n\
         on_match = \"stop\"\ntarget = \"pbx\"\n\n{policy}"
    );
    let mut edge = Edge::start(dir.path(), &config);
    let rss_before = rss_kib(edge.pid());

    let mut partner = Sipp::new("partner", dir.path(), "b2b-uac.xml", SippTransport::Udp, free_port(), CALLS, LIMIT)
        .on(PARTNER)
        .arg("-s")
        .arg("bob")
        .arg("-r")
        .arg(CALL_RATE.to_string())
        .arg("-rp")
        .arg("1000")
        .arg("-d")
        .arg("100")
        .arg(edge.addr().to_string())
        .spawn_uas();
    std::thread::sleep(Duration::from_secs(2));
    let flood_calls = FLOOD_RATE * FLOOD_SECS;
    let mut flood = Sipp::new("flood", dir.path(), "flood-invite.xml", SippTransport::Udp, free_port(), flood_calls, LIMIT)
        .on(FLOOD_SOURCE)
        .arg("-s")
        .arg("9011441234567")
        .arg("-r")
        .arg(FLOOD_RATE.to_string())
        .arg("-rp")
        .arg("1000")
        .arg("-l")
        .arg(flood_calls.to_string())
        .arg("-buff_size")
        .arg("4194304")
        .arg(edge.addr().to_string())
        .spawn_uas();
    let flood = flood.finish(Duration::from_secs(u64::from(FLOOD_SECS) + 20));
    edge.assert_alive();
    let rss_after = rss_kib(edge.pid());
    let partner = partner.finish(LIMIT);
    let pbx = pbx.finish(Duration::from_secs(10));

    let sent = flood.counter("OutgoingCall(C)");
    assert!(sent >= u64::from(flood_calls) / 2, "the flood was sent: {sent} INVITEs\n{}", flood.report);
    let succeeded = partner.counter("SuccessfulCall(C)");
    assert!(
        succeeded * 100 >= u64::from(CALLS) * 99,
        "the partner's calls: {succeeded} of {CALLS} succeeded during the flood\n{}\n{}",
        partner.report,
        pbx.report
    );
    assert!(
        rss_after.saturating_sub(rss_before) <= MAX_GROWTH_KIB,
        "resident memory {rss_before} KiB before the flood, {rss_after} KiB after"
    );
    let report = edge.stop();
    let dropped = report.count("security", "flood_dropped");
    assert!(dropped * 10 >= sent * 9, "{dropped} of {sent} flood INVITEs dropped unparsed\n{}", report.text);
    assert_eq!(report.count("security", "bans_started"), 1, "only the flooding source was banned\n{}", report.text);
    let parsed = report.count("requests_received", "INVITE");
    assert!(parsed <= u64::from(CALLS) + 250, "{parsed} INVITEs parsed: the flood's were not\n{}", report.text);
    let bans: Vec<&str> = report.audit().into_iter().filter(|l| l.contains("Request Blocked")).collect();
    assert_eq!(bans.len(), 1, "one audit line for the ban, none per dropped packet: {bans:?}");
    assert!(bans[0].contains("Src-ip=\"127.0.0.2\"") && bans[0].contains("Ban-reason=\"flood\""), "{}", bans[0]);
    eprintln!(
        "flood: {sent} INVITEs sent, {dropped} dropped unparsed; partner: {succeeded}/{CALLS} calls; RSS {rss_before} -> {rss_after} KiB"
    );
}
