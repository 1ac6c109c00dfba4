//! Checking `next_hop = "sip:127.0.0.1:5080;transport=udp"` with causeway-sip's URI parser.
//!
//! The static table takes only what it can send to without DNS: a `sip:` or `sips:` URI with an IP
//! literal host (IPv6 in brackets, RFC 5118), an optional port and an optional `transport=` parameter.

use std::net::SocketAddr;

use causeway_sip::uri::{Host, Uri};

use crate::error::{NextHopProblem, Reason};
use crate::settings::{NextHop, Transport};

/// Parse and resolve a next-hop URI.
pub(crate) fn parse(uri: &str) -> Result<NextHop, Reason> {
    let bad = |problem| Reason::BadNextHop { uri: uri.to_owned(), problem };
    let sip = match Uri::parse(uri) {
        Ok(Uri::Sip(sip)) => sip,
        Ok(Uri::Tel(_) | Uri::Other { .. }) => return Err(bad(NextHopProblem::Scheme)),
        Err(error) => return Err(bad(NextHopProblem::Syntax(error))),
    };
    if sip.user().is_some() {
        return Err(bad(NextHopProblem::UserPart));
    }
    if sip.headers().is_some() {
        return Err(bad(NextHopProblem::Headers));
    }
    // RFC 3263 §4.1: with a numeric host and no transport parameter, UDP for sip and TLS for sips.
    let transport = match (sip.params().value("transport"), sip.transport()) {
        (_, Some(transport)) => transport,
        (Some(_), None) => return Err(bad(NextHopProblem::Transport)),
        (None, None) if sip.is_sips() => Transport::Tls,
        (None, None) => Transport::Udp,
    };
    // RFC 3261 §26.2.2: a sips URI is reached over TLS only.
    if sip.is_sips() && transport != Transport::Tls {
        return Err(bad(NextHopProblem::SipsNotTls));
    }
    let port = match sip.port() {
        Some(0) => return Err(bad(NextHopProblem::Port)),
        Some(port) => port,
        None => transport.default_port(),
    };
    let ip = sip.host().ip().ok_or_else(|| Reason::UnresolvableNextHop { host: sip.host_str().to_owned() })?;
    Ok(NextHop { uri: uri.to_owned(), address: SocketAddr::new(ip, port), transport })
}

/// A host name (not an IP address), as RFC 3261 §25.1 `hostname` allows.
pub(crate) fn is_hostname(text: &str) -> bool {
    matches!(Host::parse(text), Ok(Host::Name(_)))
}

/// A host name or an IP address (IPv6 in brackets or bare).
pub(crate) fn is_host(text: &str) -> bool {
    Host::parse(text).is_ok() || text.parse::<std::net::Ipv6Addr>().is_ok()
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

    fn problem(uri: &str) -> String {
        match parse(uri) {
            Err(Reason::BadNextHop { problem, .. }) => problem.to_string(),
            other => panic!("{uri}: expected BadNextHop, got {other:?}"),
        }
    }

    #[test]
    fn ip_literal_with_port_and_transport() {
        let hop = ok("sip:127.0.0.1:5080;transport=tcp");
        assert_eq!(hop.address, SocketAddr::from(([127, 0, 0, 1], 5080)));
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
        assert_eq!(ok("sip:[::1]:5070;lr;transport=TLS").transport, Transport::Tls);
    }

    #[test]
    fn malformed_next_hops_name_the_fault() {
        assert_eq!(problem("tel:+15551234"), "the scheme must be sip or sips");
        assert_eq!(problem("sip:bob@127.0.0.1"), "a next hop names a host, not a user (remove `user@`)");
        assert_eq!(problem("sip:127.0.0.1:0"), "the port must be 1-65535");
        assert_eq!(problem("sip:127.0.0.1;transport=sctp"), "transport must be udp, tcp or tls");
        assert_eq!(problem("sips:127.0.0.1;transport=udp"), "a sips URI needs transport=tls");
        assert_eq!(problem("sip:127.0.0.1?Route=x"), "URI headers (`?…`) are not allowed");
        assert!(problem("sip:[::1:5060").starts_with("malformed URI: "));
        assert!(problem("sip:").starts_with("malformed URI: "));
    }

    #[test]
    fn host_names_need_dns_which_the_static_table_lacks() {
        assert!(matches!(
            parse("sip:proxy.example.com:5060"),
            Err(Reason::UnresolvableNextHop { host }) if host == "proxy.example.com"
        ));
    }
}
