//! The gate before location: the zone's authentication policy (RFC 3261 §22 digest through the
//! policy crate, with the routing crate's proof of authentication), the brute-force counters,
//! and call policy. Pure apart from the state it owns; time comes in as `now`.

use std::net::IpAddr;
use std::time::Instant;

use causeway_policy::audit::AuditRecord;
use causeway_policy::cpl::Outcome as CplOutcome;
use causeway_policy::digest::{credentials_realm, AuthOutcome, ChallengeKind};
use causeway_policy::flood::Admission;
use causeway_policy::input::StringFields;
use causeway_policy::seal::RouteKey;
use causeway_policy::{evaluate, resume, Address, PolicyInput, PolicySet, Trace, Verdict};
use causeway_routing::{
    address_of, authenticate, name_addr_address, AuthRequirement, AuthStep, Authentication, CredentialCheck, DigestCheck,
    ZoneClassified,
};
use causeway_sip::uri::Uri;
use causeway_sip::{HeaderName, Message, Method, StatusCode};

use super::{audit, Clearance, Security, SecurityCounters};
use crate::plan::{Arrival, LocalReply};

/// Most times one request may resume a CPL script after a `lookup` (scripts cannot loop, so
/// this only bounds a long chain of lookups).
const MAX_LOOKUPS: usize = 8;

/// The security phases, lent to the request phases for one request.
#[derive(Debug)]
pub(crate) struct Gate {
    now: Instant,
    security: Option<Box<Security>>,
    counters: SecurityCounters,
    /// The clearance this very request got before it waited for DNS lookups.
    resumed: Option<Box<Clearance>>,
}

/// What the gate decided.
#[derive(Debug)]
pub(crate) enum GateOutcome {
    /// No security phases run in this core.
    Unchecked,
    /// Authenticated as its zone requires and allowed by call policy.
    Cleared(Box<Clearance>),
    /// Answer it (a challenge, a policy rejection or redirect, malformed credentials).
    Refused(LocalReply),
    /// Drop it without an answer: its username is under a brute-force ban.
    Drop,
}

impl Gate {
    pub(crate) fn new(now: Instant, security: Option<Box<Security>>, counters: SecurityCounters) -> Self {
        Self { now, security, counters, resumed: None }
    }

    /// The request about to be checked was cleared before it waited for DNS lookups (a DNS
    /// zone's): it is not checked again — its digest response was good once, a second check
    /// would count it as a replay.
    pub(crate) fn resume(&mut self, clearance: Option<Box<Clearance>>) {
        self.resumed = clearance;
    }

    pub(crate) fn into_parts(self) -> (Option<Box<Security>>, SecurityCounters) {
        (self.security, self.counters)
    }

    /// The key of our Record-Route seals; `None` when no security phases run (then nothing is
    /// sealed and nothing is checked).
    pub(crate) fn route_key(&self) -> Option<&RouteKey> {
        self.security.as_deref().map(Security::route_key)
    }

    /// Checks a request that does not follow our Record-Route; `request_uri` is the one after
    /// RFC 3261 §16.4 (a strict router's Route moved back).
    pub(crate) fn check(&mut self, msg: &Message, arrival: &Arrival, request_uri: &Uri<'_>) -> GateOutcome {
        if let Some(clearance) = self.resumed.take() {
            return GateOutcome::Cleared(clearance);
        }
        let now = self.now;
        let Some(security) = self.security.as_deref_mut() else { return GateOutcome::Unchecked };
        let counters = &mut self.counters;
        let Some(zone) = security.zone.clone() else {
            // The screen classifies every request before it is parsed; without a zone nothing
            // can be vouched for.
            tracing::debug!("request reached the gate unclassified");
            return GateOutcome::Refused(reply(StatusCode::SERVER_INTERNAL_ERROR, None));
        };
        let Some(method) = msg.method() else { return GateOutcome::Drop };
        let source = arrival.peer.ip();
        let authentication = match authenticate(&zone, &security.zones) {
            AuthRequirement::Decided(a) => a,
            AuthRequirement::CheckCredentials(check) => match verify(security, counters, now, check, msg, &zone, source) {
                Ok(a) => a,
                Err(refused) => return refused,
            },
        };
        let honours_route_header = security.honours_route_header(&zone);
        if *method == Method::Register {
            // Registrations are authenticated, not call-policed (Expressway: call policy is for calls).
            let clearance = Clearance { zone, authentication, policy: None, honours_route_header, input: None };
            return GateOutcome::Cleared(Box::new(clearance));
        }
        let input = policy_input(msg, zone.zone(), &authentication, request_uri, security.wall_time(now));
        match decide(security, &input, counters) {
            Verdict::Allow(allowed) => {
                // A `proxy` node's outputs and recursion need the input again when the attempt ends.
                let input = allowed.proxy().is_some().then(|| Box::new(input));
                GateOutcome::Cleared(Box::new(Clearance { zone, authentication, policy: Some(allowed), honours_route_header, input }))
            }
            verdict => GateOutcome::Refused(refusal(&input, source, &verdict)),
        }
    }
}

