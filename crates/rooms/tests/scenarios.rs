//! Flow F6 end to end: the controller drives the simulator over a real WebSocket and the tests assert the
//! MonitorRole values in the simulator's configuration tree after each scripted room event.

mod common;

use causeway_rooms::policy::MonitorRole::{First, PresentationOnly, Second, Third};
use causeway_rooms::sim::Control;
use common::*;

#[tokio::test]
async fn two_displays_share_start_stop_and_remote_share() {
    // Connector 2 is the big one: the speaker must move there at once.
    let sim = sim(&[(1920, 1080), (3840, 2160)]).await;
    let _room = controller(&sim).await;
    expect_roles(&sim, &[(1, Second), (2, First)], "idle").await;

    control(&sim, Control::LocalShare { active: true });
    expect_roles(&sim, &[(1, First), (2, PresentationOnly)], "local HDMI share").await;
    control(&sim, Control::LocalShare { active: false });
    expect_roles(&sim, &[(1, Second), (2, First)], "share stopped: speaker returns").await;

    control(&sim, Control::RemoteShare { active: true });
    expect_roles(&sim, &[(1, First), (2, PresentationOnly)], "remote share").await;
    control(&sim, Control::RemoteShare { active: false });
    expect_roles(&sim, &[(1, Second), (2, First)], "remote share stopped").await;
    assert_eq!(sim.with_device(|d| d.panel_ids()), vec!["causeway-swap".to_owned()], "swap panel saved at connect");
}

#[tokio::test]
async fn three_displays_manual_swap_lasts_until_the_next_presentation_change() {
    let sim = sim(&[(1920, 1080), (3840, 2160), (2560, 1440)]).await;
    let _room = controller(&sim).await;
    expect_roles(&sim, &[(1, Third), (2, First), (3, Second)], "idle, ranked 2 > 3 > 1").await;

    control(&sim, Control::LocalShare { active: true });
    expect_roles(&sim, &[(1, Second), (2, PresentationOnly), (3, First)], "share").await;

    control(&sim, Control::PanelClick { panel_id: "causeway-swap".into() });
    expect_roles(&sim, &[(1, Second), (2, First), (3, PresentationOnly)], "manual swap").await;

    control(&sim, Control::RemoteShare { active: true });
    expect_roles(&sim, &[(1, Second), (2, PresentationOnly), (3, First)], "new source ends the swap").await;

    control(&sim, Control::RemoteShare { active: false });
    control(&sim, Control::LocalShare { active: false });
    expect_roles(&sim, &[(1, Third), (2, First), (3, Second)], "all sharing stopped").await;

    control(&sim, Control::PanelClick { panel_id: "causeway-swap".into() });
    expect_roles(&sim, &[(1, Third), (2, Second), (3, First)], "swap with no presentation").await;
    control(&sim, Control::PanelClick { panel_id: "causeway-swap".into() });
    expect_roles(&sim, &[(1, Third), (2, First), (3, Second)], "second press swaps back").await;
}

#[tokio::test]
async fn display_unplugged_and_plugged_back_during_a_share() {
    let sim = sim(&[(1920, 1080), (3840, 2160), (2560, 1440)]).await;
    let _room = controller(&sim).await;
    control(&sim, Control::LocalShare { active: true });
    expect_roles(&sim, &[(1, Second), (2, PresentationOnly), (3, First)], "share on three displays").await;

    control(&sim, Control::Display { connector: 2, connected: false, width: 0, height: 0 });
    expect_roles(&sim, &[(1, First), (2, PresentationOnly), (3, PresentationOnly)], "largest unplugged").await;

    control(&sim, Control::Display { connector: 3, connected: false, width: 0, height: 0 });
    control(&sim, Control::LocalShare { active: false });
    expect_roles(&sim, &[(1, First)], "one display left keeps the speaker").await;

    control(&sim, Control::Display { connector: 2, connected: true, width: 3840, height: 2160 });
    expect_roles(&sim, &[(1, Second), (2, First)], "big display back, no share").await;

    // A display on a connector the device did not have at start (a new entry in both trees).
    control(&sim, Control::Display { connector: 4, connected: true, width: 7680, height: 4320 });
    expect_roles(&sim, &[(1, Third), (2, Second), (4, First)], "8K display outranks the rest").await;
    assert_eq!(sim.with_device(|d| d.monitor_role(3)), Some(PresentationOnly), "unplugged connector left alone");
}

#[tokio::test]
async fn one_display_stays_first_through_shares_and_swaps() {
    let sim = sim(&[(1920, 1080)]).await;
    let mut room = controller(&sim).await;
    expect_roles(&sim, &[(1, First)], "idle").await;
    control(&sim, Control::LocalShare { active: true });
    control(&sim, Control::PanelClick { panel_id: "causeway-swap".into() });
    control(&sim, Control::RemoteShare { active: true });
    // Bounded wait for anything the controller might (wrongly) do, then check nothing changed.
    let before = room.state().roles_applied;
    let _ = room.wait_for(std::time::Duration::from_millis(300), |s| s.roles_applied > before).await;
    expect_roles(&sim, &[(1, First)], "single display").await;
    assert_eq!(room.state().roles_applied, 1, "only the initial setting was ever sent");
}
