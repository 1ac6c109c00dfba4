//! Digit analysis: closest match over the partitions of a calling search space.
//!
//! **The rule.** Every pattern (route pattern, translation pattern, DN) in every partition of
//! the caller's search order is tested against the whole dialed string. Among those that match,
//! the winner is the one with the smallest key
//! `(strings of the dialed length it matches, variable length?, CSS rank, table order)`:
//! 1. the fewest strings *of the dialed length* (CUCM: "15! matches unlimited digit strings, but
//!    for closest match with 4 digits dialed it matches 100");
//! 2. on a tie, a fixed-length pattern (no `!`, `?`, `+`) before a variable-length one;
//! 3. then the partition that comes first in the search order (line CSS before device CSS);
//! 4. then, inside one partition, route patterns before translation patterns before DNs, each
//!    in file order (identical patterns in one partition are refused at load).
//!
//! A translation pattern transforms the numbers and analysis runs again with the
//! translation's CSS, at most [`super::MAX_TRANSLATIONS`] times.
//!
//! Cost (`cargo bench -p causeway-callctl --bench digits`, 1000 patterns in one search space,
//! shared 2-core machine): about 4-5 µs per analysis, 2 µs when nothing matches.

use crate::directory::{LineId, PartitionId, UserId};
use crate::pattern::DialString;

use super::trace::{AppliedTranslation, Candidate, Trace, TraceStep};
use super::{DialPlan, EntryKind, RouteAction, MAX_TRANSLATIONS};

/// Where analysis sends the call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A line of this cluster: ring it (Single Number Reach).
    Line {
        /// The line.
        #[serde(skip)]
        line: LineId,
        /// Its DN.
        dn: String,
        /// Its partition.
        partition: String,
    },
    /// Out through a zone.
    Route {
        /// The zone.
        zone: String,
        /// The called number after transformation.
        called: String,
        /// The route pattern.
        pattern: String,
        /// Its partition.
        partition: String,
    },
    /// A blocked pattern.
    Blocked {
        /// The status to answer.
        status: u16,
        /// The route pattern.
        pattern: String,
        /// Its partition.
        partition: String,
    },
    /// The dual-ringing toggle feature code, dialed by this user (never produced by digit
    /// analysis itself: [`crate::Cluster::locate`] recognises the code first).
    ToggleDualRing {
        /// The user.
        #[serde(skip)]
        user: UserId,
        /// Their user id.
        userid: String,
    },
    /// Nothing in the caller's search space matches: 404 (RFC 3261 §21.4.5).
    NoMatch,
}

impl Outcome {
    /// The final status to answer when the call goes nowhere.
    pub fn reject_status(&self) -> Option<u16> {
        match self {
            Self::Blocked { status, .. } => Some(*status),
            Self::NoMatch => Some(404),
            Self::Line { .. } | Self::Route { .. } | Self::ToggleDualRing { .. } => None,
        }
    }
}

/// The result of one analysis: where the call goes and the calling number to present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// Where it goes.
    pub outcome: Outcome,
    /// The calling number after every transformation.
    pub calling: Option<String>,
    /// Translation patterns applied on the way, in order.
    pub translations: Vec<AppliedTranslation>,
}

struct Best {
    key: (crate::pattern::Count, bool, usize, usize),
    partition: PartitionId,
    index: usize,
    candidate: Candidate,
}

