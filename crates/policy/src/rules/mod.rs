//! The call policy rule table: validated from [`config::PolicyConfig`], evaluated top-down, first
//! match wins (Expressway "Call Policy rules").

pub mod config;
mod eval;

use std::collections::HashMap;

use toml::Spanned;

use crate::error::PolicyError;
use crate::pattern::Pattern;
use crate::source::{Location, SourceText};
use config::{ActionKindConfig, AppliesToConfig, PolicyConfig, RuleConfig};

/// A validated rule table.
#[derive(Debug, Clone)]
pub struct RuleTable {
    rules: Vec<Rule>,
    default: Action,
}

/// One validated rule.
#[derive(Debug, Clone)]
pub struct Rule {
    name: String,
    at: Location,
    zone: Option<String>,
    applies_to: AppliesTo,
    source: Option<Pattern>,
    destination: Pattern,
    action: Action,
}

impl Rule {
    /// The rule's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it was written.
    pub fn location(&self) -> &Location {
        &self.at
    }

    /// Whether every request this rule could match is already matched by `self`.
    fn covers(&self, later: &Rule) -> bool {
        let zone = self.zone.is_none() || self.zone == later.zone;
        let callers = self.applies_to == AppliesTo::All || self.applies_to == later.applies_to;
        let source = self.source.as_ref().is_none_or(Pattern::is_catch_all);
        zone && callers && source && self.destination.is_catch_all()
    }
}

/// Which callers a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliesTo {
    /// Callers the zone did not authenticate.
    Unauthenticated,
    /// Authenticated callers.
    Authenticated,
    /// Everyone.
    All,
}

/// What a rule (or the default) does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Let the request through to routing.
    Allow,
    /// Final error response.
    Reject {
        /// 400–699.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
}

impl RuleTable {
    /// The rules, top first.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The action when no rule matches.
    pub fn default_action(&self) -> &Action {
        &self.default
    }

    /// Validates the raw table. `zones` is the set of zone names the configuration defines.
    pub(crate) fn validate(
        raw: &PolicyConfig,
        src: SourceText<'_>,
        zones: &[&str],
    ) -> Result<Self, PolicyError> {
        let default = match &raw.default {
            Some(d) => {
                let d = d.get_ref();
                action_parts(src, *d.action.get_ref(), d.status.as_ref(), d.reason.as_ref())?
            }
            None => Action::Allow,
        };
        let mut names: HashMap<&str, Location> = HashMap::new();
        let mut rules: Vec<Rule> = Vec::with_capacity(raw.rule.len());
        for spanned in &raw.rule {
            let rule = validate_rule(src, spanned, zones)?;
            let name = spanned.get_ref().name.get_ref().as_str();
            if let Some(first) = names.get(name) {
                return Err(PolicyError::DuplicateName { at: rule.at, name: rule.name, first: first.clone() });
            }
            names.insert(name, rule.at.clone());
            if let Some(earlier) = rules.iter().find(|e| e.covers(&rule)) {
                return Err(PolicyError::Shadowed {
                    at: rule.at,
                    rule: rule.name,
                    earlier: earlier.name.clone(),
                    earlier_at: earlier.at.clone(),
                });
            }
            rules.push(rule);
        }
        Ok(Self { rules, default })
    }
}

fn validate_rule(src: SourceText<'_>, spanned: &Spanned<RuleConfig>, zones: &[&str]) -> Result<Rule, PolicyError> {
    let raw = spanned.get_ref();
    let at = src.locate(&spanned.span());
    let name = raw.name.get_ref().trim().to_owned();
    if name.is_empty() {
        return Err(PolicyError::EmptyName { at: src.locate(&raw.name.span()) });
    }
    let zone = match &raw.source_zone {
        Some(z) if !zones.contains(&z.get_ref().as_str()) => {
            return Err(PolicyError::UnknownZone { at: src.locate(&z.span()), rule: name, zone: z.get_ref().clone() });
        }
        Some(z) => Some(z.get_ref().clone()),
        None => None,
    };
    let applies_to = match raw.applies_to.as_ref().map(|a| *a.get_ref()) {
        Some(AppliesToConfig::Unauthenticated) => AppliesTo::Unauthenticated,
        Some(AppliesToConfig::Authenticated) => AppliesTo::Authenticated,
        Some(AppliesToConfig::All) | None => AppliesTo::All,
    };
    let compile = |field: &'static str, p: &Spanned<String>| {
        Pattern::compile(p.get_ref()).map_err(|error| PolicyError::InvalidPattern {
            at: src.locate(&p.span()),
            rule: name.clone(),
            field,
            error,
        })
    };
    let source = raw.source.as_ref().map(|s| compile("source", s)).transpose()?;
    let destination = compile("destination", &raw.destination)?;
    let action = action_parts(src, *raw.action.get_ref(), raw.status.as_ref(), raw.reason.as_ref())?;
    Ok(Rule { name, at, zone, applies_to, source, destination, action })
}

fn action_parts(
    src: SourceText<'_>,
    kind: ActionKindConfig,
    status: Option<&Spanned<u16>>,
    reason: Option<&Spanned<String>>,
) -> Result<Action, PolicyError> {
    match kind {
        ActionKindConfig::Allow => match status.map(Spanned::span).or_else(|| reason.map(Spanned::span)) {
            Some(span) => Err(PolicyError::StatusOnAllow { at: src.locate(&span) }),
            None => Ok(Action::Allow),
        },
        ActionKindConfig::Reject => {
            let code = match status {
                Some(s) if !(400..=699).contains(s.get_ref()) => {
                    return Err(PolicyError::BadStatus { at: src.locate(&s.span()), status: *s.get_ref() });
                }
                Some(s) => *s.get_ref(),
                None => 403,
            };
            let reason = match reason {
                Some(r) if r.get_ref().is_empty() || r.get_ref().chars().any(char::is_control) => {
                    return Err(PolicyError::BadReason { at: src.locate(&r.span()) });
                }
                Some(r) => r.get_ref().clone(),
                None => standard_reason(code).to_owned(),
            };
            Ok(Action::Reject { status: code, reason })
        }
    }
}

/// RFC 3261 §21 reason phrases for the statuses a policy is likely to use.
pub(crate) fn standard_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        410 => "Gone",
        480 => "Temporarily Unavailable",
        484 => "Address Incomplete",
        486 => "Busy Here",
        488 => "Not Acceptable Here",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        _ => "Rejected by Policy",
    }
}
