//! Typed header tests on recorded values (RFC 3261 examples, RFC 4475 messages).

use bytes::Bytes;

use crate::header::addr::NameAddr;
use crate::header::simple::{check_date, CSeq, MediaType, Reason};
use crate::header::via::{Via, ViaTransport};
use crate::uri::Host;
use crate::{HeaderFault, HeaderName, Message, Method, ParseError, Transport};

fn msg(b: &'static [u8]) -> Message {
    Message::parse(Bytes::from_static(b)).expect("test message parses")
}

const WSINV_VIAS: &[u8] = b"INVITE sip:a@b SIP/2.0\r\n\
Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n\
v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239\r\n\
Via: SIP/2.0/UNKNOWN [2001:db8::9]:5070;received=2001:db8::9:255;rport=5070;alias;ttl=16;maddr=224.2.0.1\r\n\
\r\n";

#[test]
fn rfc4475_wsinv_vias_with_folding_and_lws() {
    let m = msg(WSINV_VIAS);
    let vias: Vec<Via<'_>> = m.vias().collect::<Result<_, _>>().expect("all vias parse");
    assert_eq!(vias.len(), 4);
    let branches: Vec<_> = vias.iter().map(|v| v.branch()).collect();
    assert_eq!(branches, [Some("390skdjuw"), Some("z9hG4bK9ikj8"), Some("z9hG4bK30239"), None]);
    assert_eq!(vias.first().map(|v| v.transport()), Some(ViaTransport::Known(Transport::Udp)));
    assert_eq!(vias.get(1).map(|v| v.host()), Some(Host::Name("spindle.example.com")));
    let last = vias.get(3).copied().expect("fourth via");
    assert_eq!(last.transport(), ViaTransport::Other("UNKNOWN"));
    assert_eq!(last.port(), Some(5070));
    assert_eq!(last.received(), "2001:db8::9:255".parse().ok());
    assert_eq!(last.rport(), Some(Some(5070)));
    assert!(last.alias());
    assert_eq!(last.ttl(), Some(16));
    assert_eq!(last.maddr(), Some("224.2.0.1"));
    assert!(m.top_via().is_ok_and(|v| !v.has_rfc3261_branch()));
    assert_eq!(m.top_via_value().map(|v| (v.field, v.position)), Ok((0, 0)));
}

