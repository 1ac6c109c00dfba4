//! Executing the typed CPL tree for one request. Each visited node adds one trace step saying
//! which output was taken; a run stops at the first signalling action (RFC 3880 §6), at the end
//! of the script (default: allow, RFC 3880 §11), or when the node budget runs out (reject 500).

use super::tree::{
    AddressField, AddressTest, LocationUrl, Next, NodeId, NodeKind, Output, PriorityTest, StringField, StringTest,
    Subfield, Tail,
};
use super::{Continuation, CplScript, Outcome, ResumeError};
use crate::address::Address;
use crate::input::PolicyInput;
use crate::verdict::{
    Decider, LookupRequest, PolicyAllowed, ProxyHints, Redirection, Rejection, Target, Trace, TraceStep, Verdict,
};

/// What visiting one node leads to.
enum Step {
    Go(Next, String),
    Done(Verdict, String),
}

pub(super) struct Run<'s, 't> {
    script: &'s CplScript,
    input: &'s PolicyInput,
    locations: Vec<Target>,
    visits: u32,
    trace: &'t mut Trace,
}

impl<'s, 't> Run<'s, 't> {
    pub(super) fn new(
        script: &'s CplScript,
        input: &'s PolicyInput,
        locations: Vec<Target>,
        visits: u32,
        trace: &'t mut Trace,
    ) -> Self {
        Self { script, input, locations, visits, trace }
    }

    pub(super) fn run(mut self, mut next: Next) -> Verdict {
        while let Some((id, node)) = next.and_then(|id| self.script.nodes.get(id).map(|n| (id, n))) {
            let decider = Decider::CplNode { id, element: node.element, line: node.line };
            self.visits += 1;
            if self.visits > self.script.budget {
                let note = format!("node budget of {} exhausted: reject", self.script.budget);
                self.trace.push(TraceStep::Cpl { element: node.element, line: node.line, note });
                let reason = "Policy Evaluation Limit".to_owned();
                return Verdict::Reject(Rejection { status: 500, reason, decided_by: decider });
            }
            let step = self.visit(id, &node.kind, decider);
            let (note, outcome) = match step {
                Step::Go(next, note) => (note, Err(next)),
                Step::Done(verdict, note) => (note, Ok(verdict)),
            };
            self.trace.push(TraceStep::Cpl { element: node.element, line: node.line, note });
            match outcome {
                Ok(verdict) => return verdict,
                Err(n) => next = n,
            }
        }
        self.end()
    }

    /// RFC 3880 §11: a script that ends without a signalling action gets the default behaviour,
    /// which for a proxy is to route the request (to the location set, if one was built).
    fn end(self) -> Verdict {
        let id = self.script.nodes.len();
        let line = self.script.root_line;
        let note = if self.locations.is_empty() {
            "script ended without a signalling action: allow".to_owned()
        } else {
            format!("script ended: proxy to the {} location(s) set", self.locations.len())
        };
        self.trace.push(TraceStep::Cpl { element: "cpl", line, note });
        Verdict::Allow(PolicyAllowed::new(Decider::CplNode { id, element: "cpl", line }, self.locations))
    }

    fn continuation(&self, node: NodeId) -> Continuation {
        Continuation { script: self.script.id, node, locations: self.locations.clone(), visits: self.visits }
    }

