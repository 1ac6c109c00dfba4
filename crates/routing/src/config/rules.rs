//! `[[transform]]` and `[[search_rule]]` → [`Transform`] and [`SearchRule`], ordered, with the
//! cross-rule checks: unique priorities and names, known zones, no loops, no unreachable rules.

use std::collections::HashSet;
use std::ops::Range;

use toml::Spanned;

use super::raw::{
    ModeConfig, OnMatchConfig, PatternTypeConfig, RuleBehaviourConfig, SearchRuleConfig, TransformBehaviourConfig,
    TransformConfig,
};
use super::{valid_name, Compiler, ConfigReason};
use crate::pattern::{AliasPattern, PatternType, Replacement, Rewrite};
use crate::table::{OnMatch, RuleSource, SearchRule, Transform, Zone, ZoneKind};

/// Expressway's limits.
const MAX_TRANSFORMS: usize = 100;
const MAX_SEARCH_RULES: usize = 2000;
const PRIORITY_RANGE: (u64, u64) = (1, 65534);
const DEFAULT_RULE_PRIORITY: u64 = 100;

fn pattern_type(t: PatternTypeConfig) -> PatternType {
    match t {
        PatternTypeConfig::Exact => PatternType::Exact,
        PatternTypeConfig::Prefix => PatternType::Prefix,
        PatternTypeConfig::Suffix => PatternType::Suffix,
        PatternTypeConfig::Regex => PatternType::Regex,
    }
}

/// Compiles the pattern and checks the rewrite against it; errors go to the pattern's span
/// (compile errors) or the replacement's (group errors).
fn pattern(
    c: &mut Compiler,
    kind: &Spanned<PatternTypeConfig>,
    text: &Spanned<String>,
    rewrite: &Rewrite,
    rewrite_span: Range<usize>,
) -> Option<AliasPattern> {
    let compiled = AliasPattern::compile(pattern_type(*kind.get_ref()), text.get_ref())
        .map_err(|e| c.error(text.span(), e.into()))
        .ok()?;
    match compiled.check(rewrite) {
        Ok(()) => Some(compiled),
        Err(e) => {
            c.error(rewrite_span, e.into());
            None
        }
    }
}

/// Compiles the transforms, highest priority first.
pub(super) fn compile_transforms(c: &mut Compiler, raw: &[Spanned<TransformConfig>]) -> Vec<Transform> {
    if let Some(extra) = raw.get(MAX_TRANSFORMS) {
        c.error(extra.span(), ConfigReason::TooMany { what: "transforms", max: MAX_TRANSFORMS });
    }
    let mut priorities = HashSet::new();
    let mut out = Vec::new();
    for t in raw.iter().map(Spanned::get_ref) {
        let priority = c.ranged("priority", Some(&t.priority), PRIORITY_RANGE, 0).and_then(|p| u16::try_from(p).ok());
        if let Some(p) = priority {
            if !priorities.insert(p) {
                c.error(t.priority.span(), ConfigReason::DuplicateTransformPriority(p));
            }
        }
        let (required, because): (Option<&'static str>, &'static str) = match t.behaviour.get_ref() {
            TransformBehaviourConfig::Replace => (Some("replace"), "with behaviour = \"replace\""),
            TransformBehaviourConfig::AddPrefix => (Some("text"), "with behaviour = \"add-prefix\""),
            TransformBehaviourConfig::AddSuffix => (Some("text"), "with behaviour = \"add-suffix\""),
            TransformBehaviourConfig::Strip => (None, "with behaviour = \"strip\""),
        };
        let mut ok = true;
        for (key, value) in [("replace", &t.replace), ("text", &t.text)] {
            match (value, required == Some(key)) {
                (None, true) => {
                    c.error(t.behaviour.span(), ConfigReason::MissingKey { key, because });
                    ok = false;
                }
                (Some(v), false) => {
                    c.error(v.span(), ConfigReason::UselessKey { key, because });
                    ok = false;
                }
                _ => {}
            }
        }
        let text = |v: &Option<Spanned<String>>| v.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default();
        let rewrite = match t.behaviour.get_ref() {
            TransformBehaviourConfig::Strip => Rewrite::Strip,
            TransformBehaviourConfig::Replace => Rewrite::Replace(Replacement::new(&text(&t.replace))),
            TransformBehaviourConfig::AddPrefix => Rewrite::AddPrefix(text(&t.text)),
            TransformBehaviourConfig::AddSuffix => Rewrite::AddSuffix(text(&t.text)),
        };
        let rewrite_span = t.replace.as_ref().map_or(t.behaviour.span(), Spanned::span);
        let compiled = pattern(c, &t.pattern_type, &t.pattern, &rewrite, rewrite_span);
        if let (Some(priority), Some(pattern), true) = (priority, compiled, ok) {
            out.push(Transform {
                priority,
                description: t.description.clone(),
                pattern,
                rewrite,
                enabled: t.enabled.unwrap_or(true),
            });
        }
    }
    out.sort_by_key(|t| t.priority);
    out
}

