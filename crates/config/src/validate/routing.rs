//! `[[zone]]`, `[[transform]]` and `[[search_rule]]` — causeway-routing's own raw shapes and
//! compiler, whose errors carry spans that become `file:line:col` here — and the simple form,
//! `[[route]]`, compiled into the same kind of table so that one engine routes every
//! configuration (and `causeway locate` explains every configuration).
//!
//! A route becomes a neighbor zone named after it (`route-domain-<domain>`,
//! `route-prefix-<prefix>`, `route-default`) whose one peer is the next hop, without keepalive,
//! and a search rule of the same name that stops the search: domain and prefix routes in file
//! order first, the default route last — the order the static table always had. The rules may
//! target the zone the request came from (a next hop may also call in). Routes and zones do not
//! mix: a file with `[[zone]]` or `[[search_rule]]` writes its routes as search rules.
//!
//! `[meetings]` feeds routing's Zoom repair: it names the meetings config file, which must be
//! readable; its contents are causeway-meetings' to check when the service starts.

use std::ops::Range;

use causeway_routing::config::raw::{
    KeepaliveConfig, OnMatchConfig, PatternTypeConfig, PeerConfig, SearchRuleConfig, TransformConfig, TransportConfig,
    ZoneConfig, ZoneKindConfig,
};
use causeway_routing::config::RoutingConfig;
use toml::Spanned;

use super::Validator;
use crate::error::Reason;
use crate::raw::RawMeetings;
use crate::settings::{MeetingsLink, Route, RouteMatch, Routing, Transport};

/// The routing sections, raw.
pub(crate) struct RawRouting {
    pub(crate) zones: Vec<Spanned<ZoneConfig>>,
    pub(crate) transforms: Vec<Spanned<TransformConfig>>,
    pub(crate) search_rules: Vec<Spanned<SearchRuleConfig>>,
}

/// Priority of the rule a default route becomes: after every other rule.
const DEFAULT_ROUTE_PRIORITY: u64 = 65534;

impl Validator<'_> {
    /// Compiles the routing sections, with `routes` (each with the span of its table) turned
    /// into zones and rules when the file has no zones or rules of its own. `None` when there
    /// were errors (reported).
    pub(crate) fn routing(&mut self, raw: RawRouting, routes: &[(Route, Range<usize>)]) -> Option<Routing> {
        let explicit = !raw.zones.is_empty() || !raw.search_rules.is_empty();
        if explicit && !routes.is_empty() {
            for (_, span) in routes {
                self.error(span.clone(), Reason::RouteBesideZones);
            }
            return None;
        }
        let mut config = RoutingConfig { zones: raw.zones, transforms: raw.transforms, search_rules: raw.search_rules };
        let mut specific = 0;
        for (route, span) in routes {
            let priority = match route.matcher {
                RouteMatch::Default => DEFAULT_ROUTE_PRIORITY,
                _ => {
                    specific += 1;
                    specific
                }
            };
            let (zone, rule) = route_as_zone(route, priority, span);
            config.zones.push(zone);
            config.search_rules.push(rule);
        }
        match config.compile() {
            Ok(table) => Some(Routing::new(table)),
            Err(errors) => {
                for error in errors {
                    self.error(error.span, Reason::Routing(error.reason));
                }
                None
            }
        }
    }

    /// `[meetings] config`, resolved against the config file's directory; `None` if unreadable (reported).
    pub(crate) fn meetings(&mut self, raw: RawMeetings) -> Option<MeetingsLink> {
        let span = raw.config.span();
        let path = self.base_dir.join(raw.config.into_inner());
        let file = std::fs::metadata(&path).and_then(|m| match m.is_file() {
            true => Ok(()),
            false => Err(std::io::Error::other("not a file")),
        });
        match file {
            Ok(()) => Some(MeetingsLink { config: path }),
            Err(source) => {
                self.error(span, Reason::MeetingsFileUnreadable { path, source });
                None
            }
        }
    }
}

/// `value` placed at `span`.
fn at<T>(span: &Range<usize>, value: T) -> Spanned<T> {
    Spanned::new(span.clone(), value)
}

/// The zone and search rule one `[[route]]` stands for; every span is the route's.
fn route_as_zone(route: &Route, priority: u64, span: &Range<usize>) -> (Spanned<ZoneConfig>, Spanned<SearchRuleConfig>) {
    let (name, pattern_type, pattern) = match &route.matcher {
        // The host, with or without a user part before it (RFC 3261 §19.1.4: hosts compare
        // ignoring case; patterns do). A domain holds letters, digits, `-` and `.`.
        RouteMatch::Domain(domain) => {
            (format!("route-domain-{domain}"), PatternTypeConfig::Regex, format!("([^@]*@)?{}\\.?", domain.replace('.', "\\.")))
        }
        RouteMatch::Prefix(prefix) => (format!("route-prefix-{prefix}"), PatternTypeConfig::Prefix, prefix.clone()),
        RouteMatch::Default => ("route-default".to_owned(), PatternTypeConfig::Regex, ".*".to_owned()),
    };
    let transport = match route.next_hop.transport {
        Transport::Udp => TransportConfig::Udp,
        Transport::Tcp => TransportConfig::Tcp,
        Transport::Tls => TransportConfig::Tls,
    };
    let peer = PeerConfig {
        address: at(span, route.next_hop.address.to_string()),
        transport: Some(at(span, transport)),
        priority: None,
        weight: None,
    };
    let keepalive = KeepaliveConfig {
        enabled: Some(false),
        interval_secs: None,
        timeout_secs: None,
        failures_before_down: None,
        successes_before_up: None,
    };
    let zone = ZoneConfig {
        name: at(span, name.clone()),
        kind: at(span, ZoneKindConfig::Neighbor),
        peers: vec![at(span, peer)],
        keepalive: Some(at(span, keepalive)),
        authentication: None,
        tls_verify_subject: Vec::new(),
        honor_route_header: false,
        sip_profile: None,
        search_domain: None,
        transport: None,
        include_address_record: None,
        hop_count: None,
        loop_contact_params: Vec::new(),
        listeners: Vec::new(),
        local_fqdn: None,
        role: None,
    };
    let rule = SearchRuleConfig {
        name: at(span, name.clone()),
        description: Some(format!("[[route]] → {}", route.next_hop.uri)),
        priority: Some(at(span, priority)),
        source: None,
        request_must_be_authenticated: false,
        mode: None,
        pattern_type: Some(at(span, pattern_type)),
        pattern: Some(at(span, pattern)),
        behaviour: None,
        replace: None,
        on_match: Some(at(span, OnMatchConfig::Stop)),
        target: at(span, name),
        enabled: None,
        allow_source_zone: true,
    };
    (at(span, zone), at(span, rule))
}
