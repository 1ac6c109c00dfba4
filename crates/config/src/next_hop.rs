//! Parsing `next_hop = "sip:127.0.0.1:5080;transport=udp"`.
//!
//! The static table takes only what it can send to without DNS: `sip:` or `sips:`, an IP literal (IPv6 in
//! brackets, RFC 5118 §4), an optional port, and `;transport=` among other URI parameters (RFC 3261 §19.1.1).

use std::net::{IpAddr, SocketAddr};

use crate::error::{NextHopProblem, Reason};
use crate::settings::{NextHop, Transport};

/// Parse and resolve a next-hop URI.
pub(crate) fn parse(uri: &str) -> Result<NextHop, Reason> {
    let bad = |problem| Reason::BadNextHop { uri: uri.to_owned(), problem };
    let (secure, rest) = split_scheme(uri).ok_or_else(|| bad(NextHopProblem::Scheme))?;
    if rest.contains('?') {
        return Err(bad(NextHopProblem::Headers));
    }
    let (hostport, params) = rest.split_once(';').unwrap_or((rest, ""));
    if hostport.contains('@') {
        return Err(bad(NextHopProblem::UserPart));
    }
    if hostport.is_empty() {
        return Err(bad(NextHopProblem::NoHost));
    }
    let (host, port) = split_port(hostport).ok_or_else(|| bad(NextHopProblem::Host))?;
    let transport = match transport_param(params) {
        Some(name) => Transport::from_token(name).ok_or_else(|| bad(NextHopProblem::Transport))?,
        None if secure => Transport::Tls,
        None => Transport::Udp,
    };
    // RFC 3261 §26.2.2: a sips URI is reached over TLS only.
    if secure && transport != Transport::Tls {
        return Err(bad(NextHopProblem::SipsNotTls));
    }
    let port = match port {
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => return Err(bad(NextHopProblem::Port)),
        },
        None => transport.default_port(),
    };
    let ip = parse_host(host).map_err(|()| bad(NextHopProblem::Host))?.ok_or_else(|| {
        Reason::UnresolvableNextHop { host: host.to_owned() }
    })?;
    Ok(NextHop { uri: uri.to_owned(), address: SocketAddr::new(ip, port), transport })
}

/// `sip:` or `sips:` (schemes are case-insensitive, RFC 3261 §19.1.4). Returns whether it is `sips`.
fn split_scheme(uri: &str) -> Option<(bool, &str)> {
    let (scheme, rest) = uri.split_once(':')?;
    if scheme.eq_ignore_ascii_case("sip") {
        Some((false, rest))
    } else if scheme.eq_ignore_ascii_case("sips") {
        Some((true, rest))
    } else {
        None
    }
}

/// `host[:port]` or `[v6][:port]`.
fn split_port(hostport: &str) -> Option<(&str, Option<&str>)> {
    if let Some(v6) = hostport.strip_prefix('[') {
        let (inner, after) = v6.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        // Keep the brackets out: the host is the IPv6 address itself.
        return Some((inner, port)).filter(|(inner, _)| !inner.is_empty());
    }
    match hostport.split_once(':') {
        Some((host, port)) => Some((host, Some(port))),
        None => Some((hostport, None)),
    }
}

/// The value of the `transport` URI parameter; parameter names are case-insensitive (RFC 3261 §19.1.4).
fn transport_param(params: &str) -> Option<&str> {
    params.split(';').find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim().eq_ignore_ascii_case("transport").then_some(value.trim())
    })
}

/// An IP literal, `Ok(None)` for a well-formed host name (which needs DNS), `Err` for anything else.
fn parse_host(host: &str) -> Result<Option<IpAddr>, ()> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Some(ip));
    }
    if is_hostname(host) {
        Ok(None)
    } else {
        Err(())
    }
}

/// RFC 3261 §25.1 `hostname`: dot-separated labels of alphanumerics and `-`, not starting or ending in `-`.
pub(crate) fn is_hostname(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(uri: &str) -> NextHop {
        match parse(uri) {
            Ok(hop) => hop,
            Err(e) => panic!("{uri}: {e}"),
        }
    }

    fn problem(uri: &str) -> NextHopProblem {
        match parse(uri) {
            Err(Reason::BadNextHop { problem, .. }) => problem,
            other => panic!("{uri}: expected BadNextHop, got {other:?}"),
        }
    }

    #[test]
    fn ip_literal_with_port_and_transport() {
        let hop = ok("sip:127.0.0.1:5080;transport=tcp");
        assert_eq!(hop.address, "127.0.0.1:5080".parse().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(hop.transport, Transport::Tcp);
    }

    #[test]
    fn rfc3263_defaults_udp_for_sip_and_tls_for_sips() {
        assert_eq!(ok("sip:10.0.0.1").transport, Transport::Udp);
        assert_eq!(ok("sip:10.0.0.1").address.port(), 5060);
        let hop = ok("SIPS:[::1];lr");
        assert_eq!(hop.transport, Transport::Tls);
        assert_eq!(hop.address.port(), 5061);
        assert!(hop.address.is_ipv6());
    }

    #[test]
    fn transport_param_is_case_insensitive_among_others() {
        assert_eq!(ok("sip:[::1]:5070;lr;Transport=TLS").transport, Transport::Tls);
    }

    #[test]
    fn malformed_next_hops_name_the_fault() {
        assert_eq!(problem("tel:+15551234"), NextHopProblem::Scheme);
        assert_eq!(problem("sip:"), NextHopProblem::NoHost);
        assert_eq!(problem("sip:bob@127.0.0.1"), NextHopProblem::UserPart);
        assert_eq!(problem("sip:127.0.0.1:0"), NextHopProblem::Port);
        assert_eq!(problem("sip:127.0.0.1:70000"), NextHopProblem::Port);
        assert_eq!(problem("sip:127.0.0.1;transport=sctp"), NextHopProblem::Transport);
        assert_eq!(problem("sips:127.0.0.1;transport=udp"), NextHopProblem::SipsNotTls);
        assert_eq!(problem("sip:[::1:5060"), NextHopProblem::Host);
        assert_eq!(problem("sip:bad_host!"), NextHopProblem::Host);
        assert_eq!(problem("sip:127.0.0.1?Route=x"), NextHopProblem::Headers);
    }

    #[test]
    fn host_names_need_dns_which_the_static_table_lacks() {
        assert!(matches!(
            parse("sip:proxy.example.com:5060"),
            Err(Reason::UnresolvableNextHop { host }) if host == "proxy.example.com"
        ));
    }
}
