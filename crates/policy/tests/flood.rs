//! The flood guard in simulated time: per-source floods, password guessing per source and per
//! user, exponential bans, the allow-list, and the memory bound under a million distinct sources.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use causeway_policy::flood::{Admission, AllowList, BanReason, FloodConfig, FloodGuard, Limit, Subject};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn config() -> FloodConfig {
    FloodConfig {
        requests_per_source: Limit { count: 100, window: Duration::from_secs(10) },
        auth_failures_per_source: Limit { count: 10, window: Duration::from_secs(60) },
        auth_failures_per_user: Limit { count: 20, window: Duration::from_secs(300) },
        ban: Duration::from_secs(60),
        max_ban: Duration::from_secs(600),
        forget_after: Duration::from_secs(3600),
        ..FloodConfig::default()
    }
}

fn admitted(a: &Admission) -> bool {
    matches!(a, Admission::Admit)
}

#[test]
fn a_flooding_source_is_dropped_while_another_keeps_calling() {
    let t0 = Instant::now();
    let mut guard = FloodGuard::new(config());
    let (attacker, caller) = (ip("127.0.0.2"), ip("127.0.0.3"));
    let (mut attacker_in, mut caller_in, mut bans) = (0, 0, Vec::new());
    // 10 s at 5000 INVITE/s from one source, one call a second from another.
    for ms in 0..10_000u64 {
        let now = t0 + Duration::from_millis(ms);
        for _ in 0..5 {
            match guard.admit(now, attacker, "default") {
                Admission::Admit => attacker_in += 1,
                Admission::Drop { new_ban: Some(ban), .. } => bans.push(ban),
                Admission::Drop { new_ban: None, .. } => {}
            }
        }
        if ms % 1000 == 0 {
            caller_in += usize::from(admitted(&guard.admit(now, caller, "default")));
        }
    }
    assert_eq!(attacker_in, 100, "exactly the threshold gets through");
    assert_eq!(caller_in, 10, "the legitimate source is never dropped");
    assert_eq!(bans.len(), 1);
    assert_eq!(bans.first().map(|b| (&b.subject, b.reason, b.strikes)), Some((&Subject::Source(attacker), BanReason::Flood, 1)));
    let status = guard.status(t0 + Duration::from_secs(10));
    assert_eq!(status.bans.len(), 1);
    assert_eq!(status.bans.first().map(|b| b.dropped), Some(49_900 - 1));
    assert_eq!((status.admitted, status.dropped, status.bans_started), (110, 49_900, 1));
}

#[test]
fn bans_double_on_repeat_up_to_the_maximum_and_are_forgotten() {
    let t0 = Instant::now();
    let mut guard = FloodGuard::new(config());
    let source = ip("198.51.100.7");
    let mut now = t0;
    let mut lengths = Vec::new();
    for _ in 0..6 {
        let until = loop {
            if let Admission::Drop { until, new_ban: Some(_) } = guard.admit(now, source, "default") {
                break until;
            }
            now += Duration::from_millis(1);
        };
        lengths.push((until - now).as_secs());
        assert!(!admitted(&guard.admit(until - Duration::from_millis(1), source, "default")), "still banned");
        now = until;
    }
    assert_eq!(lengths, [60, 120, 240, 480, 600, 600]);
    // Quiet for longer than forget_after: back to the first ban length.
    now += Duration::from_secs(3601);
    let fresh = loop {
        if let Admission::Drop { until, new_ban: Some(ban) } = guard.admit(now, source, "default") {
            break ((until - now).as_secs(), ban.strikes);
        }
        now += Duration::from_millis(1);
    };
    assert_eq!(fresh, (60, 1));
}

#[test]
fn password_guessing_from_one_source_is_stopped_before_the_weak_password() {
    let t0 = Instant::now();
    let mut guard = FloodGuard::new(config());
    let cracker = ip("127.0.0.9");
    // A dictionary where the weak password is the 50th word; one guess every 100 ms.
    let mut tried = 0;
    for guess in 0..50u64 {
        let now = t0 + Duration::from_millis(100 * guess);
        if !admitted(&guard.admit(now, cracker, "default")) || !admitted(&guard.check_user(now, cracker, "default", "1000")) {
            continue;
        }
        tried += 1;
        if guess < 49 {
            guard.auth_failed(now, cracker, "default", "1000");
        }
    }
    assert_eq!(tried, 11, "the 11th failure bans the source; the 50th guess is never checked");
}

