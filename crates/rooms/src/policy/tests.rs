use super::*;

const SIZES: [(u32, u32); 4] = [(3840, 2160), (1920, 1080), (1920, 1080), (1280, 720)];

fn display(w: u32, h: u32) -> Display {
    Display { connected: true, width: w, height: h }
}

fn policy_with(displays: &[(u64, u32, u32)]) -> DisplayPolicy {
    let mut p = DisplayPolicy::new();
    for &(connector, w, h) in displays {
        p.handle(Input::Display { connector, display: display(w, h) });
    }
    p
}

fn role_of(roles: &BTreeMap<u64, MonitorRole>, role: MonitorRole) -> Vec<u64> {
    roles.iter().filter(|(_, r)| **r == role).map(|(c, _)| *c).collect()
}

/// Top display computed independently of `ranking()`: no other connected display beats it.
fn is_top(displays: &BTreeMap<u64, Display>, candidate: u64, excluding: Option<u64>) -> bool {
    let Some(best) = displays.get(&candidate) else { return false };
    displays.iter().filter(|(c, d)| d.connected && **c != candidate && Some(**c) != excluding).all(|(c, d)| {
        best.area() > d.area() || (best.area() == d.area() && candidate < *c)
    })
}

#[test]
fn every_layout_presentation_and_swap_obeys_the_rules() {
    let mut checked = 0;
    // 1 to 4 connectors; each connector picks a size or is disconnected (index 4).
    for count in 1..=4usize {
        let combos = 5usize.pow(count as u32);
        for combo in 0..combos {
            let mut displays = BTreeMap::new();
            let mut code = combo;
            for connector in 1..=count as u64 {
                let pick = code % 5;
                code /= 5;
                let d = match SIZES.get(pick) {
                    Some(&(w, h)) => display(w, h),
                    None => Display { connected: false, width: 0, height: 0 },
                };
                displays.insert(connector, d);
            }
            for (local, remote) in [(false, false), (true, false), (false, true), (true, true)] {
                for presses in 0..3 {
                    let mut p = DisplayPolicy::new();
                    for (c, d) in &displays {
                        p.handle(Input::Display { connector: *c, display: *d });
                    }
                    p.handle(Input::Presentation(Presentation { local, remote }));
                    for _ in 0..presses {
                        p.handle(Input::SwapPressed);
                    }
                    check_rules(&displays, local || remote, presses % 2 == 1, &p.desired());
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, (5 + 25 + 125 + 625) * 4 * 3);
}

fn check_rules(displays: &BTreeMap<u64, Display>, active: bool, swapped: bool, roles: &BTreeMap<u64, MonitorRole>) {
    let connected: Vec<u64> = displays.iter().filter(|(_, d)| d.connected).map(|(c, _)| *c).collect();
    let ctx = format!("{displays:?} active={active} swapped={swapped} roles={roles:?}");
    assert_eq!(roles.keys().copied().collect::<Vec<_>>(), connected, "{ctx}");
    assert!(roles.values().all(|r| !matches!(r, MonitorRole::Auto | MonitorRole::Recorder)), "{ctx}");
    if connected.is_empty() {
        return;
    }
    let first = role_of(roles, MonitorRole::First);
    assert_eq!(first.len(), 1, "exactly one speaker display: {ctx}");
    let pres = role_of(roles, MonitorRole::PresentationOnly);
    let many = connected.len() >= 2;
    let (top_role, second_role) = match (active && many, swapped && many) {
        (true, false) => (MonitorRole::PresentationOnly, MonitorRole::First),
        (true, true) => (MonitorRole::First, MonitorRole::PresentationOnly),
        (false, false) => (MonitorRole::First, MonitorRole::Second),
        (false, true) => (MonitorRole::Second, MonitorRole::First),
    };
    assert_eq!(pres.len(), usize::from(active && many), "{ctx}");
    let top = role_of(roles, top_role);
    let top = top.iter().find(|c| is_top(displays, **c, None)).copied();
    assert!(top.is_some(), "largest display has {top_role}: {ctx}");
    if let (true, Some(top)) = (many, top) {
        let second = role_of(roles, second_role);
        assert!(
            second.iter().any(|c| *c != top && is_top(displays, *c, Some(top))),
            "next largest has {second_role}: {ctx}"
        );
    }
}

#[test]
fn two_displays_share_start_stop_and_the_speaker_returns() {
    let mut p = policy_with(&[(1, 1920, 1080), (2, 3840, 2160)]);
    assert_eq!(
        p.poll_changes(),
        vec![
            RoleChange { connector: 1, role: MonitorRole::Second },
            RoleChange { connector: 2, role: MonitorRole::First }
        ]
    );
    assert_eq!(p.poll_changes(), vec![], "nothing changes twice");
    p.handle(Input::Presentation(Presentation { local: true, remote: false }));
    assert_eq!(
        p.poll_changes(),
        vec![
            RoleChange { connector: 1, role: MonitorRole::First },
            RoleChange { connector: 2, role: MonitorRole::PresentationOnly }
        ]
    );
    p.handle(Input::Presentation(Presentation::default()));
    assert_eq!(
        p.poll_changes(),
        vec![
            RoleChange { connector: 1, role: MonitorRole::Second },
            RoleChange { connector: 2, role: MonitorRole::First }
        ]
    );
}

#[test]
fn swap_lasts_until_the_next_presentation_change() {
    let mut p = policy_with(&[(1, 3840, 2160), (2, 1920, 1080)]);
    p.handle(Input::Presentation(Presentation { local: false, remote: true }));
    let _ = p.poll_changes();
    p.handle(Input::SwapPressed);
    assert!(p.swapped());
    assert_eq!(p.desired(), BTreeMap::from([(1, MonitorRole::First), (2, MonitorRole::PresentationOnly)]));
    p.handle(Input::Presentation(Presentation { local: false, remote: true }));
    assert!(p.swapped(), "the same presentation state again is no change");
    p.handle(Input::Presentation(Presentation { local: true, remote: true }));
    assert!(!p.swapped(), "a new source is a presentation change");
    assert_eq!(p.desired(), BTreeMap::from([(1, MonitorRole::PresentationOnly), (2, MonitorRole::First)]));
}

#[test]
fn swap_without_presentation_moves_the_speaker() {
    let mut p = policy_with(&[(1, 3840, 2160), (2, 1920, 1080), (3, 1280, 720)]);
    p.handle(Input::SwapPressed);
    assert_eq!(
        p.desired(),
        BTreeMap::from([(1, MonitorRole::Second), (2, MonitorRole::First), (3, MonitorRole::Third)])
    );
    p.handle(Input::SwapPressed);
    assert_eq!(
        p.desired(),
        BTreeMap::from([(1, MonitorRole::First), (2, MonitorRole::Second), (3, MonitorRole::Third)])
    );
}

#[test]
fn one_display_keeps_the_speaker_whatever_happens() {
    let mut p = policy_with(&[(1, 1920, 1080)]);
    for input in [
        Input::Presentation(Presentation { local: true, remote: false }),
        Input::SwapPressed,
        Input::Presentation(Presentation::default()),
    ] {
        p.handle(input);
        assert_eq!(p.desired(), BTreeMap::from([(1, MonitorRole::First)]));
    }
}

#[test]
fn unplugging_the_largest_during_a_share_moves_the_presentation() {
    let mut p = policy_with(&[(1, 1920, 1080), (2, 3840, 2160), (3, 2560, 1440)]);
    p.handle(Input::Presentation(Presentation { local: true, remote: false }));
    assert_eq!(
        p.desired(),
        BTreeMap::from([(1, MonitorRole::Second), (2, MonitorRole::PresentationOnly), (3, MonitorRole::First)])
    );
    let _ = p.poll_changes();
    p.handle(Input::Display { connector: 2, display: Display { connected: false, width: 0, height: 0 } });
    assert_eq!(
        p.poll_changes(),
        vec![
            RoleChange { connector: 1, role: MonitorRole::First },
            RoleChange { connector: 3, role: MonitorRole::PresentationOnly }
        ]
    );
    p.handle(Input::DisplayRemoved { connector: 3 });
    assert_eq!(p.poll_changes(), vec![], "one display left, already First");
    assert_eq!(p.desired(), BTreeMap::from([(1, MonitorRole::First)]));
    p.handle(Input::Display { connector: 2, display: display(3840, 2160) });
    assert_eq!(p.poll_changes(), vec![], "the device kept connector 2's role while it was unplugged");
    assert_eq!(p.desired(), BTreeMap::from([(1, MonitorRole::First), (2, MonitorRole::PresentationOnly)]));
}

#[test]
fn equal_displays_rank_by_lowest_connector_and_four_share_third() {
    let p = policy_with(&[(4, 1920, 1080), (2, 1920, 1080), (3, 1920, 1080), (1, 1920, 1080)]);
    assert_eq!(p.ranking(), vec![1, 2, 3, 4]);
    assert_eq!(
        p.desired(),
        BTreeMap::from([
            (1, MonitorRole::First),
            (2, MonitorRole::Second),
            (3, MonitorRole::Third),
            (4, MonitorRole::Third)
        ])
    );
}

#[test]
fn observed_roles_are_corrected_and_forgetting_reapplies_everything() {
    let mut p = policy_with(&[(1, 3840, 2160), (2, 1920, 1080)]);
    p.handle(Input::RoleObserved { connector: 1, role: MonitorRole::First });
    p.handle(Input::RoleObserved { connector: 2, role: MonitorRole::Auto });
    assert_eq!(p.poll_changes(), vec![RoleChange { connector: 2, role: MonitorRole::Second }]);
    p.handle(Input::RoleObserved { connector: 1, role: MonitorRole::Third });
    assert_eq!(p.poll_changes(), vec![RoleChange { connector: 1, role: MonitorRole::First }]);
    p.forget_device_roles();
    assert_eq!(p.poll_changes().len(), 2);
}

#[test]
fn roles_parse_case_insensitively_and_reject_unknown_values() {
    for role in MonitorRole::ALL {
        assert_eq!(role.as_str().to_lowercase().parse::<MonitorRole>(), Ok(role));
        assert_eq!(role.to_string(), role.as_str());
    }
    assert_eq!("Fourth".parse::<MonitorRole>(), Err(UnknownRole("Fourth".into())));
}
