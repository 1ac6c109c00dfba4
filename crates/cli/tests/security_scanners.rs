//! L4: SIPVicious (the PyPI release) against a running edge on loopback, each attack from its own 127.x
//! address (issue 4, "Real attackers in the tests"). Every attack is run twice: against an edge that leaks —
//! to show the tool really works here and would have succeeded — and against the protected edge:
//!
//! - svmap learns the product and, with the default Server value, no version;
//! - svwar enumerates an extension an edge answers differently, and finds none when every extension, known or
//!   not, gets the same challenge (REGISTER, INVITE and OPTIONS);
//! - svcrack finds a weak password when failures are not limited, and is banned before it gets to it under
//!   the default limits — checked in svcrack's own output, in the registrar behind the edge (which sees no
//!   REGISTER), in the node's counters (which show the REGISTERs it really received) and in `causeway status`
//!   (which lists the ban).

mod support;

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::edge::{ha1_md5, sipvicious, Edge};
use support::sipp::{Sipp, SippTransport};
use support::{causeway_bin, free_port, temp_dir};

const REALM: &str = "ent-pa.com";
const WEAK_PASSWORD: &str = "1234";
const SCANNER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const CRACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const MAPPER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 4);
const TOOL_LIMIT: Duration = Duration::from_secs(90);

/// Digest settings and users 1000 and 1001 (1000 with the weak password).
fn credentials() -> String {
    format!(
        "[security.digest]\nrealm = \"{REALM}\"\nalgorithms = [\"MD5\"]\n\n\
         [[credential]]\nusername = \"1000\"\nha1_md5 = \"{}\"\n\n\
         [[credential]]\nusername = \"1001\"\nha1_md5 = \"{}\"\n\n",
        ha1_md5("1000", REALM, WEAK_PASSWORD),
        ha1_md5("1001", REALM, "a much longer secret")
    )
}

/// The default zone with `authentication`, a neighbour zone `behind` whose one peer is 127.0.0.1:`port`, and a
/// search rule sending aliases that match `pattern` there.
fn zones(authentication: &str, port: u16, pattern: &str, authenticated_only: bool) -> String {
    let source = if authenticated_only { "any-authenticated" } else { "any" };
    format!(
        "[[zone]]\nname = \"default\"\nkind = \"default\"\nauthentication = \"{authentication}\"\n\n\
         [[zone]]\nname = \"behind\"\nkind = \"neighbor\"\nkeepalive = {{ enabled = false }}\n\
         [[zone.peer]]\naddress = \"127.0.0.1:{port}\"\ntransport = \"udp\"\n\n\
         [[search_rule]]\nname = \"behind\"\npriority = 10\nsource = \"{source}\"\n\
         request_must_be_authenticated = {authenticated_only}\npattern_type = \"regex\"\npattern = '{pattern}'\n\
         on_match = \"stop\"\ntarget = \"behind\"\n\n"
    )
}

fn svmap(dir: &Path, name: &str, edge: &Edge) -> String {
    let port = edge.port.to_string();
    let run = sipvicious(dir, name, "svmap", MAPPER, &["-p", &port, "127.0.0.1"], TOOL_LIMIT);
    assert!(run.status.is_some(), "svmap did not finish\n{}", run.output);
    let target = format!("127.0.0.1:{port}");
    let line = run.output.lines().find(|l| l.contains(&target)).unwrap_or_else(|| panic!("svmap did not find the node:\n{}", run.output));
    line.split('|').map(str::trim).filter(|c| !c.is_empty()).nth(1).unwrap_or_default().to_owned()
}

#[test]
fn svmap_learns_the_product_but_no_version() {
    let dir = temp_dir();
    let uas = free_port();
    let protected = Edge::start(dir.path(), &format!("{}{}", credentials(), zones("check-credentials", uas, "1000@.*", true)));
    let seen = svmap(dir.path(), "svmap", &protected);
    assert_eq!(seen, "Causeway", "svmap's User Agent column");
    assert!(!seen.chars().any(|c| c.is_ascii_digit()), "a version leaked: {seen}");
    let report = protected.stop();
    assert!(report.count("requests_received", "OPTIONS") >= 1, "the node saw svmap's probe\n{}", report.text);

    // Control: svmap reports whatever the node sends, so a configured version would show.
    let control_dir = temp_dir();
    let leaky = Edge::start(control_dir.path(), "[security]\nserver_header = \"Causeway/1.2.3\"\n\n");
    assert_eq!(svmap(control_dir.path(), "svmap", &leaky), "Causeway/1.2.3");
}

