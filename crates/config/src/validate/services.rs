//! `[admin]` and `[dns]`: the loopback status endpoint and the name servers the node asks.

use std::net::SocketAddr;
use std::time::Duration;

use toml::Spanned;

use super::Validator;
use crate::error::Reason;
use crate::raw::{RawAdmin, RawDns};
use crate::settings::{AdminSettings, DnsSettings};

impl Validator<'_> {
    /// `[admin] listen`: an `ip:port` on loopback (the endpoint has no authentication).
    pub(crate) fn admin(&mut self, raw: RawAdmin) -> Option<AdminSettings> {
        let span = raw.listen.span();
        let listen = self.socket_address("listen", raw.listen)?;
        if !listen.ip().is_loopback() {
            self.error(span, Reason::AdminNotLoopback { address: listen });
            return None;
        }
        Some(AdminSettings { listen })
    }

    /// `[dns]`: servers as `ip:port`, an attempt timeout of at least 100 ms, at least one attempt.
    pub(crate) fn dns(&mut self, raw: RawDns) -> DnsSettings {
        let default = DnsSettings::default();
        let servers = raw.servers.into_iter().filter_map(|s| self.socket_address("servers", s)).collect();
        let default_ms = u64::try_from(default.timeout.as_millis()).unwrap_or(u64::MAX);
        let timeout = Duration::from_millis(self.number("timeout_ms", raw.timeout_ms.as_ref(), default_ms, 100, "at least 100"));
        let attempts = self.count("attempts", raw.attempts, default.attempts, 1, "at least 1");
        DnsSettings { servers, timeout, attempts }
    }

    fn socket_address(&mut self, key: &'static str, value: Spanned<String>) -> Option<SocketAddr> {
        let span = value.span();
        let text = value.into_inner();
        match text.parse() {
            Ok(address) => Some(address),
            Err(_) => {
                self.error(span, Reason::BadSocketAddress { key, value: text });
                None
            }
        }
    }
}