    fn visit(&mut self, id: NodeId, kind: &NodeKind, decider: Decider) -> Step {
        match kind {
            NodeKind::AddressSwitch { field, subfield, outputs, tail } => {
                let values = self.address_values(*field, *subfield);
                let hit = |t: &AddressTest| values.iter().any(|v| address_test(t, v));
                switch(outputs, tail, values.is_empty(), hit, describe_address)
            }
            NodeKind::StringSwitch { field, outputs, tail } => {
                let value = self.string_value(*field);
                let hit = |t: &StringTest| value.as_deref().is_some_and(|v| string_test(t, v));
                let describe = |t: &StringTest| match t {
                    StringTest::Is(v) => format!("is=\"{v}\""),
                    StringTest::Contains(v) => format!("contains=\"{v}\""),
                };
                switch(outputs, tail, value.is_none(), hit, describe)
            }
            NodeKind::TimeSwitch { tz, outputs, tail } => {
                let now = self.input.wall_time.with_timezone(tz).naive_local();
                let step = switch(outputs, tail, false, |t| t.contains(now), |_| format!("period containing {now}"));
                annotate(step, &format!(" (local time {now} {tz})"))
            }
            NodeKind::PrioritySwitch { outputs, tail } => {
                let level = self.input.priority_level();
                let hit = |t: &PriorityTest| match t {
                    PriorityTest::Less(v) => level.rank() < v.rank(),
                    PriorityTest::Greater(v) => level.rank() > v.rank(),
                    PriorityTest::Equal(v) => level == *v,
                };
                switch(outputs, tail, false, hit, |t| format!("{t:?}").to_lowercase())
            }
            NodeKind::RuleSwitch { rules, tail } => {
                let hit = |rule: &super::tree::TaaRule| {
                    rule.origin.as_ref().is_none_or(|(field, p)| {
                        self.addresses(*field).iter().any(|a| p.is_match(&a.alias()))
                    }) && rule.zone.as_ref().is_none_or(|p| p.is_match(&self.input.zone))
                        && rule.destination.as_ref().is_none_or(|p| p.is_match(&self.input.destination.alias()))
                };
                switch(rules, tail, false, hit, |_| "rule".to_owned())
            }
            NodeKind::Location { url, priority, clear, next } => {
                if *clear {
                    self.locations.clear();
                }
                let uri = match url {
                    LocationUrl::Fixed(uri) => Some(uri.clone()),
                    LocationUrl::Rewrite { regex, replace } => {
                        let alias = self.input.destination.alias();
                        regex.is_match(&alias).then(|| regex.regex().replace(&alias, replace.as_str()).into_owned())
                    }
                };
                match uri {
                    Some(uri) => {
                        let note = format!("add location {uri}");
                        self.locations.push(Target { uri, priority: *priority });
                        Step::Go(*next, note)
                    }
                    None => Step::Go(*next, "regex does not match the destination: nothing added".to_owned()),
                }
            }
            NodeKind::RemoveLocation { location, next } => {
                let before = self.locations.len();
                match location {
                    Some(uri) => self.locations.retain(|t| !t.uri.eq_ignore_ascii_case(uri)),
                    None => self.locations.clear(),
                }
                Step::Go(*next, format!("removed {} location(s)", before - self.locations.len()))
            }
            NodeKind::Lookup { source, timeout, clear, .. } => {
                let request = LookupRequest {
                    source: source.clone(),
                    timeout: *timeout,
                    clear: *clear,
                    continuation: self.continuation(id),
                    decided_by: decider,
                };
                Step::Done(Verdict::Lookup(request), format!("lookup in {source}: the caller performs it"))
            }
            NodeKind::Proxy { timeout, timeout_given, recurse, ordering, outputs } => {
                let present = outputs.present();
                // RFC 3880 §6.1: "If this parameter is not specified, the default value is 20
                // seconds if the "proxy" node has a "noanswer" or "default" output specified;
                // otherwise the server SHOULD allow the call to ring for a reasonably long period
                // of time (to the maximum extent that server policy allows)."
                let ring_limit = (*timeout_given || present.noanswer || present.default).then_some(*timeout);
                let hints =
                    ProxyHints { timeout: *timeout, ring_limit, recurse: *recurse, ordering: *ordering, outputs: present };
                let continuation = (!outputs.is_empty()).then(|| self.continuation(id));
                let allowed = PolicyAllowed::new(decider, self.locations.clone()).with_proxy(hints, continuation);
                Step::Done(Verdict::Allow(allowed), "proxy: allow".to_owned())
            }
            NodeKind::Redirect { .. } if self.locations.is_empty() => {
                let reason = "Redirect Without Location".to_owned();
                let verdict = Verdict::Reject(Rejection { status: 500, reason, decided_by: decider });
                Step::Done(verdict, "redirect with an empty location set: reject 500".to_owned())
            }
            NodeKind::Redirect { permanent } => {
                let contacts = self.locations.clone();
                let note = format!("redirect ({}) to {} location(s)", if *permanent { 301 } else { 302 }, contacts.len());
                Step::Done(Verdict::Redirect(Redirection { contacts, permanent: *permanent, decided_by: decider }), note)
            }
            NodeKind::Reject { status, reason } => {
                let note = format!("reject {status} {reason}");
                Step::Done(Verdict::Reject(Rejection { status: *status, reason: reason.clone(), decided_by: decider }), note)
            }
            NodeKind::Sub { id, target } => Step::Go(Some(*target), format!("go to subaction \"{id}\"")),
        }
    }

