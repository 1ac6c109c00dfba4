//! Call-control legs leave through their zone as the proxy's requests do, over real SIP on loopback:
//! Bob's cloud identity rings through a webex zone whose first peer is dead (nothing listens: an ICMP
//! error, or Timer B with T1 = 50 ms, ends that try) and whose second peer is a SIPp UAS — the dual-ring
//! leg reaches the second peer and answers; and through a DNS zone whose SRV record (causeway-testdns on
//! loopback) names the UAS; and over TLS through a DNS zone to a peer whose certificate names only the
//! domain looked up (RFC 5922 §4).

mod support;

use std::net::IpAddr;

use causeway_testdns::{DnsTable, TestDns};
use serde_json::{json, Value};
use support::callctl::*;
use support::{free_port, temp_dir};

/// The webex zone as `Topology::config` writes it.
fn webex_zone(topo: &Topology) -> String {
    format!(
        "[[zone]]\nname = \"webex\"\nkind = \"neighbor\"\npeer = [{{ address = \"127.0.0.1:{}\", transport = \"udp\" }}]\n\
         keepalive = {{ enabled = false }}\nauthentication = \"treat-as-authenticated\"\n",
        topo.cloud
    )
}

/// Alice calls Bob with `config` (Bob's desk rings and never answers, the cloud UAS on `cloud_port` answers
/// after 2.5 s); returns the CDR and the node's log.
fn alice_calls_bob_through(config: &str, dir: &tempfile::TempDir, topo: &Topology, cloud_port: u16) -> (Value, String) {
    let node = Node::start(dir.path(), "causeway", topo.node, config);
    let (bob, alice) = (free_port(), free_port());
    register(dir.path(), &node, bob, "1002", "bob-desk", "bob-pw");
    register(dir.path(), &node, alice, "1001", "alice-desk", "alice-pw");
    let mut desk = callee(dir.path(), "desk", bob, 60_000);
    let mut cloud = callee(dir.path(), "cloud", cloud_port, 2_500);
    let outcome = call(dir.path(), &node, alice, "1001", "1002", 1_000);
    if outcome.status.and_then(|c| c.code()) != Some(0) {
        panic!("Alice's call failed\n{}\n{}", outcome.report, node.log());
    }
    desk.finish(LIMIT).assert_all_succeeded(1);
    cloud.finish(LIMIT).assert_all_succeeded(1);
    (cdrs(dir.path(), 1).remove(0), node.log())
}

fn assert_cloud_answered(cdr: &Value) {
    assert_eq!((&cdr["status"], &cdr["answered_leg"]), (&json!(200), &json!(1)), "{cdr:#}");
    assert_eq!(cdr["legs"][1]["target"], json!("sip:bob@ent-pa.call.webex.com"), "{cdr:#}");
}

#[test]
fn rfc3263_4_3_a_dead_first_peer_sends_the_dual_ring_leg_to_the_second() {
    let dir = temp_dir();
    let topo = Topology::new();
    let dead = free_port();
    let two_peers = format!(
        "[[zone]]\nname = \"webex\"\nkind = \"neighbor\"\n\
         peer = [{{ address = \"127.0.0.1:{dead}\", transport = \"udp\", priority = 1 }}, {{ address = \"127.0.0.1:{}\", transport = \"udp\", priority = 2 }}]\n\
         keepalive = {{ enabled = false }}\nauthentication = \"treat-as-authenticated\"\n",
        topo.cloud
    );
    let base = topo.config(dir.path(), &callctl_section());
    assert!(base.contains(&webex_zone(&topo)), "the topology's webex zone changed: update this test\n{base}");
    let config = format!("[transaction]\nt1_ms = 50\n\n{}", base.replace(&webex_zone(&topo), &two_peers));
    let (cdr, log) = alice_calls_bob_through(&config, &dir, &topo, topo.cloud);
    assert_cloud_answered(&cdr);
    assert!(log.contains("trying the next"), "the dead peer was tried first\n{log}");
}

