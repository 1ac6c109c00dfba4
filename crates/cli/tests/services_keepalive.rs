//! OPTIONS keepalive against real peers (SIPp UASs answering OPTIONS and calls): calls go to the
//! best peer that is up; when it stops answering, keepalive marks it down (seen in `causeway
//! status`) and calls fail over to the next priority; once it answers again it is up and takes
//! the calls back.

mod support;

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::sipp::{RunningSipp, Sipp, SippTransport};
use support::{causeway_bin, free_port, temp_dir, wait_until, Causeway};

const LIMIT: Duration = Duration::from_secs(30);

/// Peers on their own loopback addresses: the UAC on 127.0.0.1 is then not mistaken for one.
const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 12);

fn uas(dir: &Path, name: &str, ip: Ipv4Addr, port: u16) -> RunningSipp {
    Sipp::new(name, dir, "uas-keepalive.xml", SippTransport::Udp, port, 100_000, Duration::from_secs(120)).on(ip).spawn_uas()
}

/// Peer states by `host:port` from `causeway status --json`.
fn states(admin: &str) -> Vec<(String, String, bool)> {
    let out = Command::new(causeway_bin()).args(["status", "--admin", admin, "--json"]).output().unwrap_or_else(|e| panic!("{e}"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    let peers = report["zones"].as_array().into_iter().flatten().flat_map(|z| z["peers"].as_array().into_iter().flatten());
    peers
        .map(|p| (p["peer"].as_str().unwrap_or_default().to_owned(), p["state"].as_str().unwrap_or_default().to_owned(), p["last_change"].is_string()))
        .collect()
}

fn state_of(admin: &str, peer: &str) -> Option<String> {
    states(admin).into_iter().find(|(p, _, _)| p == peer).map(|(_, s, _)| s)
}

/// INVITEs a UAS received so far, from its message trace.
fn invites(dir: &Path, name: &str) -> usize {
    let trace = std::fs::read_to_string(dir.join(name).join("messages.log")).unwrap_or_default();
    trace.matches("INVITE sip:").count()
}

fn call(dir: &Path, name: &str, node: &Causeway) {
    let uac = Sipp::new(name, dir, "uac.xml", SippTransport::Udp, free_port(), 1, LIMIT).arg("-s").arg("bob");
    uac.run_uac(node.addr(), LIMIT).assert_all_succeeded(1);
}

#[test]
fn a_silent_peer_goes_down_calls_fail_over_and_it_comes_back_up() {
    let dir = temp_dir();
    let (a_port, b_port, port, admin_port) = (free_port(), free_port(), free_port(), free_port());
    let a = uas(dir.path(), "uas-a", A, a_port);
    let _b = uas(dir.path(), "uas-b", B, b_port);
    let config = format!(
        "[node]\nname = \"edge\"\n\n\
         [[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n\n\
         [admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\n\
         [security.flood]\ntrusted_cidrs = [\"127.0.0.1/32\"]\n\n\
         [[zone]]\nname = \"cucm\"\nkind = \"neighbor\"\n\
         keepalive = {{ interval_secs = 1, timeout_secs = 1, failures_before_down = 2, successes_before_up = 1 }}\n\
         [[zone.peer]]\naddress = \"{A}:{a_port}\"\ntransport = \"udp\"\npriority = 1\n\
         [[zone.peer]]\naddress = \"{B}:{b_port}\"\ntransport = \"udp\"\npriority = 2\n\n\
         [[search_rule]]\nname = \"all\"\npattern_type = \"regex\"\npattern = \".*\"\ntarget = \"cucm\"\n"
    );
    let mut node = Causeway::start_with(dir.path(), port, &config);
    let admin = format!("http://127.0.0.1:{admin_port}");
    let (peer_a, peer_b) = (format!("{A}:{a_port}"), format!("{B}:{b_port}"));
    let both_up = wait_until(Duration::from_secs(10), || states(&admin).iter().filter(|(_, s, _)| s == "up").count() == 2);
    assert!(both_up, "{:?}\n{}", states(&admin), node.process.log_tail());
    assert!(states(&admin).iter().all(|(_, _, changed)| *changed), "the time of the change is shown");

    call(dir.path(), "uac-1", &node);
    assert_eq!((invites(dir.path(), "uas-a"), invites(dir.path(), "uas-b")), (1, 0), "priority 1 takes the call");

    // Peer A stops answering: two missed probes and it is down.
    drop(a);
    let down = wait_until(Duration::from_secs(10), || state_of(&admin, &peer_a).as_deref() == Some("down"));
    assert!(down, "{:?}\n{}", states(&admin), node.process.log_tail());
    assert_eq!(state_of(&admin, &peer_b).as_deref(), Some("up"));
    call(dir.path(), "uac-2", &node);
    assert_eq!(invites(dir.path(), "uas-b"), 1, "with A down the call fails over to B");

    // A answers again: one success and it is up, and takes the calls back.
    let _a = uas(dir.path(), "uas-a2", A, a_port);
    let up = wait_until(Duration::from_secs(10), || state_of(&admin, &peer_a).as_deref() == Some("up"));
    assert!(up, "{:?}\n{}", states(&admin), node.process.log_tail());
    call(dir.path(), "uac-3", &node);
    assert_eq!((invites(dir.path(), "uas-a2"), invites(dir.path(), "uas-b")), (1, 1));
    node.assert_alive();
}
