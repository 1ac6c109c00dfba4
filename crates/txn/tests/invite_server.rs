//! INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1, §8.5-§8.7) in simulated time.

mod sim;

use causeway_sip::{Message, Transport};
use causeway_txn::{Timer, TxnError, TxnId, TxnKind, TxnState};
use sim::msg::{response, Req};
use sim::{ms, Seen, Sim};

/// An INVITE arrives at t = 0; returns the new server transaction.
fn invite_arrives(sim: &mut Sim, transport: Transport) -> (TxnId, Message) {
    let invite = Req { transport: transport.via_token(), ..Req::new("INVITE", "z9hG4bKsrv1") }.message();
    sim.receive(invite.clone(), transport, "uac");
    let Some(Seen::Request(txn, method)) = sim.seen().first().cloned() else { panic!("no Request event: {:?}", sim.seen()) };
    assert_eq!(method, "INVITE");
    assert_eq!(sim.table.kind(txn), Some(TxnKind::InviteServer));
    (txn, invite)
}

/// The UAC's ACK for a non-2xx: the INVITE's Request-URI, Call-ID, From, CSeq number and
/// top Via (so the same branch), the To of the response (§17.1.1.3).
fn ack_for(to_tag: &str) -> Message {
    Req { to_tag: Some(to_tag), cseq_method: Some("ACK"), ..Req::new("ACK", "z9hG4bKsrv1") }.message()
}

#[test]
fn server_absorbs_retransmitted_invite_and_resends_last_response() {
    let mut sim = Sim::new();
    let (txn, invite) = invite_arrives(&mut sim, Transport::Udp);
    assert_eq!(sim.table.state(txn), Some(TxnState::Proceeding));
    // Before the TU answered, a retransmission is absorbed: no new transaction, nothing sent.
    sim.advance_to(ms(500));
    sim.receive(invite.clone(), Transport::Udp, "uac");
    assert!(sim.sent.is_empty());
    sim.respond(txn, response(&invite, 100, None));
    sim.advance_to(ms(600));
    sim.respond(txn, response(&invite, 180, Some("uas1")));
    // §17.2.1: a retransmission in Proceeding gets the most recent provisional again.
    sim.advance_to(ms(1500));
    sim.receive(invite.clone(), Transport::Udp, "uac");
    let lines: Vec<_> = sim.sent.iter().map(|s| (s.at, s.start_line())).collect();
    assert_eq!(
        lines,
        vec![
            (ms(500), "SIP/2.0 100 Test".to_string()),
            (ms(600), "SIP/2.0 180 Test".to_string()),
            (ms(1500), "SIP/2.0 180 Test".to_string())
        ]
    );
    assert!(sim.sent.iter().all(|s| s.transmit.to == "uac" && s.transmit.txn == txn));
    // And after a non-2xx final, a retransmission gets the final.
    sim.respond(txn, response(&invite, 486, Some("uas1")));
    sim.advance_to(ms(1700));
    sim.receive(invite, Transport::Udp, "uac");
    assert_eq!(sim.sent.last().map(|s| (s.at, s.start_line())), Some((ms(1700), "SIP/2.0 486 Test".to_string())));
    assert_eq!(sim.seen(), vec![Seen::Request(txn, "INVITE".into())], "one request, however many copies");
}

#[test]
fn timer_g_retransmits_final_until_ack_then_timer_i() {
    let mut sim = Sim::new();
    let (txn, invite) = invite_arrives(&mut sim, Transport::Udp);
    sim.respond(txn, response(&invite, 486, Some("uas1")));
    assert_eq!(sim.table.state(txn), Some(TxnState::Completed));
    assert_eq!(sim.table.timer(txn, Timer::H).map(|t| t - sim.t0), Some(ms(32_000)));
    sim.advance_to(ms(10_000));
    sim.receive(ack_for("uas1"), Transport::Udp, "uac");
    assert_eq!(sim.table.state(txn), Some(TxnState::Confirmed));
    // Retransmitted ACKs are absorbed in Confirmed.
    sim.advance_to(ms(10_200));
    sim.receive(ack_for("uas1"), Transport::Udp, "uac");
    sim.drive();
    // §17.2.1: Timer G = T1, doubling up to T2; stops on the ACK. Timer I = T4.
    let expected: Vec<_> = [0, 500, 1500, 3500, 7500].into_iter().map(ms).collect();
    assert_eq!(sim.send_times("SIP/2.0 486"), expected);
    assert_eq!(sim.seen(), vec![Seen::Request(txn, "INVITE".into()), Seen::Terminated(txn)]);
    assert_eq!(sim.seen_at(&Seen::Terminated(txn)), Some(ms(15_000)));
}

