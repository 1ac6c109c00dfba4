//! Where a request goes (RFC 3261 §16.5, §16.6 step 6-7): the [`Locator`] seam and the static
//! table of this release.
//!
//! The core decides *whether* to ask: requests already addressed to a next hop (a Route left
//! after §16.4, or an in-dialog request whose Request-URI is an IP address) go there without
//! a lookup. Everything else — every initial request — is located. The locator is pure and
//! synchronous (pingora's `upstream_peer` idea): the edge-routing engine (zones, search rules)
//! replaces [`StaticRoutes`] behind the same trait.

use std::net::{IpAddr, SocketAddr};

use causeway_routing::HealthSnapshot;
use causeway_sip::uri::{Host, SipUri, Uri};
use causeway_sip::{Message, StatusCode, Transport};

use crate::api::FlowId;

/// A concrete place to send a request: transport, address, and optionally a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHop {
    /// Transport to use.
    pub transport: Transport,
    /// Destination address.
    pub address: SocketAddr,
    /// An existing connection to prefer (stream transports).
    pub flow: Option<FlowId>,
}

/// One branch of the target set (RFC 3261 §16.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// A new Request-URI for this branch (retargeting, §16.6 step 2); `None` keeps the
    /// received one.
    pub request_uri: Option<String>,
    /// Where to send this branch (§16.6 step 7: a local policy may fix the address).
    pub next_hop: NextHop,
    /// Failover and the other changes of this branch's copy; the default for a plain branch.
    pub options: TargetOptions,
}

impl Target {
    /// A plain branch: `next_hop`, the received Request-URI, no failover.
    pub fn to(next_hop: NextHop) -> Self {
        Self { request_uri: None, next_hop, options: TargetOptions::default() }
    }
}

/// How a branch fails over and what its copy changes besides the Request-URI (the edge's
/// zones and search rules decide these; a plain locator leaves the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetOptions {
    /// Next hops tried one after the other, each when the previous one failed with a timeout,
    /// a transport error or 503 (RFC 3263 §4.3).
    pub alternates: Vec<NextHop>,
    /// Fallback group. Targets of the lowest group start at once, in parallel; the next group
    /// starts only when every branch so far failed with a timeout, a transport error, 404 or
    /// 503 (a search rule that said "continue"), never after a 2xx, a 6xx or a CANCEL.
    pub group: u16,
    /// Max-Forwards to send instead of the received value minus one (§16.6 step 3): a zone's
    /// hop count may only lower it.
    pub max_forwards: Option<u8>,
    /// Header fields of the received request, by [`causeway_sip::HeaderField::index`], left
    /// out of this copy: identity headers outside the trust domain (RFC 3325 §5), headers a
    /// zone's SIP profile strips. Never Via, Route, Max-Forwards or other fields §16.6 edits.
    pub remove_fields: Vec<usize>,
    /// Names our Record-Route entries give this node instead of the listener's advertised host
    /// (RFC 3261 §16.6 step 4): a trunk zone's `local_fqdn` on the side facing that trunk.
    pub record_route_hosts: RecordRouteHosts,
}

/// Host names for the Record-Route entries of one branch, each `None` for the listener's own.
/// Teams Direct Routing refuses a call whose Record-Route does not name the SBC FQDN its
/// certificate carries, so the entry facing a trunk names the trunk zone's `local_fqdn`; when the
/// two sides want different names the core writes two entries (RFC 5658 §3.3), each one naming
/// the node as the side it faces knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordRouteHosts {
    /// The entry facing this branch's target (downstream).
    pub callee: Option<String>,
    /// The entry facing the previous hop (upstream).
    pub caller: Option<String>,
}

/// What the core knows about a request when it asks a [`Locator`].
#[derive(Debug, Clone, Copy)]
pub struct RequestCtx<'a> {
    /// Transport it came over.
    pub transport: Transport,
    /// Listener it came on.
    pub local: SocketAddr,
    /// Source address.
    pub peer: SocketAddr,
    /// Connection it came on.
    pub flow: Option<FlowId>,
    /// Peer certificate subject names (mutual TLS).
    pub tls_peer_names: Option<&'a [String]>,
    /// The Request-URI after §16.4 (a strict router's Route already moved into it).
    pub request_uri: Uri<'a>,
    /// True if the Request-URI names this node (one of its addresses or domains).
    pub uri_is_ours: bool,
    /// The topmost Route left after removing ours (§16.4); the request must go there.
    pub route: Option<SipUri<'a>>,
    /// Peer keepalive state and the addresses peer host names resolved to, when the core
    /// monitors peers ([`crate::Core::monitor_peers`]); `None` otherwise.
    pub health: Option<&'a HealthSnapshot>,
    /// The request's zone, authentication and call-policy verdict, when the core runs the
    /// edge's security phases ([`crate::Core::with_security`]): a locator routes with this
    /// zone and authentication rather than working them out again. `None` otherwise.
    pub clearance: Option<&'a crate::Clearance>,
}

