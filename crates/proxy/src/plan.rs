//! The request phases before anything is sent: validate (RFC 3261 §16.3), detect loops
//! (§16.3 step 4), answer OPTIONS for ourselves, process Route (§16.4), and find the targets
//! (§16.5, through the [`Locator`]). Pure: the outcome is a [`Decision`] the core carries out.
//!
//! ```text
//! validate ─▶ loop check ─▶ Route (§16.4) ─▶ OPTIONS to us? ─▶ next hop known? ─▶ locate ─▶ Forward
//!    └─ 400/416/420/483           └─ 482                 └─ 200          (Route / in-dialog IP)    └─ 404
//! ```

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use causeway_sip::header::via::Via;
use causeway_sip::uri::{SipUri, Uri};
use causeway_sip::validate::{proxy_request_fields, RejectKind};
use causeway_sip::{HeaderName, Message, Method, StatusCode, Transport};
use smallvec::SmallVec;

use crate::api::FlowId;
use crate::branch::{Branch, BranchGenerator, BRANCH_PREFIX};
use crate::context::Peer;
use crate::core::reply_peer;
use crate::agent::{Agent, Arrived};
use crate::identity::{flow_of, Identity, RrSeal};
use crate::locate::{direct_next_hop, LocateError, Locator, RequestCtx, Target};
use crate::security::{Gate, GateOutcome};

/// Where a message came from.
#[derive(Debug, Clone)]
pub(crate) struct Arrival {
    pub(crate) transport: Transport,
    pub(crate) local: SocketAddr,
    pub(crate) peer: SocketAddr,
    pub(crate) flow: Option<FlowId>,
    pub(crate) tls_peer_names: Option<Arc<[String]>>,
    /// Index of the listener it arrived on, if it is one of ours.
    pub(crate) listener: Option<usize>,
}

/// A final answer the core sends itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalReply {
    pub(crate) status: StatusCode,
    /// What is wrong, for the reason phrase and the log.
    pub(crate) detail: Option<String>,
    /// Header fields the response must carry (e.g. `Unsupported` with 420).
    pub(crate) extra: Vec<(HeaderName, String)>,
}

impl LocalReply {
    fn status(status: StatusCode) -> Self {
        Self { status, detail: None, extra: Vec::new() }
    }
}

/// What to do with a request.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Answer it with a final response and forward nothing.
    Reply(LocalReply),
    /// It is an OPTIONS for this node: answer 200 (keepalive).
    OptionsOk,
    /// Forward it.
    Forward(ForwardPlan),
    /// Drop it silently (an ACK that fails a check: ACKs get no responses).
    Drop,
    /// The agent lent to the core takes it (an initial request for call control), with the
    /// gate's clearance (`None` when no security phases run).
    Agent(Option<Box<crate::Clearance>>),
    /// Look these names up, then decide again (a DNS zone's RFC 3263 lookups).
    /// The gate's clearance goes with it, so that the request is not checked twice (a digest
    /// response is good once).
    Lookup(Vec<causeway_routing::resolve::DnsQuery>, Option<Box<crate::Clearance>>),
}

/// Everything §16.6 needs, computed once per request; owns its data so it can wait while
/// the transaction layer creates the server transaction.
#[derive(Debug, Clone)]
pub(crate) struct ForwardPlan {
    /// Loop-detection hash of this request (§16.6 step 8).
    pub(crate) loop_hash: u64,
    /// A strict router sent it (§16.4): the Request-URI becomes this, and the last Route
    /// value, which it came from, is removed.
    pub(crate) strict_uri: Option<String>,
    /// Leading Route values naming us, to remove (§16.4).
    pub(crate) own_routes: usize,
    /// The next hop is a strict router (§16.6 step 6): its Route value (this text) becomes
    /// the Request-URI and the Request-URI goes to the end of the Route set.
    pub(crate) strict_next: Option<String>,
    /// The listener the last of our Route values named: in-dialog requests leave from it.
    pub(crate) egress_listener: Option<usize>,
    /// The branches (§16.5 target set).
    pub(crate) targets: Vec<Target>,
    /// Record-Route this request (§16.6 step 4).
    pub(crate) record_route: bool,
    /// Where responses to it go (§18.2.2).
    pub(crate) reply_to: Peer,
    /// What to add to the received top Via (§18.2.1, RFC 3581 §4).
    pub(crate) stamp: ViaStamp,
    /// The received Max-Forwards (§16.6 step 3 decrements it).
    pub(crate) max_forwards: Option<u8>,
    /// The gate's clearance when call policy allowed the request at a CPL `proxy` node: the
    /// response context keeps it to resume the script when the attempt ends (RFC 3880 §6.1).
    pub(crate) cpl: Option<Box<crate::Clearance>>,
}

