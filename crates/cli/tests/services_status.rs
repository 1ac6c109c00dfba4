//! `causeway status` against a running `causeway serve` with `[admin]`: the JSON document and the text,
//! taken from `--admin URL` or the config's `[admin] listen`; an unreachable node is an error.

mod support;

use std::process::Command;

use support::{causeway_bin, free_port, temp_dir, Causeway, NodeSpec};

fn status(args: &[&str]) -> std::process::Output {
    Command::new(causeway_bin()).arg("status").args(args).output().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn status_prints_the_node_and_its_counters_as_json_and_text() {
    let dir = temp_dir();
    let admin_port = free_port();
    let spec = NodeSpec { next_hop: "sip:127.0.0.1:9;transport=udp".into(), tls: None, extra: format!("[admin]\nlisten = \"127.0.0.1:{admin_port}\"\n") };
    let mut node = Causeway::start(dir.path(), &spec);
    let url = format!("http://127.0.0.1:{admin_port}");

    let out = status(&["--admin", &url, "--json"]);
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stderr), node.process.log_tail());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["node"], "interop");
    // The start-up OPTIONS ping was received and answered (published within a second).
    assert!(report["counters"]["requests_received"].is_object(), "{report}");
    assert!(report["zones"].as_array().is_some(), "{report}");

    let text = status(&["-c", &dir.path().join("causeway.toml").display().to_string()]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.starts_with("node interop (up "), "{text}");
    assert!(text.contains("counters:\n  requests received:"), "{text}");
    node.assert_alive();
}

#[test]
fn status_of_a_node_that_is_not_running_fails_with_the_url() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = status(&["--admin", &url]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with(&format!("causeway: cannot reach {url}/status")), "{stderr}");
}
