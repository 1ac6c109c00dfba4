//! Responses the core sends without keeping state: refusals from the request phases (400,
//! 416, 420, 482, 483, 404, ...), 200 to an OPTIONS for this node, and 400/505 to a message
//! that does not even parse. Retransmissions of such a request just get the same answer
//! again; the ACK to it is recognised by our To tag and absorbed (see [`crate::branch::Tag`]).

use std::time::Instant;

use bytes::Bytes;
use causeway_sip::build::ResponseBuilder;
use causeway_sip::{HeaderName, Message, Method, ParseError, StatusCode};
use causeway_txn::TxnError;

use crate::core::{response_peer, Core};
use crate::locate::Locator;
use crate::plan::{Arrival, LocalReply};

/// What this node answers to OPTIONS (RFC 3261 §11.2): it relays these methods.
pub(crate) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY, SUBSCRIBE, MESSAGE, REGISTER, PUBLISH";
/// Longest fault description put in a reason phrase.
const MAX_DETAIL: usize = 120;

/// A reason phrase that names the fault: `Bad Request (missing To)`. Control characters are
/// replaced so the phrase stays one line (RFC 3261 §25.1 `Reason-Phrase`).
fn reason_phrase(status: StatusCode, detail: Option<&str>) -> String {
    let mut phrase = String::from(status.default_reason());
    if let Some(detail) = detail.filter(|d| !d.is_empty()) {
        phrase.push_str(" (");
        phrase.extend(detail.chars().take(MAX_DETAIL).map(|c| if c.is_control() { ' ' } else { c }));
        phrase.push(')');
    }
    phrase
}

/// For a request that failed to parse: its header fields alone under a stand-in start line,
/// without Content-Length, so a response can still copy Via, From, To, Call-ID and CSeq
/// (RFC 3261 §8.2 answers malformed requests when it can). Lines that are not `name: value`
/// are skipped. `None` for responses (never answered) and when nothing usable is left.
fn salvage(raw: &[u8]) -> Option<Message> {
    if raw.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/")) {
        return None;
    }
    let start_end = memchr_crlf(raw, 0)?;
    let head_end = memchr::memmem::find(raw, b"\r\n\r\n").map_or(raw.len(), |i| i + 2);
    let head = raw.get(start_end + 2..head_end)?;
    let mut out = Vec::with_capacity(head.len() + 48);
    out.extend_from_slice(b"SALVAGE sip:invalid SIP/2.0\r\n");
    let mut keep = false;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let folded = matches!(line.first(), Some(b' ' | b'\t'));
        if !folded {
            let name = line.iter().position(|&b| b == b':').and_then(|c| line.get(..c));
            keep = name.is_some_and(|n| {
                let n = n.trim_ascii();
                !n.is_empty() && HeaderName::from_bytes(n) != HeaderName::ContentLength && n.iter().all(|&b| b.is_ascii_graphic())
            });
        }
        if keep {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    Message::parse(Bytes::from(out)).ok()
}

fn memchr_crlf(raw: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(raw.get(from..)?, b"\r\n").map(|i| i + from)
}

impl<L: Locator> Core<L> {
    /// Send `status` for `request` back where its responses go, with our To tag and Server.
    fn send_reply(&mut self, request: &Message, arrival: &Arrival, status: StatusCode, reason: &str, extra: &[(&str, &str)]) -> bool {
        let tag = self.ids.next_tag();
        let mut builder = ResponseBuilder::new(request, status).reason(reason).to_tag(tag.as_str());
        for (name, value) in extra {
            builder = builder.header(name, value);
        }
        if let Some(server) = &self.config.server {
            builder = builder.header("Server", server);
        }
        match builder.build() {
            Ok(built) => {
                let peer = response_peer(request, arrival);
                self.transmits.push_back(peer.transmit(built.into_bytes()));
                self.counters.responses_sent.add(status);
                true
            }
            Err(error) => {
                tracing::debug!(%error, "request cannot be answered");
                false
            }
        }
    }

