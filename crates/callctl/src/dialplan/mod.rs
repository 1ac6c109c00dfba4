//! The validated dial plan: partitions, calling search spaces, route patterns, translation
//! patterns, DNs and directory URIs, and the digit analysis that runs over them.

mod analyse;
mod trace;

use std::collections::HashMap;

pub use analyse::{Analysis, Outcome};
pub use trace::{AppliedTranslation, Candidate, Trace, TraceStep};

use crate::directory::{CssId, LineId, PartitionId};
use crate::pattern::transform::{CalledTransform, CallingTransform};
use crate::pattern::Pattern;

/// Longest chain of translation patterns followed before analysis gives up (a loop guard).
pub const MAX_TRANSLATIONS: usize = 8;

/// A partition.
#[derive(Debug, Clone)]
pub struct Partition {
    /// Name.
    pub name: String,
}

/// A calling search space: partitions in search order.
#[derive(Debug, Clone)]
pub struct Css {
    /// Name.
    pub name: String,
    /// Partitions in order.
    pub partitions: Vec<PartitionId>,
}

/// What a route pattern does with a call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteAction {
    /// Send it out through this zone.
    Zone(String),
    /// Refuse it with this status (CUCM "Block this pattern").
    Block(u16),
}

/// A route pattern.
#[derive(Debug, Clone)]
pub struct RoutePattern {
    /// The pattern.
    pub pattern: Pattern,
    /// Its partition.
    pub partition: PartitionId,
    /// Route or block.
    pub action: RouteAction,
    /// Called-party transformation.
    pub called: CalledTransform,
    /// Calling-party transformation.
    pub calling: CallingTransform,
}

/// A translation pattern: transforms the numbers, then analysis runs again.
#[derive(Debug, Clone)]
pub struct Translation {
    /// The pattern.
    pub pattern: Pattern,
    /// Its partition.
    pub partition: PartitionId,
    /// CSS of the second analysis; `None`: the originator's.
    pub css: Option<CssId>,
    /// Called-party transformation.
    pub called: CalledTransform,
    /// Calling-party transformation.
    pub calling: CallingTransform,
}

/// What an entry of the digit-analysis table leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    Line(LineId),
    Route(usize),
    Translation(usize),
}

/// One pattern in one partition's table.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) pattern: Pattern,
    pub(crate) kind: EntryKind,
}

/// The dial plan.
#[derive(Debug, Clone, Default)]
pub struct DialPlan {
    pub(crate) partitions: Vec<Partition>,
    pub(crate) css: Vec<Css>,
    pub(crate) routes: Vec<RoutePattern>,
    pub(crate) translations: Vec<Translation>,
    /// Per partition, its entries in config order (routes, translations, then lines).
    pub(crate) table: Vec<Vec<Entry>>,
    /// (partition, directory URI lower-case) → the line and its DN.
    pub(crate) uris: HashMap<(PartitionId, String), (LineId, String)>,
    pub(crate) by_partition: HashMap<String, PartitionId>,
    pub(crate) by_css: HashMap<String, CssId>,
}

impl DialPlan {
    /// A partition.
    pub fn partition(&self, id: PartitionId) -> Option<&Partition> {
        self.partitions.get(id.0)
    }

    /// A CSS.
    pub fn css(&self, id: CssId) -> Option<&Css> {
        self.css.get(id.0)
    }

    /// A partition by name.
    pub fn partition_by_name(&self, name: &str) -> Option<PartitionId> {
        self.by_partition.get(name).copied()
    }

    /// A CSS by name.
    pub fn css_by_name(&self, name: &str) -> Option<CssId> {
        self.by_css.get(name).copied()
    }

    /// Number of patterns in the digit-analysis table (DNs included).
    pub fn pattern_count(&self) -> usize {
        self.table.iter().map(Vec::len).sum()
    }

    /// The partitions of several CSSs, concatenated in order, each partition once (CUCM
    /// searches the line CSS's partitions before the device CSS's).
    pub fn search_order(&self, spaces: &[CssId]) -> Vec<PartitionId> {
        let mut out: Vec<PartitionId> = Vec::new();
        for p in spaces.iter().filter_map(|c| self.css(*c)).flat_map(|c| c.partitions.iter()) {
            if !out.contains(p) {
                out.push(*p);
            }
        }
        out
    }

    pub(crate) fn partition_name(&self, id: PartitionId) -> &str {
        self.partition(id).map_or("?", |p| p.name.as_str())
    }
}
