//! A Teams Direct Routing-like trunk on loopback: three SIPp UASs stand for sip, sip2 and
//! sip3.pstnhub (TCP here: the packaged SIPp has no TLS). Causeway initiates OPTIONS to each with
//! its own FQDN in Contact and Record-Route and REFER in Allow (ANCHORS §A3); a proxy is up only
//! once it has answered, so calls go to the best proxy that has, and move to the first one as
//! soon as it answers.

mod support;

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::sipp::{RunningSipp, Sipp, SippTransport};
use support::{causeway_bin, free_port, temp_dir, wait_until, Causeway};

const LIMIT: Duration = Duration::from_secs(30);
const FQDN: &str = "sbc.causeway-test.example";

/// The three proxies, each on its own loopback address.
const SIP: [Ipv4Addr; 3] = [Ipv4Addr::new(127, 0, 0, 21), Ipv4Addr::new(127, 0, 0, 22), Ipv4Addr::new(127, 0, 0, 23)];

fn proxy(dir: &Path, name: &str, ip: Ipv4Addr, port: u16) -> RunningSipp {
    Sipp::new(name, dir, "uas-keepalive.xml", SippTransport::Tcp, port, 100_000, Duration::from_secs(120)).on(ip).spawn_uas()
}

fn state_of(admin: &str, peer: &str) -> Option<String> {
    let out = Command::new(causeway_bin()).args(["status", "--admin", admin, "--json"]).output().ok()?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let zone = report["zones"].as_array()?.iter().find(|z| z["name"] == "teams")?.clone();
    let found = zone["peers"].as_array()?.iter().find(|p| p["peer"] == peer)?.clone();
    found["state"].as_str().map(str::to_owned)
}

fn trace(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name).join("messages.log")).unwrap_or_default()
}

fn call(dir: &Path, name: &str, node: &Causeway) {
    let uac = Sipp::new(name, dir, "uac-dial.xml", SippTransport::Udp, free_port(), 1, LIMIT)
        .arg("-key")
        .arg("to")
        .arg("+14155550100@teams.ent-pa.example")
        .arg("-key")
        .arg("from")
        .arg("cucm@ent-pa.example");
    uac.run_uac(node.addr(), LIMIT).assert_all_succeeded(1);
}

#[test]
fn a_trunk_proxy_counts_only_once_it_has_answered_our_options() {
    let dir = temp_dir();
    let (p1, p2, p3, port, admin_port) = (free_port(), free_port(), free_port(), free_port(), free_port());
    let _sip2 = proxy(dir.path(), "sip2", SIP[1], p2);
    let _sip3 = proxy(dir.path(), "sip3", SIP[2], p3);
    let config = format!(
        "[node]\nname = \"sbc\"\n\n\
         [[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n\n\
         [[listener]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:{port}\"\n\n\
         [admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\n\
         [security.flood]\ntrusted_cidrs = [\"127.0.0.1/32\"]\n\n\
         [[zone]]\nname = \"teams\"\nkind = \"trunk\"\nlocal_fqdn = \"{FQDN}\"\n\
         keepalive = {{ interval_secs = 1, timeout_secs = 1, failures_before_down = 1, successes_before_up = 1 }}\n\
         [[zone.peer]]\naddress = \"{}:{p1}\"\ntransport = \"tcp\"\npriority = 1\n\
         [[zone.peer]]\naddress = \"{}:{p2}\"\ntransport = \"tcp\"\npriority = 2\n\
         [[zone.peer]]\naddress = \"{}:{p3}\"\ntransport = \"tcp\"\npriority = 3\n\n\
         [[search_rule]]\nname = \"to-teams\"\npattern_type = \"regex\"\npattern = '(\\+\\d{{7,15}})@teams\\.ent-pa\\.example'\n\
         behaviour = \"replace\"\nreplace = '\\1@sip.pstnhub.example'\ntarget = \"teams\"\n",
        SIP[0],
        SIP[1],
        SIP[2]
    );
    let mut node = Causeway::start_with(dir.path(), port, &config);
    let admin = format!("http://127.0.0.1:{admin_port}");
    let (peer1, peer2, peer3) = (format!("{}:{p1}", SIP[0]), format!("{}:{p2}", SIP[1]), format!("{}:{p3}", SIP[2]));
    let answered = wait_until(Duration::from_secs(10), || {
        state_of(&admin, &peer2).as_deref() == Some("up") && state_of(&admin, &peer3).as_deref() == Some("up")
    });
    assert!(answered, "{}", node.process.log_tail());
    assert_ne!(state_of(&admin, &peer1).as_deref(), Some("up"), "sip (not running) never answered: not up");

    // What the proxies received: our FQDN in Contact and Record-Route, never an IP address; REFER allowed.
    let options = trace(dir.path(), "sip2");
    let first = options.split("OPTIONS sip:").nth(1).unwrap_or_else(|| panic!("no OPTIONS reached sip2\n{options}"));
    assert!(first.contains(&format!("Contact: <sip:{FQDN}:{port};transport=tcp>")), "{first}");
    assert!(first.contains(&format!("Record-Route: <sip:{FQDN}:{port};transport=tcp;lr>")), "{first}");
    assert!(first.lines().any(|l| l.starts_with("Allow:") && l.contains("REFER")), "{first}");

    // The best proxy that has answered takes the call, with the E.164 number at the proxy's host.
    call(dir.path(), "uac-1", &node);
    let sip2 = trace(dir.path(), "sip2");
    assert!(sip2.contains("INVITE sip:+14155550100@sip.pstnhub.example SIP/2.0"), "{sip2}");
    assert!(!trace(dir.path(), "sip3").contains("INVITE sip:"));

    // sip comes up: once it has answered it is up and first again.
    let _sip1 = proxy(dir.path(), "sip1", SIP[0], p1);
    let up = wait_until(Duration::from_secs(10), || state_of(&admin, &peer1).as_deref() == Some("up"));
    assert!(up, "{}", node.process.log_tail());
    call(dir.path(), "uac-2", &node);
    assert!(trace(dir.path(), "sip1").contains("INVITE sip:+14155550100@sip.pstnhub.example"));
    assert_eq!(trace(dir.path(), "sip2").matches("INVITE sip:").count(), 1);
    node.assert_alive();
}