    /// A refusal from the request phases, sent statelessly.
    pub(crate) fn reply_stateless(&mut self, request: &Message, arrival: &Arrival, reply: &LocalReply) {
        tracing::debug!(status = reply.status.as_u16(), detail = reply.detail.as_deref(), "request refused");
        let reason = reason_phrase(reply.status, reply.detail.as_deref());
        let extra: Vec<(&str, &str)> = reply.extra.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        if !self.send_reply(request, arrival, reply.status, &reason, &extra) {
            self.counters.dropped += 1;
        }
    }

    /// RFC 3261 §11.2: 200 to an OPTIONS addressed to this node (the keepalive peers send),
    /// saying what it relays and accepts.
    pub(crate) fn reply_options(&mut self, request: &Message, arrival: &Arrival) {
        let extra = [("Allow", ALLOW), ("Supported", ""), ("Accept", "application/sdp")];
        if !self.send_reply(request, arrival, StatusCode::OK, StatusCode::OK.default_reason(), &extra) {
            self.counters.dropped += 1;
        }
    }

    /// A message that does not parse: logged once per source and interval, counted, and
    /// answered 400 (505 for another SIP version, 513 when too large) if it is a request
    /// whose header fields still say where the answer goes; otherwise dropped.
    pub(crate) fn on_malformed(&mut self, now: Instant, raw: &Bytes, error: &ParseError, arrival: &Arrival) {
        if self.malformed_log.allow(arrival.peer.ip(), now) {
            tracing::warn!(peer = %arrival.peer, transport = %arrival.transport, %error, "malformed SIP message");
        }
        let status = StatusCode::from(error);
        let detail = error.to_string();
        let answered = match salvage(raw) {
            Some(request) => self.send_reply(&request, arrival, status, &reason_phrase(status, Some(&detail)), &[]),
            None => false,
        };
        if answered {
            self.counters.malformed_answered += 1;
        } else {
            self.counters.malformed_dropped += 1;
        }
    }

    /// A message the transaction layer refused: a request that cannot be matched gets 400, a
    /// full table 503 (the peer may retry elsewhere or later); responses and ACKs are dropped.
    pub(crate) fn on_rejected(&mut self, now: Instant, msg: &Message, error: &TxnError, arrival: &Arrival) {
        let answerable = msg.is_request() && msg.method() != Some(&Method::Ack);
        let answered = answerable && {
            let (status, extra): (StatusCode, &[(&str, &str)]) = match error {
                TxnError::TableFull { .. } => (StatusCode::SERVICE_UNAVAILABLE, &[("Retry-After", "5")]),
                _ => (StatusCode::BAD_REQUEST, &[]),
            };
            let detail = error.to_string();
            self.send_reply(msg, arrival, status, &reason_phrase(status, Some(&detail)), extra)
        };
        if !answered {
            if self.malformed_log.allow(arrival.peer.ip(), now) {
                tracing::warn!(peer = %arrival.peer, %error, "message dropped by the transaction layer");
            }
            self.counters.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_phrase_names_the_fault_on_one_line() {
        assert_eq!(reason_phrase(StatusCode::BAD_REQUEST, Some("missing To\r\nX")), "Bad Request (missing To  X)");
        assert_eq!(reason_phrase(StatusCode::LOOP_DETECTED, None), "Loop Detected");
    }

    #[test]
    fn salvage_keeps_headers_and_drops_content_length() {
        let raw = b"INVITE sip:a@b SIP/7.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nl: 9999\r\ngarbage\r\nTo: <sip:a@b>\r\n\r\nbody";
        let m = salvage(raw).unwrap_or_else(|| panic!("salvaged"));
        assert!(m.has_header(HeaderName::Via) && m.has_header(HeaderName::To));
        assert!(!m.has_header(HeaderName::ContentLength));
        assert!(salvage(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n").is_none());
    }
}