/// The digest check of a `check-credentials` zone (RFC 3261 §22): the challenge (401 for a
/// REGISTER, 407 otherwise) or the proof of authentication, a failure counted against the source
/// and the username, and a drop when that starts a ban or the username is banned.
fn verify(
    security: &mut Security,
    counters: &mut SecurityCounters,
    now: Instant,
    check: CredentialCheck,
    msg: &Message,
    zone: &ZoneClassified,
    source: IpAddr,
) -> Result<Authentication, GateOutcome> {
    let Some(method) = msg.method() else { return Err(GateOutcome::Drop) };
    let register = *method == Method::Register;
    let (kind, header) = if register {
        (ChallengeKind::Www, HeaderName::Authorization)
    } else {
        (ChallengeKind::Proxy, HeaderName::ProxyAuthorization)
    };
    let Some(digest) = security.digest.as_mut() else {
        tracing::warn!(zone = zone.zone(), "the zone checks credentials but [security.digest] is not configured");
        return Err(GateOutcome::Refused(reply(StatusCode::FORBIDDEN, None)));
    };
    // RFC 3261 §22.3: only the credentials for our realm are ours to consume.
    let authorization = msg
        .headers_named(header)
        .filter_map(|h| std::str::from_utf8(h.value).ok())
        .find(|v| credentials_realm(v).is_some_and(|r| r == security.realm));
    let request_uri_text = msg.request_uri_str().unwrap_or_default();
    let (step, outcome) = check.verify_as(
        kind,
        DigestCheck {
            auth: digest,
            store: security.credentials.as_ref(),
            now,
            method: method.as_str(),
            request_uri: request_uri_text,
            authorization,
        },
    );
    if let Some(flood) = security.flood.as_mut() {
        let admission = match &outcome {
            Some(AuthOutcome::Wrong { user } | AuthOutcome::Unknown { user }) => {
                counters.auth_failures += 1;
                flood.auth_failed(now, source, zone.zone(), user)
            }
            Some(AuthOutcome::Ok { user, .. }) => flood.check_user(now, source, zone.zone(), user),
            _ => Admission::Admit,
        };
        if let Admission::Drop { until, new_ban } = admission {
            counters.auth_dropped += 1;
            if let Some(ban) = new_ban {
                counters.bans_started += 1;
                let left = until.saturating_duration_since(now).as_secs();
                let (from, to) = (header_text(msg, HeaderName::From), request_uri_text);
                audit(&AuditRecord::blocked(zone.zone(), source, &from, to, &ban.subject, ban.reason, left));
            }
            return Err(GateOutcome::Drop);
        }
    }
    match step {
        AuthStep::Proceed(a) => {
            counters.authenticated += 1;
            Ok(a)
        }
        AuthStep::Challenge(challenge) => {
            counters.challenges += 1;
            let name = match kind {
                ChallengeKind::Www => HeaderName::WwwAuthenticate,
                ChallengeKind::Proxy => HeaderName::ProxyAuthenticate,
            };
            let status = StatusCode::new(challenge.status).unwrap_or(StatusCode::PROXY_AUTHENTICATION_REQUIRED);
            let extra = challenge.values.into_iter().map(|v| (name, v)).collect();
            Err(GateOutcome::Refused(LocalReply { status, detail: None, extra }))
        }
        AuthStep::BadRequest(reason) => {
            counters.malformed_credentials += 1;
            tracing::debug!(zone = zone.zone(), %source, reason, "malformed credentials");
            Err(GateOutcome::Refused(reply(StatusCode::BAD_REQUEST, Some(reason))))
        }
    }
}

/// Call policy over one request, counted.
fn decide(security: &Security, input: &PolicyInput, counters: &mut SecurityCounters) -> Verdict {
    let (verdict, trace) = call_policy(&security.policy, input, |v| counters.policy.record(v));
    tracing::trace!(zone = %input.zone, "call policy:\n{trace}");
    verdict
}

