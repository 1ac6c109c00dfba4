//! One call through the back-to-back user agent: the caller's dialog (we are its UAS), a dialog
//! per leg (we are their UAC), callctl's [`SnrCall`] deciding what happens, and the CDR built
//! from its events.
//!
//! - [`start`]: an INVITE becomes a call (origin, dial plan, fork plan) or a refusal;
//! - [`place`]: a leg's INVITE to a registered contact or through a zone (next hops, DNS,
//!   failover to the next hop, RFC 3263 §4.3);
//! - [`actions`]: SnrCall's actions become SIP (CANCELs with RFC 3326 Reason,
//!   provisional and final responses to the caller, ACK + BYE of released legs);
//! - [`legs`]: what the legs answer becomes SnrCall events;
//! - [`indialog`]: BYE, ACK and requests inside the dialogs, relayed to the other side
//!   (re-INVITE, UPDATE, INFO, ...), session timers (RFC 4028) carried through;
//! - [`timers`]: Timer C, the CANCEL give-up, 2xx retransmission, session expiry, and
//!   SnrCall's own timers.

pub(crate) mod actions;
pub(crate) mod indialog;
pub(crate) mod legs;
pub(crate) mod place;
pub(crate) mod start;
pub(crate) mod timers;

use std::borrow::Cow;
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_callctl::{CallingIdentity, CdrBuilder, LegId, SnrCall};
use causeway_sip::{HeaderName, Message, Method, StatusCode};
use causeway_proxy::ResolveId;
use causeway_txn::TxnId;

use crate::counters::B2buaCounters;
use crate::dialog::Dialog;
use crate::net::Net;
use crate::registrar::Registrar;
use crate::route::LegRoute;
use crate::zones::Zones;

/// A call's name: slab index and generation (a stale name never reaches a newer call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CallKey {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// One side of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Caller,
    Leg(LegId),
}

/// User part of our Contact URIs: `cwb-<index>.<generation>.<c | leg>`. In-dialog requests
/// carry it in their Request-URI, which is how the agent hook knows them.
pub(crate) const TOKEN_PREFIX: &str = "cwb-";

/// The token of one side of a call, written straight into the Contact that carries it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token(pub(crate) CallKey, pub(crate) Side);

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self(key, side) = self;
        match side {
            Side::Caller => write!(f, "{TOKEN_PREFIX}{:x}.{:x}.c", key.index, key.generation),
            Side::Leg(leg) => write!(f, "{TOKEN_PREFIX}{:x}.{:x}.{:x}", key.index, key.generation, leg.0),
        }
    }
}

pub(crate) fn parse_token(user: &str) -> Option<(CallKey, Side)> {
    let mut parts = user.strip_prefix(TOKEN_PREFIX)?.split('.');
    let index = u32::from_str_radix(parts.next()?, 16).ok()?;
    let generation = u32::from_str_radix(parts.next()?, 16).ok()?;
    let side = match parts.next()? {
        "c" => Side::Caller,
        leg => Side::Leg(LegId(u32::from_str_radix(leg, 16).ok()?)),
    };
    parts.next().is_none().then_some((CallKey { index, generation }, side))
}

/// A 2xx to an INVITE we sent and resend until its ACK comes (RFC 3261 §13.3.1.4); the ACK is
/// then passed to the side whose 2xx we relayed.
#[derive(Debug, Clone)]
pub(crate) struct AwaitAck {
    /// Who we answered (and who must ACK).
    pub(crate) answered: Side,
    pub(crate) server: TxnId,
    pub(crate) status: StatusCode,
    pub(crate) response: Bytes,
    /// Next retransmission (unreliable transports only) and its interval.
    pub(crate) resend: Option<(Instant, Duration)>,
    /// No ACK by then: the call is torn down.
    pub(crate) give_up: Instant,
    /// The side whose 2xx we relayed, and the CSeq of that INVITE.
    pub(crate) ack_to: Side,
    pub(crate) ack_cseq: u32,
}

/// A request from one side relayed to the other.
#[derive(Debug, Clone)]
pub(crate) struct Relay {
    pub(crate) from: Side,
    pub(crate) server: TxnId,
    pub(crate) request: Message,
    pub(crate) to: Side,
    pub(crate) client: TxnId,
}

/// The caller's side.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The INVITE server transaction.
    pub(crate) server: TxnId,
    pub(crate) invite: Message,
    pub(crate) dialog: Dialog,
}

impl Caller {
    /// Our tag on the caller's dialog.
    pub(crate) fn tag(&self) -> &str {
        self.dialog.local_tag().unwrap_or_default()
    }
}

