//! Client and server tables talking over a simulated lossy UDP network.

mod sim;

use causeway_sip::Transport;
use causeway_txn::TxnConfig;
use sim::msg::{response, Req};
use sim::pair::Pair;
use sim::{ms, Seen};

fn invite() -> causeway_sip::Message {
    Req::new("INVITE", "z9hG4bKpair1").message()
}

#[test]
fn lost_invites_are_recovered_by_timer_a_and_the_server_sees_one_request() {
    let mut pair = Pair::new(TxnConfig::default(), ms(10));
    // The network loses the first two copies of the INVITE.
    pair.lose = Box::new(|n, f| n < 2 && f.start_line().starts_with("INVITE"));
    let uac_txn = pair.uac.start(invite(), Transport::Udp, "uas");
    pair.advance_to(ms(2000));
    let [Seen::Request(uas_txn, _)] = pair.uas.seen()[..] else { panic!("uas saw {:?}", pair.uas.seen()) };
    assert_eq!(pair.uas.seen_at(&Seen::Request(uas_txn, "INVITE".into())), Some(ms(1510)));
    let request = pair.uas.delivered.first().cloned().expect("request delivered");
    pair.uas.respond(uas_txn, response(&request, 486, Some("uas1")));
    pair.drive();
    // The 486 reaches the UAC at 2010 ms, its ACK reaches the UAS at 2020 ms: no Timer G
    // retransmission was needed, and both sides wind down on their own timers.
    assert_eq!(pair.lost, vec!["INVITE sip:bob@biloxi.example.com SIP/2.0"; 2]);
    assert_eq!(pair.uac.send_times("INVITE "), vec![ms(0), ms(500), ms(1500)]);
    assert_eq!(pair.uac.send_times("ACK "), vec![ms(2010)]);
    assert_eq!(pair.uas.send_times("SIP/2.0 486"), vec![ms(2000)]);
    assert_eq!(pair.uac.seen(), vec![Seen::Response(uac_txn, 486), Seen::Terminated(uac_txn)]);
    assert_eq!(pair.uac.seen_at(&Seen::Terminated(uac_txn)), Some(ms(2010 + 32_000)));
    assert_eq!(pair.uas.seen_at(&Seen::Terminated(uas_txn)), Some(ms(2020 + 5000)));
    assert!(pair.uac.table.is_empty() && pair.uas.table.is_empty());
}

#[test]
fn lost_ack_is_recovered_by_timer_g_and_a_resent_ack() {
    let mut pair = Pair::new(TxnConfig::default(), ms(10));
    // The network loses the first ACK.
    let mut acks = 0;
    pair.lose = Box::new(move |_, f| {
        let is_ack = f.start_line().starts_with("ACK");
        acks += usize::from(is_ack);
        is_ack && acks == 1
    });
    let uac_txn = pair.uac.start(invite(), Transport::Udp, "uas");
    pair.advance_to(ms(100));
    let [Seen::Request(uas_txn, _)] = pair.uas.seen()[..] else { panic!("uas saw {:?}", pair.uas.seen()) };
    let request = pair.uas.delivered.first().cloned().expect("request delivered");
    pair.uas.respond(uas_txn, response(&request, 603, Some("uas1")));
    pair.drive();
    // 603 at 100 ms; ACK lost; Timer G resends at 600 ms; the UAC's Completed state answers
    // it with the same ACK at 610 ms, which lands at 620 ms.
    assert_eq!(pair.uas.send_times("SIP/2.0 603"), vec![ms(100), ms(600)]);
    assert_eq!(pair.uac.send_times("ACK "), vec![ms(110), ms(610)]);
    assert_eq!(pair.uac.seen(), vec![Seen::Response(uac_txn, 603), Seen::Terminated(uac_txn)]);
    assert_eq!(pair.uas.seen_at(&Seen::Terminated(uas_txn)), Some(ms(620 + 5000)));
}
