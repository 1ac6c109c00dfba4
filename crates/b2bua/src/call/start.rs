//! An INVITE for call control: who places it (a registered device, or a zone — anchored on a
//! user when its identity is one of theirs), what the dial plan does with it, and the fork
//! plan Single Number Reach runs. The zone and whether the caller is authenticated are the
//! proxy core's gate's (`causeway_proxy::Clearance`); call control never classifies again.

use causeway_callctl::{Cluster, ContactSnapshot, Decision, ForkInput, ForkPlan, Origin, Outcome, ZoneCall};
use causeway_policy::Address;
use causeway_proxy::Clearance;
use causeway_routing::IdentityHeaders;
use causeway_sip::header::addr::NameAddr;
use causeway_sip::{HeaderName, Message, StatusCode, Uri};
use chrono::{DateTime, Utc};

use crate::zones::Zones;
use causeway_callctl::DualRingSwitches;

/// Option tags a caller may require of us: session timers are passed through (RFC 4028).
const REQUIRE_UNDERSTOOD: [&str; 1] = ["timer"];

/// The zone a call comes from, as the proxy core's gate established it: one classification,
/// one authentication (digest included) for proxied requests and calls alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ZoneOrigin {
    pub(crate) zone: String,
    /// The zone's authentication policy vouched for the caller (anchoring trusts
    /// P-Asserted-Identity only then).
    pub(crate) authenticated: bool,
    /// P-Asserted-Identity may be believed (RFC 3325 §5: kept only on authenticated requests).
    pub(crate) asserted_trusted: bool,
}

impl ZoneOrigin {
    /// The gate's verdict; without security phases in the core, the default zone and nobody
    /// vouched for.
    pub(crate) fn of(clearance: Option<&Clearance>) -> Self {
        match clearance {
            Some(c) => Self {
                zone: c.zone().zone().to_owned(),
                authenticated: c.authentication().authenticated(),
                asserted_trusted: c.authentication().identity_headers() == IdentityHeaders::Keep,
            },
            None => Self { zone: causeway_routing::DEFAULT_ZONE.to_owned(), authenticated: false, asserted_trusted: false },
        }
    }
}

/// Where a new INVITE came from, as the agent hook saw it.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// The registered device whose flow it came over, if any.
    pub(crate) device: Option<String>,
    /// Its zone (for calls not from a device).
    pub(crate) zone: ZoneOrigin,
    /// Whether the Request-URI's host names this node (then it is read as a cluster FQDN).
    pub(crate) uri_names_us: bool,
}

/// What to do with a new INVITE.
#[derive(Debug)]
pub(crate) enum Start {
    /// Ring these legs.
    Call { decision: Box<Decision>, plan: ForkPlan, line: Option<String> },
    /// The dual-ringing feature code: flip the user's switch.
    Toggle { userid: String },
    /// Refuse with this status and detail.
    Refuse(StatusCode, String),
}

/// A From / P-Asserted-Identity value as policy's address.
pub(crate) fn address(value: &NameAddr<'_>) -> Option<Address> {
    let address = match value.uri().ok()? {
        Uri::Sip(u) => {
            let a = Address::new(if u.is_sips() { "sips" } else { "sip" }, u.user(), Some(u.host_str()));
            if u.user_param().is_some_and(|p| p.eq_ignore_ascii_case("phone")) {
                a.with_user_phone()
            } else {
                a
            }
        }
        Uri::Tel(t) => Address::tel(t.number()),
        Uri::Other { .. } => return None,
    };
    Some(match value.display_name() {
        Some(d) if !d.is_empty() => address.with_display(&d),
        _ => address,
    })
}

/// The Request-URI as call control reads it: a host naming this node stands for the cluster.
fn called(invite: &Message, cluster: &Cluster, uri_names_us: bool) -> Option<Address> {
    let uri = Uri::parse(invite.request_uri_str()?).ok()?;
    match uri {
        Uri::Sip(u) => {
            let host = match cluster.cfqdns().first() {
                Some(cfqdn) if uri_names_us => cfqdn.as_str(),
                _ => u.host_str(),
            };
            Some(Address::sip(u.user(), host))
        }
        Uri::Tel(t) => Some(Address::tel(t.number())),
        Uri::Other { .. } => None,
    }
}

