//! Who "we" are on the wire: the listeners with their advertised names, the Via sent-by and
//! Record-Route URI each one writes, and the checks "does this URI / Via name this node"
//! that §16.3 step 4 (loops), §16.4 (Route) and OPTIONS-to-self need. Built once from the
//! config; every check is a few string compares, no allocation.

use std::net::{IpAddr, SocketAddr};

use causeway_policy::seal::RouteKey;
use causeway_sip::uri::{Host, SipUri};
use causeway_sip::Transport;

use crate::api::FlowId;
use crate::config::{advertised_host, ProxyConfig};

/// User part prefix of a Record-Route URI that carries the inbound connection (RFC 5626 §5.3
/// style flow token): `cwf-` + 16 hex digits of the [`FlowId`].
const FLOW_USER_PREFIX: &str = "cwf-";

/// One listener, with the strings it writes precomputed.
#[derive(Debug, Clone)]
pub(crate) struct Listener {
    pub(crate) transport: Transport,
    pub(crate) local: SocketAddr,
    host: String,
    host_ip: Option<IpAddr>,
    port: u16,
    /// `SIP/2.0/UDP host:port;branch=` (RFC 3261 §16.6 step 8).
    pub(crate) via_prefix: String,
}

impl Listener {
    /// The Record-Route value for this listener (RFC 3261 §16.6 step 4: our URI with `lr`;
    /// the transport is explicit so in-dialog requests come back over the right one),
    /// written into `out`. A stream listener's entry may carry the connection to reuse. `host`
    /// replaces the advertised host (a trunk zone's FQDN, one of this node's domains). With
    /// `seal` the entry carries the dialog's seal (see [`RrSeal`]).
    pub(crate) fn write_record_route(&self, host: Option<&str>, flow: Option<FlowId>, seal: Option<&RrSeal<'_>>, out: &mut String) {
        out.push_str("<sip:");
        if let Some(flow) = flow {
            out.push_str(FLOW_USER_PREFIX);
            push_hex(out, flow.0);
            out.push('@');
        }
        out.push_str(host.unwrap_or(&self.host));
        out.push(':');
        push_u16(out, self.port);
        out.push_str(";transport=");
        out.push_str(self.transport.uri_param());
        if let Some(seal) = seal {
            out.push(';');
            out.push_str(SEAL_PARAM);
            out.push('=');
            let text = seal.key.seal(seal.call_id, flow.map(|f| f.0));
            out.extend(text.iter().map(|&b| char::from(b)));
        }
        out.push_str(";lr>");
    }

    /// The host this listener advertises (Via sent-by, Record-Route).
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The port this listener advertises.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    fn names(&self, host: &Host<'_>, port: u16) -> bool {
        let host_matches = match host {
            Host::Name(n) => n.trim_end_matches('.').eq_ignore_ascii_case(&self.host),
            other => other.ip().is_some_and(|ip| Some(ip) == self.host_ip || ip == self.local.ip()),
        };
        host_matches && (port == self.port || port == self.local.port())
    }
}

fn push_hex(out: &mut String, v: u64) {
    for shift in (0..16).rev() {
        let nibble = ((v >> (shift * 4)) & 0xf) as u32;
        out.push(char::from_digit(nibble, 16).unwrap_or('0'));
    }
}

/// Append a decimal number without the formatting machinery.
pub(crate) fn push_u16(out: &mut String, v: u16) {
    let mut buf = [0u8; 5];
    let mut i = buf.len();
    let mut n = v;
    loop {
        i -= 1;
        if let Some(d) = buf.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or_default().iter().for_each(|&b| out.push(char::from(b)));
}

/// URI parameter of our Record-Route entries that carries the dialog's seal.
const SEAL_PARAM: &str = "cws";

/// What seals a Record-Route entry: the node's key and the dialog's Call-ID. Only a request whose
/// Route to us carries the seal of its own Call-ID follows our Record-Route (RFC 3261 §16.12);
/// a Route naming us without it is anyone's to write, and gets no pass through the gate.
pub(crate) struct RrSeal<'a> {
    pub(crate) key: &'a RouteKey,
    pub(crate) call_id: &'a [u8],
}