/// One leg.
#[derive(Debug)]
pub(crate) struct Leg {
    pub(crate) id: LegId,
    pub(crate) dialog: Dialog,
    /// The INVITE as sent (CANCEL is built from it, RFC 3261 §9.1).
    pub(crate) invite: Bytes,
    /// Its INVITE client transaction, until it ends.
    pub(crate) txn: Option<TxnId>,
    /// A provisional came (§9.1: only then may a CANCEL go).
    pub(crate) provisional: bool,
    /// A CANCEL to send when the first provisional comes: its Reason value.
    pub(crate) cancel_pending: Option<Option<&'static str>>,
    pub(crate) cancel_sent: bool,
    /// Timer C (§16.6 step 11, a UAC's equivalent) or, after a CANCEL, the §9.1 give-up.
    pub(crate) deadline: Option<Instant>,
    pub(crate) last_provisional: Option<Message>,
    /// A provisional with SDP came: the dialog follows that fork (its early dialog is the one
    /// early requests are relayed on).
    pub(crate) early_media: bool,
    /// Its 2xx.
    pub(crate) answer: Option<Message>,
    /// Our ACK to that 2xx, resent when the 2xx is.
    pub(crate) ack: Option<Bytes>,
    /// Its final outcome was reported to the state machine.
    pub(crate) reported: bool,
    /// Through a zone: the hops left to fail over to (RFC 3263 §4.3).
    pub(crate) route: Option<Box<LegRoute>>,
}

/// A leg through a zone that waits for a DNS lookup before its INVITE can go.
#[derive(Debug)]
pub(crate) struct Waiting {
    pub(crate) leg: LegId,
    pub(crate) lookup: ResolveId,
    pub(crate) route: Box<LegRoute>,
    /// The failure to report if no hop is found (503, or the last attempt's).
    pub(crate) last: StatusCode,
}

/// RFC 4028 session timer of a confirmed call: refreshed by every relayed 2xx to a re-INVITE or
/// UPDATE; when it passes unrefreshed, both sides get BYE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Session {
    pub(crate) interval: Duration,
    pub(crate) expires: Instant,
}

/// One call.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) key: CallKey,
    pub(crate) snr: SnrCall,
    pub(crate) cdr: CdrBuilder,
    /// Who the legs present as the caller.
    pub(crate) calling: CallingIdentity,
    /// Domain of our From URIs (the first cluster FQDN).
    pub(crate) domain: String,
    /// To of legs to registered contacts (the line called).
    pub(crate) to_line: Option<String>,
    pub(crate) caller: Caller,
    pub(crate) legs: Vec<Leg>,
    /// Legs waiting for DNS.
    pub(crate) waiting: Vec<Waiting>,
    pub(crate) max_forwards: u8,
    pub(crate) await_ack: Option<AwaitAck>,
    pub(crate) relays: Vec<Relay>,
    /// The leg whose provisional the caller got last (its early media, or else its ringing):
    /// the other end of the caller's early dialog while it rings.
    pub(crate) early_peer: Option<LegId>,
    pub(crate) session: Option<Session>,
    /// The time of this call's one entry in the engine's deadline heap.
    pub(crate) queued: Option<Instant>,
}

/// What the call's handlers read and write besides the call.
pub(crate) struct Cx<'a> {
    pub(crate) now: Instant,
    pub(crate) counters: &'a mut B2buaCounters,
    pub(crate) net: &'a mut Net,
    pub(crate) registrar: &'a Registrar,
    pub(crate) zones: &'a Zones,
}

impl Leg {
    /// Still ringing: neither answered nor ended nor being cancelled.
    pub(crate) fn rings(&self) -> bool {
        self.answer.is_none() && !self.reported && !self.cancel_sent && self.cancel_pending.is_none()
    }
}

impl Call {
    pub(crate) fn leg(&self, id: LegId) -> Option<&Leg> {
        self.legs.iter().find(|l| l.id == id)
    }

    pub(crate) fn leg_mut(&mut self, id: LegId) -> Option<&mut Leg> {
        self.legs.iter_mut().find(|l| l.id == id)
    }

    pub(crate) fn dialog_mut(&mut self, side: Side) -> Option<&mut Dialog> {
        match side {
            Side::Caller => Some(&mut self.caller.dialog),
            Side::Leg(id) => self.leg_mut(id).map(|l| &mut l.dialog),
        }
    }

    /// The side a confirmed call connects `side` to.
    pub(crate) fn other(&self, side: Side) -> Option<Side> {
        match side {
            Side::Caller => self.snr.answered_leg().map(Side::Leg),
            Side::Leg(id) => (self.snr.answered_leg() == Some(id)).then_some(Side::Caller),
        }
    }

    /// Whether the call is over: the state machine is done and nothing waits for an answer.
    pub(crate) fn is_over(&self) -> bool {
        self.snr.is_finished() && self.relays.is_empty() && self.await_ack.is_none()
    }
}

