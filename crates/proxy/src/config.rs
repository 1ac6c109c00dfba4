//! The proxy core's own configuration: validated engine input, no TOML (causeway-config turns
//! the file into this, causeway-node hands it to [`crate::Core::new`]).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use causeway_sip::Transport;

/// One listener as the core sees it: where it is bound and what name it goes by on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerConfig {
    /// Transport of the listener.
    pub transport: Transport,
    /// The bound address (what [`crate::Inbound::local`] reports).
    pub local: SocketAddr,
    /// Host (name or IP literal) written in Via `sent-by` and Record-Route for this listener;
    /// `None` uses the IP of `local`, which then must not be unspecified (0.0.0.0, ::).
    pub advertised_host: Option<String>,
    /// Port written with `advertised_host`; `None` uses the port of `local`.
    pub advertised_port: Option<u16>,
}

impl ListenerConfig {
    /// A listener advertised under its own address.
    pub fn new(transport: Transport, local: SocketAddr) -> Self {
        Self { transport, local, advertised_host: None, advertised_port: None }
    }
}

/// RFC 3261 §16.6 step 11: Timer C "MUST be set to a value greater than 3 minutes".
pub const MIN_TIMER_C: Duration = Duration::from_secs(180);

/// Transaction timer base values (RFC 3261 §17.1.1.1, Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// T1, RTT estimate (default 500 ms).
    pub t1: Duration,
    /// T2, retransmit cap (default 4 s).
    pub t2: Duration,
    /// T4, network lifetime of a message (default 5 s).
    pub t4: Duration,
    /// Timer C of a proxied INVITE branch (§16.6 step 11; default 3 minutes).
    pub timer_c: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            timer_c: MIN_TIMER_C,
        }
    }
}

/// Everything the proxy core needs to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// Our listeners; at least one.
    pub listeners: Vec<ListenerConfig>,
    /// Extra host names and domains this node answers for (Request-URI / Route hosts that
    /// mean "us" besides the listener addresses), compared case-insensitively, any port.
    pub domains: Vec<String>,
    /// `Server` header of responses we generate; `None` sends none. The default names the
    /// product without a version (RFC 3261 §20.35 allows it; a version only helps attackers).
    pub server: Option<String>,
    /// Insert Record-Route on dialog-creating requests (RFC 3261 §16.6 step 4).
    pub record_route: bool,
    /// Timer values.
    pub timers: Timers,
    /// Most transactions alive at once; past it new requests get 503 (bounded memory).
    pub max_transactions: usize,
    /// Largest message accepted, in bytes.
    pub max_message_bytes: usize,
    /// How often a source that sends malformed messages is logged at most.
    pub malformed_log_interval: Duration,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        Self {
            listeners: Vec::new(),
            domains: Vec::new(),
            server: Some("Causeway".to_owned()),
            record_route: true,
            timers: Timers::default(),
            max_transactions: 1 << 20,
            max_message_bytes: 64 * 1024,
            malformed_log_interval: Duration::from_secs(10),
        }
    }
}

/// A [`ProxyConfig`] the core cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No listener at all.
    #[error("no listener configured")]
    NoListener,
    /// A listener bound to 0.0.0.0 or :: without an advertised host: Via and Record-Route
    /// would name no reachable address.
    #[error("listener {local} is bound to an unspecified address and has no advertised host")]
    UnspecifiedWithoutAdvertisedHost {
        /// The listener's bound address.
        local: SocketAddr,
    },
    /// A host name that is empty or holds characters a SIP host cannot (RFC 3261 §25.1).
    #[error("invalid host name {host:?}")]
    InvalidHost {
        /// The offending value.
        host: String,
    },
    /// Timer C below 3 minutes (RFC 3261 §16.6 step 11).
    #[error("timer C of {got:?} is below 3 minutes (RFC 3261 §16.6 step 11)")]
    TimerCTooShort {
        /// The configured value.
        got: Duration,
    },
    /// A zero timer or limit.
    #[error("{what} must be greater than zero")]
    Zero {
        /// Which setting.
        what: &'static str,
    },
    /// The Server header value holds control characters.
    #[error("Server header value holds control characters")]
    InvalidServer,
    /// The transaction timers are refused by the transaction layer.
    #[error("transaction timers: {0}")]
    Timers(#[from] causeway_txn::ConfigError),
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']'))
}

