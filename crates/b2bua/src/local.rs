//! The node's listeners as the engine writes them: the address in our Via sent-by
//! (RFC 3261 §18.1.1) and in our Contact URIs, per transport.

use std::net::{IpAddr, SocketAddr};

use causeway_proxy::ListenerConfig;
use causeway_sip::Transport;

/// One listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Local {
    pub(crate) transport: Transport,
    /// The bound address (what a Transmit's `local` names).
    pub(crate) local: SocketAddr,
    /// Host written on the wire (IPv6 in brackets).
    host: String,
    port: u16,
}

impl Local {
    /// Our Via for a request sent from here (RFC 3261 §18.1.1, RFC 3581 `rport`).
    pub(crate) fn via(&self, branch: &str) -> String {
        format!("SIP/2.0/{} {}:{};branch={branch};rport", self.transport.via_token(), self.host, self.port)
    }

    /// `<sip:user@host:port;transport=x>`: our Contact value naming this listener, written once
    /// per dialog (every request and response of the dialog borrows it).
    pub(crate) fn contact(&self, user: impl std::fmt::Display) -> String {
        format!("<sip:{user}@{}:{};transport={}>", self.host, self.port, self.transport.uri_param())
    }
}

/// Every listener.
#[derive(Debug, Clone, Default)]
pub(crate) struct Locals(Vec<Local>);

impl Locals {
    pub(crate) fn new(listeners: &[ListenerConfig]) -> Self {
        Self(
            listeners
                .iter()
                .map(|l| {
                    let host = l.advertised_host.clone().unwrap_or_else(|| match l.local.ip() {
                        IpAddr::V4(v4) => v4.to_string(),
                        IpAddr::V6(v6) => format!("[{v6}]"),
                    });
                    Local { transport: l.transport, local: l.local, host, port: l.advertised_port.unwrap_or(l.local.port()) }
                })
                .collect(),
        )
    }

    /// The listener to send over `transport` from: the one bound at `preferred` if it runs that
    /// transport, else the first that does.
    pub(crate) fn egress(&self, transport: Transport, preferred: Option<SocketAddr>) -> Option<&Local> {
        let mut of_transport = self.0.iter().filter(|l| l.transport == transport);
        let first = of_transport.clone().next();
        of_transport.find(|l| Some(l.local) == preferred).or(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_and_contact_name_the_listener() {
        let udp = ListenerConfig::new(Transport::Udp, SocketAddr::from(([127, 0, 0, 1], 5060)));
        let mut tls = ListenerConfig::new(Transport::Tls, SocketAddr::from(([0, 0, 0, 0], 5061)));
        tls.advertised_host = Some("edge.example.com".into());
        let locals = Locals::new(&[udp, tls]);
        let l = locals.egress(Transport::Tls, None).map(|l| l.via("z9hG4bKcb1"));
        assert_eq!(l.as_deref(), Some("SIP/2.0/TLS edge.example.com:5061;branch=z9hG4bKcb1;rport"));
        let c = locals.egress(Transport::Udp, None).map(|l| l.contact("cwb-1"));
        assert_eq!(c.as_deref(), Some("<sip:cwb-1@127.0.0.1:5060;transport=udp>"));
        assert!(locals.egress(Transport::Tcp, None).is_none());
    }
}