impl RrSeal<'_> {
    /// Whether `uri` (one of our Record-Route entries, come back as a Route or, after a strict
    /// router, as the Request-URI) carries this dialog's seal for the flow token it names.
    pub(crate) fn verifies(&self, uri: &SipUri<'_>) -> bool {
        uri.params().value(SEAL_PARAM).is_some_and(|presented| self.key.verify(self.call_id, flow_of(uri).map(|f| f.0), presented))
    }
}

/// The flow token of one of our Record-Route URIs, if its user part carries one.
pub(crate) fn flow_of(uri: &SipUri<'_>) -> Option<FlowId> {
    let hex = uri.user()?.strip_prefix(FLOW_USER_PREFIX)?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok().map(FlowId)
}

/// All the names of this node.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    listeners: Vec<Listener>,
    domains: Vec<String>,
}

impl Identity {
    pub(crate) fn new(config: &ProxyConfig) -> Self {
        let listeners = config
            .listeners
            .iter()
            .map(|l| {
                let host = advertised_host(l);
                let port = l.advertised_port.unwrap_or(l.local.port());
                let host_ip = Host::parse(&host).ok().and_then(|h| h.ip());
                let mut via_prefix = String::with_capacity(host.len() + 32);
                via_prefix.push_str("SIP/2.0/");
                via_prefix.push_str(l.transport.via_token());
                via_prefix.push(' ');
                via_prefix.push_str(&host);
                via_prefix.push(':');
                push_u16(&mut via_prefix, port);
                via_prefix.push_str(";branch=");
                Listener { transport: l.transport, local: l.local, host, host_ip, port, via_prefix }
            })
            .collect();
        let domains = config.domains.iter().map(|d| d.trim_end_matches('.').to_ascii_lowercase()).collect();
        Self { listeners, domains }
    }

    pub(crate) fn listener(&self, index: usize) -> Option<&Listener> {
        self.listeners.get(index)
    }

    /// The listener a message arrived on.
    pub(crate) fn arrival(&self, local: SocketAddr, transport: Transport) -> Option<usize> {
        self.listeners.iter().position(|l| l.local == local && l.transport == transport)
    }

    /// The listener to send over `transport` from: the preferred one if it runs that
    /// transport, else the first listener that does.
    pub(crate) fn egress(&self, transport: Transport, preferred: Option<usize>) -> Option<usize> {
        preferred
            .filter(|&i| self.listeners.get(i).is_some_and(|l| l.transport == transport))
            .or_else(|| self.listeners.iter().position(|l| l.transport == transport))
    }

    /// The listener `host[:port]` names: its name or address with its port (`default_port`
    /// when none is given), or one of this node's domains with its port (a Record-Route entry
    /// naming a trunk zone's FQDN). Among listeners sharing an address (UDP and TCP on one
    /// port), the one running `transport` is preferred.
    fn names(&self, host: &Host<'_>, port: Option<u16>, transport: Transport) -> Option<usize> {
        let port = port.unwrap_or(transport.default_port());
        let domain = self.is_domain(host);
        let mut found =
            self.listeners.iter().enumerate().filter(|(_, l)| l.names(host, port) || (domain && port == l.port));
        let first = found.next()?;
        std::iter::once(first).chain(found).find(|(_, l)| l.transport == transport).or(Some(first)).map(|(i, _)| i)
    }

    fn is_domain(&self, host: &Host<'_>) -> bool {
        match host {
            Host::Name(n) => {
                let n = n.trim_end_matches('.');
                self.domains.iter().any(|d| d.eq_ignore_ascii_case(n))
            }
            _ => false,
        }
    }

