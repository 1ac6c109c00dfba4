//! Transaction-layer work of one proxied call over UDP: INVITE server + client transactions
//! (100, 180, 200 through, 2xx ACK passed up), BYE server + client transactions, and every
//! timer run out (L, M, J, K). Messages are parsed in setup; what is timed is matching,
//! state machines, timers and output queues.
//!
//! Run: `cargo bench -p causeway-txn --bench call`. Measured 2026-11-23 on the shared 2-core
//! dev machine (other builds running): about 6.6 µs per call (100 calls in 661 µs), of which
//! roughly a third is causeway-sip's top-Via parse (one per message). Kamailio spends about
//! 140 µs of CPU per call in total (shared/bench/RESULTS-kamailio.md).

use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_sip::{Message, Transport};
use causeway_txn::{Event, TransactionTable, TxnConfig};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const CALLS: usize = 100;

fn parse(text: String) -> Message {
    Message::parse(Bytes::from(text)).unwrap_or_else(|e| panic!("bench message: {e}"))
}

fn request(method: &str, via: &str, call: usize, cseq: u32) -> Message {
    parse(format!(
        "{method} sip:bob@biloxi.example.com SIP/2.0\r\n{via}\r\nMax-Forwards: 70\r\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=a{call}\r\nTo: Bob <sip:bob@biloxi.example.com>;tag=b{call}\r\n\
         Call-ID: call-{call}@atlanta.example.com\r\nCSeq: {cseq} {method}\r\nContact: <sip:alice@10.0.0.1>\r\n\
         Content-Length: 0\r\n\r\n"
    ))
}

fn response(status: u16, method: &str, via: &str, call: usize, cseq: u32) -> Message {
    parse(format!(
        "SIP/2.0 {status} X\r\n{via}\r\nFrom: Alice <sip:alice@atlanta.example.com>;tag=a{call}\r\n\
         To: Bob <sip:bob@biloxi.example.com>;tag=b{call}\r\nCall-ID: call-{call}@atlanta.example.com\r\n\
         CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
    ))
}

/// The messages of one call, as the proxy sees and sends them.
#[derive(Clone)]
struct Call {
    invite_in: Message,
    trying_out: Message,
    invite_out: Message,
    ringing_in: Message,
    ok_in: Message,
    ringing_out: Message,
    ok_out: Message,
    ack_in: Message,
    bye_in: Message,
    bye_out: Message,
    bye_ok_in: Message,
    bye_ok_out: Message,
}

fn call(i: usize) -> Call {
    let up = format!("Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKup{i}");
    let down = format!("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKdown{i}\r\n{up}");
    let bye_up = format!("Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKbyeup{i}");
    let bye_down = format!("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKbyedown{i}\r\n{bye_up}");
    Call {
        invite_in: request("INVITE", &up, i, 1),
        trying_out: response(100, "INVITE", &up, i, 1),
        invite_out: request("INVITE", &down, i, 1),
        ringing_in: response(180, "INVITE", &down, i, 1),
        ok_in: response(200, "INVITE", &down, i, 1),
        ringing_out: response(180, "INVITE", &up, i, 1),
        ok_out: response(200, "INVITE", &up, i, 1),
        ack_in: request("ACK", &format!("Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKack{i}"), i, 1),
        bye_in: request("BYE", &bye_up, i, 2),
        bye_out: request("BYE", &bye_down, i, 2),
        bye_ok_in: response(200, "BYE", &bye_down, i, 2),
        bye_ok_out: response(200, "BYE", &bye_up, i, 2),
    }
}

fn run(table: &mut TransactionTable<u32>, now: &mut Instant, calls: Vec<Call>) -> usize {
    let mut sent = 0;
    let mut drain = |table: &mut TransactionTable<u32>| {
        while table.poll_transmit().is_some() {
            sent += 1;
        }
        let mut server = None;
        while let Some(event) = table.poll_event() {
            if let Event::Request { txn, .. } = event {
                server = Some(txn);
            }
        }
        server
    };
    let t = *now;
    for c in calls {
        let _ = table.handle_message(t, c.invite_in, Transport::Udp, 1);
        let Some(server) = drain(table) else { continue };
        let _ = table.respond(t, server, c.trying_out);
        let _ = table.start_client(t, c.invite_out, Transport::Udp, 2);
        let _ = table.handle_message(t, c.ringing_in, Transport::Udp, 2);
        let _ = table.respond(t, server, c.ringing_out);
        let _ = table.handle_message(t, c.ok_in, Transport::Udp, 2);
        let _ = table.respond(t, server, c.ok_out);
        let _ = table.handle_message(t, c.ack_in, Transport::Udp, 1);
        drain(table);
        let _ = table.handle_message(t, c.bye_in, Transport::Udp, 1);
        let Some(bye_server) = drain(table) else { continue };
        let _ = table.start_client(t, c.bye_out, Transport::Udp, 2);
        let _ = table.handle_message(t, c.bye_ok_in, Transport::Udp, 2);
        let _ = table.respond(t, bye_server, c.bye_ok_out);
        drain(table);
    }
    // Run every timer out: L, M (64*T1), J (64*T1), K (T4).
    *now += Duration::from_secs(40);
    table.handle_timeout(*now);
    drain(table);
    assert!(table.is_empty());
    sent
}

fn bench(c: &mut Criterion) {
    let calls: Vec<Call> = (0..CALLS).map(call).collect();
    let mut table = TransactionTable::new(TxnConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut now = Instant::now();
    let mut group = c.benchmark_group("txn");
    group.throughput(Throughput::Elements(CALLS as u64));
    group.bench_function("proxied_call_udp", |b| {
        b.iter_batched(|| calls.clone(), |batch| run(&mut table, &mut now, batch), BatchSize::LargeInput)
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
