//! The core's counter set (requests and responses by method and code, transactions alive,
//! dropped malformed messages). Fixed arrays: counting never allocates, and `/metrics` reads
//! the same struct later.

use causeway_sip::{Method, StatusCode};

/// Methods with their own slot; everything else counts as `other`.
const METHOD_NAMES: [&str; 15] = [
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY",
    "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE", "other",
];

fn method_slot(method: &Method) -> usize {
    match method {
        Method::Invite => 0,
        Method::Ack => 1,
        Method::Bye => 2,
        Method::Cancel => 3,
        Method::Options => 4,
        Method::Register => 5,
        Method::Prack => 6,
        Method::Subscribe => 7,
        Method::Notify => 8,
        Method::Publish => 9,
        Method::Info => 10,
        Method::Refer => 11,
        Method::Message => 12,
        Method::Update => 13,
        Method::Extension(_) => 14,
    }
}

/// A count per request method.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MethodCounts([u64; METHOD_NAMES.len()]);

impl MethodCounts {
    pub(crate) fn add(&mut self, method: &Method) {
        if let Some(n) = self.0.get_mut(method_slot(method)) {
            *n += 1;
        }
    }

    /// The count for one method (all extension methods share one slot).
    pub fn get(&self, method: &Method) -> u64 {
        self.0.get(method_slot(method)).copied().unwrap_or(0)
    }

    /// `(method name, count)` for every slot, extension methods last as `other`.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        METHOD_NAMES.iter().copied().zip(self.0.iter().copied())
    }

    /// Sum over all methods.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// A count per status code 100..=699.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeCounts(Box<[u64; 600]>);

impl Default for CodeCounts {
    fn default() -> Self {
        Self(Box::new([0; 600]))
    }
}

impl CodeCounts {
    pub(crate) fn add(&mut self, code: StatusCode) {
        if let Some(n) = self.0.get_mut(usize::from(code.as_u16()).wrapping_sub(100)) {
            *n += 1;
        }
    }

    /// The count for one code.
    pub fn get(&self, code: StatusCode) -> u64 {
        self.0.get(usize::from(code.as_u16()).wrapping_sub(100)).copied().unwrap_or(0)
    }

    /// `(code, count)` for every code seen at least once, in code order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        (100u16..).zip(self.0.iter().copied()).filter(|&(_, n)| n > 0)
    }

    /// Sum over all codes.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// Everything the core counts. Monotonic counters only grow; the `*_alive` gauges are the
/// current values after the last `handle_*` call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests received, by method (parsed successfully).
    pub requests_received: MethodCounts,
    /// Requests sent downstream (forwarded, or generated: CANCEL, ACK for non-2xx).
    pub requests_sent: MethodCounts,
    /// Responses received from downstream, by code.
    pub responses_received: CodeCounts,
    /// Responses sent upstream, forwarded or generated, by code (retransmissions excluded).
    pub responses_sent: CodeCounts,
    /// Messages that failed to parse and were dropped without an answer.
    pub malformed_dropped: u64,
    /// Malformed requests answered with 400 (or 505) statelessly.
    pub malformed_answered: u64,
    /// Messages forwarded without state (RFC 3261 §16.11): 2xx ACKs, 2xx retransmissions
    /// after the response context ended (RFC 6026 Accepted state), CANCELs matching no
    /// transaction.
    pub stateless_forwarded: u64,
    /// Messages dropped for a semantic reason: broadcast Via (RFC 4475 §3.3.10), stray
    /// responses (RFC 6026 §8.9), ACKs matching nothing.
    pub dropped: u64,
    /// Sends the I/O layer reported as failed.
    pub transport_errors: u64,
    /// Transactions (server and client) alive now.
    pub transactions_alive: u64,
    /// Proxied requests (response contexts, RFC 3261 §16.7) alive now.
    pub contexts_alive: u64,
    /// The edge's protections: flood drops, bans, challenges, call policy per rule.
    pub security: crate::security::SecurityCounters,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_codes_count_in_their_slot() {
        let mut c = Counters::default();
        c.requests_received.add(&Method::Invite);
        c.requests_received.add(&Method::Invite);
        if let Some(m) = Method::from_token("FOO") {
            c.requests_received.add(&m);
        }
        c.responses_sent.add(StatusCode::RINGING);
        c.responses_sent.add(StatusCode::BUSY_EVERYWHERE);
        assert_eq!(c.requests_received.get(&Method::Invite), 2);
        assert_eq!(c.requests_received.iter().last(), Some(("other", 1)));
        assert_eq!(c.requests_received.total(), 3);
        assert_eq!(c.responses_sent.iter().collect::<Vec<_>>(), vec![(180, 1), (600, 1)]);
        assert_eq!(c.responses_sent.get(StatusCode::OK), 0);
    }
}