/// Why a request cannot be located; each maps to the final response sent upstream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocateError {
    /// No rule takes the request and its destination cannot be reached directly.
    #[error("no route for the request")]
    NoRoute,
    /// The locator decided on a final answer itself (policy, an unavailable zone, ...).
    #[error("rejected with {status}")]
    Rejected {
        /// The status to answer with.
        status: StatusCode,
    },
    /// The locator needs these DNS answers first (a DNS zone's RFC 3263 lookups): the core has
    /// them looked up ([`crate::Core::poll_resolve`]), holds them in the health snapshot for
    /// their TTL, and locates the request again.
    #[error("waiting for {} DNS lookups", queries.len())]
    Lookup {
        /// The lookups.
        queries: Vec<causeway_routing::resolve::DnsQuery>,
    },
}

impl LocateError {
    /// The response to send upstream.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NoRoute => StatusCode::NOT_FOUND,
            Self::Rejected { status } => *status,
            // Only reaches the caller when the lookups could not even start.
            Self::Lookup { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// The routing seam: turn a request into its target set (RFC 3261 §16.5). Pure and
/// synchronous; called once per initial request.
pub trait Locator {
    /// The targets to try in parallel, in order; an empty list is treated as
    /// [`LocateError::NoRoute`].
    fn locate(&self, request: &Message, ctx: &RequestCtx<'_>) -> Result<Vec<Target>, LocateError>;
}

impl<L: Locator + ?Sized> Locator for Box<L> {
    fn locate(&self, request: &Message, ctx: &RequestCtx<'_>) -> Result<Vec<Target>, LocateError> {
        (**self).locate(request, ctx)
    }
}

impl<L: Locator + ?Sized> Locator for std::sync::Arc<L> {
    fn locate(&self, request: &Message, ctx: &RequestCtx<'_>) -> Result<Vec<Target>, LocateError> {
        (**self).locate(request, ctx)
    }
}

/// The next hop a SIP URI names by itself, when that needs no DNS (RFC 3263 §4.1-4.2 for a
/// numeric host): `maddr` if present, else the host; the explicit port or the transport's
/// default; `transport=` or, without it, TLS for `sips` and `fallback` otherwise.
pub fn direct_next_hop(uri: &SipUri<'_>, fallback: Transport) -> Option<NextHop> {
    let ip: IpAddr = match uri.maddr() {
        Some(maddr) => Host::parse(maddr).ok()?.ip()?,
        None => uri.host().ip()?,
    };
    let transport = match uri.transport() {
        Some(t) => t,
        None if uri.is_sips() => Transport::Tls,
        None => fallback,
    };
    if uri.is_sips() && transport != Transport::Tls {
        return None;
    }
    let port = uri.port().unwrap_or(transport.default_port());
    Some(NextHop { transport, address: SocketAddr::new(ip, port), flow: None })
}

/// What a static route matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteMatch {
    /// The destination host equals this domain (case-insensitive, RFC 3261 §19.1.4).
    Domain(String),
    /// The Request-URI user part (or `tel` number) starts with this prefix.
    UserPrefix(String),
    /// Anything no other route takes (`*`).
    Default,
}

/// One row of the static table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticRoute {
    /// Which requests it takes.
    pub matcher: RouteMatch,
    /// Where they go.
    pub next_hop: NextHop,
}

/// The static routing table of this release: the first matching domain or prefix route in
/// order, else the default route. With none of them matching, a Request-URI for a domain that
/// is not ours is its own target (RFC 3261 §16.5) and is sent to directly when its host is an
/// IP address; a host name needs DNS, which this table does not do, so it gets 404 like a
/// request for one of our own users that no route takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticRoutes {
    routes: Vec<StaticRoute>,
}

impl StaticRoutes {
    /// A table from rows in order.
    pub fn new(routes: Vec<StaticRoute>) -> Self {
        Self { routes }
    }

    /// The rows.
    pub fn routes(&self) -> &[StaticRoute] {
        &self.routes
    }

    fn lookup(&self, host: Option<&str>, user: Option<&str>) -> Option<NextHop> {
        let specific = self.routes.iter().find(|r| match &r.matcher {
            RouteMatch::Domain(d) => {
                host.is_some_and(|h| h.trim_end_matches('.').eq_ignore_ascii_case(d.trim_end_matches('.')))
            }
            RouteMatch::UserPrefix(p) => user.is_some_and(|u| u.starts_with(p.as_str())),
            RouteMatch::Default => false,
        });
        specific
            .or_else(|| self.routes.iter().find(|r| r.matcher == RouteMatch::Default))
            .map(|r| r.next_hop)
    }
}