/// Compiles the search rules, ordered by priority then configuration order.
pub(super) fn compile_search_rules(c: &mut Compiler, raw: &[Spanned<SearchRuleConfig>], zones: &[&Zone]) -> Vec<SearchRule> {
    if let Some(extra) = raw.get(MAX_SEARCH_RULES) {
        c.error(extra.span(), ConfigReason::TooMany { what: "search rules", max: MAX_SEARCH_RULES });
    }
    let mut names = HashSet::new();
    let mut compiled: Vec<(SearchRule, Range<usize>)> = Vec::new();
    for r in raw.iter().map(Spanned::get_ref) {
        let name = r.name.get_ref();
        if !valid_name(name) {
            c.error(r.name.span(), ConfigReason::BadName { what: "search rule" });
        } else if !names.insert(name.clone()) {
            c.error(r.name.span(), ConfigReason::DuplicateRule(name.clone()));
        }
        if let Some(rule) = search_rule(c, r, zones) {
            compiled.push((rule, r.name.span()));
        }
    }
    compiled.sort_by_key(|(r, _)| r.priority);
    for (i, (rule, span)) in compiled.iter().enumerate() {
        let shadow = compiled.get(..i).unwrap_or_default().iter().map(|(e, _)| e).find(|e| shadows(e, rule, zones));
        if let (Some(by), true) = (shadow, rule.enabled) {
            let reason = ConfigReason::Shadowed { rule: rule.name.clone(), by: by.name.clone(), by_priority: by.priority };
            c.error(span.clone(), reason);
        }
    }
    compiled.into_iter().map(|(r, _)| r).collect()
}