#[test]
fn svwar_finds_no_extension_although_users_exist() {
    // Control: an edge that routes extension 1000 (a busy PBX user behind it) and answers every other
    // extension 404 leaks which extensions exist, and svwar finds 1000.
    let dir = temp_dir();
    let pbx_port = free_port();
    let mut pbx = Sipp::new("pbx", dir.path(), "uas-busy.xml", SippTransport::Udp, pbx_port, 1, TOOL_LIMIT).spawn_uas();
    let leaky = Edge::start(dir.path(), &zones("do-not-check", pbx_port, "1000@.*", false));
    let port = leaky.port.to_string();
    let run = sipvicious(dir.path(), "svwar-control", "svwar", SCANNER, &["-p", &port, "-e", "990-1010", "-m", "INVITE", "127.0.0.1"], TOOL_LIMIT);
    assert!(run.output.contains("'1000' probably exists"), "svwar works here and finds the leaked extension\n{}", run.output);
    assert_eq!(pbx.finish(Duration::from_secs(5)).counter("IncomingCall(C)"), 1);
    leaky.stop();

    // Protected: the default zone checks credentials, so every extension — 1000 and 1001 exist — gets the
    // same challenge, and svwar has nothing to tell them apart by. Forced to scan anyway, it still finds none.
    let dir = temp_dir();
    let pbx_port = free_port();
    let mut pbx = Sipp::new("pbx", dir.path(), "uas-busy.xml", SippTransport::Udp, pbx_port, 1, TOOL_LIMIT).spawn_uas();
    let edge = Edge::start(dir.path(), &format!("{}{}", credentials(), zones("check-credentials", pbx_port, "1000@.*", true)));
    let port = edge.port.to_string();
    for method in ["REGISTER", "INVITE", "OPTIONS"] {
        for force in [false, true] {
            let name = format!("svwar-{method}-{force}");
            let mut args = vec!["-p", port.as_str(), "-e", "990-1010", "-m", method];
            if force {
                args.push("--force");
            }
            args.push("127.0.0.1");
            let run = sipvicious(dir.path(), &name, "svwar", SCANNER, &args, TOOL_LIMIT);
            assert!(run.status.is_some(), "{name} did not finish\n{}", run.output);
            assert!(run.output.contains("found nothing"), "{name}\n{}", run.output);
            assert!(!run.output.contains("exists"), "{name} found an extension\n{}", run.output);
            if !force {
                assert!(run.output.contains("authentication request for an unknown extension"), "{name}\n{}", run.output);
            }
        }
    }
    assert_eq!(pbx.finish(Duration::from_secs(2)).counter("IncomingCall(C)"), 0, "nothing reached the PBX");
    let report = edge.stop();
    assert_eq!(report.count("security", "authenticated"), 0);
    assert!(report.count("security", "challenges") >= 6, "every probe was challenged\n{}", report.text);
    assert!(report.count("responses_sent", "401") >= 2 && report.count("responses_sent", "407") >= 4, "{}", report.text);
}

/// 30 wrong guesses, the weak password, then 10 more: svcrack tries them in order.
fn wordlist(dir: &Path) -> String {
    let mut words: Vec<String> = (1..=30).map(|i| format!("guess{i:02}")).collect();
    words.push(WEAK_PASSWORD.to_owned());
    words.extend((31..=40).map(|i| format!("guess{i:02}")));
    let path = dir.join("words.txt");
    std::fs::write(&path, words.join("\n") + "\n").unwrap_or_else(|e| panic!("write words: {e}"));
    path.display().to_string()
}

