//! OPTIONS keepalive in simulated time: no sleeps; the test moves the clock to each
//! `poll_timeout` and answers (or does not answer) the probes.

mod common;

use std::time::{Duration, Instant};

use causeway_routing::keepalive::{Keepalive, Probe, ProbeResult, StateChange};
use causeway_routing::{PeerState, RoutingTable};
use common::load;

const CONFIG: &str = r#"
[[zone]]
name = "cucm"
kind = "neighbor"
keepalive = { interval_secs = 30, timeout_secs = 5, failures_before_down = 3, successes_before_up = 2 }
[[zone.peer]]
address = "10.1.1.10:5060"
transport = "tcp"
[[zone.peer]]
address = "10.1.1.11:5060"
transport = "tcp"

[[zone]]
name = "unmonitored"
kind = "neighbor"
keepalive = { enabled = false }
[[zone.peer]]
address = "10.9.9.9"
"#;

const S: Duration = Duration::from_secs(1);

fn probes(k: &mut Keepalive) -> Vec<Probe> {
    std::iter::from_fn(|| k.poll_probe()).collect()
}

fn events(k: &mut Keepalive) -> Vec<(String, PeerState, PeerState, Instant)> {
    std::iter::from_fn(|| k.poll_event()).map(|StateChange { peer, from, to, at, .. }| (peer, from, to, at)).collect()
}

fn setup() -> (RoutingTable, Keepalive, Instant) {
    let table = load(CONFIG);
    let t0 = Instant::now();
    let k = Keepalive::new(&table, t0);
    (table, k, t0)
}

#[test]
fn probes_are_due_every_interval_for_monitored_peers_only() {
    let (_, mut k, t0) = setup();
    assert_eq!(k.poll_timeout(), Some(t0));
    k.handle_timeout(t0);
    let first = probes(&mut k);
    assert_eq!(first.iter().map(|p| p.peer.key()).collect::<Vec<_>>(), ["10.1.1.10:5060", "10.1.1.11:5060"]);
    // Waiting on the answers: the next wake-up is the timeout.
    assert_eq!(k.poll_timeout(), Some(t0 + 5 * S));
    for p in &first {
        k.handle_result(t0 + S, p.id, ProbeResult::Response(200));
    }
    assert_eq!(k.poll_timeout(), Some(t0 + 30 * S));
    k.handle_timeout(t0 + 29 * S);
    assert!(probes(&mut k).is_empty(), "nothing before the interval");
    k.handle_timeout(t0 + 30 * S);
    assert_eq!(probes(&mut k).len(), 2);
}

#[test]
fn successes_before_up_and_failures_before_down_with_change_times() {
    let (table, mut k, t0) = setup();
    let mut now = t0;
    // Peer .10 answers twice → up at the second answer; peer .11 never answers → down after
    // three timeouts.
    for round in 0..3 {
        k.handle_timeout(now);
        for p in probes(&mut k) {
            if p.peer.host == "10.1.1.10" {
                k.handle_result(now + S, p.id, ProbeResult::Response(200));
            }
        }
        let deadline = k.poll_timeout().unwrap_or(now);
        assert_eq!(deadline, now + 5 * S, "round {round}");
        k.handle_timeout(deadline);
        now += 30 * S;
    }
    assert_eq!(
        events(&mut k),
        [
            ("10.1.1.10:5060".to_owned(), PeerState::Unknown, PeerState::Up, t0 + 31 * S),
            ("10.1.1.11:5060".to_owned(), PeerState::Unknown, PeerState::Down, t0 + 65 * S),
        ]
    );
    let status = k.status();
    assert_eq!(status.iter().map(|s| (s.peer.as_str(), s.state, s.last_change)).collect::<Vec<_>>(), [
        ("10.1.1.10:5060", PeerState::Up, Some(t0 + 31 * S)),
        ("10.1.1.11:5060", PeerState::Down, Some(t0 + 65 * S)),
    ]);
    let snapshot = k.snapshot();
    let Some(zone) = table.zone("cucm") else { panic!("cucm") };
    let usable: Vec<_> = zone.peers.iter().map(|p| snapshot.peer_usable(zone, p)).collect();
    assert_eq!(usable, [true, false]);
    // The unmonitored zone's peer is always usable and never probed.
    let Some(unmonitored) = table.zone("unmonitored") else { panic!("unmonitored") };
    assert!(unmonitored.peers.iter().all(|p| snapshot.peer_usable(unmonitored, p)));
}

#[test]
fn which_answers_count_as_alive() {
    let (_, mut k, t0) = setup();
    let mut now = t0;
    let mut answer = |k: &mut Keepalive, result: ProbeResult| {
        k.handle_timeout(now);
        for p in probes(k).into_iter().filter(|p| p.peer.host == "10.1.1.10") {
            k.handle_result(now + S, p.id, result);
        }
        now += 30 * S;
        k.handle_timeout(now - 25 * S);
        probes(k);
    };
    // 404 or 405 still prove the peer is there; 503, 408, 504 and transport errors do not.
    answer(&mut k, ProbeResult::Response(404));
    answer(&mut k, ProbeResult::Response(405));
    let up = events(&mut k).into_iter().filter(|e| e.0 == "10.1.1.10:5060").map(|e| e.2).collect::<Vec<_>>();
    assert_eq!(up, [PeerState::Up]);
    answer(&mut k, ProbeResult::Response(503));
    answer(&mut k, ProbeResult::Response(408));
    answer(&mut k, ProbeResult::TransportError);
    let down = events(&mut k).into_iter().filter(|e| e.0 == "10.1.1.10:5060").map(|e| e.2).collect::<Vec<_>>();
    assert_eq!(down, [PeerState::Down]);
    // One success after down is not enough with successes_before_up = 2; two are.
    answer(&mut k, ProbeResult::Response(200));
    assert!(events(&mut k).iter().all(|e| e.0 != "10.1.1.10:5060"));
    answer(&mut k, ProbeResult::Response(200));
    assert_eq!(events(&mut k).into_iter().filter(|e| e.0 == "10.1.1.10:5060").map(|e| e.2).collect::<Vec<_>>(), [PeerState::Up]);
}

#[test]
fn a_late_answer_to_an_expired_probe_is_ignored() {
    let (_, mut k, t0) = setup();
    k.handle_timeout(t0);
    let first = probes(&mut k);
    k.handle_timeout(t0 + 5 * S);
    // Both probes timed out (one failure each); the late 200s must not count as successes.
    for p in &first {
        k.handle_result(t0 + 6 * S, p.id, ProbeResult::Response(200));
    }
    assert!(k.status().iter().all(|s| s.consecutive_failures == 1 && s.consecutive_successes == 0));
    assert!(events(&mut k).is_empty());
}
