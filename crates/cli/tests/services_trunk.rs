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