fn search_rule(c: &mut Compiler, r: &SearchRuleConfig, zones: &[&Zone]) -> Option<SearchRule> {
    let priority = c
        .ranged("priority", r.priority.as_ref(), PRIORITY_RANGE, DEFAULT_RULE_PRIORITY)
        .and_then(|p| u16::try_from(p).ok());
    let source = match r.source.as_ref() {
        None => Some(RuleSource::Any),
        Some(s) if s.get_ref() == "any" => Some(RuleSource::Any),
        Some(s) if s.get_ref() == "any-authenticated" => Some(RuleSource::AnyAuthenticated),
        Some(s) if zones.iter().any(|z| &z.name == s.get_ref()) => Some(RuleSource::Zone(s.get_ref().clone())),
        Some(s) => {
            c.error(s.span(), ConfigReason::UnknownZone(s.get_ref().clone()));
            None
        }
    };
    let target = match zones.iter().find(|z| &z.name == r.target.get_ref()) {
        Some(z) if z.kind == ZoneKind::Default => {
            c.error(r.target.span(), ConfigReason::TargetIsDefaultZone(z.name.clone()));
            None
        }
        Some(z) => Some(z.name.clone()),
        None => {
            c.error(r.target.span(), ConfigReason::UnknownZone(r.target.get_ref().clone()));
            None
        }
    };
    let behaviour = r.behaviour.as_ref().map_or(RuleBehaviourConfig::Leave, |b| *b.get_ref());
    let rewrite = match behaviour {
        RuleBehaviourConfig::Leave => Rewrite::Leave,
        RuleBehaviourConfig::Strip => Rewrite::Strip,
        RuleBehaviourConfig::Replace => match &r.replace {
            Some(text) => Rewrite::Replace(Replacement::new(text.get_ref())),
            None => {
                let span = r.behaviour.as_ref().map_or(r.name.span(), Spanned::span);
                c.error(span, ConfigReason::MissingKey { key: "replace", because: "with behaviour = \"replace\"" });
                return None;
            }
        },
    };
    if let (Some(text), false) = (&r.replace, behaviour == RuleBehaviourConfig::Replace) {
        c.error(text.span(), ConfigReason::UselessKey { key: "replace", because: "unless behaviour = \"replace\"" });
    }
    let pattern = match r.mode.as_ref().map_or(ModeConfig::AliasPatternMatch, |m| *m.get_ref()) {
        ModeConfig::AnyAlias => {
            let because = "with mode = \"any-alias\"";
            for (key, span) in [("pattern", r.pattern.as_ref().map(Spanned::span)), ("pattern_type", r.pattern_type.as_ref().map(Spanned::span))] {
                if let Some(span) = span {
                    c.error(span, ConfigReason::UselessKey { key, because });
                }
            }
            if let (Some(b), false) = (&r.behaviour, behaviour == RuleBehaviourConfig::Leave) {
                c.error(b.span(), ConfigReason::UselessKey { key: "behaviour", because: "other than leave with mode = \"any-alias\" (nothing was matched to change)" });
            }
            None
        }
        ModeConfig::AliasPatternMatch => {
            let because = "with mode = \"alias-pattern-match\"";
            match (&r.pattern_type, &r.pattern) {
                (Some(kind), Some(text)) => {
                    let span = r
                        .replace
                        .as_ref()
                        .map(Spanned::span)
                        .or_else(|| r.behaviour.as_ref().map(Spanned::span))
                        .unwrap_or_else(|| text.span());
                    Some(pattern(c, kind, text, &rewrite, span)?)
                }
                (None, _) => {
                    c.error(r.name.span(), ConfigReason::MissingKey { key: "pattern_type", because });
                    return None;
                }
                (_, None) => {
                    c.error(r.name.span(), ConfigReason::MissingKey { key: "pattern", because });
                    return None;
                }
            }
        }
    };
    let (priority, source, target) = (priority?, source?, target?);
    if let (RuleSource::Zone(z), false) = (&source, r.allow_source_zone) {
        if *z == target {
            c.error(r.target.span(), ConfigReason::RuleLoops { rule: r.name.get_ref().clone(), zone: z.clone() });
            return None;
        }
    }
    Some(SearchRule {
        name: r.name.get_ref().clone(),
        description: r.description.clone(),
        priority,
        source,
        request_must_be_authenticated: r.request_must_be_authenticated,
        pattern,
        rewrite,
        on_match: match r.on_match.as_ref().map(|m| *m.get_ref()) {
            Some(OnMatchConfig::Stop) => OnMatch::Stop,
            Some(OnMatchConfig::Continue) | None => OnMatch::Continue,
        },
        target,
        enabled: r.enabled.unwrap_or(true),
        allow_source_zone: r.allow_source_zone,
    })
}

/// Whether `earlier`'s pattern matches every alias `later` can match: a catch-all regex matches
/// all; `any-alias` matches all but IP addresses, so only another `any-alias` rule for sure.
fn catch_all_for(earlier: &SearchRule, later: &SearchRule) -> bool {
    match &earlier.pattern {
        Some(p) => p.is_catch_all(),
        None => later.pattern.is_none(),
    }
}

/// Whether `earlier` ends every search `later` could match before `later` is reached: an
/// enabled catch-all Stop rule of a lower priority number that sees every request `later` sees
/// and that loop prevention can never skip for them.
fn shadows(earlier: &SearchRule, later: &SearchRule, zones: &[&Zone]) -> bool {
    let later_needs_auth = later.request_must_be_authenticated || later.source == RuleSource::AnyAuthenticated;
    let source_covers = match &earlier.source {
        RuleSource::Any => true,
        RuleSource::AnyAuthenticated => later_needs_auth,
        RuleSource::Zone(z) => later.source == RuleSource::Zone(z.clone()),
    };
    let never_skipped_for_loops = zones
        .iter()
        .find(|z| z.name == earlier.target)
        .is_some_and(|z| z.loop_contact_params.is_empty())
        && (earlier.allow_source_zone || matches!(&later.source, RuleSource::Zone(z) if *z != earlier.target));
    earlier.enabled
        && earlier.on_match == OnMatch::Stop
        && earlier.priority < later.priority
        && catch_all_for(earlier, later)
        && source_covers
        && (!earlier.request_must_be_authenticated || later_needs_auth)
        && never_skipped_for_loops
}
