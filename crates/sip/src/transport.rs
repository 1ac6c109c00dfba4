//! Transport protocols Causeway sends and receives on (RFC 3261 §18).

use std::fmt;

/// A transport Causeway can listen and send on. Via headers may name others
/// (`SCTP`, `WS`, `UNKNOWN`, ...); see [`crate::header::via::ViaTransport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// UDP: datagrams, unreliable, retransmissions by the transaction layer (RFC 3261 §17.1.1.2).
    Udp,
    /// TCP: a byte stream framed by Content-Length (RFC 3261 §18.3).
    Tcp,
    /// TLS over TCP; a `sips` target requires it (RFC 3261 §26.2).
    Tls,
}

impl Transport {
    /// The token used in a Via header (`SIP/2.0/UDP`), upper case as RFC 3261 §20.42 writes it.
    pub const fn via_token(self) -> &'static str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
            Self::Tls => "TLS",
        }
    }

    /// The value of a `transport=` URI parameter (RFC 3261 §19.1.1), lower case.
    pub const fn uri_param(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }

    /// Reliable transports get no retransmissions (RFC 3261 §17.1.1.2, §17.1.2.2).
    pub const fn is_reliable(self) -> bool {
        !matches!(self, Self::Udp)
    }

    /// Stream transports need Content-Length framing (RFC 3261 §18.3).
    pub const fn is_stream(self) -> bool {
        self.is_reliable()
    }

    /// TLS is the only secure transport here.
    pub const fn is_secure(self) -> bool {
        matches!(self, Self::Tls)
    }

    /// Default port when a URI or Via omits it (RFC 3261 §19.1.2, §18.2.1: 5060, 5061 for TLS).
    pub const fn default_port(self) -> u16 {
        match self {
            Self::Tls => 5061,
            Self::Udp | Self::Tcp => 5060,
        }
    }

    /// Recognise a transport token, case-insensitively (RFC 3261 §7.3.1: tokens compare
    /// case-insensitively unless stated otherwise). `None` for transports Causeway does not run.
    pub fn from_token(token: &str) -> Option<Self> {
        if token.eq_ignore_ascii_case("udp") {
            Some(Self::Udp)
        } else if token.eq_ignore_ascii_case("tcp") {
            Some(Self::Tcp)
        } else if token.eq_ignore_ascii_case("tls") {
            Some(Self::Tls)
        } else {
            None
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.via_token())
    }
}

#[cfg(test)]
mod tests {
    use super::Transport;

    #[test]
    fn tokens_are_case_insensitive() {
        assert_eq!(Transport::from_token("tLs"), Some(Transport::Tls));
        assert_eq!(Transport::from_token("SCTP"), None);
        assert_eq!(Transport::Tls.default_port(), 5061);
        assert!(!Transport::Udp.is_reliable());
        assert_eq!(Transport::Tcp.to_string(), "TCP");
    }
}