fn crack(dir: &Path, name: &str, edge: &Edge) -> String {
    let (port, words) = (edge.port.to_string(), wordlist(dir));
    let run = sipvicious(dir, name, "svcrack", CRACKER, &["-u", "1000", "-d", &words, "-p", &port, "127.0.0.1"], TOOL_LIMIT);
    assert!(run.status.is_some(), "svcrack did not finish\n{}", run.output);
    run.output
}

/// The password svcrack's result table gives for extension 1000.
fn cracked(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let cells: Vec<&str> = line.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
        match cells.as_slice() {
            ["1000", password] => Some((*password).to_owned()),
            _ => None,
        }
    })
}

#[test]
fn svcrack_is_banned_before_it_finds_the_weak_password() {
    // Control: with failures not limited, svcrack finds the weak password — it really talks digest to this
    // edge, and the registrar behind it answers the one REGISTER that got through.
    let dir = temp_dir();
    let registrar_port = free_port();
    let mut registrar = Sipp::new("registrar", dir.path(), "uas-register.xml", SippTransport::Udp, registrar_port, 1, TOOL_LIMIT).spawn_uas();
    let unlimited = "[security.flood]\nauth_failures_per_source = { count = 100000, window_secs = 60 }\n\
                     auth_failures_per_user = { count = 100000, window_secs = 60 }\n\n";
    let leaky = Edge::start(dir.path(), &format!("{unlimited}{}{}", credentials(), zones("check-credentials", registrar_port, ".*", true)));
    let output = crack(dir.path(), "svcrack-control", &leaky);
    assert_eq!(cracked(&output), Some(WEAK_PASSWORD.to_owned()), "svcrack cracks an unprotected edge\n{output}");
    assert_eq!(registrar.finish(Duration::from_secs(5)).counter("IncomingCall(C)"), 1);
    let report = leaky.stop();
    assert_eq!(report.count("security", "authenticated"), 1);
    assert!(report.count("security", "auth_failures") >= 30, "{}", report.text);

    // Protected: the default limits (10 failures per source and minute) ban svcrack long before guess 31.
    let dir = temp_dir();
    let registrar_port = free_port();
    let mut registrar = Sipp::new("registrar", dir.path(), "uas-register.xml", SippTransport::Udp, registrar_port, 1, TOOL_LIMIT).spawn_uas();
    let admin = format!("127.0.0.1:{}", free_port());
    let sections = format!("[admin]\nlisten = \"{admin}\"\n\n{}{}", credentials(), zones("check-credentials", registrar_port, ".*", true));
    let edge = Edge::start(dir.path(), &sections);
    let output = crack(dir.path(), "svcrack", &edge);
    assert_eq!(cracked(&output), None, "svcrack found the password\n{output}");
    assert!(output.contains("found nothing"), "{output}");
    // The ban (60 s) is still in force: `causeway status` lists it.
    let status = Command::new(causeway_bin()).args(["status", "--admin", &format!("http://{admin}"), "--json"]).output();
    let status = status.unwrap_or_else(|e| panic!("causeway status: {e}"));
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&status.stderr)));
    let bans = report["security"]["bans"].as_array().cloned().unwrap_or_default();
    assert!(bans.iter().any(|b| b["subject"] == "source 127.0.0.3" && b["seconds_left"].as_u64().is_some_and(|s| s > 0)), "{report}");
    assert_eq!(registrar.finish(Duration::from_secs(2)).counter("IncomingCall(C)"), 0, "no REGISTER got through");
    let report = edge.stop();
    let registers = report.count("requests_received", "REGISTER");
    assert!((11..=13).contains(&registers), "the first REGISTER and its wrong guesses reached the node, then it was banned: {registers}\n{}", report.text);
    assert_eq!(report.count("security", "authenticated"), 0);
    assert!(report.count("security", "auth_failures") >= 10, "{}", report.text);
    assert_eq!(report.count("security", "bans_started"), 1);
    let audit = report.audit();
    assert!(
        audit.iter().any(|l| l.contains("Request Blocked") && l.contains("Src-ip=\"127.0.0.3\"") && l.contains("Ban-reason=\"auth-failures\"")),
        "the ban is in the audit trail: {audit:?}"
    );
}