impl ProxyConfig {
    /// A config with one listener per `(transport, address)`, other settings default.
    pub fn with_listeners(listeners: impl IntoIterator<Item = (Transport, SocketAddr)>) -> Self {
        Self {
            listeners: listeners.into_iter().map(|(t, a)| ListenerConfig::new(t, a)).collect(),
            ..Self::default()
        }
    }

    /// Check the config before use.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.listeners.is_empty() {
            return Err(ConfigError::NoListener);
        }
        for l in &self.listeners {
            match &l.advertised_host {
                Some(h) if !valid_host(h) => return Err(ConfigError::InvalidHost { host: h.clone() }),
                Some(_) => {}
                None if l.local.ip().is_unspecified() => {
                    return Err(ConfigError::UnspecifiedWithoutAdvertisedHost { local: l.local })
                }
                None => {}
            }
        }
        if let Some(d) = self.domains.iter().find(|d| !valid_host(d)) {
            return Err(ConfigError::InvalidHost { host: d.clone() });
        }
        // §16.6 step 11 asks for more than 3 minutes; 3 minutes itself is accepted as the
        // default, since Timer C only needs to outlast ringing, not be exact.
        if self.timers.timer_c < MIN_TIMER_C {
            return Err(ConfigError::TimerCTooShort { got: self.timers.timer_c });
        }
        for (what, d) in [("T1", self.timers.t1), ("T2", self.timers.t2), ("T4", self.timers.t4)] {
            if d.is_zero() {
                return Err(ConfigError::Zero { what });
            }
        }
        if self.max_transactions == 0 {
            return Err(ConfigError::Zero { what: "max_transactions" });
        }
        if self.max_message_bytes == 0 {
            return Err(ConfigError::Zero { what: "max_message_bytes" });
        }
        if self.server.as_deref().is_some_and(|s| s.bytes().any(|b| b.is_ascii_control())) {
            return Err(ConfigError::InvalidServer);
        }
        Ok(())
    }
}

/// The advertised host of a listener as written on the wire (IPv6 in brackets, RFC 5118).
pub(crate) fn advertised_host(l: &ListenerConfig) -> String {
    match &l.advertised_host {
        Some(h) => h.clone(),
        None => match l.local.ip() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 5060)))
    }

    #[test]
    fn unspecified_bind_needs_an_advertised_host() {
        let mut c = ProxyConfig::with_listeners([(Transport::Udp, addr("0.0.0.0:5060"))]);
        assert_eq!(
            c.validate(),
            Err(ConfigError::UnspecifiedWithoutAdvertisedHost { local: addr("0.0.0.0:5060") })
        );
        if let Some(l) = c.listeners.first_mut() {
            l.advertised_host = Some("edge.example.com".into());
        }
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn rfc3261_16_6_timer_c_below_three_minutes_is_refused() {
        let mut c = ProxyConfig::with_listeners([(Transport::Udp, addr("127.0.0.1:5060"))]);
        c.timers.timer_c = Duration::from_secs(60);
        assert!(matches!(c.validate(), Err(ConfigError::TimerCTooShort { .. })));
    }

    #[test]
    fn ipv6_listener_is_bracketed() {
        let l = ListenerConfig::new(Transport::Tcp, addr("[::1]:5060"));
        assert_eq!(advertised_host(&l), "[::1]");
    }

    #[test]
    fn default_server_header_has_no_version() {
        assert_eq!(ProxyConfig::default().server.as_deref(), Some("Causeway"));
        assert_eq!(ProxyConfig::default().validate(), Err(ConfigError::NoListener));
    }
}
