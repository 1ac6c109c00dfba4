//! Matching (RFC 3261 §17.1.3, §17.2.3, §9.2) and the table's refusals.

mod sim;

use bytes::Bytes;
use causeway_sip::build::cancel_for;
use causeway_sip::{HeaderName, Transport};
use causeway_txn::{Missing, TransactionTable, TxnConfig, TxnError, TxnKind, TxnState};
use sim::msg::{parse, request, response, value, Req};
use sim::{ms, Seen, Sim};

#[test]
fn cancel_is_its_own_transaction() {
    let mut sim = Sim::new();
    let invite = request("INVITE", "z9hG4bKcan1");
    sim.receive(invite.clone(), Transport::Udp, "uac");
    let cancel = request("CANCEL", "z9hG4bKcan1");
    sim.receive(cancel.clone(), Transport::Udp, "uac");
    let [Seen::Request(inv_txn, m1), Seen::Request(cancel_txn, m2)] = &sim.seen()[..] else {
        panic!("expected two requests: {:?}", sim.seen())
    };
    assert_eq!((m1.as_str(), m2.as_str()), ("INVITE", "CANCEL"));
    assert_ne!(inv_txn, cancel_txn);
    // §9.2: the CANCEL finds the INVITE it cancels by the §17.2.3 rules with method INVITE.
    assert_eq!(sim.table.find_cancelled_invite(&cancel), Some(*inv_txn));
    assert_eq!(sim.table.find_cancelled_invite(&request("CANCEL", "z9hG4bKother")), None);
    // A retransmitted CANCEL goes to the CANCEL transaction, not the INVITE one.
    sim.respond(*cancel_txn, response(&cancel, 200, Some("uas")));
    sim.receive(cancel, Transport::Udp, "uac");
    assert_eq!(sim.send_times("SIP/2.0 200"), vec![ms(0), ms(0)]);
    assert_eq!(sim.table.state(*inv_txn), Some(TxnState::Proceeding));
}

#[test]
fn client_cancel_and_invite_share_a_branch_but_not_a_transaction() {
    let mut sim = Sim::new();
    let invite = request("INVITE", "z9hG4bKcan2");
    let inv = sim.start(invite.clone(), Transport::Udp, "uas");
    sim.receive(response(&invite, 180, Some("b")), Transport::Udp, "uas");
    // §9.1: the CANCEL is built from the INVITE as sent, which the transaction keeps.
    let sent = sim.table.sent_request(inv).cloned().expect("INVITE kept in Proceeding");
    assert_eq!(sent, *invite.as_bytes());
    let built = cancel_for(&parse(sent), None).expect("CANCEL builds");
    let cancel = built.into_message().expect("CANCEL parses");
    assert_eq!(value(&cancel, HeaderName::Via), value(&invite, HeaderName::Via));
    let can = sim.start(cancel.clone(), Transport::Udp, "uas");
    assert_ne!(inv, can);
    // §17.1.3: the CSeq method tells the two responses apart.
    sim.receive(response(&cancel, 200, Some("b")), Transport::Udp, "uas");
    sim.receive(response(&invite, 487, Some("b")), Transport::Udp, "uas");
    assert_eq!(
        sim.seen(),
        vec![Seen::Response(inv, 180), Seen::Response(can, 200), Seen::Response(inv, 487)]
    );
    assert_eq!(sim.send_times("ACK "), vec![ms(0)]);
    assert_eq!(sim.table.sent_request(inv), None, "nothing kept after the final");
}

