//! The screen: before a message is parsed, classify where it came from (routing's zone
//! classification: listener, source address, mutual-TLS names) and count a request against its
//! source (Kamailio's `pike`): a banned source's requests are dropped here, unanswered and
//! unparsed, so a flood costs one table lookup per datagram. Responses are never counted: they
//! answer requests we sent.

use std::time::Instant;

use causeway_policy::audit::AuditRecord;
use causeway_policy::flood::Admission;
use causeway_routing::{classify, ClassifyInput};

use super::audit;
use crate::core::Core;
use crate::locate::Locator;
use crate::plan::Arrival;

impl<L: Locator> Core<L> {
    /// `false`: drop the message unanswered (its source is banned). Keeps the request's zone for
    /// the gate.
    pub(crate) fn screen(&mut self, now: Instant, bytes: &[u8], arrival: &Arrival) -> bool {
        if bytes.starts_with(b"SIP/") {
            if let Some(security) = self.security.as_mut() {
                security.zone = None;
            }
            return true;
        }
        let zone = {
            let Some(security) = self.security.as_ref() else { return true };
            let input = ClassifyInput {
                listener: arrival.local,
                source: arrival.peer,
                transport: arrival.transport,
                tls_peer_names: arrival.tls_peer_names.as_deref(),
            };
            let health = self.health().unwrap_or(&security.no_health);
            classify(&input, &security.zones, health)
        };
        let Some(security) = self.security.as_mut() else { return true };
        let admission = match security.flood.as_mut() {
            Some(flood) => flood.admit(now, arrival.peer.ip(), zone.zone()),
            None => Admission::Admit,
        };
        let Admission::Drop { until, new_ban } = admission else {
            security.zone = Some(zone);
            return true;
        };
        security.zone = None;
        let counters = &mut self.counters.security;
        counters.flood_dropped += 1;
        if let Some(ban) = new_ban {
            counters.bans_started += 1;
            let left = until.saturating_duration_since(now).as_secs();
            audit(&AuditRecord::blocked(zone.zone(), arrival.peer.ip(), "", "", &ban.subject, ban.reason, left));
        }
        false
    }
}