/// Header fields a leg's INVITE takes from the caller's (and a relayed request from the other
/// side's): what the far end needs to answer the same offer the same way. Supported loses
/// `100rel`: we do not PRACK (RFC 3262), so no far end may send reliable provisionals.
pub(crate) const PASSED_ON_REQUESTS: [HeaderName; 11] = [
    HeaderName::Allow,
    HeaderName::Supported,
    HeaderName::Require,
    HeaderName::SessionExpires,
    HeaderName::MinSe,
    HeaderName::Accept,
    HeaderName::ContentDisposition,
    HeaderName::Subject,
    HeaderName::Priority,
    HeaderName::Privacy,
    HeaderName::Event,
];

/// Header fields of a response relayed to the other side.
pub(crate) const PASSED_ON_RESPONSES: [HeaderName; 11] = [
    HeaderName::Allow,
    HeaderName::Supported,
    HeaderName::Require,
    HeaderName::SessionExpires,
    HeaderName::MinSe,
    HeaderName::Accept,
    HeaderName::ContentDisposition,
    HeaderName::Unsupported,
    HeaderName::RetryAfter,
    HeaderName::Warning,
    HeaderName::Reason,
];

/// `(name, value)` of every field of `msg` named in `names`, values as written, `100rel`
/// left out of Supported.
/// Values are borrowed from `msg`; only a Supported list is written anew. One pass over the
/// header fields; the result is in the order of `names`, then of the message.
pub(crate) fn passed_on<'m>(msg: &'m Message, names: &[HeaderName]) -> Vec<(&'static str, Cow<'m, str>)> {
    let mut found = Vec::new();
    for field in msg.headers() {
        let Some(rank) = names.iter().position(|n| *n == field.name) else { continue };
        let value = match String::from_utf8_lossy(field.value) {
            Cow::Borrowed(v) if field.name == HeaderName::Supported && !v.contains(',') => {
                Cow::Borrowed(Some(v.trim()).filter(|t| !t.eq_ignore_ascii_case("100rel")).unwrap_or_default())
            }
            v if field.name == HeaderName::Supported => {
                Cow::Owned(v.split(',').map(str::trim).filter(|t| !t.eq_ignore_ascii_case("100rel")).collect::<Vec<_>>().join(", "))
            }
            v => v,
        };
        if !value.is_empty() {
            found.push((rank, field.name.as_str(), value));
        }
    }
    // Stable: fields of one name keep the message's order.
    found.sort_by_key(|(rank, ..)| *rank);
    found.into_iter().map(|(_, name, value)| (name, value)).collect()
}

/// The body and its Content-Type, if the message has one.
pub(crate) fn body_of(msg: &Message) -> Option<(Cow<'_, str>, Bytes)> {
    let body = msg.body();
    if body.is_empty() {
        return None;
    }
    let content_type = msg.header(HeaderName::ContentType).map_or(Cow::Borrowed("application/sdp"), |h| String::from_utf8_lossy(h.value));
    Some((content_type, body))
}

/// The Session-Expires interval of a message (RFC 4028 §4), in seconds.
pub(crate) fn session_expires(msg: &Message) -> Option<Duration> {
    let v = msg.header(HeaderName::SessionExpires)?;
    let text = std::str::from_utf8(v.value).ok()?;
    let secs: u64 = text.split(';').next()?.trim().parse().ok()?;
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// Whether `request` opens an offer/answer exchange (RFC 3264): an INVITE always (a late offer
/// comes in its 2xx), an UPDATE with a body (RFC 3311 §5.1).
pub(crate) fn carries_offer(method: &Method, request: &Message) -> bool {
    match method {
        Method::Invite => true,
        Method::Update => !request.body().is_empty(),
        _ => false,
    }
}

/// Whether `method` may be relayed across a call.
pub(crate) fn relayable(method: &Method) -> bool {
    !matches!(method, Method::Ack | Method::Cancel | Method::Bye | Method::Register)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        let key = CallKey { index: 10, generation: 300 };
        for side in [Side::Caller, Side::Leg(LegId(3))] {
            assert_eq!(parse_token(&Token(key, side).to_string()), Some((key, side)));
        }
        assert_eq!(Token(key, Side::Leg(LegId(3))).to_string(), "cwb-a.12c.3");
        for bad in ["cwb-", "cwb-a.b", "cwb-a.b.c.d", "cwb-x.1.c", "bob", "cwb-1.1.zz"] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn supported_loses_100rel() {
        let m = Message::parse(Bytes::from_static(
            b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nSupported: 100rel, timer\r\nSupported: 100rel\r\nSupported: replaces\r\n\
              Session-Expires: 1800;refresher=uac\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        ));
        let m = m.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(passed_on(&m, &PASSED_ON_REQUESTS), [("Supported", Cow::Borrowed("timer")), ("Supported", Cow::Borrowed("replaces")), ("Session-Expires", Cow::Borrowed("1800;refresher=uac"))]);
        assert_eq!(session_expires(&m), Some(Duration::from_secs(1800)));
    }
}