#[test]
fn via_faults() {
    assert_eq!(Via::parse("SIP/2.0/UDP 192.0.2.15;;"), Err(HeaderFault::EmptyElement { what: "parameter" }));
    assert_eq!(Via::parse("SIP/2.0 host"), Err(HeaderFault::InvalidSentProtocol));
    assert_eq!(Via::parse("SIP/2.0/UDP"), Err(HeaderFault::InvalidToken { what: "sent-by" }));
    assert_eq!(Via::parse("SIP/2.0/UDP h;ttl=256"), Err(HeaderFault::InvalidToken { what: "ttl" }));
    assert_eq!(Via::parse("SIP/2.0/UDP h;received=host"), Err(HeaderFault::InvalidToken { what: "received" }));
    assert_eq!(Via::parse("SIP/2.0/UDP h;branch="), Err(HeaderFault::EmptyElement { what: "parameter value" }));
    assert_eq!(Via::parse("SIP/2.0/UDP h;branch"), Err(HeaderFault::InvalidToken { what: "branch" }));
    assert!(matches!(Via::parse("SIP/2.0/UDP h x"), Err(HeaderFault::Trailing { .. })));
    assert!(Via::parse("SIP/2.0/UDP h;rport").is_ok_and(|v| v.rport() == Some(None)));
    let m = msg(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n\r\n");
    assert!(matches!(m.top_via(), Err(ParseError::InvalidHeader { name: "Via", .. })));
    let none = msg(b"SIP/2.0 200 OK\r\n\r\n");
    assert_eq!(none.top_via().err(), Some(ParseError::header("Via", HeaderFault::Missing)));
}

#[test]
fn name_addr_forms() {
    let f = NameAddr::parse(r#""J Rosenberg \\\""       <sip:jdrosen@example.com>  ;  tag = 98asjd8"#).expect("wsinv From");
    assert_eq!(f.display_name().as_deref(), Some(r#"J Rosenberg \""#));
    assert_eq!(f.tag(), Some("98asjd8"));
    assert_eq!(f.uri_str(), "sip:jdrosen@example.com");
    let lws = NameAddr::parse("caller<sip:caller@example.com>;tag=323").expect("lwsdisp");
    assert_eq!(lws.display_name().as_deref(), Some("caller"));
    let spec = NameAddr::parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").expect("addr-spec");
    assert_eq!(spec.uri_str(), "sip:vivekg@chair-dnrc.example.com");
    assert!(!spec.is_bracketed());
    let c = NameAddr::parse(r#"<sip:alice@192.0.2.10;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";reg-id=1;expires=3600;q=0.7"#).expect("RFC 5626 contact");
    assert_eq!(c.sip_instance().as_deref(), Some("<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"));
    assert_eq!((c.expires(), c.q()), (Some(3600), Some(700)));
    assert!(NameAddr::parse("*").is_ok_and(|s| s.is_star()));
    let cparam01 = NameAddr::parse("sip:+19725552222@gw1.example.net;unknownparam").expect("cparam01");
    assert!(cparam01.params().contains("unknownparam"));
    assert!(cparam01.uri().is_ok_and(|u| u.as_sip().is_some_and(|s| s.params().is_empty())));
    let cparam02 = NameAddr::parse("<sip:+19725552222@gw1.example.net;unknownparam>").expect("cparam02");
    assert!(cparam02.params().is_empty());
    assert!(cparam02.uri().is_ok_and(|u| u.as_sip().is_some_and(|s| s.params().contains("unknownparam"))));
}

#[test]
fn name_addr_faults() {
    assert_eq!(NameAddr::parse(r#""Mr. J. User <sip:j.user@example.com>"#), Err(HeaderFault::UnterminatedQuote));
    assert!(matches!(NameAddr::parse("Bell, Alexander <sip:a.g.bell@example.com>;tag=43"), Err(HeaderFault::InvalidDisplayName { .. })));
    let spaced = NameAddr::parse(r#""Watson, Thomas" < sip:t.watson@example.org >"#).expect("structure parses");
    assert_eq!(spaced.uri(), Err(HeaderFault::Uri(crate::UriError::Whitespace)));
    assert!(NameAddr::parse("<>").is_err());
    assert_eq!(
        NameAddr::parse("sip:user@example.com?Route=%3Csip:sip.example.com%3E"),
        Err(HeaderFault::NeedsAngleBrackets { ch: '?' })
    );
    assert_eq!(NameAddr::parse(r#""Joe" <sip:joe@example.org>;;;;"#), Err(HeaderFault::EmptyElement { what: "parameter" }));
    assert_eq!(NameAddr::parse("<sip:a@b"), Err(HeaderFault::UnterminatedAngle));
    assert_eq!(NameAddr::parse(""), Err(HeaderFault::Empty));
}

#[test]
fn small_headers() {
    assert_eq!(CSeq::parse("0009\r\n  INVITE"), Ok(CSeq { seq: 9, method: Method::Invite }));
    assert_eq!(
        CSeq::parse("36893488147419103232 REGISTER"),
        Err(HeaderFault::OutOfRange { what: "sequence number", text: "36893488147419103232".into(), max: u32::MAX.into() })
    );
    assert!(CSeq::parse("INVITE").is_err());
    assert!(CSeq::parse("1INVITE").is_err());
    let ct = MediaType::parse("multipart/mixed;boundary=7a9cbec02ceef655").expect("content type");
    assert!(ct.is("Multipart", "MIXED"));
    assert_eq!(ct.params.value("boundary"), Some("7a9cbec02ceef655"));
    let r = Reason::parse(r#"SIP ;cause=200 ;text="Call completed elsewhere""#).expect("reason");
    assert_eq!((r.protocol, r.cause(), r.text().as_deref()), ("SIP", Some(200), Some("Call completed elsewhere")));
    assert!(Reason::parse("Q.850;cause=x").is_err());
    assert_eq!(check_date("Sat, 15 Oct 2005 04:44:56 GMT"), Ok(()));
    assert_eq!(check_date("Fri, 01 Jan 2010 16:00:00 EST"), Err(HeaderFault::DateNotGmt));
    assert_eq!(check_date("yesterday"), Err(HeaderFault::InvalidDate));
}

#[test]
fn message_level_accessors() {
    let m = msg(b"INVITE sip:a@b SIP/2.0\r\n\
MaX-fOrWaRdS: 0068\r\n\
i: abc@host\r\n\
cseq: 0009\r\n  INVITE\r\n\
t: <sip:b@c>;tag=x1\r\n\
f: \"A\" <sip:a@c>;tag=y2\r\n\
k: replaces, 100rel\r\nSupported: timer\r\n\
Allow: INVITE, ACK, NEWTHING\r\n\
Expires: 60\r\n\
c: application/sdp\r\n\
Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n\
Route: <sip:p3.example.com;lr>\r\n\
Authorization: Digest username=\"a\", realm=\"r\"\r\n\
Date: Sat, 15 Oct 2005 04:44:56 GMT\r\n\
Reason: Q.850;cause=16\r\n\
User-Agent: X/1.0 (y)\r\n\
\r\n");
    assert_eq!(m.max_forwards(), Ok(Some(68)));
    assert_eq!(m.call_id(), Ok("abc@host"));
    assert_eq!(m.cseq().map(|c| c.seq), Ok(9));
    assert_eq!(m.to_tag(), Ok(Some("x1")));
    assert_eq!(m.from_tag(), Ok(Some("y2")));
    let tags: Result<Vec<_>, _> = m.option_tags(HeaderName::Supported).collect();
    assert_eq!(tags, Ok(vec!["replaces", "100rel", "timer"]));
    assert_eq!(m.allow().filter_map(Result::ok).map(|x| x.to_string()).collect::<Vec<_>>(), ["INVITE", "ACK", "NEWTHING"]);
    assert_eq!(m.expires(), Ok(Some(60)));
    assert!(m.content_type().is_ok_and(|c| c.is_some_and(|c| c.is("application", "sdp"))));
    let routes: Vec<_> = m.routes().filter_map(Result::ok).map(|r| r.uri_str()).collect();
    assert_eq!(routes, ["sip:p1.example.com;lr", "sip:p2.example.com;lr", "sip:p3.example.com;lr"]);
    assert!(m.top_route().is_ok_and(|r| r.is_some_and(|(_, v)| v.position == 0)));
    let auth = m.auth_values(HeaderName::Authorization).next().and_then(Result::ok).expect("auth");
    assert_eq!(auth.param("realm").as_deref(), Some("r"));
    assert_eq!(m.date(), Ok(Some("Sat, 15 Oct 2005 04:44:56 GMT")));
    assert_eq!(m.reasons().filter_map(Result::ok).map(|r| r.cause()).collect::<Vec<_>>(), [Some(16)]);
    assert_eq!(m.product(HeaderName::UserAgent), Some("X/1.0 (y)"));
}

#[test]
fn rfc4475_scalars_and_repeats() {
    let m = msg(b"REGISTER sip:example.com SIP/2.0\r\nMax-Forwards: 300\r\nExpires: 10000000000000\r\nCall-ID: a\r\nCall-ID: b\r\n\r\n");
    assert!(matches!(m.max_forwards(), Err(ParseError::InvalidHeader { name: "Max-Forwards", fault: HeaderFault::OutOfRange { .. } })));
    assert!(matches!(m.expires(), Err(ParseError::InvalidHeader { name: "Expires", fault: HeaderFault::OutOfRange { .. } })));
    assert_eq!(m.call_id(), Err(ParseError::header("Call-ID", HeaderFault::Repeated)));
    assert_eq!(m.cseq(), Err(ParseError::header("CSeq", HeaderFault::Missing)));
}

#[test]
fn rfc3261_20_8_call_id_is_word_at_word() {
    let call_id = |v: &str| {
        let m = Message::parse(Bytes::from(format!("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: {v}\r\n\r\n"))).expect("parses");
        m.call_id().map(str::to_owned)
    };
    for good in ["a", "a@b", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com", "(x)<y>:\\\"/[]?{}@z~"] {
        assert_eq!(call_id(good).as_deref(), Ok(good));
    }
    for bad in ["@b", "a@", "a@b@c", "a@@b", "a b", "a;b", "é@x"] {
        assert_eq!(call_id(bad), Err(ParseError::header("Call-ID", HeaderFault::InvalidToken { what: "Call-ID" })), "{bad}");
    }
}