#[test]
fn distributed_guessing_locks_the_user_not_the_trusted_zone() {
    let t0 = Instant::now();
    let mut config = config();
    config.allow = AllowList { cidrs: vec!["10.0.0.0/8".parse().unwrap_or_else(|e| panic!("{e}"))], zones: vec![] };
    let mut guard = FloodGuard::new(config);
    let mut ban = None;
    for i in 0..25u8 {
        let source = IpAddr::V4(Ipv4Addr::new(203, 0, 113, i));
        let now = t0 + Duration::from_secs(u64::from(i));
        if let Admission::Drop { new_ban: Some(b), .. } = guard.auth_failed(now, source, "default", "alice") {
            ban = Some((i, b.subject));
        }
    }
    assert_eq!(ban, Some((20, Subject::User("alice".into()))), "21st failure across sources bans the user");
    let later = t0 + Duration::from_secs(30);
    assert!(!admitted(&guard.check_user(later, ip("192.0.2.1"), "default", "alice")), "any untrusted source");
    assert!(admitted(&guard.check_user(later, ip("10.1.2.3"), "default", "alice")), "the office is trusted");
    assert!(admitted(&guard.check_user(later, ip("192.0.2.1"), "default", "bob")), "other users unaffected");
    assert!(admitted(&guard.admit(later, ip("203.0.113.3"), "default")), "the user ban is not a source ban");
}

#[test]
fn trusted_zones_and_blocks_are_never_counted() {
    let t0 = Instant::now();
    let mut config = config();
    config.allow = AllowList { cidrs: vec!["2001:db8::/32".parse().unwrap_or_else(|e| panic!("{e}"))], zones: vec!["webex".into()] };
    let mut guard = FloodGuard::new(config);
    for i in 0..10_000u64 {
        let now = t0 + Duration::from_micros(i);
        assert!(admitted(&guard.admit(now, ip("198.51.100.1"), "webex")));
        assert!(admitted(&guard.admit(now, ip("2001:db8::5"), "default")));
        assert!(admitted(&guard.auth_failed(now, ip("2001:db8::5"), "default", "bob")));
    }
    let status = guard.status(t0);
    assert!(status.bans.is_empty());
    assert_eq!(status.tracked_sources.0, 0);
}

#[test]
fn ipv4_mapped_ipv6_is_the_same_source() {
    let t0 = Instant::now();
    let mut guard = FloodGuard::new(config());
    for _ in 0..100 {
        guard.admit(t0, ip("::ffff:192.0.2.8"), "default");
    }
    assert!(!admitted(&guard.admit(t0, ip("192.0.2.8"), "default")));
}

#[test]
fn a_million_distinct_sources_stay_within_the_table_and_do_not_wash_out_a_ban() {
    let t0 = Instant::now();
    let mut config = config();
    config.source_capacity = 4096;
    let mut guard = FloodGuard::new(config);
    let attacker = ip("127.0.0.66");
    while admitted(&guard.admit(t0, attacker, "default")) {}
    let slots = guard.source_slots_allocated();
    let mut attacker_in = 0;
    for i in 0..1_000_000u32 {
        let now = t0 + Duration::from_micros(u64::from(i) * 50);
        let spoofed = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | i));
        assert!(admitted(&guard.admit(now, spoofed, "default")), "one packet each is no flood");
        // Growth would show as a capacity above the initial one right after it happens.
        assert!(guard.source_slots_allocated() <= slots, "the index grew at source {i}");
        if i % 512 == 0 {
            attacker_in += usize::from(admitted(&guard.admit(now, attacker, "default")));
        }
    }
    let status = guard.status(t0 + Duration::from_secs(50));
    assert_eq!(status.tracked_sources, (4096, 4096));
    assert!(slots <= 4 * 4096, "{slots} slots allocated for 4096 entries");
    assert_eq!(attacker_in, 0, "the banned source stayed banned through the spray");
    assert_eq!(status.bans.len(), 1);
}
