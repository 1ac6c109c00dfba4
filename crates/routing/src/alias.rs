//! Aliases — the strings transforms and search rules match — and the way back from a rewritten
//! alias to a Request-URI.
//!
//! An alias is what call policy matches too ([`causeway_policy::Address::alias`]): `user@host`,
//! the host alone when there is no user part, or a `tel:` number; no scheme, port or URI
//! parameters; user part percent-decoded, host lower-cased. With Route-header routing (flow F2)
//! the alias is the Route's host (`us-cm-pub.ent-pa.com`).

use std::fmt::Write as _;

use causeway_policy::Address;
use causeway_sip::header::addr::NameAddr;
use causeway_sip::uri::{Host, Uri};
use causeway_sip::Transport;

use crate::table::ContactParam;

/// The parts of `uri` that call policy and routing look at.
pub fn address_of(uri: &Uri<'_>) -> Address {
    match uri {
        Uri::Sip(u) => {
            let address = Address::new(uri.scheme(), u.user(), Some(u.host_str()));
            let address = match u.port() {
                Some(port) => address.with_port(port),
                None => address,
            };
            if u.user_param().is_some_and(|p| p.eq_ignore_ascii_case("phone")) {
                address.with_user_phone()
            } else {
                address
            }
        }
        Uri::Tel(t) => Address::tel(t.number()),
        Uri::Other { scheme, rest } => Address::new(scheme, Some(rest), None),
    }
}

/// The [`Address`] a rewritten alias stands for, for call policy: `user@host`; a bare alias is a
/// host when it came from a Route, a number for `tel:` URIs, a user part otherwise.
pub(crate) fn alias_address(alias: &str, original: &Uri<'_>, from_route: bool) -> Address {
    match alias.rsplit_once('@') {
        Some((user, host)) => Address::new(sip_scheme(original), Some(user), Some(host)),
        None if from_route => Address::new("sip", None, Some(alias)),
        None if matches!(original, Uri::Tel(_)) => Address::tel(alias),
        None => Address::new(original.scheme(), Some(alias), None),
    }
}

