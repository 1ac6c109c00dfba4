//! `causeway locate` on the shipped Expressway example (examples/routing/expressway.toml with the
//! shared-edge call policy): flow F2 for both clusters, the Webex search rule, the `call-type=squared`
//! loop rule, a call policy refusal, JSON output and the exit codes.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{causeway_bin, repo_root, temp_dir, tls};

/// The example and the shared-edge policy in one config, beside the TLS files it names.
fn example(dir: &Path) -> PathBuf {
    let pki = tls::make_pki(dir);
    let tls_dir = dir.join("tls");
    std::fs::create_dir_all(&tls_dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
    for (from, to) in [(&pki.cert, "edge.pem"), (&pki.key, "edge.key"), (&pki.ca, "ca.pem")] {
        std::fs::copy(from, tls_dir.join(to)).unwrap_or_else(|e| panic!("copy: {e}"));
    }
    let read = |p: &str| std::fs::read_to_string(repo_root().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let config = format!("{}\n{}", read("examples/routing/expressway.toml"), read("examples/policy/shared-edge.toml"));
    let path = dir.join("edge.toml");
    std::fs::write(&path, config).unwrap_or_else(|e| panic!("write: {e}"));
    path
}

fn locate(config: &Path, args: &[&str]) -> Output {
    Command::new(causeway_bin())
        .arg("locate")
        .arg("-c")
        .arg(config)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("causeway locate: {e}"))
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Flow F2 over mutual TLS on 5062 from a client whose certificate names `cert`, Route naming this
/// edge then `cluster`.
fn f2_from(config: &Path, cert: &str, cluster: &str, extra: &[&str]) -> Output {
    let route = format!("sip:{cluster};lr");
    let mut args = vec![
        "--from",
        "\"Alice\" <sip:alice@example.call.webex.com>",
        "--to",
        "sip:bob@ent-pa.com",
        "--tls-name",
        cert,
        "--listener",
        "0.0.0.0:5062",
        "--route",
        "sip:l2sip@edge.ent-pa.com:5062;transport=tls;lr",
        "--route",
        &route,
        "--contact",
        "\"l2sip\" <sip:l2sip@10.10.10.10:5062;transport=tls>;call-type=squared",
    ];
    args.extend_from_slice(extra);
    locate(config, &args)
}

/// Flow F2 from Webex.
fn f2(config: &Path, cluster: &str, extra: &[&str]) -> Output {
    f2_from(config, "callservice.webex.com", cluster, extra)
}

#[test]
fn f2_the_route_header_sends_one_request_uri_to_either_cluster() {
    let dir = temp_dir();
    let config = example(dir.path());
    let us = f2(&config, "us-cm-pub.ent-pa.com", &[]);
    let us_text = text(&us);
    assert_eq!(us.status.code(), Some(0), "{us_text}");
    for line in [
        "zone: webex (certificate name callservice.webex.com matches tls_verify_subject callservice.webex.com)",
        "route <sip:l2sip@edge.ent-pa.com:5062;transport=tls;lr>: names this node, skipped",
        "alias: us-cm-pub.ent-pa.com (from the Route header)",
        "call policy: allow by default action",
        "search rule \"webex-to-cucm-us\" (priority 40, source zone webex, authenticated only, exact 'us-cm-pub.ent-pa.com' → cucm-us): match, search with alias us-cm-pub.ent-pa.com, stop",
        "  group 0: TLS 10.1.1.10:5061, then TLS 10.1.1.11:5061; Max-Forwards 15",
    ] {
        assert!(us_text.lines().any(|l| l == line), "missing `{line}` in\n{us_text}");
    }
    let emea_text = text(&f2(&config, "emea-cm-pub.ent-pa.com", &[]));
    assert!(emea_text.contains("  group 0: TLS 10.2.1.10:5061, then TLS 10.2.1.11:5061; Max-Forwards 15"), "{emea_text}");
}

#[test]
fn a_certificate_for_another_name_is_the_default_zone_and_policy_refuses_it() {
    let dir = temp_dir();
    let config = example(dir.path());
    let out = text(&f2_from(&config, "evil.example.net", "us-cm-pub.ent-pa.com", &[]));
    for line in [
        "zone: default (no zone matches: default zone)",
        "authentication: not authenticated (do-not-check: the zone does not check credentials); P-Asserted-Identity/P-Preferred-Identity stripped (RFC 3325)",
        "route <sip:us-cm-pub.ent-pa.com;lr>: ignored: the zone does not honour Route headers",
        "search rule \"webex-to-cucm-us\" (priority 40, source zone webex, authenticated only, exact 'us-cm-pub.ent-pa.com' → cucm-us): source does not match",
    ] {
        assert!(out.lines().any(|l| l == line), "missing `{line}` in\n{out}");
    }
    let spoof = locate(
        &config,
        &["--from", "sip:alice@ent-pa.com", "--to", "sip:9011441234@ent-pa.com", "--tls-name", "evil.example.net"],
    );
    let spoof_text = text(&spoof);
    assert_eq!(spoof.status.code(), Some(3), "{spoof_text}");
    assert!(spoof_text.contains("zone: default (no zone matches: default zone)"), "{spoof_text}");
    assert!(spoof_text.contains("call policy: reject 403 Forbidden by rule 2 \"spoofed-enterprise-domain\""), "{spoof_text}");
    assert!(!spoof_text.contains("search rule \""), "no search after a refusal\n{spoof_text}");
    assert!(spoof_text.ends_with("the proxy answers 403 Forbidden\n"), "{spoof_text}");
}

#[test]
fn the_webex_rule_and_its_loop_rule() {
    let dir = temp_dir();
    let (config, _dns) = example_with_webex_dns(dir.path());
    let base = ["--from", "sip:alice@ent-pa.com", "--to", "sip:bob@example.call.webex.com", "--source", "10.1.1.10:5061"];
    let out = text(&locate(&config, &base));
    assert!(out.contains("zone: cucm-us (source address 10.1.1.10 is peer 10.1.1.10:5061)"), "{out}");
    assert!(
        out.contains("search rule \"to-webex\" (priority 50, source any-authenticated, regex '.*@example\\.call\\.webex\\.com' → webex): match"),
        "{out}"
    );
    assert!(out.contains("SRV _sips._tcp.callservice.webex.com"), "the lookup the node would make\n{out}");
    let mut looped = base.to_vec();
    looped.extend_from_slice(&["--contact", "<sip:l2sip@10.10.10.10:5062;transport=tls>;call-type=squared"]);
    let out = text(&locate(&config, &looped));
    assert!(out.contains("skipped: Contact carries call-type=squared, refused by the target zone (loop prevention)"), "{out}");
}

#[test]
fn json_output_and_bad_arguments() {
    let dir = temp_dir();
    let config = example(dir.path());
    let out = f2(&config, "emea-cm-pub.ent-pa.com", &["--json"]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(value["zone"]["zone"], "webex");
    assert_eq!(value["targets"][0]["hops"], serde_json::json!(["TLS 10.2.1.10:5061", "TLS 10.2.1.11:5061"]));
    assert_eq!(value["decision"]["outcome"]["groups"][0]["targets"][0]["rule"], "webex-to-cucm-emea");
    let unknown = locate(&config, &["--from", "sip:a@b", "--to", "sip:c@d", "--zone", "nowhere"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown).contains("--zone nowhere: no such zone (zones: webex, cucm-us, cucm-emea, teams, internet, default)"));
}

/// A DNS zone: the dry run makes the lookups the node would (NAPTR, SRV, A/AAAA through `[dns]`), here against the
/// loopback test DNS server, and shows the next hops in RFC 3263 order.
#[test]
fn rfc3263_the_dry_run_shows_the_lookups_and_next_hops_of_a_dns_zone() {
    use causeway_testdns::{DnsTable, TestDns};
    let table = DnsTable::new()
        .naptr("partner.test", 10, 10, "SIP+D2U", "_sip._udp.partner.test", 300)
        .srv("_sip._udp.partner.test", 10, 0, 5070, "pbx1.partner.test", 300)
        .srv("_sip._udp.partner.test", 20, 0, 5080, "pbx2.partner.test", 300)
        .address("pbx1.partner.test", std::net::IpAddr::from([192, 0, 2, 31]), 60)
        .address("pbx2.partner.test", std::net::IpAddr::from([192, 0, 2, 32]), 60);
    let dns = TestDns::start(table).unwrap_or_else(|e| panic!("{e}"));
    let dir = temp_dir();
    let config = dir.path().join("dns.toml");
    let source = format!(
        "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:5060\"\n\n\
         [dns]\nservers = [\"{}\"]\ntimeout_ms = 500\nattempts = 1\n\n\
         [[zone]]\nname = \"b2b\"\nkind = \"dns\"\n\n\
         [[search_rule]]\nname = \"b2b\"\npattern_type = \"suffix\"\npattern = \"@partner.test\"\ntarget = \"b2b\"\n",
        dns.addr()
    );
    std::fs::write(&config, source).unwrap_or_else(|e| panic!("write: {e}"));
    let out = locate(&config, &["--from", "sip:alice@ent-pa.com", "--to", "sip:bob@partner.test"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    for line in [
        "resolve b2b:",
        "  NAPTR partner.test: 10 10 \"s\" SIP+D2U _sip._udp.partner.test. (ttl 300)",
        "  SRV _sip._udp.partner.test: 10 0 5070 pbx1.partner.test. (ttl 300), 20 0 5080 pbx2.partner.test. (ttl 300)",
        "  → UDP 192.0.2.31:5070 (pbx1.partner.test) ttl 60, then UDP 192.0.2.32:5080 (pbx2.partner.test) ttl 60",
        "  group 0: UDP 192.0.2.31:5070, then UDP 192.0.2.32:5080; Max-Forwards 15",
    ] {
        assert!(shown.lines().any(|l| l == line), "missing `{line}` in\n{shown}");
    }
}

/// docs/routing.md shows what the command prints for flow F2, both clusters.
#[test]
fn docs_show_the_command_lines_output_for_both_clusters() {
    let dir = temp_dir();
    let config = example(dir.path());
    let docs = std::fs::read_to_string(repo_root().join("docs/routing.md")).unwrap_or_else(|e| panic!("docs/routing.md: {e}"));
    for cluster in ["us-cm-pub.ent-pa.com", "emea-cm-pub.ent-pa.com"] {
        let out = f2(&config, cluster, &["--source", "198.51.100.20:40123"]);
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(docs.contains(&format!("```text\n{shown}```")), "docs/routing.md must show this output for {cluster}:\n{shown}");
    }
}

/// The example with `[dns]` naming a loopback name server that answers for callservice.webex.com with the records
/// docs/routing.md shows (no lookup leaves the machine).
fn example_with_webex_dns(dir: &Path) -> (PathBuf, causeway_testdns::TestDns) {
    use causeway_testdns::{DnsTable, TestDns};
    let mut table = DnsTable::new();
    for (priority, target, last) in [(5, "l2sip-a.wbx2.com", 10), (5, "l2sip-b.wbx2.com", 11), (10, "l2sip-c.wbx2.com", 12)] {
        table = table
            .srv("_sips._tcp.callservice.webex.com", priority, 10, 5062, target, 300)
            .address(target, std::net::IpAddr::from([192, 0, 2, last]), 60);
    }
    let dns = TestDns::start(table).unwrap_or_else(|e| panic!("{e}"));
    let config = example(dir);
    let mut source = std::fs::read_to_string(&config).unwrap_or_else(|e| panic!("read: {e}"));
    source.push_str(&format!("\n[dns]\nservers = [\"{}\"]\n", dns.addr()));
    std::fs::write(&config, source).unwrap_or_else(|e| panic!("write: {e}"));
    (config, dns)
}

/// docs/routing.md shows what the command prints for the Webex search rule, with `[dns]` pointing at a name server
/// that answers for callservice.webex.com as the documented records say (here the loopback test DNS server).
#[test]
fn docs_show_the_command_lines_output_for_the_webex_rule() {
    let dir = temp_dir();
    let (config, _dns) = example_with_webex_dns(dir.path());
    let out = locate(&config, &["--from", "sip:alice@ent-pa.com", "--to", "sip:bob@example.call.webex.com", "--source", "10.1.1.10:5061"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let docs = std::fs::read_to_string(repo_root().join("docs/routing.md")).unwrap_or_else(|e| panic!("docs/routing.md: {e}"));
    assert!(docs.contains(&format!("```text\n{shown}```")), "docs/routing.md must show this output for the Webex rule:\n{shown}");
}
