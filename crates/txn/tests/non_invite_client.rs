//! Non-INVITE client transaction (RFC 3261 §17.1.2) in simulated time.

mod sim;

use causeway_sip::Transport;
use causeway_txn::{Timer, TxnConfig, TxnKind, TxnState};
use sim::msg::{request, response};
use sim::{ms, Seen, Sim};

#[test]
fn non_invite_client_timer_e_doubles_then_caps_at_t2() {
    let mut sim = Sim::new();
    let options = request("OPTIONS", "z9hG4bKopt1");
    let txn = sim.start(options.clone(), Transport::Udp, "uas");
    assert_eq!(sim.table.kind(txn), Some(TxnKind::NonInviteClient));
    assert_eq!(sim.table.state(txn), Some(TxnState::Trying));
    sim.drive();
    // §17.1.2.2: Timer E = T1, then MIN(2E, T2): intervals 0.5, 1, 2, 4, 4, 4, ... seconds.
    let expected: Vec<_> =
        [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500].into_iter().map(ms).collect();
    assert_eq!(sim.send_times("OPTIONS "), expected);
    assert!(sim.sent.iter().all(|s| s.transmit.bytes == *options.as_bytes()));
}

#[test]
fn timer_f_timeout_408() {
    let mut sim = Sim::new();
    let txn = sim.start(request("REGISTER", "z9hG4bKreg1"), Transport::Udp, "registrar");
    sim.drive();
    // §17.1.2.2: Timer F = 64*T1 informs the TU, which acts as if a 408 arrived (§8.1.3.1).
    assert_eq!(sim.seen(), vec![Seen::Timeout(txn, Timer::F), Seen::Terminated(txn)]);
    assert_eq!(sim.seen_at(&Seen::Timeout(txn, Timer::F)), Some(ms(32_000)));
    assert!(sim.table.is_empty());
}

#[test]
fn timer_e_cap_follows_configured_t2() {
    let config = TxnConfig { t2: ms(1000), ..TxnConfig::default() };
    let mut sim = Sim::with_config(config);
    sim.start(request("OPTIONS", "z9hG4bKopt2"), Transport::Udp, "uas");
    sim.advance_to(ms(5000));
    let expected: Vec<_> = [0, 500, 1500, 2500, 3500, 4500].into_iter().map(ms).collect();
    assert_eq!(sim.send_times("OPTIONS "), expected);
}

#[test]
fn proceeding_retransmits_every_t2_until_final() {
    let mut sim = Sim::new();
    let bye = request("BYE", "z9hG4bKbye1");
    let txn = sim.start(bye.clone(), Transport::Udp, "uas");
    sim.advance_to(ms(700));
    sim.receive(response(&bye, 100, None), Transport::Udp, "uas");
    assert_eq!(sim.table.state(txn), Some(TxnState::Proceeding));
    sim.advance_to(ms(14_000));
    // Timer E keeps the deadline it had (1.5 s); from then on it fires every T2 (§17.1.2.2).
    let expected: Vec<_> = [0, 500, 1500, 5500, 9500, 13500].into_iter().map(ms).collect();
    assert_eq!(sim.send_times("BYE "), expected);
    sim.receive(response(&bye, 200, Some("x")), Transport::Udp, "uas");
    assert_eq!(sim.table.state(txn), Some(TxnState::Completed));
    sim.drive();
    assert_eq!(sim.send_times("BYE ").len(), expected.len());
    assert_eq!(sim.seen(), vec![Seen::Response(txn, 100), Seen::Response(txn, 200), Seen::Terminated(txn)]);
}

#[test]
fn completed_absorbs_response_retransmissions_until_timer_k() {
    let mut sim = Sim::new();
    let options = request("OPTIONS", "z9hG4bKopt3");
    let txn = sim.start(options.clone(), Transport::Udp, "uas");
    sim.advance_to(ms(100));
    let ok = response(&options, 200, Some("u"));
    sim.receive(ok.clone(), Transport::Udp, "uas");
    assert_eq!(sim.table.timer(txn, Timer::K).map(|t| t - sim.t0), Some(ms(5100)));
    // Timers E and F are disarmed: the next wake-up is Timer K exactly, not E's old 500 ms.
    assert_eq!(sim.table.poll_timeout().map(|t| t - sim.t0), Some(ms(5100)));
    sim.advance_to(ms(2000));
    sim.receive(ok, Transport::Udp, "uas");
    sim.drive();
    // One delivery, no retransmission after the final, Timer K = T4 (§17.1.2.2).
    assert_eq!(sim.seen(), vec![Seen::Response(txn, 200), Seen::Terminated(txn)]);
    assert_eq!(sim.seen_at(&Seen::Terminated(txn)), Some(ms(5100)));
    assert_eq!(sim.send_times("OPTIONS "), vec![ms(0)]);
}

#[test]
fn reliable_non_invite_has_no_timer_e_and_zero_timer_k() {
    let mut sim = Sim::new();
    let message = request("MESSAGE", "z9hG4bKmsg1");
    let txn = sim.start(message.clone(), Transport::Tls, "uas");
    assert_eq!(sim.table.timer(txn, Timer::E), None);
    assert_eq!(sim.table.timer(txn, Timer::F).map(|t| t - sim.t0), Some(ms(32_000)));
    sim.advance_to(ms(3000));
    sim.receive(response(&message, 202, Some("u")), Transport::Tls, "uas");
    assert_eq!(sim.seen(), vec![Seen::Response(txn, 202), Seen::Terminated(txn)]);
    assert_eq!(sim.send_times("MESSAGE "), vec![ms(0)]);
}

#[test]
fn non_invite_transport_error_terminates() {
    let mut sim = Sim::new();
    let txn = sim.start(request("OPTIONS", "z9hG4bKopt4"), Transport::Udp, "uas");
    sim.advance_to(ms(500));
    sim.table.handle_transport_error(sim.now, txn);
    sim.drain();
    assert_eq!(sim.seen(), vec![Seen::TransportError(txn), Seen::Terminated(txn)]);
    assert_eq!(sim.table.poll_timeout(), None);
}
