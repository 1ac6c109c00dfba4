//! A DNS zone with a loopback DNS server (causeway-testdns, never the real internet): the call is
//! routed by NAPTR → SRV → A from the destination's domain to a SIPp UAS; a domain that does not
//! exist gets 404, and a name server that does not answer gets 504 (RFC 3263, RFC 3261 §21).

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use causeway_testdns::{Behaviour, DnsTable, TestDns};
use support::sipp::{Sipp, SippTransport};
use support::{free_port, temp_dir, Causeway};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn rfc3263_a_call_to_a_dns_zone_follows_naptr_srv_and_a_records() {
    let dir = temp_dir();
    let (uas_port, port) = (free_port(), free_port());
    let table = DnsTable::new()
        .naptr("partner.test", 10, 10, "SIP+D2U", "_sip._udp.partner.test", 300)
        .srv("_sip._udp.partner.test", 10, 0, uas_port, "pbx1.partner.test", 300)
        .srv("_sip._udp.partner.test", 20, 0, free_port(), "pbx2.partner.test", 300)
        .address("pbx1.partner.test", IpAddr::from([127, 0, 0, 31]), 300)
        .address("pbx2.partner.test", IpAddr::from([127, 0, 0, 32]), 300)
        .behave("slow.test", Behaviour::Silent);
    let dns = TestDns::start(table).unwrap_or_else(|e| panic!("{e}"));
    let mut uas = Sipp::new("uas", dir.path(), "uas-answer.xml", SippTransport::Udp, uas_port, 1, LIMIT).on(Ipv4Addr::new(127, 0, 0, 31)).spawn_uas();
    let config = format!(
        "[node]\nname = \"edge\"\n\n\
         [[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n\n\
         [dns]\nservers = [\"{}\"]\ntimeout_ms = 300\nattempts = 1\n\n\
         [security.flood]\ntrusted_cidrs = [\"127.0.0.1/32\"]\n\n\
         [[zone]]\nname = \"b2b\"\nkind = \"dns\"\n\n\
         [[search_rule]]\nname = \"b2b\"\npattern_type = \"regex\"\npattern = '.*@(partner|nowhere|slow)\\.test'\ntarget = \"b2b\"\n",
        dns.addr()
    );
    let mut node = Causeway::start_with(dir.path(), port, &config);

    let dial = |name: &str, to: &str, scenario: &str| {
        Sipp::new(name, dir.path(), scenario, SippTransport::Udp, free_port(), 1, LIMIT)
            .arg("-key")
            .arg("to")
            .arg(to)
            .arg("-key")
            .arg("from")
            .arg("alice@ent.example")
    };
    dial("uac", "bob@partner.test", "uac-dial.xml").run_uac(node.addr(), LIMIT).assert_all_succeeded(1);
    uas.finish(LIMIT).assert_all_succeeded(1);
    let asked: Vec<String> = dns.asked().into_iter().map(|a| format!("{} {}", a.kind, a.name)).collect();
    assert!(asked.starts_with(&["NAPTR partner.test".to_owned(), "SRV _sip._udp.partner.test".to_owned()]), "{asked:?}");
    assert!(asked.contains(&"A pbx1.partner.test".to_owned()), "{asked:?}");

    // RFC 3263 §4.3: nothing found → 404; the name server silent → 504. SIPp's uac-dial expects a
    // 200, so these calls fail: what matters is the status causeway answered with.
    for (to, status) in [("bob@nowhere.test", "404"), ("bob@slow.test", "504")] {
        let name = format!("uac-{status}");
        let outcome = dial(&name, to, "uac-dial.xml").run_uac(node.addr(), LIMIT);
        assert_eq!(outcome.counter("FailedCall(C)"), 1);
        let trace = std::fs::read_to_string(dir.path().join(&name).join("messages.log")).unwrap_or_default();
        assert!(trace.contains(&format!("SIP/2.0 {status} ")), "{to}: expected {status}\n{trace}");
    }
    node.assert_alive();
}

#[test]
fn rfc3263_4_3_the_next_srv_target_takes_the_call_when_the_first_does_not_answer() {
    let dir = temp_dir();
    let (uas_port, dead_port, port) = (free_port(), free_port(), free_port());
    let table = DnsTable::new()
        .srv("_sip._udp.failover.test", 10, 0, dead_port, "dead.failover.test", 300)
        .srv("_sip._udp.failover.test", 20, 0, uas_port, "live.failover.test", 300)
        .address("dead.failover.test", IpAddr::from([127, 0, 0, 34]), 300)
        .address("live.failover.test", IpAddr::from([127, 0, 0, 35]), 300);
    let dns = TestDns::start(table).unwrap_or_else(|e| panic!("{e}"));
    let mut uas = Sipp::new("uas", dir.path(), "uas-answer.xml", SippTransport::Udp, uas_port, 1, LIMIT).on(Ipv4Addr::new(127, 0, 0, 35)).spawn_uas();
    // The first target receives and never answers.
    let dead = std::net::UdpSocket::bind((Ipv4Addr::new(127, 0, 0, 34), dead_port)).unwrap_or_else(|e| panic!("{e}"));
    // T1 = 50 ms: Timer B gives the silent first target up after 64*T1 = 3.2 s.
    let config = format!(
        "[node]\nname = \"edge\"\n\n\
         [[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n\n\
         [transaction]\nt1_ms = 50\nt2_ms = 400\n\n\
         [dns]\nservers = [\"{}\"]\ntimeout_ms = 300\nattempts = 1\n\n\
         [security.flood]\ntrusted_cidrs = [\"127.0.0.1/32\"]\n\n\
         [[zone]]\nname = \"b2b\"\nkind = \"dns\"\ntransport = \"udp\"\n\n\
         [[search_rule]]\nname = \"b2b\"\npattern_type = \"suffix\"\npattern = \"@failover.test\"\ntarget = \"b2b\"\n",
        dns.addr()
    );
    let mut node = Causeway::start_with(dir.path(), port, &config);
    let uac = Sipp::new("uac", dir.path(), "uac-dial.xml", SippTransport::Udp, free_port(), 1, LIMIT)
        .arg("-key")
        .arg("to")
        .arg("bob@failover.test")
        .arg("-key")
        .arg("from")
        .arg("alice@ent.example");
    uac.run_uac(node.addr(), LIMIT).assert_all_succeeded(1);
    uas.finish(LIMIT).assert_all_succeeded(1);
    let asked: Vec<String> = dns.asked().into_iter().map(|a| format!("{} {}", a.kind, a.name)).collect();
    assert_eq!(asked.first().map(String::as_str), Some("SRV _sip._udp.failover.test"), "the zone's transport: SRV directly, no NAPTR");
    dead.set_read_timeout(Some(Duration::from_millis(100))).unwrap_or_else(|e| panic!("{e}"));
    let mut buf = [0u8; 4096];
    let got = dead.recv(&mut buf).map(|n| buf.get(..n).unwrap_or_default().starts_with(b"INVITE sip:bob@failover.test"));
    assert!(matches!(got, Ok(true)), "priority 10 was tried first: {got:?}");
    node.assert_alive();
}