#[test]
fn rfc2543_fallback_matching() {
    let mut sim = Sim::new();
    // An RFC 2543 client: no branch at all.
    let old = Req { branch: None, ..Req::new("INVITE", "") };
    let invite = old.message();
    sim.receive(invite.clone(), Transport::Udp, "uac");
    let Some(Seen::Request(txn, _)) = sim.seen().first().cloned() else { panic!("no request") };
    // The retransmission matches by Request-URI, From tag, Call-ID, CSeq and top Via.
    sim.receive(invite.clone(), Transport::Udp, "uac");
    assert_eq!(sim.seen().len(), 1);
    sim.respond(txn, response(&invite, 486, Some("uas1")));
    // Its ACK matches the INVITE transaction: same fields, CSeq method ACK, our To tag.
    let ack = Req { method: "ACK", to_tag: Some("uas1"), ..old }.message();
    sim.receive(ack, Transport::Udp, "uac");
    assert_eq!(sim.table.state(txn), Some(TxnState::Confirmed));
    // A new CSeq is a new transaction; so is another Call-ID.
    sim.receive(Req { cseq: 314160, ..old }.message(), Transport::Udp, "uac");
    sim.receive(Req { call_id: "other@pc33", ..old }.message(), Transport::Udp, "uac");
    let requests = sim.seen().iter().filter(|s| matches!(s, Seen::Request(..))).count();
    assert_eq!(requests, 3);
}

#[test]
fn rfc2543_branch_without_magic_cookie_uses_the_fallback() {
    let mut sim = Sim::new();
    let first = Req::new("OPTIONS", "1234");
    sim.receive(first.message(), Transport::Udp, "uac");
    // Same branch but another CSeq: with the fallback it is a different transaction.
    sim.receive(Req { cseq: 7, ..first }.message(), Transport::Udp, "uac");
    sim.receive(first.message(), Transport::Udp, "uac");
    let requests = sim.seen().iter().filter(|s| matches!(s, Seen::Request(..))).count();
    assert_eq!(requests, 2);
}

#[test]
fn sent_by_tells_apart_server_transactions_with_one_branch() {
    let mut sim = Sim::new();
    let a = Req::new("INVITE", "z9hG4bKsame");
    sim.receive(a.message(), Transport::Udp, "a");
    sim.receive(Req { sent_by: "client.biloxi.example.com:5070", ..a }.message(), Transport::Udp, "b");
    // Host names compare case-insensitively.
    sim.receive(Req { sent_by: "PC33.Atlanta.Example.COM", ..a }.message(), Transport::Udp, "a");
    let requests = sim.seen().iter().filter(|s| matches!(s, Seen::Request(..))).count();
    assert_eq!(requests, 2);
}

#[test]
fn responses_that_match_nothing_are_strays() {
    let mut sim = Sim::new();
    let invite = request("INVITE", "z9hG4bKstr1");
    let txn = sim.start(invite.clone(), Transport::Udp, "uas");
    // Same branch, other CSeq method: not this transaction (§17.1.3).
    let bye_like = Req { cseq_method: Some("BYE"), ..Req::new("INVITE", "z9hG4bKstr1") }.message();
    sim.receive(response(&bye_like, 200, Some("x")), Transport::Udp, "uas");
    sim.receive(response(&request("INVITE", "z9hG4bKnone"), 200, Some("x")), Transport::Udp, "uas");
    assert_eq!(sim.seen(), vec![Seen::StrayResponse(200), Seen::StrayResponse(200)]);
    assert_eq!(sim.table.state(txn), Some(TxnState::Calling));
}

#[test]
fn start_client_refuses_ack_duplicates_and_missing_branch() {
    let mut table: TransactionTable<&str> = TransactionTable::new(TxnConfig::default()).expect("valid config");
    let now = std::time::Instant::now();
    let ack = request("ACK", "z9hG4bKa");
    assert_eq!(table.start_client(now, ack, Transport::Udp, "x"), Err(TxnError::AckStartsNoTransaction));
    let invite = request("INVITE", "z9hG4bKdup");
    assert!(table.start_client(now, invite.clone(), Transport::Udp, "x").is_ok());
    assert_eq!(table.start_client(now, invite.clone(), Transport::Udp, "x"), Err(TxnError::DuplicateBranch));
    let no_branch = Req { branch: None, ..Req::new("OPTIONS", "") }.message();
    assert_eq!(
        table.start_client(now, no_branch, Transport::Udp, "x"),
        Err(TxnError::Unmatchable(Missing::Branch))
    );
    let ok = response(&invite, 200, None);
    assert_eq!(table.start_client(now, ok, Transport::Udp, "x"), Err(TxnError::WrongKind { expected: "request" }));
}