/// Call policy over one request as the live path and `causeway locate` both run it: `lookup`s
/// answered "failed", as the proxy has no location service of its own (RFC 3880 §5.3 `failure`
/// output), and the script resumed. Never a `Lookup`; `record` sees every verdict on the way.
pub(crate) fn call_policy(set: &PolicySet, input: &PolicyInput, record: impl FnMut(&Verdict)) -> (Verdict, Trace) {
    settle_lookups(set, input, evaluate(input, set), record)
}

/// Answers every `lookup` of `(verdict, trace)` "failed" and resumes, as [`call_policy`] does.
pub(crate) fn settle_lookups(
    set: &PolicySet,
    input: &PolicyInput,
    (mut verdict, mut trace): (Verdict, Trace),
    mut record: impl FnMut(&Verdict),
) -> (Verdict, Trace) {
    for _ in 0..MAX_LOOKUPS {
        record(&verdict);
        let Verdict::Lookup(lookup) = verdict else { break };
        verdict = match resume(input, set, lookup.continuation, CplOutcome::LookupFailed) {
            Ok((Some(next), more)) => {
                trace.steps.extend(more.steps);
                next
            }
            Ok((None, _)) | Err(_) => return (internal_error(lookup.decided_by), trace),
        };
    }
    match verdict {
        Verdict::Lookup(lookup) => (internal_error(lookup.decided_by), trace),
        other => (other, trace),
    }
}

fn internal_error(decided_by: causeway_policy::Decider) -> Verdict {
    Verdict::Reject(causeway_policy::verdict::Rejection {
        status: 500,
        reason: "Server Internal Error".to_owned(),
        decided_by,
    })
}

/// The answer to a request call policy did not allow, logged once.
pub(crate) fn refusal(input: &PolicyInput, source: IpAddr, verdict: &Verdict) -> LocalReply {
    if let Some(record) = AuditRecord::from_verdict(input, Some(source), verdict) {
        audit(&record);
    }
    match verdict {
        Verdict::Reject(r) => {
            let status = StatusCode::new(r.status).unwrap_or(StatusCode::FORBIDDEN);
            let detail = (r.reason != status.default_reason()).then_some(r.reason.as_str());
            reply(status, detail)
        }
        Verdict::Redirect(r) => {
            let status = if r.permanent { StatusCode::MOVED_PERMANENTLY } else { StatusCode::MOVED_TEMPORARILY };
            let extra = r.contacts.iter().map(|c| (HeaderName::Contact, format!("<{}>", c.uri))).collect();
            LocalReply { status, detail: None, extra }
        }
        Verdict::Allow(_) | Verdict::Lookup(_) => reply(StatusCode::SERVER_INTERNAL_ERROR, None),
    }
}

fn reply(status: StatusCode, detail: Option<&str>) -> LocalReply {
    LocalReply { status, detail: detail.map(str::to_owned), extra: Vec::new() }
}

fn header_text(msg: &Message, name: HeaderName) -> String {
    msg.header(name).and_then(|h| std::str::from_utf8(h.value).ok()).unwrap_or_default().to_owned()
}

/// What call policy is told about a request: its zone and authentication, From and every
/// asserted identity, the Request-URI (after §16.4) as destination, and the headers a CPL
/// `string-switch` or `priority-switch` may test.
pub(crate) fn policy_input(
    msg: &Message,
    zone: &str,
    authentication: &Authentication,
    request_uri: &Uri<'_>,
    wall_time: chrono::DateTime<chrono::Utc>,
) -> PolicyInput {
    let from = msg
        .header(HeaderName::From)
        .and_then(|h| std::str::from_utf8(h.value).ok())
        .and_then(name_addr_address)
        .unwrap_or_else(|| Address::new("sip", None, None));
    let mut input = PolicyInput::new(zone, from, address_of(request_uri), wall_time);
    input.authenticated = authentication.authenticated();
    input.asserted = [HeaderName::PAssertedIdentity, HeaderName::PPreferredIdentity]
        .into_iter()
        .flat_map(|name| msg.values(name).filter_map(Result::ok).filter_map(|v| name_addr_address(v.text)).collect::<Vec<_>>())
        .collect();
    input.original_destination = msg.request_uri_str().and_then(|u| Uri::parse(u).ok()).map(|u| address_of(&u));
    let text = |name| msg.header(name).and_then(|h| std::str::from_utf8(h.value).ok()).map(str::to_owned);
    input.priority = text(HeaderName::Priority);
    input.strings = StringFields {
        subject: text(HeaderName::Subject),
        organization: text(HeaderName::Organization),
        user_agent: text(HeaderName::UserAgent),
        language: text(HeaderName::AcceptLanguage),
    };
    input
}
