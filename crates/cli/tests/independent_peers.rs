//! L4 with peers that are not SIPp: sipsak (OPTIONS keepalive to the node, and an OPTIONS relayed to a
//! SIPp UAS) and baresip (a real call through causeway to a SIPp UAS).

mod support;

use std::process::Command;
use std::time::Duration;

use support::sipp::{Sipp, SippTransport};
use support::{free_low_port, free_port, temp_dir, Causeway, ChildGuard, NodeSpec};

const LIMIT: Duration = Duration::from_secs(30);

fn udp_spec(uas_port: u16) -> NodeSpec<'static> {
    NodeSpec { next_hop: format!("sip:127.0.0.1:{uas_port};transport=udp"), tls: None, extra: String::new() }
}

/// Run sipsak with `args` in `dir`, bounded; returns (exit code, output).
fn sipsak(dir: &std::path::Path, name: &str, args: &[String]) -> (Option<i32>, String) {
    let mut process = ChildGuard::spawn_with(name, Command::new("sipsak").args(args), dir);
    let status = process.wait_for(LIMIT);
    (status.and_then(|s| s.code()), process.log_tail())
}

/// RFC 3261 §11: a node answers OPTIONS addressed to itself; peers use it as a keepalive.
#[test]
fn sipsak_options_to_the_node_gets_200() {
    let dir = temp_dir();
    let mut causeway = Causeway::start_on(dir.path(), &udp_spec(free_port()), free_low_port());
    let uri = format!("sip:127.0.0.1:{}", causeway.port);
    let (code, output) = sipsak(dir.path(), "sipsak", &["-vv".into(), "-s".into(), uri]);
    assert_eq!(code, Some(0), "sipsak exit code (0 = 200 received)\n{output}\n{}", causeway.process.log_tail());
    assert!(output.contains("200"), "no 200 in sipsak's output\n{output}");
    causeway.assert_alive();
}

#[test]
fn sipsak_options_through_causeway_reach_a_sipp_uas() {
    let dir = temp_dir();
    let uas_port = free_port();
    let mut uas = Sipp::new("uas", dir.path(), "uas-options.xml", SippTransport::Udp, uas_port, 1, LIMIT).spawn_uas();
    let mut causeway = Causeway::start_on(dir.path(), &udp_spec(uas_port), free_low_port());
    let uri = format!("sip:bob@127.0.0.1:{}", causeway.port);
    let (code, output) = sipsak(dir.path(), "sipsak", &["-vv".into(), "-s".into(), uri]);
    let uas = uas.finish(Duration::from_secs(10));
    assert_eq!(code, Some(0), "sipsak exit code\n{output}\n{}\n{}", uas.report, causeway.process.log_tail());
    assert!(output.contains("SIPpTag03"), "the 200 did not come from the SIPp UAS\n{output}");
    uas.assert_all_succeeded(1);
    causeway.assert_alive();
}

/// baresip dials through causeway; the SIPp UAS answers; baresip hangs up when it quits (`-t`).
#[test]
fn baresip_call_through_causeway_to_a_sipp_uas() {
    let dir = temp_dir();
    let uas_port = free_port();
    let mut uas = Sipp::new("uas", dir.path(), "uas-answer.xml", SippTransport::Udp, uas_port, 1, LIMIT).spawn_uas();
    let causeway = Causeway::start(dir.path(), &udp_spec(uas_port));

    let config_dir = dir.path().join("baresip");
    std::fs::create_dir_all(&config_dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
    // Audio loops through aubridge so no sound device is needed; G.711 only.
    let config = format!(
        "poll_method epoll\nsip_listen 127.0.0.1:{}\naudio_player aubridge,loop\naudio_source aubridge,loop\n\
         audio_alert aubridge,loop\nmodule_path /usr/lib/baresip/modules\nmodule stdio.so\nmodule g711.so\n\
         module aubridge.so\nmodule_app account.so\nmodule_app menu.so\n",
        free_port()
    );
    std::fs::write(config_dir.join("config"), config).unwrap_or_else(|e| panic!("write: {e}"));
    std::fs::write(config_dir.join("accounts"), "<sip:alice@127.0.0.1>;regint=0\n")
        .unwrap_or_else(|e| panic!("write: {e}"));
    let dial = format!("/dial sip:bob@127.0.0.1:{}", causeway.port);
    let mut baresip = ChildGuard::spawn_with(
        "baresip",
        Command::new("baresip").arg("-f").arg(&config_dir).arg("-e").arg(&dial).arg("-t").arg("4"),
        dir.path(),
    );
    let exited = baresip.wait_for(LIMIT).is_some();
    let output = std::fs::read_to_string(&baresip.log).unwrap_or_default();
    let uas = uas.finish(Duration::from_secs(10));
    let report = || format!("{}\n{}\n{}", baresip.log_tail(), uas.report, causeway.process.log_tail());
    assert!(exited, "baresip did not quit\n{}", report());
    assert!(output.contains("Call established"), "baresip's call was not established\n{}", report());
    assert!(output.contains("terminated"), "baresip did not hang up\n{}", report());
    uas.assert_all_succeeded(1);
}
