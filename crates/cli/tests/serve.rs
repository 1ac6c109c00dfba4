//! L4 for `causeway serve` itself: refusing a bad config, reporting a port in use, and structured logs
//! (JSON format, CAUSEWAY_LOG overriding the configured level, counters logged at shutdown).

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use support::{causeway_bin, free_port, options_ping, temp_dir, wait_until, ChildGuard};

fn write_config(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("causeway.toml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write: {e}"));
    path
}

#[test]
fn serve_refuses_a_bad_config_with_file_line_col() {
    let dir = temp_dir();
    let path = write_config(dir.path(), "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:99999\"\n");
    let out = Command::new(causeway_bin()).arg("serve").arg("-c").arg(&path).output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "{}:3:11: listener address `127.0.0.1:99999` is not ip:port (e.g. 127.0.0.1:5060 or [::1]:5060)\n",
            path.display()
        )
    );
}

#[test]
fn serve_reports_a_port_in_use() {
    let dir = temp_dir();
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = taken.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let path = write_config(dir.path(), &format!("[[listener]]\ntransport = \"udp\"\naddress = \"{addr}\"\n"));
    let mut process = ChildGuard::spawn_with("causeway", Command::new(causeway_bin()).arg("serve").arg("-c").arg(&path), dir.path());
    let status = process.wait_for(Duration::from_secs(10)).unwrap_or_else(|| panic!("serve kept running"));
    assert_eq!(status.code(), Some(2), "{}", process.log_tail());
    let log = process.log_tail();
    assert!(log.contains("causeway: cannot start the node"), "{log}");
    assert!(log.contains(&addr.to_string()), "the error names the address\n{log}");
}

#[test]
fn serve_logs_json_with_the_env_filter_and_counters_at_shutdown() {
    let dir = temp_dir();
    let port = free_port();
    let path = write_config(
        dir.path(),
        &format!(
            "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n\n[log]\nlevel = \"error\"\nformat = \"json\"\n"
        ),
    );
    // `error` in the file would hide the info lines; CAUSEWAY_LOG wins over it (and over RUST_LOG).
    let mut command = Command::new(causeway_bin());
    command.arg("serve").arg("-c").arg(&path).env("CAUSEWAY_LOG", "info").env("RUST_LOG", "error");
    let mut process = ChildGuard::spawn_with("causeway", &mut command, dir.path());
    let target = SocketAddr::from(([127, 0, 0, 1], port));
    let answered = wait_until(Duration::from_secs(10), || options_ping(target, Duration::from_millis(200)).is_some());
    assert!(answered, "no answer to OPTIONS\n{}", process.log_tail());
    let terminated = Command::new("kill").args(["-TERM", &process.pid().to_string()]).status();
    assert!(terminated.is_ok_and(|s| s.success()));
    let status = process.wait_for(Duration::from_secs(10)).unwrap_or_else(|| panic!("no exit after SIGTERM"));
    assert_eq!(status.code(), Some(0), "{}", process.log_tail());

    let log = std::fs::read_to_string(&process.log).unwrap_or_else(|e| panic!("{e}"));
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
        .collect();
    let message = |event: &serde_json::Value| event.get("message").and_then(|m| m.as_str()).map(str::to_owned);
    let listening = events.iter().find(|e| message(e).as_deref() == Some("listening")).unwrap_or_else(|| panic!("{log}"));
    assert_eq!(listening.get("level").and_then(|l| l.as_str()), Some("INFO"));
    assert_eq!(listening.get("address").and_then(|a| a.as_str()), Some(target.to_string().as_str()));
    let stopped = events.iter().find(|e| message(e).as_deref() == Some("stopped")).unwrap_or_else(|| panic!("{log}"));
    let counters = stopped.get("counters").and_then(|c| c.as_str()).unwrap_or_default();
    assert!(counters.contains("requests_received OPTIONS="), "the OPTIONS probes are counted: {counters}");
    assert!(counters.contains("responses_sent 200="), "{counters}");
}