/// `received` and `rport` values for the received top Via: `received` when the source
/// address differs from sent-by, or always when `rport` was asked for; `rport` filled with
/// the source port when present without a value (RFC 3261 §18.2.1, RFC 3581 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ViaStamp {
    pub(crate) received: Option<IpAddr>,
    pub(crate) rport: Option<u16>,
}

impl ViaStamp {
    pub(crate) fn new(via: &Via<'_>, peer: SocketAddr) -> Self {
        let wants_rport = via.rport() == Some(None);
        Self {
            received: (wants_rport || via.host().ip() != Some(peer.ip())).then_some(peer.ip()),
            rport: wants_rport.then_some(peer.port()),
        }
    }
}

/// The parts of the core the phases read.
pub(crate) struct Phases<'a, L> {
    pub(crate) identity: &'a Identity,
    pub(crate) locator: &'a L,
    pub(crate) ids: &'a BranchGenerator,
    pub(crate) record_route: bool,
    /// Peer health for the locator, when the core monitors peers.
    pub(crate) health: Option<&'a causeway_routing::HealthSnapshot>,
    /// The agent lent to the core and the time, asked about initial requests after the gate
    /// (`None` on the ACK path).
    pub(crate) agent: Option<(&'a dyn Agent, Instant)>,
}

/// Methods that create dialogs and so get Record-Route (RFC 3261 §12.1, RFC 6665 §4.1,
/// RFC 3515 §2.4.7); others would carry it for nothing.
fn creates_dialog(method: &Method) -> bool {
    matches!(method, Method::Invite | Method::Subscribe | Method::Refer | Method::Notify)
}

/// The loop-detection inputs of §16.6 step 8 with `via` as the topmost Via: the Request-URI
/// as received, the To and From fields (which hold the tags), Call-ID, CSeq, the Via's
/// sent-by and branch, and every Route, Proxy-Require and Proxy-Authorization value. A
/// change in any of them makes a returning request a spiral, not a loop. Fields are hashed
/// as received, which is cheaper than decoding the tags and only adds inputs to the RFC's list.
pub(crate) fn loop_hash(ids: &BranchGenerator, msg: &Message, via: &Via<'_>) -> u64 {
    let mut h = ids.loop_hasher();
    h.field(msg.request_uri_str().unwrap_or_default().as_bytes())
        .field(via.host_str().as_bytes())
        .number(u64::from(via.port().unwrap_or(0)))
        .field(via.branch().unwrap_or_default().as_bytes());
    for field in msg.headers() {
        if matches!(
            field.name,
            HeaderName::To
                | HeaderName::From
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::Route
                | HeaderName::ProxyRequire
                | HeaderName::ProxyAuthorization
        ) {
            h.number(field.name as u64).field(field.value);
        }
    }
    h.finish()
}

