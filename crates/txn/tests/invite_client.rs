//! INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §8.4) in simulated time.

mod sim;

use causeway_sip::{HeaderName, Transport};
use causeway_txn::{Timer, TxnConfig, TxnKind, TxnState};
use sim::msg::{request, response, value, values};
use sim::{ms, Seen, Sim};

#[test]
fn invite_client_retransmits_at_t1_2t1_4t1() {
    let mut sim = Sim::new();
    let invite = request("INVITE", "z9hG4bKinv1");
    let txn = sim.start(invite.clone(), Transport::Udp, "uas");
    assert_eq!(sim.table.kind(txn), Some(TxnKind::InviteClient));
    assert_eq!(sim.table.state(txn), Some(TxnState::Calling));
    sim.drive();
    // §17.1.1.2: Timer A starts at T1 and doubles with no cap: sends at 0, T1, 3T1, 7T1, ...
    let expected: Vec<_> = [0, 500, 1500, 3500, 7500, 15500, 31500].into_iter().map(ms).collect();
    assert_eq!(sim.send_times("INVITE "), expected);
    for sent in &sim.sent {
        assert_eq!(sent.transmit.bytes, *invite.as_bytes(), "a retransmission is the same bytes");
        assert_eq!(sent.transmit.to, "uas");
        assert_eq!(sent.transmit.transport, Transport::Udp);
        assert_eq!(sent.transmit.txn, txn);
    }
}

#[test]
fn timer_b_fires_timeout_after_64_t1() {
    let mut sim = Sim::new();
    let txn = sim.start(request("INVITE", "z9hG4bKinv2"), Transport::Udp, "uas");
    sim.drive();
    assert_eq!(sim.seen(), vec![Seen::Timeout(txn, Timer::B), Seen::Terminated(txn)]);
    assert_eq!(sim.seen_at(&Seen::Timeout(txn, Timer::B)), Some(ms(32_000)));
    assert_eq!(sim.table.state(txn), None);
    assert!(sim.table.is_empty());
}

#[test]
fn timer_values_follow_configured_t1() {
    let config = TxnConfig { t1: ms(100), ..TxnConfig::default() };
    let mut sim = Sim::with_config(config);
    let txn = sim.start(request("INVITE", "z9hG4bKinv3"), Transport::Udp, "uas");
    sim.drive();
    let expected: Vec<_> = [0, 100, 300, 700, 1500, 3100, 6300].into_iter().map(ms).collect();
    assert_eq!(sim.send_times("INVITE "), expected);
    assert_eq!(sim.seen_at(&Seen::Timeout(txn, Timer::B)), Some(ms(6400)));
}

#[test]
fn provisional_stops_retransmissions_and_timer_b() {
    let mut sim = Sim::new();
    let invite = request("INVITE", "z9hG4bKinv4");
    let txn = sim.start(invite.clone(), Transport::Udp, "uas");
    sim.advance_to(ms(600));
    sim.receive(response(&invite, 180, Some("bobtag")), Transport::Udp, "uas");
    assert_eq!(sim.table.state(txn), Some(TxnState::Proceeding));
    // §17.1.1.2: Proceeding neither retransmits nor times out (Timer C is the proxy's).
    assert_eq!(sim.table.poll_timeout(), None);
    sim.receive(response(&invite, 183, Some("bobtag")), Transport::Udp, "uas");
    assert_eq!(sim.send_times("INVITE "), vec![ms(0), ms(500)]);
    assert_eq!(sim.seen(), vec![Seen::Response(txn, 180), Seen::Response(txn, 183)]);
}

#[test]
fn ack_for_non2xx_generated_and_resent_on_retransmitted_final() {
    let mut sim = Sim::new();
    let invite = request("INVITE", "z9hG4bKinv5");
    let txn = sim.start(invite.clone(), Transport::Udp, "uas");
    sim.advance_to(ms(200));
    let busy = response(&invite, 486, Some("bobtag"));
    sim.receive(busy.clone(), Transport::Udp, "uas");
    assert_eq!(sim.table.state(txn), Some(TxnState::Completed));
    assert_eq!(sim.send_times("ACK "), vec![ms(200)]);

    // §17.1.1.3: the ACK copies Request-URI, Call-ID, From, CSeq number, the top Via and the
    // Route set of the INVITE, and the To of the response (with its tag).
    let ack = sim.sent.last().map(|s| s.message()).expect("an ACK was sent");
    assert_eq!(ack.request_uri_str(), invite.request_uri_str());
    assert_eq!(values(&ack, HeaderName::Via), values(&invite, HeaderName::Via));
    assert_eq!(values(&ack, HeaderName::Route), values(&invite, HeaderName::Route));
    assert_eq!(value(&ack, HeaderName::CallId), value(&invite, HeaderName::CallId));
    assert_eq!(value(&ack, HeaderName::From), value(&invite, HeaderName::From));
    assert_eq!(value(&ack, HeaderName::To), value(&busy, HeaderName::To));
    assert_eq!(value(&ack, HeaderName::CSeq), "314159 ACK");
    assert_eq!(value(&ack, HeaderName::ContentLength), "0");

    // A retransmitted 486 is answered with the same ACK and not passed up again.
    sim.advance_to(ms(1200));
    sim.receive(busy.clone(), Transport::Udp, "uas");
    sim.advance_to(ms(3200));
    sim.receive(busy, Transport::Udp, "uas");
    assert_eq!(sim.send_times("ACK "), vec![ms(200), ms(1200), ms(3200)]);
    let acks: Vec<_> = sim.sent.iter().filter(|s| s.start_line().starts_with("ACK ")).map(|s| s.transmit.bytes.clone()).collect();
    assert!(acks.windows(2).all(|w| w[0] == w[1]));
    // No INVITE retransmission after the final; Timer D (32 s) ends the transaction.
    sim.drive();
    assert_eq!(sim.send_times("INVITE "), vec![ms(0)]);
    assert_eq!(sim.seen(), vec![Seen::Response(txn, 486), Seen::Terminated(txn)]);
    assert_eq!(sim.seen_at(&Seen::Terminated(txn)), Some(ms(32_200)));
}

