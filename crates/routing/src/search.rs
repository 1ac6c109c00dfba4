//! [`locate`]: Expressway's search pipeline over a compiled table (ANCHORS §A1, "model it
//! exactly"): the alias (Request-URI, or the topmost foreign Route when the source zone honours
//! Route headers) → one pre-search transform (the highest-priority match) → call policy → search
//! rules in priority order → [`Decision`]. Same code for live traffic and `causeway locate`.

use causeway_policy::{evaluate, Address, PolicySet, Verdict};
use causeway_sip::header::addr::NameAddr;
use causeway_sip::uri::Uri;
use chrono::{DateTime, Utc};

use crate::alias::{
    address_of, alias_address, contact_carries, is_ip_alias, rebuild_request_uri, route_host, route_is_local,
};
use crate::auth::Authentication;
use crate::classify::ZoneClassified;
use crate::decision::{Decision, Outcome, RejectCause, TargetGroup, ZoneTarget};
use crate::health::HealthSnapshot;
use crate::table::{OnMatch, RoutingTable, RuleSource, SearchRule, Zone};
use crate::trace::{AliasFrom, RouteUse, RuleCheck, Trace, TraceStep, TransformResult};

/// RFC 3261 §16.6 step 3: a request without Max-Forwards gets 70.
const DEFAULT_MAX_FORWARDS: u8 = 70;

/// One request, as routing sees it.
#[derive(Debug, Clone, Copy)]
pub struct LocateInput<'a> {
    /// Its zone.
    pub source: &'a ZoneClassified,
    /// Its zone's authentication outcome.
    pub authentication: &'a Authentication,
    /// The Request-URI (after RFC 3261 §16.4 Route processing).
    pub request_uri: &'a str,
    /// The From value (name-addr or URI), for call policy and alias rewriters.
    pub from: Option<&'a str>,
    /// P-Asserted-Identity / P-Preferred-Identity values, for call policy.
    pub asserted: &'a [String],
    /// Route values, topmost first.
    pub routes: &'a [String],
    /// The first Contact value (loop rules look at its parameters).
    pub contact: Option<&'a str>,
    /// The received Max-Forwards.
    pub max_forwards: Option<u8>,
    /// This node's host names and addresses (`host` or `host:port`): Routes naming them are skipped.
    pub local_hosts: &'a [String],
}

impl<'a> LocateInput<'a> {
    /// A request with only a Request-URI; set the other fields as needed.
    pub fn new(source: &'a ZoneClassified, authentication: &'a Authentication, request_uri: &'a str) -> Self {
        Self {
            source,
            authentication,
            request_uri,
            from: None,
            asserted: &[],
            routes: &[],
            contact: None,
            max_forwards: None,
            local_hosts: &[],
        }
    }
}

/// A Request-URI rewrite decided outside the rule tables, before the transforms — the Zoom
/// dial-string repair fed by the room booking store (flow F5) plugs in here.
pub trait AliasRewriter {
    /// Shown in the trace.
    fn name(&self) -> &str;
    /// The new Request-URI and why, or `None` to leave it.
    fn rewrite(&self, caller: Option<&str>, request_uri: &str) -> Option<ExternalRewrite>;
}

/// What an [`AliasRewriter`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRewrite {
    /// The Request-URI to route instead.
    pub request_uri: String,
    /// One line for the trace.
    pub why: String,
}

/// The pipeline with its optional stages.
pub struct Locate<'a> {
    table: &'a RoutingTable,
    health: &'a HealthSnapshot,
    policy: Option<(&'a PolicySet, DateTime<Utc>)>,
    rewriter: Option<&'a dyn AliasRewriter>,
}

/// Locates `input` without call policy or rewriters.
pub fn locate(input: &LocateInput<'_>, table: &RoutingTable, health: &HealthSnapshot) -> Decision {
    Locate::new(table, health).run(input)
}

impl<'a> Locate<'a> {
    /// Transforms and search rules over `table`, zone state from `health`.
    pub fn new(table: &'a RoutingTable, health: &'a HealthSnapshot) -> Self {
        Self { table, health, policy: None, rewriter: None }
    }