    /// The addresses an address field designates (empty = not present).
    fn addresses(&self, field: AddressField) -> Vec<&'s Address> {
        let input = self.input;
        match field {
            AddressField::Origin | AddressField::UnauthenticatedOrigin => input.identities().collect(),
            AddressField::AuthenticatedOrigin if input.authenticated => input.identities().collect(),
            AddressField::AuthenticatedOrigin | AddressField::OriginatingZone => Vec::new(),
            AddressField::Destination => vec![&input.destination],
            AddressField::OriginalDestination => vec![input.original_destination.as_ref().unwrap_or(&input.destination)],
        }
    }

    fn address_values(&self, field: AddressField, subfield: Option<Subfield>) -> Vec<Value<'s>> {
        if field == AddressField::OriginatingZone {
            return vec![Value::Text(self.input.zone.clone())];
        }
        let addresses = self.addresses(field);
        let Some(subfield) = subfield else {
            return addresses.into_iter().map(Value::Whole).collect();
        };
        addresses
            .into_iter()
            .filter_map(|a| match subfield {
                Subfield::AddressType => Some(a.scheme().to_owned()),
                Subfield::User => a.user().map(str::to_owned),
                Subfield::Host => a.host().map(str::to_owned),
                Subfield::Port => a.port().map(|p| p.to_string()),
                Subfield::Tel => a.tel_number(),
                Subfield::Display => a.display().map(str::to_owned),
            })
            .map(Value::Text)
            .collect()
    }

    fn string_value(&self, field: StringField) -> Option<String> {
        let s = &self.input.strings;
        match field {
            StringField::Subject => s.subject.clone(),
            StringField::Organization => s.organization.clone(),
            StringField::UserAgent => s.user_agent.clone(),
            StringField::Language => s.language.clone(),
            StringField::Display => self.input.from.display().map(str::to_owned),
        }
    }
}

/// A value an address test looks at: a whole address, or one subfield's text.
enum Value<'a> {
    Whole(&'a Address),
    Text(String),
}

/// Takes the first output whose test holds, else `not-present` (when nothing is there to
/// test), else `otherwise`; with none of those the script ends.
fn switch<T>(
    outputs: &[Output<T>],
    tail: &Tail,
    absent: bool,
    hit: impl Fn(&T) -> bool,
    describe: impl Fn(&T) -> String,
) -> Step {
    if absent {
        if let Some(next) = tail.not_present {
            return Step::Go(next, "not-present".to_owned());
        }
    } else if let Some(output) = outputs.iter().find(|o| hit(&o.test)) {
        return Step::Go(output.next, format!("{} matched (line {})", describe(&output.test), output.line));
    }
    match tail.otherwise {
        Some(next) => Step::Go(next, "otherwise".to_owned()),
        None => Step::Go(None, "no output matched".to_owned()),
    }
}

fn annotate(step: Step, extra: &str) -> Step {
    match step {
        Step::Go(next, note) => Step::Go(next, note + extra),
        Step::Done(v, note) => Step::Done(v, note + extra),
    }
}

fn describe_address(test: &AddressTest) -> String {
    match test {
        AddressTest::Is(v) => format!("is=\"{v}\""),
        AddressTest::Contains(v) => format!("contains=\"{v}\""),
        AddressTest::SubdomainOf(v) => format!("subdomain-of=\"{v}\""),
        AddressTest::Regex(p) => format!("regex=\"{}\"", p.as_str()),
    }
}

/// Address comparisons ignore case (Expressway; RFC 3261 §19.1.4 for hosts). A whole address is
/// compared as `scheme:user@host[:port]` when the value names a scheme, else as its alias;
/// regexes always see the alias.
fn address_test(test: &AddressTest, value: &Value<'_>) -> bool {
    let text = match value {
        Value::Text(t) => t.clone(),
        Value::Whole(a) => match test {
            AddressTest::Is(v) if v.contains(':') => a.to_string(),
            AddressTest::Contains(_) => a.to_string(),
            AddressTest::SubdomainOf(_) => a.host().unwrap_or_default().to_owned(),
            _ => a.alias(),
        },
    };
    match test {
        AddressTest::Is(v) => text.eq_ignore_ascii_case(v),
        AddressTest::Contains(v) => text.to_lowercase().contains(&v.to_lowercase()),
        AddressTest::SubdomainOf(v) => subdomain_of(&text, v),
        AddressTest::Regex(p) => p.is_match(&text),
    }
}

