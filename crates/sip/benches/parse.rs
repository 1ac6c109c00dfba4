//! Parser micro-benchmark: a typical ~900-byte INVITE parsed, plus the typed look-ups the
//! proxy core makes on every initial INVITE.
//! Run: `cargo bench -p causeway-sip --bench parse -- --warm-up-time 2 --measurement-time 5`.

use bytes::Bytes;
use causeway_sip::validate::proxy_request_fields;
use causeway_sip::Message;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.a8f2c91d;rport\r\n\
Via: SIP/2.0/TLS 198.51.100.7:5061;branch=z9hG4bK.77e2b3f0a1;received=203.0.113.9\r\n\
Max-Forwards: 69\r\n\
Route: <sip:edge.example.com;lr>\r\n\
From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: \"Bob\" <sip:bob@biloxi.example.com>\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 2 INVITE\r\n\
Contact: <sip:alice@192.0.2.10:5060;transport=udp;ob>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE\r\n\
Supported: replaces, outbound, gruu, timer, 100rel\r\n\
User-Agent: Causeway-Bench/1.0 (softphone build 2026)\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 165\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 101\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=sendrecv\r\n\
";

/// Parse only: start line, header index, Content-Length framing.
#[inline(never)]
fn index_only(bytes: Bytes) -> Option<usize> {
    Message::parse(bytes).ok().map(|m| m.headers().count())
}

/// Parse, then decode what the proxy core decodes for every initial INVITE, with the calls
/// it makes (crates/proxy/src/plan.rs `decide`, crates/txn/src/message.rs `server_key`):
/// the transaction key (top Via branch and sent-by), the RFC 3261 §16.3 checks of
/// `proxy_request_fields` (top Via, From and To with their URIs, Call-ID, CSeq, Max-Forwards,
/// Request-URI, Proxy-Require), the To tag, every Route with its URI and the Call-ID again.
#[inline(never)]
fn proxy_fields(bytes: Bytes) -> Option<usize> {
    let m = Message::parse(bytes).ok()?;
    let via = m.top_via().ok()?;
    let key = via.branch()?.len() + via.host_str().len() + usize::from(via.port().unwrap_or(0));
    let checked = proxy_request_fields(&m, &[]).ok()?;
    let mf = usize::from(checked.max_forwards.unwrap_or(70));
    let to_tag = m.to_tag().ok()?.map_or(0, str::len);
    let mut routes = 0;
    for r in m.routes() {
        routes += usize::from(r.ok()?.uri().ok()?.as_sip()?.is_loose_router());
    }
    let call_id = m.call_id().ok()?.len();
    let ruri = usize::from(checked.request_uri.as_sip()?.headers().is_none());
    Some(key + mf + to_tag + routes + call_id + ruri + m.body_len())
}

fn parse_invite(c: &mut Criterion) {
    let bytes = Bytes::from_static(INVITE);
    assert!(proxy_fields(bytes.clone()).is_some(), "benchmark INVITE decodes");
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    g.bench_function("invite_index_only", |b| b.iter(|| index_only(black_box(bytes.clone()))));
    g.bench_function("invite_proxy_fields", |b| b.iter(|| proxy_fields(black_box(bytes.clone()))));
    g.finish();
}

criterion_group!(benches, parse_invite);
criterion_main!(benches);