    /// Runs call policy between the transforms and the search rules; `wall_time` is the
    /// request's time (for CPL time-switch).
    #[must_use]
    pub fn with_policy(mut self, set: &'a PolicySet, wall_time: DateTime<Utc>) -> Self {
        self.policy = Some((set, wall_time));
        self
    }

    /// Lets `rewriter` change the Request-URI before the transforms.
    #[must_use]
    pub fn with_rewriter(mut self, rewriter: &'a dyn AliasRewriter) -> Self {
        self.rewriter = Some(rewriter);
        self
    }

    /// Locates one request.
    pub fn run(&self, input: &LocateInput<'_>) -> Decision {
        let mut trace = Trace::default();
        let auth = input.authentication;
        trace.push(TraceStep::Request { request_uri: input.request_uri.to_owned(), from: input.from.map(str::to_owned) });
        trace.push(TraceStep::Zone { zone: input.source.zone().to_owned(), classified: input.source.by().clone() });
        trace.push(TraceStep::Authentication {
            policy: auth.policy(),
            authenticated: auth.authenticated(),
            basis: auth.basis().clone(),
            identity: auth.identity_headers(),
        });
        let zone = self.table.zone(input.source.zone()).unwrap_or(self.table.default_zone());
        let mut effective = input.request_uri.to_owned();
        if let Some(r) = self.rewriter {
            if let Some(rw) = r.rewrite(input.from, &effective) {
                let step = TraceStep::Rewrite { by: r.name().to_owned(), from: effective, to: rw.request_uri.clone(), why: rw.why };
                trace.push(step);
                effective = rw.request_uri;
            }
        }
        let Ok(uri) = Uri::parse(&effective) else {
            return reject(trace, 400, "Bad Request-URI", RejectCause::BadRequestUri);
        };
        let (received_alias, from_route) = select_alias(input, zone, &uri, &mut trace);
        let alias = self.transform(received_alias, &mut trace);
        let route_target = Target { uri: &uri, effective: &effective, received: input.request_uri, from_route };
        let mut verdict = None;
        match self.policy {
            Some((set, wall_time)) => {
                let v = self.policy_verdict(set, wall_time, input, &route_target, &alias, &mut trace);
                match &v {
                    // A CPL location set replaces the search (RFC 3880 §6: the script proxies to it).
                    Verdict::Allow(a) if !a.targets().is_empty() => {
                        return Decision { outcome: Outcome::Policy, trace, policy: Some(v) };
                    }
                    Verdict::Allow(_) => verdict = Some(v),
                    Verdict::Reject(r) => {
                        let (status, reason) = (r.status, r.reason.clone());
                        let mut d = reject(trace, status, &reason, RejectCause::Policy);
                        d.policy = Some(v);
                        return d;
                    }
                    Verdict::Redirect(_) | Verdict::Lookup(_) => {
                        return Decision { outcome: Outcome::Policy, trace, policy: Some(v) };
                    }
                }
            }
            None => trace.push(TraceStep::PolicyNotEvaluated),
        }
        let mut decision = self.search(input, zone, &alias, &route_target, trace);
        decision.policy = verdict;
        decision
    }

    /// Expressway: only one pre-search transform applies per search, the highest-priority match.
    fn transform(&self, alias: String, trace: &mut Trace) -> String {
        for t in self.table.transforms() {
            let applied = t.enabled.then(|| t.pattern.apply(&alias, &t.rewrite)).flatten();
            let result = match (&applied, t.enabled) {
                (Some(after), _) => TransformResult::Applied { before: alias.clone(), after: after.clone() },
                (None, true) => TransformResult::NoMatch,
                (None, false) => TransformResult::Disabled,
            };
            trace.push(TraceStep::Transform {
                priority: t.priority,
                pattern_type: t.pattern.kind(),
                pattern: t.pattern.as_str().to_owned(),
                rewrite: t.rewrite.clone(),
                result,
            });
            if let Some(after) = applied {
                return after;
            }
        }
        alias
    }