/// The option tags of Require we do not do, if any.
pub(crate) fn unsupported(invite: &Message) -> Vec<String> {
    invite
        .option_tags(HeaderName::Require)
        .filter_map(Result::ok)
        .filter(|t| !REQUIRE_UNDERSTOOD.iter().any(|u| u.eq_ignore_ascii_case(t)))
        .map(str::to_owned)
        .collect()
}

/// The parts of a fork plan that change per call.
pub(crate) struct Now<'a> {
    pub(crate) wall: DateTime<Utc>,
    pub(crate) switches: &'a DualRingSwitches,
    pub(crate) contacts: &'a ContactSnapshot,
    pub(crate) zones: &'a Zones,
}

/// Places the call, runs the dial plan and plans the fork.
pub(crate) fn decide(invite: &Message, source: &Source, cluster: &Cluster, at: &Now<'_>) -> Start {
    let Some(called) = called(invite, cluster, source.uri_names_us) else {
        return Start::Refuse(StatusCode::UNSUPPORTED_URI_SCHEME, "Request-URI is neither sip nor tel".into());
    };
    let origin = match &source.device {
        Some(device) => {
            let from_user = invite.from_header().ok().and_then(|f| f.uri().ok()).and_then(|u| u.as_sip().and_then(|s| s.user()).map(str::to_owned));
            let directory = cluster.directory();
            let on_device = |dn: &str| {
                directory
                    .device_by_name(device)
                    .and_then(|d| directory.device(d))
                    .is_some_and(|d| d.lines.iter().filter_map(|l| directory.line(*l)).any(|l| l.dn == dn))
            };
            Origin::Device { device: device.clone(), line: from_user.filter(|u| on_device(u)) }
        }
        None => {
            let Some(from) = invite.from_header().ok().as_ref().and_then(address) else {
                return Start::Refuse(StatusCode::BAD_REQUEST, "From is not a SIP or tel address".into());
            };
            // An identity the gate would strip before forwarding is not a claim call control
            // may anchor on.
            let asserted = if source.zone.asserted_trusted {
                invite.p_asserted_identities().filter_map(Result::ok).filter_map(|v| address(&v)).collect()
            } else {
                Vec::new()
            };
            let contact_params = invite
                .contacts()
                .next()
                .and_then(Result::ok)
                .map(|c| c.params().iter().map(|p| (p.name.to_owned(), p.value.map(str::to_owned))).collect())
                .unwrap_or_default();
            Origin::Zone(ZoneCall {
                zone: source.zone.zone.clone(),
                authenticated: source.zone.authenticated,
                from,
                asserted,
                contact_params,
            })
        }
    };
    let decision = match cluster.locate(&origin, &called) {
        Ok(decision) => decision,
        Err(error) => return Start::Refuse(StatusCode::FORBIDDEN, error.to_string()),
    };
    match &decision.outcome {
        Outcome::Line { line, dn, .. } => {
            let zone_of = |uri: &str| at.zones.zones_for(uri);
            let input = ForkInput {
                placement: &decision.placement,
                wall_time: at.wall,
                switches: at.switches,
                contacts: at.contacts,
                zones: &zone_of,
            };
            let plan = cluster.fork_plan(*line, input);
            let line = Some(dn.clone());
            Start::Call { decision: Box::new(decision), plan, line }
        }
        Outcome::Route { zone, called, .. } => {
            let plan = ForkPlan::routed(zone, called);
            Start::Call { decision: Box::new(decision), plan, line: None }
        }
        Outcome::ToggleDualRing { userid, .. } => Start::Toggle { userid: userid.clone() },
        other => {
            let status = other.reject_status().and_then(StatusCode::new).unwrap_or(StatusCode::NOT_FOUND);
            Start::Refuse(status, String::new())
        }
    }
}