    /// The listener a SIP URI names (its `maddr` if any, else its host), or `None`.
    pub(crate) fn listener_named_by(&self, uri: &SipUri<'_>) -> Option<usize> {
        let transport = match uri.transport() {
            Some(t) => t,
            None if uri.is_sips() => Transport::Tls,
            None => Transport::Udp,
        };
        match uri.maddr().and_then(|m| Host::parse(m).ok()) {
            Some(maddr) => self.names(&maddr, uri.port(), transport),
            None => self.names(&uri.host(), uri.port(), transport),
        }
    }

    /// True if a SIP URI names this node (RFC 3261 §16.4, §16.5).
    pub(crate) fn is_ours(&self, uri: &SipUri<'_>) -> bool {
        self.is_domain(&uri.host()) || self.listener_named_by(uri).is_some()
    }

    /// The listener whose Via sent-by this is, if this node wrote it (§16.3 step 4, §18.1.2).
    pub(crate) fn sent_by_listener(&self, host: &Host<'_>, port: Option<u16>, transport: Transport) -> Option<usize> {
        self.names(host, port, transport)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ListenerConfig;
    use causeway_sip::Uri;

    fn identity() -> Identity {
        let mut c = ProxyConfig::with_listeners([
            (Transport::Udp, SocketAddr::from(([127, 0, 0, 1], 5070))),
            (Transport::Tls, SocketAddr::from(([127, 0, 0, 1], 5071))),
        ]);
        c.listeners.push(ListenerConfig {
            transport: Transport::Tcp,
            local: SocketAddr::from(([0, 0, 0, 0], 5060)),
            advertised_host: Some("edge.example.com".into()),
            advertised_port: None,
        });
        c.domains.push("Example.COM".into());
        Identity::new(&c)
    }

    fn sip(s: &'static str) -> SipUri<'static> {
        Uri::parse(s).ok().and_then(|u| u.as_sip().copied()).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn ip_uris_are_ours_only_with_our_port() {
        let id = identity();
        assert!(id.is_ours(&sip("sip:127.0.0.1:5070;lr")));
        assert!(!id.is_ours(&sip("sip:127.0.0.1:5080")));
        assert!(!id.is_ours(&sip("sip:127.0.0.1")));
        assert!(id.is_ours(&sip("sip:bob@example.com:9999")));
        assert!(id.is_ours(&sip("sip:EDGE.example.com;transport=tcp")));
        assert!(!id.is_ours(&sip("sip:x@192.0.2.1;maddr=127.0.0.1;transport=tls")), "maddr names us on the wrong port");
        assert!(id.is_ours(&sip("sip:x@192.0.2.1:5071;maddr=127.0.0.1;transport=tls")), "maddr names us");
        assert!(id.is_ours(&sip("sips:127.0.0.1:5071")));
    }

    #[test]
    fn via_prefix_and_record_route_name_the_listener() {
        let id = identity();
        let udp = id.listener(0).map(|l| l.via_prefix.clone());
        assert_eq!(udp.as_deref(), Some("SIP/2.0/UDP 127.0.0.1:5070;branch="));
        let mut rr = String::new();
        if let Some(l) = id.listener(2) {
            l.write_record_route(None, Some(FlowId(0xab)), None, &mut rr);
        }
        assert_eq!(rr, "<sip:cwf-00000000000000ab@edge.example.com:5060;transport=tcp;lr>");
        let uri = sip("sip:cwf-00000000000000ab@edge.example.com:5060;transport=tcp;lr");
        assert_eq!(flow_of(&uri), Some(FlowId(0xab)));
        assert_eq!(id.listener_named_by(&uri), Some(2));
    }

    #[test]
    fn egress_prefers_the_arrival_listener_of_the_same_transport() {
        let id = identity();
        assert_eq!(id.egress(Transport::Udp, Some(0)), Some(0));
        assert_eq!(id.egress(Transport::Tls, Some(0)), Some(1));
        assert_eq!(id.arrival(SocketAddr::from(([127, 0, 0, 1], 5071)), Transport::Tls), Some(1));
        let mut n = String::new();
        push_u16(&mut n, 0);
        push_u16(&mut n, 65535);
        assert_eq!(n, "065535");
    }
}