    fn policy_verdict(
        &self,
        set: &PolicySet,
        wall_time: DateTime<Utc>,
        input: &LocateInput<'_>,
        target: &Target<'_>,
        alias: &str,
        trace: &mut Trace,
    ) -> Verdict {
        let from = input.from.and_then(name_addr_address).unwrap_or_else(|| Address::new("sip", None, None));
        let mut policy_input =
            causeway_policy::PolicyInput::new(input.source.zone(), from, alias_address(alias, target.uri, target.from_route), wall_time);
        policy_input.authenticated = input.authentication.authenticated();
        policy_input.asserted = input.asserted.iter().filter_map(|a| name_addr_address(a)).collect();
        policy_input.original_destination = Uri::parse(input.request_uri).ok().map(|u| address_of(&u));
        let (verdict, policy_trace) = evaluate(&policy_input, set);
        let summary = match &verdict {
            Verdict::Allow(_) => "allow".to_owned(),
            Verdict::Reject(r) => format!("reject {} {}", r.status, r.reason),
            Verdict::Redirect(_) => "redirect".to_owned(),
            Verdict::Lookup(_) => "lookup".to_owned(),
        };
        trace.push(TraceStep::Policy { verdict: summary, decided_by: verdict.decided_by().to_string(), trace: policy_trace });
        verdict
    }

    fn search(&self, input: &LocateInput<'_>, zone: &Zone, alias: &str, target: &Target<'_>, mut trace: Trace) -> Decision {
        let mut groups: Vec<TargetGroup> = Vec::new();
        let mut stopped: Option<(u16, String)> = None;
        let mut any_down = false;
        for rule in self.table.search_rules() {
            let check = match &stopped {
                Some((priority, by)) if rule.priority > *priority => {
                    RuleCheck::NotReached { stopped_by: by.clone(), priority: *priority }
                }
                _ => self.check_rule(rule, input, zone, alias),
            };
            match &check {
                RuleCheck::Matched { alias: searched, .. } => {
                    let zone_target = self.zone_target(rule, searched, input, target);
                    match groups.last_mut() {
                        Some(g) if g.priority == rule.priority => g.targets.push(zone_target),
                        _ => groups.push(TargetGroup { priority: rule.priority, last: false, targets: vec![zone_target] }),
                    }
                }
                RuleCheck::TargetDown { .. } => any_down = true,
                _ => {}
            }
            let stops = matches!(
                check,
                RuleCheck::Matched { on_match: OnMatch::Stop, .. } | RuleCheck::TargetDown { on_match: OnMatch::Stop }
            );
            if stops && stopped.is_none() {
                stopped = Some((rule.priority, rule.name.clone()));
            }
            trace.push(TraceStep::Rule {
                name: rule.name.clone(),
                priority: rule.priority,
                source: rule.source.clone(),
                pattern_type: rule.pattern.as_ref().map(|p| p.kind()),
                pattern: rule.pattern.as_ref().map(|p| p.as_str().to_owned()),
                authenticated_only: rule.request_must_be_authenticated,
                target: rule.target.clone(),
                check,
            });
        }
        for g in &mut groups {
            g.last = stopped.as_ref().is_some_and(|(p, _)| *p == g.priority);
        }
        let outcome = match (groups.is_empty(), any_down) {
            (false, _) => Outcome::Route { groups },
            (true, true) => {
                Outcome::Reject { status: 503, reason: "Service Unavailable".into(), cause: RejectCause::TargetsDown }
            }
            (true, false) => Outcome::Reject { status: 404, reason: "Not Found".into(), cause: RejectCause::NoRuleMatched },
        };
        Decision { outcome, trace, policy: None }
    }

