//! From a routing [`Decision`] to the proxy's target set: each zone target's next hops
//! (causeway-routing's [`Resolution`]), in target groups the core fails over along.
//!
//! A target's first hop is its branch's destination and the others its alternates (RFC 3263
//! §4.3); its group is the position of its search-rule priority among the groups that yielded
//! a hop. Lookups are answered from what the node already holds (the health snapshot): the
//! addresses the keepalive looked up for peers named by host name, and the answers of earlier
//! lookups, for their TTL. When a lookup has no answer yet, the request waits for it:
//! [`LocateError::Lookup`] names the queries, the core (or the dry run) has them looked up and
//! locates the request again.

use causeway_routing::resolve::{AddressRecord, DnsAnswer, DnsQuery, QueryKind, ResolveError};
use causeway_routing::{
    Authentication, Decision, HealthSnapshot, IdentityHeaders, ResolveStep, Resolution, RoutingTable, TraceStep,
    Zone, ZoneTarget,
};
use causeway_sip::{HeaderName, Message, StatusCode};
use rand::RngCore;

use crate::api::FlowId;
use crate::locate::{LocateError, NextHop, RecordRouteHosts, Target, TargetOptions};

/// Where each target of `decision` goes; the trace gains one resolution step per target.
pub(crate) fn targets(
    table: &RoutingTable,
    decision: &mut Decision,
    request: Option<&Message>,
    auth: &Authentication,
    health: &HealthSnapshot,
    rng: &mut dyn RngCore,
) -> Result<Vec<Target>, LocateError> {
    let groups: Vec<Vec<ZoneTarget>> = decision.groups().iter().map(|g| g.targets.clone()).collect();
    let mut out = Vec::new();
    let mut failure = None;
    let mut unanswered = Vec::new();
    let mut group = 0u16;
    // The name the previous hop knows us by, when it is a trunk (Teams Direct Routing).
    let caller_fqdn = table.zone(auth.zone()).and_then(|z| z.local_fqdn.clone());
    for zone_targets in groups {
        let before = out.len();
        for zone_target in &zone_targets {
            let mut resolution = Resolution::new(table, zone_target, health, rng);
            let zone = table.zone(&zone_target.zone);
            let outcome = drive(&mut resolution, zone, health, rng);
            let result = match &outcome {
                Resolved::Hops(_) | Resolved::Failed(_) => resolution.summary(),
                Resolved::Unanswered(query) => format!("no next hop: no answer for {query} here (the node's resolver looks it up)"),
                Resolved::Traversal => "no next hop: no traversal connection is up".to_owned(),
            };
            let lookups = resolution.lookups().to_vec();
            decision.trace.steps.push(TraceStep::Resolution { zone: zone_target.zone.clone(), lookups, result });
            let hops = match outcome {
                Resolved::Hops(hops) => hops,
                Resolved::Unanswered(query) => {
                    unanswered.push(query);
                    continue;
                }
                other => {
                    failure = Some(other.status());
                    continue;
                }
            };
            let Some((first, rest)) = hops.split_first() else { continue };
            let options = TargetOptions {
                alternates: rest.to_vec(),
                group,
                max_forwards: Some(zone_target.max_forwards),
                remove_fields: request.map(|r| removed_fields(r, zone, auth)).unwrap_or_default(),
                record_route_hosts: RecordRouteHosts {
                    callee: zone.and_then(|z| z.local_fqdn.clone()),
                    caller: caller_fqdn.clone(),
                },
            };
            out.push(Target { request_uri: zone_target.request_uri.clone(), next_hop: *first, options });
        }
        if out.len() > before {
            group = group.saturating_add(1);
        }
    }
    // Live traffic waits for the node's resolver (the core parks the request and locates it
    // again with the answers); the dry run looks them up the same way and locates again.
    if !unanswered.is_empty() {
        return Err(LocateError::Lookup { queries: unanswered });
    }
    if out.is_empty() {
        let status = failure.unwrap_or(StatusCode::NOT_FOUND);
        return Err(LocateError::Rejected { status });
    }
    Ok(out)
}