impl Locator for StaticRoutes {
    fn locate(&self, _request: &Message, ctx: &RequestCtx<'_>) -> Result<Vec<Target>, LocateError> {
        let keep_uri = |next_hop| vec![Target::to(next_hop)];
        if let Some(route) = &ctx.route {
            // A Route naming a host: the table acts as the resolver of that host.
            return self.lookup(Some(route.host_str()), None).map(keep_uri).ok_or(LocateError::NoRoute);
        }
        let (host, user) = match &ctx.request_uri {
            Uri::Sip(u) => (Some(u.host_str()), u.user()),
            Uri::Tel(t) => (None, Some(t.number())),
            Uri::Other { .. } => (None, None),
        };
        if let Some(hop) = self.lookup(host, user) {
            return Ok(keep_uri(hop));
        }
        match ctx.request_uri.as_sip() {
            Some(uri) if !ctx.uri_is_ours => {
                direct_next_hop(uri, Transport::Udp).map(keep_uri).ok_or(LocateError::NoRoute)
            }
            _ => Err(LocateError::NoRoute),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn hop(port: u16) -> NextHop {
        NextHop { transport: Transport::Udp, address: SocketAddr::from(([192, 0, 2, 9], port)), flow: None }
    }

    fn table() -> StaticRoutes {
        StaticRoutes::new(vec![
            StaticRoute { matcher: RouteMatch::Default, next_hop: hop(1) },
            StaticRoute { matcher: RouteMatch::Domain("b.example.com".into()), next_hop: hop(2) },
            StaticRoute { matcher: RouteMatch::UserPrefix("+44".into()), next_hop: hop(3) },
        ])
    }

    fn locate(t: &StaticRoutes, uri: &str, ours: bool, route: Option<&str>) -> Result<Vec<Target>, LocateError> {
        let msg = Message::parse(Bytes::from_static(
            b"OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n",
        ));
        let Ok(msg) = msg else { return Err(LocateError::NoRoute) };
        let Ok(request_uri) = Uri::parse(uri) else { return Err(LocateError::NoRoute) };
        let route = route.and_then(|r| Uri::parse(r).ok()).and_then(|u| u.as_sip().copied());
        let ctx = RequestCtx {
            transport: Transport::Udp,
            local: SocketAddr::from(([127, 0, 0, 1], 5060)),
            peer: SocketAddr::from(([127, 0, 0, 1], 5062)),
            flow: None,
            tls_peer_names: None,
            request_uri,
            uri_is_ours: ours,
            route,
            health: None,
            clearance: None,
        };
        t.locate(&msg, &ctx)
    }

    fn port_of(r: Result<Vec<Target>, LocateError>) -> Option<u16> {
        r.ok()?.first().map(|t| t.next_hop.address.port())
    }

    #[test]
    fn specific_rules_beat_the_default_whatever_their_order() {
        let t = table();
        assert_eq!(port_of(locate(&t, "sip:bob@B.example.com", false, None)), Some(2));
        assert_eq!(port_of(locate(&t, "sip:+4420@a.example.com", false, None)), Some(3));
        assert_eq!(port_of(locate(&t, "tel:+4420", false, None)), Some(3));
        assert_eq!(port_of(locate(&t, "sip:alice@a.example.com", true, None)), Some(1));
    }

    #[test]
    fn route_host_is_resolved_by_the_table() {
        let t = table();
        assert_eq!(port_of(locate(&t, "sip:bob@elsewhere", false, Some("sip:b.example.com;lr"))), Some(2));
    }

    #[test]
    fn rfc3261_16_5_foreign_ip_uri_is_its_own_target_without_rules() {
        let t = StaticRoutes::default();
        let r = locate(&t, "sip:bob@192.0.2.7:5070;transport=tcp", false, None);
        let first = r.ok().and_then(|v| v.first().cloned());
        assert_eq!(first.map(|t| (t.next_hop.address, t.next_hop.transport)), Some((SocketAddr::from(([192, 0, 2, 7], 5070)), Transport::Tcp)));
        assert_eq!(locate(&t, "sip:bob@far.example.com", false, None), Err(LocateError::NoRoute));
        assert_eq!(locate(&t, "sip:bob@192.0.2.7", true, None), Err(LocateError::NoRoute));
        assert_eq!(LocateError::NoRoute.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn rfc3263_direct_next_hop_defaults() {
        let u = |s: &'static str| Uri::parse(s).ok().and_then(|u| u.as_sip().copied());
        let sips = u("sips:10.0.0.1").and_then(|u| direct_next_hop(&u, Transport::Udp));
        assert_eq!(sips.map(|h| (h.transport, h.address.port())), Some((Transport::Tls, 5061)));
        let maddr = u("sip:x@example.com;maddr=10.0.0.2").and_then(|u| direct_next_hop(&u, Transport::Tcp));
        assert_eq!(maddr.map(|h| (h.transport, h.address)), Some((Transport::Tcp, SocketAddr::from(([10, 0, 0, 2], 5060)))));
        assert_eq!(u("sip:x@example.com").and_then(|u| direct_next_hop(&u, Transport::Udp)), None);
        assert_eq!(u("sips:10.0.0.1;transport=udp").and_then(|u| direct_next_hop(&u, Transport::Udp)), None);
    }
}
