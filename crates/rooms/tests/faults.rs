//! A misbehaving device: dropped WebSockets mid-command, JSON-RPC errors, a device that reboots, wrong
//! credentials and certificates. The controller must log, reconnect with backoff, re-apply, never crash.

mod common;

use causeway_rooms::controller::{spawn_room, TlsVerify};
use causeway_rooms::policy::MonitorRole::{First, PresentationOnly, Second};
use causeway_rooms::sim::{Control, Fault, FaultAction};
use common::*;
use std::time::Duration;

#[tokio::test]
async fn device_dropping_the_socket_mid_xset_gets_the_roles_reapplied() {
    let sim = sim(&[(1920, 1080), (3840, 2160)]).await;
    let mut room = controller(&sim).await;
    expect_roles(&sim, &[(1, Second), (2, First)], "idle").await;
    sim.inject(Fault { method: "xSet".into(), action: FaultAction::Drop, count: 1 });
    control(&sim, Control::LocalShare { active: true });
    let state = wait_state(&mut room, "reconnected after the drop", |s| s.sessions >= 2 && s.connected).await;
    assert_eq!(state.failures, 1, "{state:?}");
    assert!(state.last_error.as_deref().is_some_and(|e| e.contains("closed")), "{state:?}");
    expect_roles(&sim, &[(1, First), (2, PresentationOnly)], "re-applied after reconnect").await;
}

#[tokio::test]
async fn json_rpc_errors_are_logged_and_retried_with_backoff() {
    let sim = sim(&[(1920, 1080), (3840, 2160)]).await;
    let mut room = controller(&sim).await;
    sim.inject(Fault { method: "xSet".into(), action: FaultAction::Error, count: 3 });
    control(&sim, Control::RemoteShare { active: true });
    let state = wait_state(&mut room, "three failed sessions, then a good one", |s| s.failures >= 3 && s.connected).await;
    let error = state.last_error.unwrap_or_default();
    assert!(error.contains("xSet failed") && error.contains("Simulated failure"), "{error}");
    expect_roles(&sim, &[(1, First), (2, PresentationOnly)], "applied once the device behaves").await;
}

#[tokio::test]
async fn failing_panel_save_at_connect_does_not_stop_the_room() {
    let sim = sim(&[(3840, 2160), (1920, 1080)]).await;
    sim.inject(Fault { method: "xCommand/UserInterface".into(), action: FaultAction::Error, count: 2 });
    sim.inject(Fault { method: "xFeedback/Subscribe".into(), action: FaultAction::Drop, count: 1 });
    let mut room = spawn_room(room(sim.url(), TlsVerify::Insecure), settings(), None);
    let state = wait_state(&mut room, "connects after three bad starts", |s| s.connected).await;
    assert_eq!((state.failures, state.sessions), (3, 1), "{state:?}");
    expect_roles(&sim, &[(1, First), (2, Second)], "roles set once connected").await;
}

#[tokio::test]
async fn changes_while_disconnected_are_applied_after_reconnect() {
    let sim = sim(&[(1920, 1080), (3840, 2160)]).await;
    let mut room = controller(&sim).await;
    // Make every reconnect attempt fail for a while, then cut the connection and change the room.
    sim.inject(Fault { method: "xCommand/UserInterface".into(), action: FaultAction::Drop, count: 2 });
    sim.drop_connections();
    control(&sim, Control::LocalShare { active: true });
    let state = wait_state(&mut room, "back after the outage", |s| s.sessions >= 2 && s.connected).await;
    assert!(state.failures >= 3, "{state:?}");
    expect_roles(&sim, &[(1, First), (2, PresentationOnly)], "share that started during the outage").await;
}

#[tokio::test]
async fn a_rebooted_device_gets_everything_again() {
    let first = sim(&[(1920, 1080), (3840, 2160)]).await;
    let addr = first.local_addr();
    let mut room = controller(&first).await;
    expect_roles(&first, &[(1, Second), (2, First)], "before reboot").await;
    first.shutdown().await;
    wait_state(&mut room, "notices the reboot", |s| !s.connected).await;
    let rebooted = sim_at(addr, &[(1920, 1080), (3840, 2160)], false).await;
    wait_state(&mut room, "reconnects to the rebooted device", |s| s.connected && s.sessions >= 2).await;
    expect_roles(&rebooted, &[(1, Second), (2, First)], "roles set again after reboot").await;
    assert_eq!(rebooted.with_device(|d| d.panel_ids()), vec!["causeway-swap".to_owned()]);
}

#[tokio::test]
async fn wrong_password_is_reported_and_retried_not_fatal() {
    let sim = sim(&[(1920, 1080)]).await;
    let mut cfg = room(sim.url(), TlsVerify::Insecure);
    cfg.device.password = "wrong".into();
    let mut room = spawn_room(cfg, settings(), None);
    let state = wait_state(&mut room, "two refused attempts", |s| s.failures >= 2).await;
    assert!(!state.connected);
    assert!(state.last_error.as_deref().is_some_and(|e| e.contains("401")), "{state:?}");
}

#[tokio::test]
async fn wss_verifies_the_device_certificate_against_the_ca_file() {
    let sim = sim_at("127.0.0.1:0".parse().expect("addr"), &[(3840, 2160), (1920, 1080)], true).await;
    assert!(sim.url().starts_with("wss://"));
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("device.pem");
    std::fs::write(&ca, sim.cert_pem().expect("TLS simulator has a certificate")).expect("write CA file");

    let mut verified = spawn_room(room(sim.url(), TlsVerify::CaFile(ca)), settings(), None);
    wait_state(&mut verified, "connects with the CA file", |s| s.connected).await;
    expect_roles(&sim, &[(1, First), (2, Second)], "roles over wss").await;
    drop(verified);

    let mut untrusted = spawn_room(room(sim.url(), TlsVerify::SystemRoots), settings(), None);
    let state = wait_state(&mut untrusted, "refuses an unknown certificate", |s| s.failures >= 1).await;
    assert!(!state.connected && state.sessions == 0, "{state:?}");
    assert!(state.last_error.as_deref().is_some_and(|e| e.to_lowercase().contains("certificate")), "{state:?}");

    let bad_ca = dir.path().join("empty.pem");
    std::fs::write(&bad_ca, "not a certificate").expect("write");
    let mut broken = spawn_room(room(sim.url(), TlsVerify::CaFile(bad_ca)), settings(), None);
    let state = wait_state(&mut broken, "reports the unusable CA file", |s| s.failures >= 1).await;
    assert!(state.last_error.as_deref().is_some_and(|e| e.contains("no PEM certificate")), "{state:?}");
}

#[tokio::test]
async fn silent_device_times_out_instead_of_hanging() {
    // A TCP listener that accepts and never answers the WebSocket upgrade.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}/ws", listener.local_addr().expect("addr"));
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let mut s = settings();
    s.request_timeout = Duration::from_millis(200);
    let mut room = spawn_room(room(url, TlsVerify::Insecure), s, None);
    let state = wait_state(&mut room, "times out", |s| s.failures >= 2).await;
    assert!(state.last_error.as_deref().is_some_and(|e| e.contains("no answer to connect")), "{state:?}");
    hold.abort();
}
