//! Partitions, calling search spaces, route patterns and translation patterns.

use std::collections::HashMap;

use causeway_policy::Location;
use toml::Spanned;

use super::{Cx, Unique};
use crate::config::{CallCtlConfig, TransformFields};
use crate::dialplan::{Css, DialPlan, Entry, EntryKind, Partition, RouteAction, RoutePattern, Translation};
use crate::directory::{CssId, PartitionId};
use crate::error::LoadError;
use crate::pattern::transform::{valid_prefix, CalledTransform, CallingTransform, Discard, Mask};
use crate::pattern::Pattern;

/// Where each (partition, pattern) was first defined: identical patterns in one partition
/// are refused (CUCM refuses them too), whatever their kind.
#[derive(Default)]
pub(crate) struct PatternIndex {
    seen: HashMap<(PartitionId, String), Location>,
}

impl PatternIndex {
    /// Adds `pattern` to `partition`'s table after checking it is not there yet.
    pub(crate) fn add(
        &mut self,
        plan: &mut DialPlan,
        partition: PartitionId,
        at: Location,
        pattern: Pattern,
        kind: EntryKind,
    ) -> Result<(), LoadError> {
        let key = (partition, pattern.as_str().replace('x', "X"));
        if let Some(first) = self.seen.get(&key) {
            return Err(LoadError::DuplicatePattern {
                at,
                pattern: pattern.as_str().to_owned(),
                partition: plan.partition_name(partition).to_owned(),
                first: first.clone(),
            });
        }
        self.seen.insert(key, at);
        if let Some(table) = plan.table.get_mut(partition.0) {
            table.push(Entry { pattern, kind });
        }
        Ok(())
    }
}

pub(crate) fn partition(cx: &Cx<'_>, plan: &DialPlan, v: &Spanned<String>) -> Result<PartitionId, LoadError> {
    plan.partition_by_name(v.get_ref())
        .ok_or_else(|| LoadError::Unknown { at: cx.at(v), what: "partition", name: v.get_ref().clone() })
}

pub(crate) fn partitions_and_css(cx: &Cx<'_>, raw: &CallCtlConfig, plan: &mut DialPlan) -> Result<(), LoadError> {
    let mut unique = Unique::new("partition");
    for p in &raw.partition {
        let name = cx.name(&p.name, "partition name")?;
        unique.insert(&name, cx.at(&p.name))?;
        plan.by_partition.insert(name.clone(), PartitionId(plan.partitions.len()));
        plan.partitions.push(Partition { name });
        plan.table.push(Vec::new());
    }
    let mut unique = Unique::new("css");
    for c in &raw.css {
        let name = cx.name(&c.name, "css name")?;
        unique.insert(&name, cx.at(&c.name))?;
        let partitions = c.partitions.iter().map(|p| partition(cx, plan, p)).collect::<Result<Vec<_>, _>>()?;
        plan.by_css.insert(name.clone(), CssId(plan.css.len()));
        plan.css.push(Css { name, partitions });
    }
    Ok(())
}

fn compile(cx: &Cx<'_>, v: &Spanned<String>) -> Result<Pattern, LoadError> {
    Pattern::parse(v.get_ref()).map_err(|error| LoadError::Pattern { at: cx.at(v), pattern: v.get_ref().clone(), error })
}

fn transforms(cx: &Cx<'_>, f: TransformFields<'_>, pattern: &Pattern) -> Result<(CalledTransform, CallingTransform), LoadError> {
    let bad = |v: &Spanned<String>, field, why| LoadError::Transform { at: cx.at(v), field, value: v.get_ref().clone(), why };
    let discard = match f.discard {
        None => Discard::None,
        Some(v) => {
            let d = Discard::from_token(v.get_ref()).ok_or_else(|| bad(v, "discard", "must be none, predot, trailing-# or predot-trailing-#"))?;
            if d.needs_dot() && !pattern.has_dot() {
                return Err(bad(v, "discard", "PreDot discard needs a '.' in the pattern"));
            }
            d
        }
    };
    let mask = |v: Option<&Spanned<String>>, field| {
        v.map(|v| Mask::parse(v.get_ref()).ok_or_else(|| bad(v, field, "a mask holds digits, *, #, X and a leading +")))
            .transpose()
    };
    let prefix = |v: Option<&Spanned<String>>, field| match v {
        None => Ok(String::new()),
        Some(v) if valid_prefix(v.get_ref()) => Ok(v.get_ref().clone()),
        Some(v) => Err(bad(v, field, "prefix digits are digits, * and #, with an optional leading +")),
    };
    let called = CalledTransform { discard, mask: mask(f.called_mask, "called_mask")?, prefix: prefix(f.called_prefix, "called_prefix")? };
    let calling = CallingTransform { mask: mask(f.calling_mask, "calling_mask")?, prefix: prefix(f.calling_prefix, "calling_prefix")? };
    Ok((called, calling))
}

pub(crate) fn routes(cx: &Cx<'_>, raw: &CallCtlConfig, plan: &mut DialPlan, index: &mut PatternIndex) -> Result<(), LoadError> {
    for r in &raw.route_pattern {
        let pattern = compile(cx, &r.pattern)?;
        let partition = partition(cx, plan, &r.partition)?;
        let action = match (&r.zone, &r.block) {
            (Some(zone), None) => RouteAction::Zone(cx.zone(zone)?),
            (None, Some(status)) => {
                if !(400..=699).contains(status.get_ref()) {
                    return Err(LoadError::BlockStatus { at: cx.at(status), status: *status.get_ref() });
                }
                RouteAction::Block(*status.get_ref())
            }
            _ => return Err(LoadError::RouteTarget { at: cx.at(&r.pattern) }),
        };
        let (called, calling) = transforms(cx, r.transform(), &pattern)?;
        let kind = EntryKind::Route(plan.routes.len());
        plan.routes.push(RoutePattern { pattern: pattern.clone(), partition, action, called, calling });
        index.add(plan, partition, cx.at(&r.pattern), pattern, kind)?;
    }
    Ok(())
}

pub(crate) fn translations(cx: &Cx<'_>, raw: &CallCtlConfig, plan: &mut DialPlan, index: &mut PatternIndex) -> Result<(), LoadError> {
    for t in &raw.translation {
        let pattern = compile(cx, &t.pattern)?;
        let partition = partition(cx, plan, &t.partition)?;
        let css = cx.css(plan, t.css.as_ref())?;
        let (called, calling) = transforms(cx, t.transform(), &pattern)?;
        let kind = EntryKind::Translation(plan.translations.len());
        plan.translations.push(Translation { pattern: pattern.clone(), partition, css, called, calling });
        index.add(plan, partition, cx.at(&t.pattern), pattern, kind)?;
    }
    Ok(())
}
