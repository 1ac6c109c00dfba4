//! Cisco's official jsxapi client (npm) against the simulator, over real WebSockets on loopback: `ws://`
//! with the `auth-…` subprotocol, and `wss://` with the simulator's self-signed certificate.
//! Needs node and npm; installs tests/jsxapi/node_modules from package-lock.json when missing.

use causeway_rooms::sim::{SimConfig, Simulator};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

fn check_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/jsxapi")
}

/// Installs the pinned jsxapi once per test binary when scripts/install-deps.sh has not (both tests would
/// otherwise race on `npm ci`).
fn ensure_node_modules() {
    static NPM_CI: std::sync::Once = std::sync::Once::new();
    NPM_CI.call_once(|| {
        let dir = check_dir();
        if dir.join("node_modules/jsxapi/package.json").exists() {
            return;
        }
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
            .current_dir(&dir)
            .status()
            .expect("npm must be installed to run the jsxapi test (scripts/install-deps.sh)");
        assert!(status.success(), "npm ci in {} failed: {status}", dir.display());
    });
    assert!(check_dir().join("node_modules/jsxapi/package.json").exists(), "jsxapi is not installed");
}

async fn run_check(tls: bool) {
    ensure_node_modules();
    let sim = Simulator::start(SimConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        displays: vec![(3840, 2160), (1920, 1080)],
        tls,
        username: "admin".into(),
        password: "pa+ss/w=rd".into(),
    })
    .await
    .expect("simulator starts");
    let url = format!("{}://{}", if tls { "wss" } else { "ws" }, sim.local_addr());
    let child = Command::new("node")
        .arg("check.js")
        .args([url.as_str(), "admin", "pa+ss/w=rd"])
        .current_dir(check_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed to run the jsxapi test");
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("check.js finishes within 60 s")
        .expect("check.js runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "check.js against {url} failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("jsxapi check ok"), "{stdout}");
    // What jsxapi did is visible in the device: the last MonitorRole it set, and the bookings it pushed.
    let role = sim.with_device(|d| d.monitor_role(1));
    assert_eq!(role, Some(causeway_rooms::policy::MonitorRole::PresentationOnly));
    assert_eq!(sim.with_device(|d| d.bookings().len()), 1);
}

#[tokio::test]
async fn jsxapi_gets_sets_subscribes_and_commands_over_ws() {
    run_check(false).await;
}

#[tokio::test]
async fn jsxapi_works_over_wss_with_the_self_signed_certificate() {
    run_check(true).await;
}
