//! Non-INVITE server transaction (RFC 3261 §17.2.2) in simulated time.

mod sim;

use causeway_sip::Transport;
use causeway_txn::{Timer, TxnError, TxnKind, TxnState};
use sim::msg::{response, Req};
use sim::{ms, Seen, Sim};

#[test]
fn non_invite_server_absorbs_in_trying_and_resends_last_response_after() {
    let mut sim = Sim::new();
    let bye = Req { to_tag: Some("uas1"), ..Req::new("BYE", "z9hG4bKbye9") }.message();
    sim.receive(bye.clone(), Transport::Udp, "uac");
    let Some(Seen::Request(txn, _)) = sim.seen().first().cloned() else { panic!("no request") };
    assert_eq!(sim.table.kind(txn), Some(TxnKind::NonInviteServer));
    assert_eq!(sim.table.state(txn), Some(TxnState::Trying));
    // §17.2.2: Trying discards retransmissions silently.
    sim.advance_to(ms(500));
    sim.receive(bye.clone(), Transport::Udp, "uac");
    assert!(sim.sent.is_empty());
    sim.respond(txn, response(&bye, 100, None));
    assert_eq!(sim.table.state(txn), Some(TxnState::Proceeding));
    sim.advance_to(ms(1500));
    sim.receive(bye.clone(), Transport::Udp, "uac");
    sim.advance_to(ms(1600));
    sim.respond(txn, response(&bye, 200, None));
    assert_eq!(sim.table.state(txn), Some(TxnState::Completed));
    sim.advance_to(ms(3500));
    sim.receive(bye.clone(), Transport::Udp, "uac");
    let lines: Vec<_> = sim.sent.iter().map(|s| (s.at, s.start_line())).collect();
    assert_eq!(
        lines,
        vec![
            (ms(500), "SIP/2.0 100 Test".to_string()),
            (ms(1500), "SIP/2.0 100 Test".to_string()),
            (ms(1600), "SIP/2.0 200 Test".to_string()),
            (ms(3500), "SIP/2.0 200 Test".to_string()),
        ]
    );
    // §17.2.2: further finals from the TU are discarded (reported as an error here).
    let again = sim.table.respond(sim.now, txn, response(&bye, 500, None));
    assert_eq!(again, Err(TxnError::AfterFinal { status: 500 }));
    // Timer J = 64*T1 from the final.
    sim.drive();
    assert_eq!(sim.seen(), vec![Seen::Request(txn, "BYE".into()), Seen::Terminated(txn)]);
    assert_eq!(sim.seen_at(&Seen::Terminated(txn)), Some(ms(33_600)));
}

#[test]
fn reliable_non_invite_server_timer_j_is_zero() {
    let mut sim = Sim::new();
    let options = Req { transport: "TCP", ..Req::new("OPTIONS", "z9hG4bKopt9") }.message();
    sim.receive(options.clone(), Transport::Tcp, "uac");
    let Some(Seen::Request(txn, _)) = sim.seen().first().cloned() else { panic!("no request") };
    sim.respond(txn, response(&options, 200, Some("uas")));
    assert_eq!(sim.seen(), vec![Seen::Request(txn, "OPTIONS".into()), Seen::Terminated(txn)]);
    assert_eq!(sim.table.timer(txn, Timer::J), None);
    assert!(sim.table.is_empty());
    // The transaction is gone: a late retransmission is a new request (TCP never retransmits).
    sim.receive(options, Transport::Tcp, "uac");
    assert!(matches!(sim.seen().last(), Some(Seen::Request(_, m)) if m == "OPTIONS"));
}

#[test]
fn non_invite_server_transport_error_terminates() {
    let mut sim = Sim::new();
    let register = Req { transport: "TCP", ..Req::new("REGISTER", "z9hG4bKreg9") }.message();
    sim.receive(register.clone(), Transport::Tcp, "uac");
    let Some(Seen::Request(txn, _)) = sim.seen().first().cloned() else { panic!("no request") };
    sim.respond(txn, response(&register, 100, None));
    sim.table.handle_transport_error(sim.now, txn);
    sim.drain();
    // §17.2.4: inform the TU; the non-INVITE server transaction terminates.
    assert_eq!(
        sim.seen(),
        vec![Seen::Request(txn, "REGISTER".into()), Seen::TransportError(txn), Seen::Terminated(txn)]
    );
    let late = sim.table.respond(sim.now, txn, response(&register, 200, None));
    assert_eq!(late, Err(TxnError::NoSuchTransaction(txn)));
}