fn sip_scheme(uri: &Uri<'_>) -> &'static str {
    match uri {
        Uri::Sip(u) if u.is_sips() => "sips",
        _ => "sip",
    }
}

/// The Request-URI after the alias of `original` was rewritten to `alias`. Port and URI
/// parameters are kept; a bare alias replaces the user part when the URI had one, the host
/// otherwise. `None` for URIs this crate cannot rewrite (other schemes).
pub(crate) fn rebuild_request_uri(original: &Uri<'_>, alias: &str) -> Option<String> {
    let mut out = String::new();
    match original {
        Uri::Sip(u) => {
            out.push_str(sip_scheme(original));
            out.push(':');
            let (user, host) = match alias.rsplit_once('@') {
                Some((user, host)) => (Some(user), host),
                None if u.user().is_some() => (Some(alias), u.host_str()),
                None => (None, alias),
            };
            if let Some(user) = user {
                escape_user(&mut out, user);
                out.push('@');
            }
            out.push_str(host);
            let same_host = Host::parse(host).is_ok_and(|h| h.matches(&u.host()));
            if let (Some(port), true) = (u.port(), same_host) {
                let _ = write!(out, ":{port}");
            }
            if !u.params().is_empty() {
                out.push(';');
                out.push_str(u.params().as_str());
            }
        }
        Uri::Tel(t) => match alias.rsplit_once('@') {
            Some((user, host)) => {
                out.push_str("sip:");
                escape_user(&mut out, user);
                out.push('@');
                out.push_str(host);
            }
            None => {
                out.push_str("tel:");
                escape_user(&mut out, alias);
                if !t.params().is_empty() {
                    out.push(';');
                    out.push_str(t.params().as_str());
                }
            }
        },
        Uri::Other { .. } => return None,
    }
    Uri::parse(&out).is_ok().then_some(out)
}

/// RFC 3261 §25.1 `user`: unreserved and user-unreserved characters stay, the rest is escaped.
fn escape_user(out: &mut String, user: &str) {
    for b in user.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()&=+$,;?/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Whether the alias names an IP address (`10.0.0.1`, `bob@10.0.0.1`, `[2001:db8::1]`): Expressway's
/// "any alias" mode leaves those to IP-address dialling.
pub(crate) fn is_ip_alias(alias: &str) -> bool {
    let host = alias.rsplit_once('@').map_or(alias, |(_, h)| h);
    matches!(Host::parse(host), Ok(Host::V4(_) | Host::V6(_))) || host.parse::<std::net::IpAddr>().is_ok()
}

/// The host a Route value names (`<sip:us-cm-pub.ent-pa.com;lr>` → `us-cm-pub.ent-pa.com`).
pub(crate) fn route_host(route: &str) -> Option<String> {
    let addr = NameAddr::parse(route).ok()?;
    let uri = addr.uri().ok()?;
    uri.as_sip().map(|u| u.host_str().to_ascii_lowercase())
}

/// Whether `route` names this node: its host is one of `local_hosts` (`host` or `host:port`;
/// with a port, the Route's port — or its transport's default — must match too).
pub(crate) fn route_is_local(route: &str, local_hosts: &[String]) -> bool {
    let Some(uri) = NameAddr::parse(route).ok().and_then(|a| a.uri().ok()) else { return false };
    let Some(sip) = uri.as_sip() else { return false };
    let fallback = if sip.is_sips() { Transport::Tls } else { Transport::Udp };
    let port = sip.port().unwrap_or_else(|| sip.transport().unwrap_or(fallback).default_port());
    local_hosts.iter().any(|local| {
        let local_uri = format!("sip:{local}");
        let Ok(Uri::Sip(l)) = Uri::parse(&local_uri) else { return false };
        l.host().matches(&sip.host()) && l.port().is_none_or(|p| p == port)
    })
}

/// The first of `params` the Contact value carries, as a header parameter
/// (`<sip:l2sip@10.10.10.10:5062;transport=tls>;call-type=squared`).
pub(crate) fn contact_carries<'p>(contact: &str, params: &'p [ContactParam]) -> Option<&'p ContactParam> {
    let addr = NameAddr::parse(contact).ok()?;
    let carried = addr.params();
    params.iter().find(|p| match carried.get(&p.name) {
        Some(value) => p.value.as_deref().is_none_or(|want| value.is_some_and(|v| v.trim_matches('"').eq_ignore_ascii_case(want))),
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri<'_> {
        match Uri::parse(s) {
            Ok(u) => u,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn aliases_are_user_at_host_without_port_or_params() {
        assert_eq!(address_of(&uri("sip:Bob@ENT-PA.com:5060;transport=tcp")).alias(), "Bob@ent-pa.com");
        assert_eq!(address_of(&uri("sip:%39011@x.com")).alias(), "9011@x.com");
        assert_eq!(address_of(&uri("tel:+1-212-555-0100")).alias(), "+1-212-555-0100");
        assert_eq!(address_of(&uri("sips:cucm.ent-pa.com")).alias(), "cucm.ent-pa.com");
    }

    #[test]
    fn rewritten_alias_keeps_port_and_params_of_the_same_host() {
        let u = uri("sip:bob@ent-pa.local:5070;transport=tcp");
        assert_eq!(rebuild_request_uri(&u, "bob@ent-pa.local").as_deref(), Some("sip:bob@ent-pa.local:5070;transport=tcp"));
        assert_eq!(rebuild_request_uri(&u, "bob@ent-pa.com").as_deref(), Some("sip:bob@ent-pa.com;transport=tcp"));
        assert_eq!(rebuild_request_uri(&u, "9123").as_deref(), Some("sip:9123@ent-pa.local:5070;transport=tcp"));
        assert_eq!(rebuild_request_uri(&uri("sip:cucm.x"), "cucm.y").as_deref(), Some("sip:cucm.y"));
        assert_eq!(rebuild_request_uri(&uri("tel:+4420;phone-context=x"), "+4421").as_deref(), Some("tel:+4421;phone-context=x"));
        assert_eq!(rebuild_request_uri(&uri("tel:+4420"), "+4420@gw.x").as_deref(), Some("sip:+4420@gw.x"));
        assert_eq!(rebuild_request_uri(&uri("sip:a@x"), "a b@x").as_deref(), Some("sip:a%20b@x"));
        assert_eq!(rebuild_request_uri(&uri("sip:a@x"), "a@bad host"), None);
        assert_eq!(rebuild_request_uri(&uri("urn:service:sos"), "x"), None);
    }

    #[test]
    fn ip_aliases() {
        assert!(is_ip_alias("10.0.0.1") && is_ip_alias("bob@10.0.0.1") && is_ip_alias("[2001:db8::1]") && is_ip_alias("x@2001:db8::1"));
        assert!(!is_ip_alias("bob@ent-pa.com") && !is_ip_alias("9011") && !is_ip_alias("us-cm-pub.ent-pa.com"));
    }

    #[test]
    fn routes_and_contacts() {
        assert_eq!(route_host("<sip:us-cm-pub.ent-pa.com;lr>").as_deref(), Some("us-cm-pub.ent-pa.com"));
        assert_eq!(route_host("garbage <"), None);
        let local = vec!["20.20.20.20".to_owned(), "edge.ent-pa.com:5061".to_owned()];
        assert!(route_is_local("<sip:l2sip@20.20.20.20:5062;transport=tls;lr>", &local));
        assert!(route_is_local("<sips:EDGE.ent-pa.com;lr>", &local));
        assert!(!route_is_local("<sip:edge.ent-pa.com:5060;lr>", &local));
        assert!(route_is_local("<sip:edge.ent-pa.com;transport=tls;lr>", &local));
        assert!(!route_is_local("<sip:us-cm-pub.ent-pa.com;lr>", &local));
        let squared = [ContactParam { name: "call-type".into(), value: Some("squared".into()) }];
        let c = "\"l2sip\" <sip:l2sip@10.10.10.10:5062;transport=tls>;call-type=squared";
        assert_eq!(contact_carries(c, &squared), squared.first());
        assert_eq!(contact_carries("<sip:l2sip@10.10.10.10;call-type=squared>", &squared), None);
        assert_eq!(contact_carries("<sip:a@b>;call-type=other", &squared), None);
        let any = [ContactParam { name: "call-type".into(), value: None }];
        assert_eq!(contact_carries("<sip:a@b>;call-type=other", &any), any.first());
    }
}
