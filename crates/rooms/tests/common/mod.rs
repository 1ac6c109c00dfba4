//! Shared set-up for the controller-against-simulator tests: real WebSockets on 127.0.0.1, ephemeral ports,
//! short timeouts and backoff so that reconnects happen within a test's time budget.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use causeway_rooms::controller::{spawn_room, DeviceTarget, RoomConfig, RoomHandle, RoomState, Settings, TlsVerify};
use causeway_rooms::policy::MonitorRole;
use causeway_rooms::sim::{Control, SimConfig, Simulator};
use std::net::SocketAddr;
use std::time::Duration;

pub(crate) const USER: &str = "causeway";
pub(crate) const PASS: &str = "room-secret";
/// Upper bound for anything the controller should do after a device change.
pub(crate) const SETTLE: Duration = Duration::from_secs(10);

pub(crate) async fn sim_at(listen: SocketAddr, displays: &[(u32, u32)], tls: bool) -> Simulator {
    Simulator::start(SimConfig {
        listen,
        displays: displays.to_vec(),
        tls,
        username: USER.into(),
        password: PASS.into(),
    })
    .await
    .expect("simulator starts")
}

pub(crate) async fn sim(displays: &[(u32, u32)]) -> Simulator {
    sim_at("127.0.0.1:0".parse().expect("addr"), displays, false).await
}

pub(crate) fn settings() -> Settings {
    Settings {
        request_timeout: Duration::from_secs(2),
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(300),
        bookings_interval: Duration::from_millis(100),
        swap_panel_id: "causeway-swap".into(),
    }
}

pub(crate) fn room(url: String, tls: TlsVerify) -> RoomConfig {
    RoomConfig {
        name: "test-room".into(),
        device: DeviceTarget { url, username: USER.into(), password: PASS.into(), tls },
        bookings_file: None,
    }
}

pub(crate) async fn controller(sim: &Simulator) -> RoomHandle {
    let mut handle = spawn_room(room(sim.url(), TlsVerify::Insecure), settings(), None);
    let state = handle.wait_for(SETTLE, |s| s.connected).await;
    assert!(state.connected, "controller connects: {state:?}");
    handle
}

/// Waits until the device's MonitorRoles are `want` (connector, role), polling every 10 ms; connectors
/// not listed are not checked.
pub(crate) async fn expect_roles(sim: &Simulator, want: &[(u64, MonitorRole)], context: &str) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    let want: Vec<(u64, Option<MonitorRole>)> = want.iter().map(|(c, r)| (*c, Some(*r))).collect();
    loop {
        let got: Vec<_> = want.iter().map(|(c, _)| (*c, sim.with_device(|d| d.monitor_role(*c)))).collect();
        if got == want {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{context}: roles are {got:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) fn control(sim: &Simulator, op: Control) {
    sim.control(op).expect("simulator accepts the control operation");
}

/// Waits until the room task's state satisfies `pred`, failing the test with `what` otherwise.
pub(crate) async fn wait_state(handle: &mut RoomHandle, what: &str, pred: impl Fn(&RoomState) -> bool) -> RoomState {
    let state = handle.wait_for(SETTLE, &pred).await;
    assert!(pred(&state), "{what}: {state:?}");
    state
}