    fn check_rule(&self, rule: &SearchRule, input: &LocateInput<'_>, zone: &Zone, alias: &str) -> RuleCheck {
        let authenticated = input.authentication.authenticated();
        let source_ok = match &rule.source {
            RuleSource::Any => true,
            RuleSource::AnyAuthenticated => authenticated,
            RuleSource::Zone(z) => *z == zone.name,
        };
        if !rule.enabled {
            return RuleCheck::Disabled;
        }
        if !source_ok {
            return RuleCheck::SourceMismatch;
        }
        if rule.request_must_be_authenticated && !authenticated {
            return RuleCheck::NotAuthenticated;
        }
        let searched = match &rule.pattern {
            None if is_ip_alias(alias) => return RuleCheck::IpAddressAlias,
            None => Some(alias.to_owned()),
            Some(p) => p.apply(alias, &rule.rewrite),
        };
        let Some(searched) = searched else { return RuleCheck::PatternMiss };
        if rule.target == zone.name && !rule.allow_source_zone {
            return RuleCheck::SourceZoneLoop;
        }
        let Some(target) = self.table.zone(&rule.target) else { return RuleCheck::TargetDown { on_match: rule.on_match } };
        if let Some(param) = input.contact.and_then(|c| contact_carries(c, &target.loop_contact_params)) {
            return RuleCheck::ContactParam { param: param.to_string() };
        }
        if !self.health.zone_available(target) {
            return RuleCheck::TargetDown { on_match: rule.on_match };
        }
        RuleCheck::Matched { alias: searched, on_match: rule.on_match }
    }

    fn zone_target(&self, rule: &SearchRule, searched: &str, input: &LocateInput<'_>, target: &Target<'_>) -> ZoneTarget {
        let zone = self.table.zone(&rule.target);
        let hop_count = zone.map_or(crate::table::DEFAULT_HOP_COUNT, |z| z.hop_count);
        let received = input.max_forwards.unwrap_or(DEFAULT_MAX_FORWARDS).saturating_sub(1);
        let request_uri = if target.from_route {
            None
        } else {
            let unchanged = searched == address_of(target.uri).alias();
            let uri = if unchanged { None } else { rebuild_request_uri(target.uri, searched) };
            Some(uri.unwrap_or_else(|| target.effective.to_owned())).filter(|u| u != target.received)
        };
        ZoneTarget {
            rule: rule.name.clone(),
            zone: rule.target.clone(),
            kind: zone.map_or(crate::table::ZoneKind::Default, |z| z.kind),
            alias: searched.to_owned(),
            request_uri,
            max_forwards: received.min(hop_count),
        }
    }
}

/// The URIs a target's Request-URI is derived from.
struct Target<'u> {
    uri: &'u Uri<'u>,
    effective: &'u str,
    received: &'u str,
    from_route: bool,
}

/// The alias search rules see: the topmost Route that is not this node, when the source zone
/// honours Route headers (flow F2), else the Request-URI's.
fn select_alias(input: &LocateInput<'_>, zone: &Zone, uri: &Uri<'_>, trace: &mut Trace) -> (String, bool) {
    for route in input.routes {
        if route_is_local(route, input.local_hosts) {
            trace.push(TraceStep::Route { route: route.clone(), used: RouteUse::ThisNode });
            continue;
        }
        if !zone.honor_route_header {
            trace.push(TraceStep::Route { route: route.clone(), used: RouteUse::NotHonoured });
            break;
        }
        match route_host(route) {
            Some(host) => {
                trace.push(TraceStep::Route { route: route.clone(), used: RouteUse::Alias });
                trace.push(TraceStep::Alias { alias: host.clone(), from: AliasFrom::Route });
                return (host, true);
            }
            None => trace.push(TraceStep::Route { route: route.clone(), used: RouteUse::NoHost }),
        }
    }
    let alias = address_of(uri).alias();
    trace.push(TraceStep::Alias { alias: alias.clone(), from: AliasFrom::RequestUri });
    (alias, false)
}

/// The [`Address`] of a From, P-Asserted-Identity or Contact value (name-addr or bare URI), with
/// its display name; `None` when it does not parse.
pub fn name_addr_address(value: &str) -> Option<Address> {
    let addr = NameAddr::parse(value).ok()?;
    let address = address_of(&addr.uri().ok()?);
    Some(match addr.display_name() {
        Some(display) => address.with_display(&display),
        None => address,
    })
}

fn reject(trace: Trace, status: u16, reason: &str, cause: RejectCause) -> Decision {
    Decision { outcome: Outcome::Reject { status, reason: reason.to_owned(), cause }, trace, policy: None }
}