/// Numbers match as prefixes (`555` covers `5556734`), names as domains (`example.com` covers
/// `a.example.com` and itself) — RFC 3880 §4.1 and Expressway.
fn subdomain_of(value: &str, domain: &str) -> bool {
    let numeric = |s: &str| !s.is_empty() && s.trim_start_matches('+').chars().all(|c| c.is_ascii_digit());
    if numeric(domain) && numeric(value) {
        return value.starts_with(domain);
    }
    let (value, domain) = (value.to_ascii_lowercase(), domain.to_ascii_lowercase());
    value == domain || value.strip_suffix(&domain).is_some_and(|head| head.ends_with('.'))
}

fn string_test(test: &StringTest, value: &str) -> bool {
    match test {
        StringTest::Is(v) => value.eq_ignore_ascii_case(v),
        StringTest::Contains(v) => value.to_lowercase().contains(&v.to_lowercase()),
    }
}

/// Continues a paused script with the outcome of its `lookup` or `proxy`. `Ok(None)`: the
/// `proxy` has no output for this outcome, so the response received goes back as it is.
pub(super) fn resume(
    script: &CplScript,
    input: &PolicyInput,
    continuation: Continuation,
    outcome: Outcome,
    trace: &mut Trace,
) -> Result<Option<Verdict>, ResumeError> {
    let Continuation { node, mut locations, visits, .. } = continuation;
    if matches!(script.nodes.get(node).map(|n| &n.kind), Some(NodeKind::Proxy { .. })) {
        // The locations were tried: an output starts from an empty set, as RFC 3880 §13.3's
        // "Call Forward: Busy/No Answer" needs (its voicemail redirect lists voicemail only);
        // after a redirection the set is the redirect's Contacts.
        locations.clear();
    }
    let kind = script.nodes.get(node).map(|n| (&n.kind, n.element, n.line)).ok_or(ResumeError::WrongOutcome)?;
    let (next, note) = match (kind.0, outcome) {
        (NodeKind::Lookup { clear, success, .. }, Outcome::Found(found)) => {
            if *clear {
                locations.clear();
            }
            let note = format!("lookup found {} location(s): success", found.len());
            locations.extend(found);
            (*success, note)
        }
        (NodeKind::Lookup { notfound, .. }, Outcome::NotFound) => (*notfound, "lookup: notfound".to_owned()),
        (NodeKind::Lookup { failure, .. }, Outcome::LookupFailed) => (*failure, "lookup: failure".to_owned()),
        (NodeKind::Proxy { outputs, .. }, outcome) => {
            let (output, name) = match outcome {
                Outcome::Busy => (outputs.busy, "busy"),
                Outcome::NoAnswer => (outputs.noanswer, "noanswer"),
                Outcome::Redirected(contacts) => {
                    locations = contacts;
                    (outputs.redirection, "redirection")
                }
                Outcome::Failed => (outputs.failure, "failure"),
                Outcome::Found(_) | Outcome::NotFound | Outcome::LookupFailed => return Err(ResumeError::WrongOutcome),
            };
            match output.or(outputs.default).flatten() {
                Some(next) => (Some(next), format!("proxy result {name}")),
                None => {
                    let note = format!("proxy result {name}: no output, the response stands");
                    trace.push(TraceStep::Cpl { element: kind.1, line: kind.2, note });
                    return Ok(None);
                }
            }
        }
        _ => return Err(ResumeError::WrongOutcome),
    };
    trace.push(TraceStep::Cpl { element: kind.1, line: kind.2, note });
    Ok(Some(Run::new(script, input, locations, visits, trace).run(next)))
}

#[cfg(test)]
mod tests {
    use super::subdomain_of;

    #[test]
    fn rfc3880_subdomain_of() {
        assert!(subdomain_of("a.example.com", "example.com"));
        assert!(subdomain_of("EXAMPLE.com", "example.com"));
        assert!(!subdomain_of("badexample.com", "example.com"));
        assert!(subdomain_of("5556734", "555"));
        assert!(subdomain_of("+12125550100", "+1"));
        assert!(!subdomain_of("4556734", "555"));
    }
}