#[test]
fn timer_h_fires_when_no_ack() {
    let mut sim = Sim::new();
    let (txn, invite) = invite_arrives(&mut sim, Transport::Udp);
    sim.advance_to(ms(100));
    sim.respond(txn, response(&invite, 503, Some("uas1")));
    sim.drive();
    let expected: Vec<_> =
        [100, 600, 1600, 3600, 7600, 11600, 15600, 19600, 23600, 27600, 31600].into_iter().map(ms).collect();
    assert_eq!(sim.send_times("SIP/2.0 503"), expected);
    assert_eq!(
        sim.seen(),
        vec![Seen::Request(txn, "INVITE".into()), Seen::Timeout(txn, Timer::H), Seen::Terminated(txn)]
    );
    assert_eq!(sim.seen_at(&Seen::Timeout(txn, Timer::H)), Some(ms(32_100)));
}

#[test]
fn rfc6026_server_accepted_absorbs_invite_passes_ack_and_2xx() {
    let mut sim = Sim::new();
    let (txn, invite) = invite_arrives(&mut sim, Transport::Udp);
    let ok = response(&invite, 200, Some("uas1"));
    sim.advance_to(ms(50));
    sim.respond(txn, ok.clone());
    assert_eq!(sim.table.state(txn), Some(TxnState::Accepted));
    // RFC 6026 §8.7: INVITE retransmissions are absorbed without an answer and not passed up.
    sim.advance_to(ms(500));
    sim.receive(invite.clone(), Transport::Udp, "uac");
    // The TU retransmits its 2xx (§13.3.1.4) through the transaction; it goes out.
    sim.respond(txn, ok);
    // An ACK that matches (same branch) is passed to the TU, never absorbed (RFC 6026 §7.1).
    sim.advance_to(ms(600));
    sim.receive(ack_for("uas1"), Transport::Udp, "uac");
    // Only 2xx may follow a 2xx.
    let late = sim.table.respond(sim.now, txn, response(&invite, 486, Some("uas1")));
    assert_eq!(late, Err(TxnError::AfterFinal { status: 486 }));
    sim.drive();
    assert_eq!(sim.send_times("SIP/2.0 200"), vec![ms(50), ms(500)]);
    assert_eq!(
        sim.seen(),
        vec![Seen::Request(txn, "INVITE".into()), Seen::Ack(Some(txn)), Seen::Terminated(txn)]
    );
    // Timer L = 64*T1 from the first 2xx.
    assert_eq!(sim.seen_at(&Seen::Terminated(txn)), Some(ms(32_050)));
}

#[test]
fn ack_for_2xx_with_its_own_branch_goes_to_the_tu() {
    let mut sim = Sim::new();
    let (txn, invite) = invite_arrives(&mut sim, Transport::Udp);
    sim.respond(txn, response(&invite, 200, Some("uas1")));
    let ack = Req { to_tag: Some("uas1"), cseq_method: Some("ACK"), ..Req::new("ACK", "z9hG4bKack2xx") }.message();
    sim.receive(ack, Transport::Udp, "uac");
    assert_eq!(sim.seen(), vec![Seen::Request(txn, "INVITE".into()), Seen::Ack(None)]);
    assert_eq!(sim.table.len(), 1, "an ACK never creates a server transaction");
}

#[test]
fn reliable_invite_server_arms_no_timer_g_and_zero_timer_i() {
    let mut sim = Sim::new();
    let (txn, invite) = invite_arrives(&mut sim, Transport::Tcp);
    sim.respond(txn, response(&invite, 404, Some("uas1")));
    assert_eq!(sim.table.timer(txn, Timer::G), None);
    assert_eq!(sim.table.timer(txn, Timer::H).map(|t| t - sim.t0), Some(ms(32_000)));
    sim.advance_to(ms(40));
    let ack = Req { transport: "TCP", to_tag: Some("uas1"), cseq_method: Some("ACK"), ..Req::new("ACK", "z9hG4bKsrv1") };
    sim.receive(ack.message(), Transport::Tcp, "uac");
    assert_eq!(sim.send_times("SIP/2.0 404"), vec![ms(0)]);
    assert_eq!(sim.seen(), vec![Seen::Request(txn, "INVITE".into()), Seen::Terminated(txn)]);
    assert!(sim.table.is_empty());
}

#[test]
fn rfc6026_invite_server_keeps_state_on_transport_error() {
    let mut sim = Sim::new();
    let (txn, invite) = invite_arrives(&mut sim, Transport::Udp);
    sim.respond(txn, response(&invite, 480, Some("uas1")));
    sim.table.handle_transport_error(sim.now, txn);
    sim.drain();
    // RFC 6026 §7.1: inform the TU, stay in Completed; Timer H ends it.
    assert_eq!(sim.table.state(txn), Some(TxnState::Completed));
    sim.drive();
    assert_eq!(
        sim.seen(),
        vec![
            Seen::Request(txn, "INVITE".into()),
            Seen::TransportError(txn),
            Seen::Timeout(txn, Timer::H),
            Seen::Terminated(txn)
        ]
    );
}

#[test]
fn out_of_order_ack_in_proceeding_is_ignored() {
    let mut sim = Sim::new();
    let (txn, _) = invite_arrives(&mut sim, Transport::Udp);
    sim.receive(ack_for("nobody"), Transport::Udp, "uac");
    assert_eq!(sim.table.state(txn), Some(TxnState::Proceeding));
    assert_eq!(sim.seen(), vec![Seen::Request(txn, "INVITE".into())]);
}