#[test]
fn rfc6026_accepted_state_forwards_2xx_retransmissions() {
    let mut sim = Sim::new();
    let invite = request("INVITE", "z9hG4bKinv6");
    let txn = sim.start(invite.clone(), Transport::Udp, "uas");
    sim.advance_to(ms(100));
    sim.receive(response(&invite, 180, Some("bob1")), Transport::Udp, "uas");
    sim.advance_to(ms(1000));
    let ok = response(&invite, 200, Some("bob1"));
    sim.receive(ok.clone(), Transport::Udp, "uas");
    assert_eq!(sim.table.state(txn), Some(TxnState::Accepted));
    // A retransmitted 2xx and a 2xx from another fork both reach the TU; a stray 486 does not.
    sim.advance_to(ms(1500));
    sim.receive(ok, Transport::Udp, "uas");
    sim.receive(response(&invite, 200, Some("bob2")), Transport::Udp, "uas");
    sim.receive(response(&invite, 486, Some("bob3")), Transport::Udp, "uas");
    // The transaction never ACKs a 2xx: that is the TU's (§13.2.2.4).
    assert_eq!(sim.send_times("ACK "), Vec::<std::time::Duration>::new());
    sim.drive();
    assert_eq!(
        sim.seen(),
        vec![
            Seen::Response(txn, 180),
            Seen::Response(txn, 200),
            Seen::Response(txn, 200),
            Seen::Response(txn, 200),
            Seen::Terminated(txn)
        ]
    );
    // Timer M = 64*T1 from the first 2xx.
    assert_eq!(sim.seen_at(&Seen::Terminated(txn)), Some(ms(33_000)));
    // The 180 at 100 ms came before Timer A's first firing: the INVITE went out once.
    assert_eq!(sim.send_times("INVITE "), vec![ms(0)]);
}

#[test]
fn reliable_transport_arms_no_retransmit_timers() {
    let mut sim = Sim::new();
    let invite = request("INVITE", "z9hG4bKinv7");
    let txn = sim.start(invite.clone(), Transport::Tcp, "uas");
    // No Timer A on TCP; Timer B still guards the transaction.
    assert_eq!(sim.table.poll_timeout().map(|t| t - sim.t0), Some(ms(32_000)));
    sim.advance_to(ms(1000));
    sim.receive(response(&invite, 603, Some("bob")), Transport::Tcp, "uas");
    // Timer D is zero on reliable transports: the ACK goes out and the transaction ends.
    assert_eq!(sim.send_times("INVITE "), vec![ms(0)]);
    assert_eq!(sim.send_times("ACK "), vec![ms(1000)]);
    assert_eq!(sim.seen(), vec![Seen::Response(txn, 603), Seen::Terminated(txn)]);
    assert!(sim.table.is_empty());
    assert_eq!(sim.table.poll_timeout(), None);
}

#[test]
fn reliable_timer_b_still_times_out() {
    let mut sim = Sim::new();
    let txn = sim.start(request("INVITE", "z9hG4bKinv8"), Transport::Tls, "uas");
    sim.drive();
    assert_eq!(sim.send_times("INVITE "), vec![ms(0)]);
    assert_eq!(sim.seen_at(&Seen::Timeout(txn, Timer::B)), Some(ms(32_000)));
}

#[test]
fn transport_error_terminates() {
    let mut sim = Sim::new();
    let txn = sim.start(request("INVITE", "z9hG4bKinv9"), Transport::Tcp, "uas");
    sim.advance_to(ms(5));
    sim.table.handle_transport_error(sim.now, txn);
    sim.drain();
    // §17.1.4: inform the TU and go straight to Terminated.
    assert_eq!(sim.seen(), vec![Seen::TransportError(txn), Seen::Terminated(txn)]);
    assert!(sim.table.is_empty());
    assert_eq!(sim.table.poll_timeout(), None);
    // A late report for the dead transaction is ignored.
    sim.table.handle_transport_error(sim.now, txn);
    sim.drain();
    assert_eq!(sim.seen().len(), 2);
}