#[test]
fn unmatchable_message_is_handed_back() {
    let mut table: TransactionTable<&str> = TransactionTable::new(TxnConfig::default()).expect("valid config");
    let now = std::time::Instant::now();
    let no_via = parse(Bytes::from_static(
        b"OPTIONS sip:x@example.com SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    ));
    let rejected = table.handle_message(now, no_via, Transport::Udp, "x").expect_err("refused");
    assert_eq!(rejected.error, TxnError::Unmatchable(Missing::TopVia));
    assert_eq!(value(&rejected.message, HeaderName::CallId), "1");
    assert!(table.is_empty());
    assert!(table.poll_event().is_none());
}

#[test]
fn table_full_refuses_new_transactions() {
    let config = TxnConfig { max_transactions: 2, ..TxnConfig::default() };
    let mut sim = Sim::with_config(config);
    sim.receive(request("OPTIONS", "z9hG4bKf1"), Transport::Udp, "a");
    sim.start(request("OPTIONS", "z9hG4bKf2"), Transport::Udp, "b");
    let third = sim.table.handle_message(sim.now, request("OPTIONS", "z9hG4bKf3"), Transport::Udp, "c");
    assert_eq!(third.err().map(|r| r.error), Some(TxnError::TableFull { max: 2 }));
    let fourth = sim.table.start_client(sim.now, request("OPTIONS", "z9hG4bKf4"), Transport::Udp, "d");
    assert_eq!(fourth, Err(TxnError::TableFull { max: 2 }));
    // Retransmissions of live transactions still match.
    sim.receive(request("OPTIONS", "z9hG4bKf1"), Transport::Udp, "a");
    assert_eq!(sim.table.len(), 2);
}

#[test]
fn stale_id_is_not_confused_with_a_reused_slot() {
    let mut sim = Sim::new();
    let old = sim.start(request("OPTIONS", "z9hG4bKs1"), Transport::Tcp, "a");
    sim.receive(response(&request("OPTIONS", "z9hG4bKs1"), 200, None), Transport::Tcp, "a");
    assert!(sim.table.is_empty());
    let new = sim.start(request("OPTIONS", "z9hG4bKs2"), Transport::Tcp, "a");
    assert_ne!(old, new);
    assert_eq!(sim.table.state(old), None);
    assert_eq!(sim.table.state(new), Some(TxnState::Trying));
    sim.table.handle_transport_error(sim.now, old);
    assert_eq!(sim.table.state(new), Some(TxnState::Trying));
}

/// The transactions a transport failure of one peer reaches: every live client transaction
/// sending there, no server transaction (lingering ones would make every failure walk them all),
/// none of another peer's and none that has ended, however the peer's list changed (head,
/// middle and tail removed, slots reused).
#[test]
fn to_peer_lists_the_live_transactions_of_that_peer_only() {
    let mut sim = Sim::new();
    let sorted = |mut found: Vec<(causeway_txn::TxnId, &'static str)>| {
        found.sort_by_key(|(txn, _)| format!("{txn:?}"));
        found
    };
    let to_peer = |sim: &Sim, peer: &'static str| sorted(sim.table.to_peer(&peer).map(|(txn, p)| (txn, *p)).collect());
    let a1 = sim.start(request("OPTIONS", "z9hG4bKp1"), Transport::Tcp, "a");
    let b1 = sim.start(request("OPTIONS", "z9hG4bKp2"), Transport::Tcp, "b");
    let a2 = sim.start(request("OPTIONS", "z9hG4bKp3"), Transport::Tcp, "a");
    sim.receive(request("OPTIONS", "z9hG4bKp4"), Transport::Tcp, "a");
    let [Seen::Request(a3, _)] = &sim.seen()[..] else { panic!("expected the request: {:?}", sim.seen()) };
    let a3 = *a3;
    let a4 = sim.start(request("OPTIONS", "z9hG4bKp5"), Transport::Tcp, "a");
    assert_eq!(to_peer(&sim, "a"), sorted(vec![(a1, "a"), (a2, "a"), (a4, "a")]));
    assert_eq!(to_peer(&sim, "b"), vec![(b1, "b")]);
    assert_eq!(to_peer(&sim, "c"), vec![]);

    // The newest (the list's head), one in the middle and the oldest (its tail) end.
    sim.table.terminate(a4);
    sim.table.terminate(a2);
    let a6 = sim.start(request("OPTIONS", "z9hG4bKp9"), Transport::Tcp, "a");
    sim.receive(response(&request("OPTIONS", "z9hG4bKp1"), 200, None), Transport::Tcp, "a");
    assert_eq!(sim.table.state(a1), None);
    assert_eq!(to_peer(&sim, "a"), vec![(a6, "a")]);
    assert!(sim.table.state(a3).is_some());

    // Freed slots serve other peers without joining the old peer's list.
    let c1 = sim.start(request("OPTIONS", "z9hG4bKp6"), Transport::Tcp, "c");
    let b2 = sim.start(request("OPTIONS", "z9hG4bKp7"), Transport::Tcp, "b");
    assert_eq!(to_peer(&sim, "a"), vec![(a6, "a")]);
    assert_eq!(to_peer(&sim, "b"), sorted(vec![(b1, "b"), (b2, "b")]));
    assert_eq!(to_peer(&sim, "c"), vec![(c1, "c")]);

    // The last of a peer's transactions ends: the peer is forgotten, and comes back new.
    sim.table.terminate(a6);
    assert_eq!(to_peer(&sim, "a"), vec![]);
    let a5 = sim.start(request("OPTIONS", "z9hG4bKp8"), Transport::Tcp, "a");
    assert_eq!(to_peer(&sim, "a"), vec![(a5, "a")]);
}

#[test]
fn a_key_computed_once_finds_the_transaction_and_hands_the_message_in() {
    let mut sim = Sim::new();
    let invite = request("INVITE", "z9hG4bKkey1");
    let key = sim.table.key_of(&invite).expect("INVITE has a key");
    assert_eq!(sim.table.find(key), None, "no transaction yet");
    sim.table.handle_keyed(sim.now, invite.clone(), key, Transport::Udp, "uac").expect("taken");
    sim.drain();
    let [Seen::Request(server, _)] = sim.seen()[..] else { panic!("{:?}", sim.seen()) };
    // §17.2.3: the retransmission and an ACK (taken as the INVITE) have the same key.
    assert_eq!(sim.table.key_of(&invite).ok(), Some(key));
    assert_eq!(sim.table.key_of(&request("ACK", "z9hG4bKkey1")).ok(), Some(key));
    assert_eq!(sim.table.find(key), Some((server, TxnKind::InviteServer)));
    assert_ne!(sim.table.key_of(&request("CANCEL", "z9hG4bKkey1")).ok(), Some(key), "CANCEL is its own transaction");

    // §17.1.3: a response's key is its client transaction's.
    let options = request("OPTIONS", "z9hG4bKkey2");
    let client = sim.start(options.clone(), Transport::Udp, "uas");
    let ok = response(&options, 200, Some("b"));
    let response_key = sim.table.key_of(&ok).expect("response has a key");
    assert_eq!(sim.table.find(response_key), Some((client, TxnKind::NonInviteClient)));
    // A key is the message's own: handing in a request under a response's key is refused.
    let refused = sim.table.handle_keyed(sim.now, request("BYE", "z9hG4bKkey3"), response_key, Transport::Udp, "uac");
    assert!(matches!(refused, Err(r) if matches!(r.error, TxnError::WrongKind { expected: "response" })));
    sim.table.handle_keyed(sim.now, ok, response_key, Transport::Udp, "uas").expect("taken");
    sim.drain();
    assert!(sim.seen().contains(&Seen::Response(client, 200)), "{:?}", sim.seen());
}