/// Flow F4 over TLS through the simulated provider: the proxy "sip.pstnhub.example" (a SIPp UAS on
/// 127.0.0.21 behind a socat TLS server whose certificate names only that host name and 127.0.0.1,
/// found through the loopback test DNS) answers our OPTIONS and takes a call from CUCM; then it calls
/// CUCM over TLS from the same address. On both calls the Record-Route entry facing the trunk names the
/// zone's FQDN (Teams Direct Routing: the SBC FQDN of its certificate, never an IP address), the one
/// facing CUCM the UDP listener; the in-dialog ACK and BYE that follow those entries reach the other
/// side, so the node recognises its FQDN as itself. That the TLS connection to 127.0.0.21 verifies at
/// all shows the node checked the name the peer was found under (RFC 5922 §4), not its address.
#[test]
fn rfc5658_over_tls_the_record_route_facing_the_trunk_names_its_fqdn_both_ways() {
    use causeway_testdns::{DnsTable, TestDns};
    use support::{tls, tunnel};

    let dir = temp_dir();
    let leaves: [(&str, &[&str]); 2] = [("node", &["localhost"]), ("pstnhub", &["sip.pstnhub.example"])];
    let (ca, certs) = tls::make_pki_for(dir.path(), &leaves);
    let [(node_cert, node_key), (hub_cert, hub_key)] = [certs[0].clone(), certs[1].clone()];
    let dns = TestDns::start(DnsTable::new().address("sip.pstnhub.example", SIP[0].into(), 300)).unwrap_or_else(|e| panic!("{e}"));

    let (hub_tls, hub_tcp, cucm_port, port, tls_port) = (free_port(), free_port(), free_port(), free_port(), free_port());
    let _hub = Sipp::new("teams", dir.path(), "uas-keepalive-tls.xml", SippTransport::Tcp, hub_tcp, 100_000, Duration::from_secs(120))
        .on(SIP[0])
        .arg("-key")
        .arg("tls_port")
        .arg(hub_tls.to_string())
        .spawn_uas();
    let _hub_tls = tunnel::tls_server_on(dir.path(), SIP[0], hub_tls, &hub_cert, &hub_key, hub_tcp);
    let _cucm = Sipp::new("cucm", dir.path(), "uas-answer.xml", SippTransport::Udp, cucm_port, 1, LIMIT).spawn_uas();
    let config = format!(
        "[node]\nname = \"sbc\"\n\n\
         [[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n\n\
         [[listener]]\ntransport = \"tls\"\naddress = \"127.0.0.1:{tls_port}\"\ncert = \"{}\"\nkey = \"{}\"\n\n\
         [outbound]\ntls_roots = [\"{}\"]\n\n\
         [dns]\nservers = [\"{}\"]\ntimeout_ms = 500\nattempts = 1\n\n\
         [security.flood]\ntrusted_cidrs = [\"127.0.0.0/8\"]\n\n\
         [[zone]]\nname = \"teams\"\nkind = \"trunk\"\nauthentication = \"treat-as-authenticated\"\nlocal_fqdn = \"{FQDN}\"\n\
         keepalive = {{ interval_secs = 1, timeout_secs = 1, failures_before_down = 1, successes_before_up = 1 }}\n\
         [[zone.peer]]\naddress = \"sip.pstnhub.example:{hub_tls}\"\ntransport = \"tls\"\n\n\
         [[zone]]\nname = \"cucm\"\nkind = \"neighbor\"\nauthentication = \"treat-as-authenticated\"\nkeepalive = {{ enabled = false }}\n\
         [[zone.peer]]\naddress = \"127.0.0.1:{cucm_port}\"\ntransport = \"udp\"\n\n\
         [[search_rule]]\nname = \"to-teams\"\npriority = 10\npattern_type = \"regex\"\npattern = '(\\+\\d{{7,15}})@teams\\.ent-pa\\.example'\n\
         behaviour = \"replace\"\nreplace = '\\1@sip.pstnhub.example'\non_match = \"stop\"\ntarget = \"teams\"\n\n\
         [[search_rule]]\nname = \"to-cucm\"\npriority = 20\npattern_type = \"suffix\"\npattern = \"@ent-pa.example\"\ntarget = \"cucm\"\n",
        node_cert.display(),
        node_key.display(),
        ca.display(),
        dns.addr()
    );
    let mut node = Causeway::start_with(dir.path(), port, &config);
    let answered = wait_until(Duration::from_secs(10), || trace(dir.path(), "teams").contains("OPTIONS sip:"));
    assert!(answered, "no OPTIONS reached the provider over TLS\n{}", node.process.log_tail());

    // CUCM → Teams: the first Record-Route entry (facing Teams) names the FQDN with the TLS listener.
    call(dir.path(), "cucm-caller", &node);
    let hub = trace(dir.path(), "teams");
    let invite = hub.split("INVITE sip:").nth(1).unwrap_or_else(|| panic!("no INVITE reached the provider\n{hub}"));
    let rr = invite.lines().find(|l| l.starts_with("Record-Route:")).unwrap_or_else(|| panic!("no Record-Route\n{invite}"));
    assert!(rr.starts_with(&format!("Record-Route: <sip:{FQDN}:{tls_port};transport=tls")), "{rr}");
    assert!(rr.contains(&format!("<sip:127.0.0.1:{port};transport=udp")), "the entry facing CUCM names the listener: {rr}");
    assert!(hub.contains("BYE sip:uas@"), "the BYE followed the route set to the provider over TLS\n{hub}");

    // Teams → CUCM over TLS from the provider's address: the entry facing Teams (the last of ours) names the FQDN.
    let client_port = free_port();
    let _teams_client = tunnel::tls_client_from(dir.path(), client_port, &ca, SIP[0], tls_port);
    let uac = Sipp::new("teams-caller", dir.path(), "uac-dial.xml", SippTransport::Tcp, free_port(), 1, LIMIT)
        .arg("-key")
        .arg("to")
        .arg("bob@ent-pa.example")
        .arg("-key")
        .arg("from")
        .arg("+14155550100@sip.pstnhub.example");
    uac.run_uac(std::net::SocketAddr::from(([127, 0, 0, 1], client_port)), LIMIT).assert_all_succeeded(1);
    let cucm = trace(dir.path(), "cucm");
    let rr = cucm.lines().find(|l| l.starts_with("Record-Route:")).unwrap_or_else(|| panic!("no Record-Route at CUCM\n{cucm}"));
    assert!(rr.starts_with(&format!("Record-Route: <sip:127.0.0.1:{port};transport=udp")), "facing CUCM: {rr}");
    assert!(rr.contains(&format!("@{FQDN}:{tls_port};transport=tls")), "facing Teams: {rr}");
    let caller = trace(dir.path(), "teams-caller");
    let ok = caller.split("SIP/2.0 200 OK").nth(1).unwrap_or_default();
    assert!(ok.lines().any(|l| l.starts_with("Record-Route:") && l.contains(&format!("@{FQDN}:{tls_port};transport=tls"))), "{caller}");
    assert!(cucm.contains("BYE sip:"), "Teams' BYE followed the FQDN route to CUCM\n{cucm}");
    node.assert_alive();
}