impl DialPlan {
    /// Analyses `dialed` for a caller whose search order is `search` and whose number is
    /// `calling`, recording each decision in `trace`.
    pub fn analyse_digits(&self, search: &[PartitionId], dialed: &DialString, calling: Option<&str>, trace: &mut Trace) -> Analysis {
        let mut search: Vec<PartitionId> = search.to_vec();
        let mut dialed = dialed.clone();
        let mut calling = calling.map(str::to_owned);
        let mut translations = Vec::new();
        for _ in 0..=MAX_TRANSLATIONS {
            trace.push(TraceStep::Dialed { number: dialed.to_string(), partitions: self.names(&search) });
            let Some(best) = self.closest(&search, &dialed, trace) else {
                return Analysis { outcome: Outcome::NoMatch, calling, translations };
            };
            trace.push(TraceStep::Selected { candidate: best.candidate.clone() });
            let Some(entry) = self.table.get(best.partition.0).and_then(|t| t.get(best.index)) else {
                return Analysis { outcome: Outcome::NoMatch, calling, translations };
            };
            let partition = self.partition_name(best.partition).to_owned();
            match entry.kind {
                EntryKind::Line(line) => {
                    return Analysis { outcome: Outcome::Line { line, dn: dialed.to_string(), partition }, calling, translations };
                }
                EntryKind::Route(r) => {
                    let Some(route) = self.routes.get(r) else { break };
                    let called = route.called.apply(&route.pattern, &dialed);
                    let calling = calling.map(|c| route.calling.apply(&c));
                    let pattern = route.pattern.as_str().to_owned();
                    let outcome = match &route.action {
                        RouteAction::Zone(zone) => Outcome::Route { zone: zone.clone(), called, pattern, partition },
                        RouteAction::Block(status) => Outcome::Blocked { status: *status, pattern, partition },
                    };
                    return Analysis { outcome, calling, translations };
                }
                EntryKind::Translation(t) => {
                    let Some(tr) = self.translations.get(t) else { break };
                    let called = tr.called.apply(&tr.pattern, &dialed);
                    calling = calling.map(|c| tr.calling.apply(&c));
                    if let Some(css) = tr.css {
                        search = self.search_order(&[css]);
                    }
                    let applied = AppliedTranslation {
                        pattern: tr.pattern.as_str().to_owned(),
                        partition,
                        called: called.clone(),
                        calling: calling.clone(),
                    };
                    trace.push(TraceStep::Translated(applied.clone()));
                    translations.push(applied);
                    match DialString::parse(&called) {
                        Some(next) => dialed = next,
                        None => {
                            trace.push(TraceStep::Note { text: format!("translated number \"{called}\" is not dialable") });
                            return Analysis { outcome: Outcome::NoMatch, calling, translations };
                        }
                    }
                }
            }
        }
        trace.push(TraceStep::Note { text: format!("more than {MAX_TRANSLATIONS} translations: loop refused") });
        Analysis { outcome: Outcome::NoMatch, calling, translations }
    }

    /// Looks up a directory URI (`user@host`, compared case-insensitively) in `search`.
    pub fn analyse_uri(&self, search: &[PartitionId], uri: &str, trace: &mut Trace) -> Outcome {
        let key = uri.to_lowercase();
        for p in search {
            if let Some((line, dn)) = self.uris.get(&(*p, key.clone())) {
                let partition = self.partition_name(*p).to_owned();
                trace.push(TraceStep::DirectoryUri { uri: uri.to_owned(), partition: Some(partition.clone()) });
                return Outcome::Line { line: *line, dn: dn.clone(), partition };
            }
        }
        trace.push(TraceStep::DirectoryUri { uri: uri.to_owned(), partition: None });
        Outcome::NoMatch
    }

    fn closest(&self, search: &[PartitionId], dialed: &DialString, trace: &mut Trace) -> Option<Best> {
        let mut best: Option<Best> = None;
        let mut examined = 0usize;
        let mut matched = Vec::new();
        for (rank, pid) in search.iter().enumerate() {
            let Some(entries) = self.table.get(pid.0) else { continue };
            examined += entries.len();
            for (index, entry) in entries.iter().enumerate() {
                if !entry.pattern.matches(dialed) {
                    continue;
                }
                let count = entry.pattern.strings_of_length(dialed.len());
                let fixed = entry.pattern.is_fixed_length();
                let candidate = Candidate {
                    partition: self.partition_name(*pid).to_owned(),
                    pattern: entry.pattern.as_str().to_owned(),
                    kind: match entry.kind {
                        EntryKind::Line(_) => "dn",
                        EntryKind::Route(_) => "route",
                        EntryKind::Translation(_) => "translation",
                    },
                    strings_of_length: count,
                    fixed_length: fixed,
                    css_rank: rank,
                };
                let key = (count, !fixed, rank, index);
                if best.as_ref().is_none_or(|b| key < b.key) {
                    best = Some(Best { key, partition: *pid, index, candidate: candidate.clone() });
                }
                matched.push(candidate);
            }
        }
        trace.push(TraceStep::Candidates { examined, matched });
        best
    }

    fn names(&self, search: &[PartitionId]) -> Vec<String> {
        search.iter().map(|p| self.partition_name(*p).to_owned()).collect()
    }
}
