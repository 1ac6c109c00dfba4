//! The explanation of one call-control decision, step by step: who placed the call (and
//! whether it was anchored), the search order, every pattern that matched with its closest-match
//! measure, the winner, translations and the result. `causeway locate` prints it as text
//! (`Display`) or JSON (`Serialize`).

use std::fmt;

use crate::pattern::Count;

/// A pattern that matched the dialed string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Candidate {
    /// Partition.
    pub partition: String,
    /// Pattern as written.
    pub pattern: String,
    /// `dn`, `route` or `translation`.
    pub kind: &'static str,
    /// Strings of the dialed length the pattern matches (the closest-match measure).
    pub strings_of_length: Count,
    /// No `!`, `?`, `+`.
    pub fixed_length: bool,
    /// Position of the partition in the search order.
    pub css_rank: usize,
}

/// A translation pattern that applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppliedTranslation {
    /// The pattern.
    pub pattern: String,
    /// Its partition.
    pub partition: String,
    /// New called number.
    pub called: String,
    /// New calling number.
    pub calling: Option<String>,
}

/// One step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TraceStep {
    /// The call comes from a registered device.
    Device {
        /// Device name.
        device: String,
        /// The line it is placed on.
        dn: String,
        /// CSS names, line CSS first.
        css: Vec<String>,
    },
    /// The call comes from a zone.
    Zone {
        /// Zone.
        zone: String,
        /// The zone's trunk CSS (none: no trunk, nothing is reachable).
        css: Option<String>,
        /// Whether the request was authenticated.
        authenticated: bool,
    },
    /// An identity was compared with the associated identities.
    IdentityChecked {
        /// `from` or `pai`.
        header: &'static str,
        /// The identity.
        identity: String,
        /// The user it belongs to, if any.
        user: Option<String>,
    },
    /// An identity was not considered, and why.
    IdentityIgnored {
        /// `from` or `pai`.
        header: &'static str,
        /// Why.
        why: &'static str,
    },
    /// The call is anchored: placed by this user.
    Anchored {
        /// User id.
        user: String,
        /// The associated identity that matched.
        identity: String,
        /// CSS names used, line CSS first.
        css: Vec<String>,
    },
    /// The call carries the cloud's loop marker.
    LoopMarked {
        /// The marker.
        marker: String,
    },
    /// A feature code.
    Feature {
        /// The code.
        code: String,
        /// What it does.
        feature: String,
    },
    /// Analysis of a number starts.
    Dialed {
        /// The number.
        number: String,
        /// The search order.
        partitions: Vec<String>,
    },
    /// Every pattern that matched.
    Candidates {
        /// Patterns examined.
        examined: usize,
        /// Those that matched.
        matched: Vec<Candidate>,
    },
    /// The closest match.
    Selected {
        /// The winner.
        candidate: Candidate,
    },
    /// A translation pattern applied.
    Translated(AppliedTranslation),
    /// A directory URI lookup.
    DirectoryUri {
        /// The URI.
        uri: String,
        /// The partition it was found in.
        partition: Option<String>,
    },
    /// Anything else worth saying.
    Note {
        /// Text.
        text: String,
    },
}

/// Every step of one decision, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Trace {
    /// The steps.
    pub steps: Vec<TraceStep>,
}

impl Trace {
    /// Appends a step.
    pub fn push(&mut self, step: TraceStep) {
        self.steps.push(step);
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} \"{}\" in {} (css rank {}): {} strings of this length{}",
            self.kind,
            self.pattern,
            self.partition,
            self.css_rank,
            self.strings_of_length,
            if self.fixed_length { "" } else { ", variable length" }
        )
    }
}

impl fmt::Display for TraceStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Device { device, dn, css } => write!(f, "caller: device {device}, line {dn}, css [{}]", list(css)),
            Self::Zone { zone, css, authenticated } => write!(
                f,
                "caller: zone {zone} ({}), trunk css {}",
                if *authenticated { "authenticated" } else { "not authenticated" },
                css.as_deref().unwrap_or("(no trunk)")
            ),
            Self::IdentityChecked { header, identity, user } => match user {
                Some(u) => write!(f, "{header} {identity}: associated identity of {u}"),
                None => write!(f, "{header} {identity}: not an associated identity"),
            },
            Self::IdentityIgnored { header, why } => write!(f, "{header} ignored: {why}"),
            Self::Anchored { user, identity, css } => {
                write!(f, "anchored on {user} (by {identity}): css [{}]", list(css))
            }
            Self::LoopMarked { marker } => write!(f, "loop marker {marker}: no fork back to the cloud"),
            Self::Feature { code, feature } => write!(f, "feature code {code}: {feature}"),
            Self::Dialed { number, partitions } => write!(f, "analyse {number} in [{}]", list(partitions)),
            Self::Candidates { examined, matched } => {
                write!(f, "{examined} patterns examined, {} matched", matched.len())?;
                matched.iter().try_for_each(|c| write!(f, "\n    {c}"))
            }
            Self::Selected { candidate } => write!(f, "closest match: {candidate}"),
            Self::Translated(t) => write!(
                f,
                "translation \"{}\" in {}: called {}, calling {}",
                t.pattern,
                t.partition,
                t.called,
                t.calling.as_deref().unwrap_or("(none)")
            ),
            Self::DirectoryUri { uri, partition } => match partition {
                Some(p) => write!(f, "directory URI {uri} found in {p}"),
                None => write!(f, "directory URI {uri} not found in the search space"),
            },
            Self::Note { text } => f.write_str(text),
        }
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>2}. {step}", i + 1)?;
        }
        Ok(())
    }
}