#[test]
fn rfc3263_a_dns_zone_leg_finds_the_cloud_by_srv() {
    let dir = temp_dir();
    let topo = Topology::new();
    let table = DnsTable::new()
        .srv("_sip._udp.ent-pa.call.webex.com", 10, 0, topo.cloud, "sip1.webex.test", 300)
        .address("sip1.webex.test", IpAddr::from([127, 0, 0, 1]), 300);
    let dns = TestDns::start(table).unwrap_or_else(|e| panic!("{e}"));
    let dns_zone = "[[zone]]\nname = \"webex\"\nkind = \"dns\"\ntransport = \"udp\"\nauthentication = \"treat-as-authenticated\"\n";
    let base = topo.config(dir.path(), &callctl_section());
    assert!(base.contains(&webex_zone(&topo)), "the topology's webex zone changed: update this test\n{base}");
    let config = format!("[dns]\nservers = [\"{}\"]\ntimeout_ms = 500\nattempts = 1\n\n{}", dns.addr(), base.replace(&webex_zone(&topo), dns_zone));
    let (cdr, _) = alice_calls_bob_through(&config, &dir, &topo, topo.cloud);
    assert_cloud_answered(&cdr);
    let asked: Vec<(String, String)> = dns.asked().into_iter().map(|a| (a.name, a.kind)).collect();
    assert!(asked.contains(&("_sip._udp.ent-pa.call.webex.com".to_owned(), "SRV".to_owned())), "{asked:?}");
}

/// The cloud as a TLS peer found by DNS: SIPp over TCP on 127.0.0.21 behind a socat TLS server whose
/// certificate names only ent-pa.call.webex.com (and 127.0.0.1, not 127.0.0.21). The leg's TLS connection
/// verifies only if the node gives it the domain whose SRV records named the peer as server name
/// (RFC 5922 §4.1), as it does for the proxy core's own sends.
#[test]
fn rfc5922_4_a_tls_leg_through_a_dns_zone_verifies_the_domain_it_was_found_under() {
    use std::net::Ipv4Addr;

    use support::sipp::{Sipp, SippTransport};
    use support::{tls, tunnel};

    const CLOUD_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 21);
    let dir = temp_dir();
    let topo = Topology::new();
    let leaves: [(&str, &[&str]); 2] = [("node", &["localhost"]), ("cloud", &["ent-pa.call.webex.com"])];
    let (ca, certs) = tls::make_pki_for(dir.path(), &leaves);
    let [(node_cert, node_key), (cloud_cert, cloud_key)] = [certs[0].clone(), certs[1].clone()];
    let (cloud_tls, node_tls) = (free_port(), free_port());
    let mut table = DnsTable::new();
    for srv in ["_sips._tcp.ent-pa.call.webex.com", "_sip._tls.ent-pa.call.webex.com"] {
        table = table.srv(srv, 10, 0, cloud_tls, "sip1.webex.test", 300);
    }
    let dns = TestDns::start(table.address("sip1.webex.test", IpAddr::from(CLOUD_IP), 300)).unwrap_or_else(|e| panic!("{e}"));
    let callee_scenario = scenario(dir.path(), "callee", &[("ANSWER_MS", "2500"), ("NAME", "cloud")]);
    let mut cloud = Sipp::new("cloud", dir.path(), callee_scenario.to_str().unwrap_or_default(), SippTransport::Tcp, topo.cloud, 1, LIMIT)
        .on(CLOUD_IP)
        .spawn_uas();
    let _cloud_tls = tunnel::tls_server_on(dir.path(), CLOUD_IP, cloud_tls, &cloud_cert, &cloud_key, topo.cloud);
    let dns_zone = "[[zone]]\nname = \"webex\"\nkind = \"dns\"\ntransport = \"tls\"\nauthentication = \"treat-as-authenticated\"\n";
    let base = topo.config(dir.path(), &callctl_section());
    assert!(base.contains(&webex_zone(&topo)), "the topology's webex zone changed: update this test\n{base}");
    let config = format!(
        "[dns]\nservers = [\"{}\"]\ntimeout_ms = 500\nattempts = 1\n\n[outbound]\ntls_roots = [\"{}\"]\n\n\
         [[listener]]\ntransport = \"tls\"\naddress = \"127.0.0.1:{node_tls}\"\ncert = \"{}\"\nkey = \"{}\"\n\n{}",
        dns.addr(),
        ca.display(),
        node_cert.display(),
        node_key.display(),
        base.replace(&webex_zone(&topo), dns_zone)
    );
    let node = Node::start(dir.path(), "causeway", topo.node, &config);
    let (bob, alice) = (free_port(), free_port());
    register(dir.path(), &node, bob, "1002", "bob-desk", "bob-pw");
    register(dir.path(), &node, alice, "1001", "alice-desk", "alice-pw");
    let mut desk = callee(dir.path(), "desk", bob, 60_000);
    let outcome = call(dir.path(), &node, alice, "1001", "1002", 1_000);
    if outcome.status.and_then(|c| c.code()) != Some(0) {
        panic!("Alice's call failed\n{}\n{}\n{}", outcome.report, cloud.report(), node.log());
    }
    desk.finish(LIMIT).assert_all_succeeded(1);
    cloud.finish(LIMIT).assert_all_succeeded(1);
    let cdr = cdrs(dir.path(), 1).remove(0);
    assert_cloud_answered(&cdr);
}
