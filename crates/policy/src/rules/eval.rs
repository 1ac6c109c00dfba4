//! Evaluating the rule table: top-down, first match wins, every rule considered is traced.

use super::{Action, AppliesTo, Rule, RuleTable};
use crate::input::PolicyInput;
use crate::verdict::{Decider, PolicyAllowed, Rejection, RuleCheck, Trace, TraceStep, Verdict};

impl RuleTable {
    /// Runs the table over one request.
    pub(crate) fn evaluate(&self, input: &PolicyInput, trace: &mut Trace) -> Verdict {
        let destination = input.destination.alias();
        let identities: Vec<String> = input.identities().map(|a| a.alias()).collect();
        for (index, rule) in self.rules.iter().enumerate() {
            let check = rule.check(input, &identities, &destination);
            let matched = matches!(check, RuleCheck::Matched { .. });
            trace.push(TraceStep::Rule { index, name: rule.name.clone(), check });
            if matched {
                return verdict(&rule.action, Decider::Rule { index, name: rule.name.clone() });
            }
        }
        trace.push(TraceStep::DefaultAction { allow: self.default == Action::Allow });
        verdict(&self.default, Decider::DefaultAction)
    }
}

impl Rule {
    fn check(&self, input: &PolicyInput, identities: &[String], destination: &str) -> RuleCheck {
        if self.zone.as_deref().is_some_and(|z| z != input.zone) {
            return RuleCheck::ZoneDiffers;
        }
        match (self.applies_to, input.authenticated) {
            (AppliesTo::Unauthenticated, true) => return RuleCheck::CallerAuthenticated,
            (AppliesTo::Authenticated, false) => return RuleCheck::CallerUnauthenticated,
            _ => {}
        }
        let identity = match &self.source {
            None => None,
            Some(pattern) => {
                match identities.iter().find(|alias| pattern.is_match(alias)) {
                    Some(alias) => Some(alias.clone()),
                    None => return RuleCheck::SourceDiffers,
                }
            }
        };
        if !self.destination.is_match(destination) {
            return RuleCheck::DestinationDiffers;
        }
        RuleCheck::Matched { identity }
    }
}

fn verdict(action: &Action, decided_by: Decider) -> Verdict {
    match action {
        Action::Allow => Verdict::Allow(PolicyAllowed::new(decided_by, Vec::new())),
        Action::Reject { status, reason } => {
            Verdict::Reject(Rejection { status: *status, reason: reason.clone(), decided_by })
        }
    }
}
