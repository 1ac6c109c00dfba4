//! URI tests: RFC 3261 §19.1, RFC 4475 URIs, RFC 5118 IPv6 cases, §19.1.4 comparison.

use super::*;

fn sip(s: &str) -> SipUri<'_> {
    match Uri::parse(s) {
        Ok(Uri::Sip(u)) => u,
        other => panic!("{s}: {other:?}"),
    }
}

#[test]
fn rfc3261_19_1_parts() {
    let u = sip("sips:alice:secretword@atlanta.com:5061;transport=tcp;lr;maddr=239.255.255.1;ttl=15?subject=project%20x&priority=urgent");
    assert!(u.is_sips());
    assert_eq!(u.user(), Some("alice"));
    assert_eq!(u.password(), Some("secretword"));
    assert_eq!(u.host(), Host::Name("atlanta.com"));
    assert_eq!(u.port(), Some(5061));
    assert_eq!(u.transport(), Some(crate::Transport::Tcp));
    assert!(u.is_loose_router());
    assert_eq!(u.maddr(), Some("239.255.255.1"));
    assert_eq!(u.ttl(), Some(15));
    assert_eq!(u.headers(), Some("subject=project%20x&priority=urgent"));
    assert_eq!(u.to_string(), "sips:alice:secretword@atlanta.com:5061;transport=tcp;lr;maddr=239.255.255.1;ttl=15?subject=project%20x&priority=urgent");
}

#[test]
fn rfc4475_uris() {
    let intmeth = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
    assert_eq!(intmeth.user(), Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
    assert_eq!(intmeth.password(), Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"));
    assert_eq!(intmeth.headers(), None);
    let semi = sip("sip:user;par=u%40example.net@example.com");
    assert_eq!(semi.user_unescaped().as_deref(), Some(&b"user;par=u@example.net"[..]));
    assert!(semi.params().is_empty());
    let esc = sip("sip:sips%3Auser%40example.com@example.net");
    assert_eq!(esc.user_unescaped().as_deref(), Some(&b"sips:user@example.com"[..]));
    let null = sip("sip:null-%00-null@example.com");
    assert_eq!(null.user_unescaped().map(|u| u.len()), Some(11));
    let escaped_route = sip("sip:user@example.com?Route=%3Csip:sip.example.com%3E");
    assert_eq!(escaped_route.headers(), Some("Route=%3Csip:sip.example.com%3E"));
    assert!(matches!(Uri::parse("soap.beep://192.0.2.103:3002"), Ok(Uri::Other { scheme: "soap.beep", .. })));
    assert!(matches!(Uri::parse("nobodyKnowsThisScheme:totallyopaquecontent"), Ok(Uri::Other { .. })));
    assert_eq!(Uri::parse("<sip:user@example.com>"), Err(UriError::AngleBrackets));
    assert_eq!(Uri::parse("sip:user@example.com; lr"), Err(UriError::Whitespace));
    assert!(Uri::parse("isbn:2983792873").is_ok_and(|u| !u.is_supported_scheme()));
}

#[test]
fn rfc5118_ipv6_uris() {
    assert_eq!(sip("sip:[2001:db8::10]").host().ip(), "2001:db8::10".parse().ok());
    assert_eq!(sip("sip:[2001:db8::10]:5070").port(), Some(5070));
    assert_eq!(sip("sip:[2001:db8::10:5070]").port(), None);
    assert!(Uri::parse("sip:[2001:db8:::192.0.2.1]").is_err());
    assert!(Uri::parse("sip:[2001:db8::192.0.2.1]").is_ok());
    assert!(Uri::parse("sip:user@[::ffff:192.0.2.128]").is_ok());
    assert!(Uri::parse("sip:user@2001:db8::10").is_err());
    assert_eq!(sip("sip:user@host;maddr=[2001:db8::20]").maddr(), Some("[2001:db8::20]"));
}

#[test]
fn malformed_uris_are_typed_errors() {
    assert_eq!(Uri::parse(""), Err(UriError::Empty));
    assert_eq!(Uri::parse("nocolon"), Err(UriError::InvalidScheme));
    assert_eq!(Uri::parse("1sip:x"), Err(UriError::InvalidScheme));
    assert!(matches!(Uri::parse("sip:"), Err(UriError::MissingHost)));
    assert!(matches!(Uri::parse("sip:a@b:99999"), Err(UriError::InvalidPort { .. })));
    assert_eq!(Uri::parse("sip:a%2x@b"), Err(UriError::InvalidEscape));
    assert!(Uri::parse("sip:@b").is_err());
    assert!(Uri::parse("sip:a@b;;lr").is_err());
    assert!(Uri::parse("sip:a@b?x").is_err());
}

#[test]
fn tel_uris() {
    match Uri::parse("tel:+1-201-555-0123;ext=42") {
        Ok(Uri::Tel(t)) => {
            assert!(t.is_global());
            assert_eq!(t.digits(), "+12015550123");
            assert_eq!(t.params().value("ext"), Some("42"));
        }
        other => panic!("{other:?}"),
    }
    assert!(Uri::parse("tel:7042;phone-context=example.com").is_ok());
    assert_eq!(Uri::parse("tel:7042"), Err(UriError::InvalidTelNumber));
    assert_eq!(Uri::parse("tel:+"), Err(UriError::InvalidTelNumber));
}

#[test]
fn rfc3261_19_1_4_equivalence() {
    let eq = |a: &str, b: &str| sip(a).equivalent(&sip(b));
    assert!(eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
    assert!(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
    assert!(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;newparam=5"));
    assert!(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com", "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
    assert!(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent", "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
    assert!(!eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
    assert!(!eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
    assert!(!eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
    assert!(!eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
    assert!(!eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
    assert!(!eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"));
}

#[test]
fn rfc3261_19_1_hostport_params_and_headers_split_in_one_pass() {
    let parts = |s: &'static str| {
        let u = sip(s);
        (u.host_str(), u.port(), u.params().as_str(), u.headers())
    };
    assert_eq!(parts("sip:h.example.com"), ("h.example.com", None, "", None));
    assert_eq!(parts("sip:a@h.example.com:5060;lr?x=y"), ("h.example.com", Some(5060), "lr", Some("x=y")));
    assert_eq!(parts("sip:a?b@h.example.com;p=1?x=y"), ("h.example.com", None, "p=1", Some("x=y")));
    assert_eq!(parts("sip:h.example.com?x=1"), ("h.example.com", None, "", Some("x=1")));
    assert_eq!(parts("sip:a:pw@h.example.com:1?x=1"), ("h.example.com", Some(1), "", Some("x=1")));
    assert_eq!(parts("sip:[2001:db8::1]:5070;lr"), ("[2001:db8::1]", Some(5070), "lr", None));
    assert_eq!(parts("sip:[2001:db8::1];lr"), ("[2001:db8::1]", None, "lr", None));
    assert!(matches!(Uri::parse("sip:h.example.com:;lr"), Err(UriError::InvalidPort { .. })));
    assert!(matches!(Uri::parse("sip:h.example.com:5060:1"), Err(UriError::InvalidPort { .. })));
    assert!(Uri::parse("sip:a@").is_err());
}