impl<L: Locator> Phases<'_, L> {
    /// Run the phases for `msg`; `gate` holds the edge's security phases (`None`: none run). An
    /// ACK is never authenticated or policed; the gate only lends it the seal check.
    pub(crate) fn decide(&self, msg: &Message, arrival: &Arrival, gate: Option<&mut Gate>) -> Decision {
        let Some(method) = msg.method() else { return Decision::Drop };
        let is_ack = *method == Method::Ack;
        let refuse = |reply: LocalReply| if is_ack { Decision::Drop } else { Decision::Reply(reply) };
        // §16.3 steps 1, 2, 3, 5; the check hands back the top Via, Request-URI and
        // Max-Forwards it decoded, so they are parsed once.
        let checked = match proxy_request_fields(msg, &[]) {
            Ok(checked) => checked,
            Err(rejection) => {
                let request_uri = msg.request_uri_str().and_then(|s| Uri::parse(s).ok());
                let to_us = request_uri.as_ref().and_then(|u| u.as_sip()).is_some_and(|u| self.identity.is_ours(u));
                if rejection.kind == RejectKind::TooManyHops && *method == Method::Options && to_us {
                    // §16.3 step 3: an OPTIONS with Max-Forwards 0 may be answered by the proxy itself.
                    return Decision::OptionsOk;
                }
                return refuse(LocalReply { status: rejection.status, detail: Some(rejection.detail), extra: rejection.extra_headers });
            }
        };
        let (request_uri, top) = (checked.request_uri, checked.top_via);
        if request_uri.as_sip().is_some_and(|u| u.headers().is_some()) {
            // §19.1.1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
            return refuse(reply_with(StatusCode::BAD_REQUEST, "Request-URI carries headers"));
        }
        // §16.3 step 4: loop detection. Only a Via carrying one of our branches can be ours,
        // so the other Vias are parsed only when the raw text shows one.
        let to_tag = msg.to_tag().ok().flatten();
        let hash = loop_hash(self.ids, msg, &top);
        if self.is_loop(msg) {
            return refuse(LocalReply::status(StatusCode::LOOP_DETECTED));
        }
        // §16.4: Route processing.
        let mut routes: SmallVec<[SipUri<'_>; 4]> = SmallVec::new();
        for r in msg.routes() {
            match r.ok().and_then(|na| na.uri().ok()).and_then(|u| u.as_sip().copied()) {
                Some(u) => routes.push(u),
                None => return refuse(reply_with(StatusCode::BAD_REQUEST, "Route is not a SIP URI")),
            }
        }
        // With the edge's security phases our Record-Route entries carry the dialog's seal
        // (identity.rs); a Route naming us counts as our Record-Route only with it.
        let call_id = msg.call_id().unwrap_or_default().as_bytes();
        let seal = gate.as_deref().and_then(Gate::route_key).map(|key| RrSeal { key, call_id });
        let sealed = |u: &SipUri<'_>| seal.as_ref().is_none_or(|s| s.verifies(u));
        let mut uri = request_uri;
        let mut strict_uri = None;
        let ruri_is_our_rr =
            uri.as_sip().is_some_and(|u| self.identity.is_ours(u) && (u.is_loose_router() || flow_of(u).is_some()));
        let mut via_our_record_route = false;
        if ruri_is_our_rr && !routes.is_empty() {
            // §16.4: "If the Request-URI contains a value this proxy previously placed into a
            // Record-Route header field (see Section 16.6 item 4), the proxy MUST replace the
            // Request-URI in the request with the last value from the Route header field, and
            // remove that value from the Route header field" (a strict router, §16.12.1.2).
            via_our_record_route = uri.as_sip().is_some_and(sealed);
            if let Some(last) = routes.pop() {
                strict_uri = Some(last.to_string());
                uri = Uri::Sip(last);
            }
        }
        let mut own_routes = 0;
        let mut egress_listener = None;
        let mut flow_hint = None;
        for r in &routes {
            // §16.4: "If the first value in the Route header field indicates this proxy, the
            // proxy MUST remove that value from the request."
            let Some(listener) = self.identity.listener_named_by(r) else { break };
            own_routes += 1;
            egress_listener = Some(listener);
            // A flow token is only taken from an entry we sealed: another's connection is not
            // anyone's to name.
            let ours = sealed(r);
            via_our_record_route |= ours;
            flow_hint = flow_of(r).filter(|f| ours && Some(*f) != arrival.flow);
        }
        let mut next_route = routes.get(own_routes).copied();
        let uri_is_ours = uri.as_sip().is_some_and(|u| self.identity.is_ours(u));
        if *method == Method::Options && next_route.is_none() && uri_is_ours && uri.as_sip().is_some_and(|u| u.user().is_none()) {
            return Decision::OptionsOk;
        }
        let in_dialog = to_tag.is_some();
        // Authentication and call policy (security/mod.rs) for every request but an ACK or one
        // that follows our sealed Record-Route inside a dialog (§16.12: it was checked when the
        // dialog was created). A Route naming us without the seal may be forged: such an
        // in-dialog request is checked like an initial one.
        let follows_our_record_route = in_dialog && via_our_record_route;
        if is_ack && seal.is_some() && !follows_our_record_route {
            // An ACK no server transaction absorbed is the ACK for a 2xx: a transaction of its
            // own with no response (RFC 3261 §17.1.1.3), so it cannot be challenged (§22.1) and
            // nothing tells its sender it was refused. It reaches a proxy only along the dialog's
            // route set (§12.2.1.1, §16.12), and a proxy is in that set only if it record-routed
            // the dialog (§16.6 step 4) — then the Route carries our seal. Without it we never
            // record-routed this dialog (or the Route is forged), so forwarding it — by its Route
            // or its Request-URI, §16.11 — would let anyone have a forged ACK relayed, with our
            // address as its source, to any host. Dropped: no dialog we record-routed loses its
            // ACK, and an ACK we never had to see is not ours to relay.
            return Decision::Drop;
        }
        let clearance = match gate.filter(|_| !is_ack && !follows_our_record_route) {
            None => None,
            Some(gate) => match gate.check(msg, arrival, &uri) {
                GateOutcome::Unchecked => None,
                GateOutcome::Cleared(clearance) => Some(clearance),
                GateOutcome::Refused(reply) => return Decision::Reply(reply),
                GateOutcome::Drop => return Decision::Drop,
            },
        };
        if let Some((agent, now)) = self.agent.filter(|_| !in_dialog && !is_ack) {
            let names = arrival.tls_peer_names.as_deref();
            let arrived = Arrived::new(self.identity, arrival.transport, arrival.local, arrival.peer, arrival.flow, names);
            if agent.wants_initial(now, msg, &arrived, clearance.as_deref()) {
                return Decision::Agent(clearance);
            }
        }
        // A request the gate checked is routed by the edge, not by whatever Route it brought:
        // a zone that does not honour Route headers (Expressway's "preloaded SIP routes
        // support" off) loses every Route value beyond ours and is routed by its
        // Request-URI, the alias call policy saw; one that does has the topmost such Route
        // matched by the search rules as an alias (flow F2). Either way a preloaded Route is
        // never a next hop of its own (§16.6 steps 6-7 apply only to sealed in-dialog
        // requests), so `Route: <sip:edge;lr>, <sip:gateway;lr>` cannot bypass the search.
        let gated = clearance.is_some();
        if clearance.as_ref().is_some_and(|c| !c.honours_route_header()) && next_route.is_some() {
            own_routes = routes.len();
            next_route = None;
        }
        let strict_next = next_route.filter(|r| !r.is_loose_router()).map(|r| r.to_string());
        let fallback = egress_listener.and_then(|i| self.identity.listener(i)).map_or(Transport::Udp, |l| l.transport);
        // §16.6 steps 6-7: a Route, or an in-dialog target given as an address, is the next hop.
        let direct = match (&next_route, uri.as_sip()) {
            (Some(route), _) if !gated => direct_next_hop(route, fallback),
            (None, Some(target)) if in_dialog && !uri_is_ours => direct_next_hop(target, fallback),
            _ => None,
        };
        let mut targets: Vec<Target> = match direct {
            Some(mut next_hop) => {
                next_hop.flow = flow_hint;
                vec![Target::to(next_hop)]
            }
            None => {
                let ctx = RequestCtx {
                    transport: arrival.transport,
                    local: arrival.local,
                    peer: arrival.peer,
                    flow: arrival.flow,
                    tls_peer_names: arrival.tls_peer_names.as_deref(),
                    request_uri: uri,
                    uri_is_ours,
                    route: next_route,
                    health: self.health,
                    clearance: clearance.as_deref(),
                };
                match self.locator.locate(msg, &ctx) {
                    Ok(t) if !t.is_empty() => t,
                    Ok(_) => return refuse(LocalReply::status(LocateError::NoRoute.status())),
                    Err(LocateError::Lookup { queries }) if !is_ack => return Decision::Lookup(queries, clearance),
                    Err(e) => return refuse(LocalReply::status(e.status())),
                }
            }
        };
        if let Some(clearance) = &clearance {
            clearance.strip_untrusted_identity(msg, &mut targets);
        }
        Decision::Forward(ForwardPlan {
            loop_hash: hash,
            strict_uri,
            own_routes,
            strict_next,
            egress_listener,
            targets,
            record_route: self.record_route && !in_dialog && creates_dialog(method),
            reply_to: reply_peer(Some(&top), arrival),
            stamp: ViaStamp::new(&top, arrival.peer),
            max_forwards: checked.max_forwards,
            cpl: clearance.filter(|c| c.policy().and_then(causeway_policy::PolicyAllowed::proxy).is_some()),
        })
    }

    /// §16.3 step 4: a Via of ours whose branch carries the hash this request would get with
    /// the Via below it as topmost (the one that was topmost when we forwarded it before).
    fn is_loop(&self, msg: &Message) -> bool {
        let marked = msg.headers_named(HeaderName::Via).any(|h| memchr::memmem::find(h.value, BRANCH_PREFIX.as_bytes()).is_some());
        if !marked {
            return false;
        }
        let vias: SmallVec<[Via<'_>; 4]> = msg.vias().filter_map(Result::ok).collect();
        vias.iter().zip(vias.iter().skip(1)).any(|(ours, below)| {
            let Some(theirs) = ours.branch().and_then(Branch::loop_hash_of) else { return false };
            let transport = match ours.transport() {
                causeway_sip::header::via::ViaTransport::Known(t) => t,
                causeway_sip::header::via::ViaTransport::Other(_) => return false,
            };
            self.identity.sent_by_listener(&ours.host(), ours.port(), transport).is_some()
                && loop_hash(self.ids, msg, below) == theirs
        })
    }
}

fn reply_with(status: StatusCode, detail: &str) -> LocalReply {
    LocalReply { status, detail: Some(detail.to_owned()), extra: Vec::new() }
}