/// How one target's resolution ended, as far as what the node holds goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Try these hops in order (RFC 3263 §4.3).
    Hops(Vec<NextHop>),
    /// No hop: the target cannot be reached.
    Failed(ResolveError),
    /// This lookup must be done first; its answer goes to [`causeway_routing::Resolution::handle_answer`],
    /// then [`drive`] runs again.
    Unanswered(DnsQuery),
    /// A traversal-server zone whose connection is not up.
    Traversal,
}

impl Resolved {
    /// RFC 3261 §21 / RFC 3263: the answer when this was the last target.
    pub fn status(&self) -> StatusCode {
        let code = match self {
            Self::Failed(e) => e.status(),
            Self::Hops(_) | Self::Unanswered(_) | Self::Traversal => 503,
        };
        StatusCode::new(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
    }
}

/// Runs `resolution` of a target in `zone` as far as local knowledge goes: peers the keepalive
/// marks down are skipped, peer host names answer from the keepalive's lookups, and other
/// lookups from the answers `health` holds. Call control's legs leave through zones with it too.
pub fn drive(resolution: &mut Resolution, zone: Option<&Zone>, health: &HealthSnapshot, rng: &mut dyn RngCore) -> Resolved {
    loop {
        let answer = match resolution.poll() {
            ResolveStep::Done(hops) => {
                let hops = hops.iter().map(|h| NextHop { transport: h.transport, address: h.address, flow: None }).collect();
                return Resolved::Hops(hops);
            }
            ResolveStep::Failed(e) => return Resolved::Failed(e),
            // The connection the internal node keeps open to us (RFC 5626 §5 flow reuse).
            ResolveStep::TraversalFlow => {
                return match zone.and_then(|z| health.traversal_connection(&z.name)) {
                    Some(c) => Resolved::Hops(vec![NextHop {
                        transport: c.transport,
                        address: c.address,
                        flow: Some(FlowId(c.flow)),
                    }]),
                    None => Resolved::Traversal,
                };
            }
            ResolveStep::Query(query) => match zone.and_then(|z| known_answer(query, z, health)).or_else(|| health.answer(query).cloned()) {
                Some(answer) => answer,
                None => return Resolved::Unanswered(query.clone()),
            },
        };
        resolution.handle_answer(answer, rng);
    }
}

/// The addresses of a peer of `zone` named by host name, as the keepalive looked them up.
fn known_answer(query: &DnsQuery, zone: &Zone, health: &HealthSnapshot) -> Option<DnsAnswer> {
    if query.kind != QueryKind::Address {
        return None;
    }
    let addresses = zone
        .peers
        .iter()
        .filter(|p| p.host.eq_ignore_ascii_case(&query.name))
        .find_map(|p| health.peer(&zone.name, p.key()).filter(|h| !h.addresses.is_empty()))?
        .addresses
        .iter()
        .map(|&address| AddressRecord { address, ttl: 0 })
        .collect();
    Some(DnsAnswer::Addresses(addresses))
}

/// Header fields the copy for `zone` leaves out: identity headers of a request that is not
/// authenticated (RFC 3325 §5), and what the zone's SIP profile does not keep.
fn removed_fields(request: &Message, zone: Option<&Zone>, auth: &Authentication) -> Vec<usize> {
    let strip_identity = auth.identity_headers() == IdentityHeaders::Strip;
    request
        .headers()
        .filter(|h| {
            let identity = matches!(h.name, HeaderName::PAssertedIdentity | HeaderName::PPreferredIdentity);
            let name = std::str::from_utf8(h.raw_name).unwrap_or_default();
            (identity && strip_identity) || zone.is_some_and(|z| !z.sip_profile.keeps(name))
        })
        .map(|h| h.index())
        .collect()
}
