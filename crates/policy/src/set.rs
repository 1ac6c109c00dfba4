//! [`PolicySet`]: the immutable, validated call policy that `evaluate` runs — a rule table, a CPL
//! script, or nothing (allow all, as Expressway does when no policy is configured).

use toml::Spanned;

use crate::cpl::CplScript;
use crate::error::PolicyError;
use crate::rules::config::{PolicyConfig, PolicyFile};
use crate::rules::RuleTable;
use crate::source::SourceText;

/// A loaded call policy. Build it once per configuration load and share it (`Arc`) between
/// request handlers; a reload builds a new one.
#[derive(Debug, Clone)]
pub struct PolicySet {
    kind: PolicyKind,
}

#[derive(Debug, Clone)]
enum PolicyKind {
    Off,
    Rules(RuleTable),
    Cpl(CplScript),
}

impl PolicySet {
    /// No call policy: every request is allowed.
    pub fn off() -> Self {
        Self { kind: PolicyKind::Off }
    }

    /// A CPL script as the whole policy.
    pub fn from_cpl(src: SourceText<'_>, zones: &[&str]) -> Result<Self, PolicyError> {
        Ok(Self { kind: PolicyKind::Cpl(CplScript::parse(src, zones)?) })
    }

    /// Validates a `[policy]` section taken from the TOML document `src` (spans index into it).
    /// `zones` are the configured zone names. When the section names a CPL file, `read_cpl` is
    /// called with its path: the caller does the file I/O, this crate never does.
    pub fn from_config(
        raw: &PolicyConfig,
        src: SourceText<'_>,
        zones: &[&str],
        read_cpl: impl FnOnce(&str) -> std::io::Result<String>,
    ) -> Result<Self, PolicyError> {
        let Some(path) = &raw.cpl else {
            if let Some(b) = &raw.cpl_node_budget {
                return Err(PolicyError::BudgetWithoutCpl { at: src.locate(&b.span()) });
            }
            return Ok(Self { kind: PolicyKind::Rules(RuleTable::validate(raw, src, zones)?) });
        };
        let at = src.locate(&path.span());
        if !raw.rule.is_empty() || raw.default.is_some() {
            return Err(PolicyError::CplAndRules { at });
        }
        let budget = match raw.cpl_node_budget.as_ref().map(Spanned::get_ref) {
            Some(0) => {
                let span = raw.cpl_node_budget.as_ref().map(Spanned::span).unwrap_or_default();
                return Err(PolicyError::ZeroBudget { at: src.locate(&span) });
            }
            Some(b) => *b,
            None => crate::cpl::DEFAULT_NODE_BUDGET,
        };
        let text = read_cpl(path.get_ref()).map_err(|source| PolicyError::CplRead {
            at,
            path: path.get_ref().clone(),
            source,
        })?;
        let script = CplScript::parse(SourceText::new(path.get_ref(), &text), zones)?.with_budget(budget);
        Ok(Self { kind: PolicyKind::Cpl(script) })
    }

    /// Parses a TOML file that holds only a `[policy]` section (the shipped examples).
    pub fn from_toml_str(
        src: SourceText<'_>,
        zones: &[&str],
        read_cpl: impl FnOnce(&str) -> std::io::Result<String>,
    ) -> Result<Self, PolicyError> {
        let file: PolicyFile = toml::from_str(src.text).map_err(|e| PolicyError::Toml {
            at: src.locate(&e.span().unwrap_or_default()),
            message: e.message().to_owned(),
        })?;
        Self::from_config(&file.policy, src, zones, read_cpl)
    }

    /// The rule table, when the policy is one.
    pub fn rules(&self) -> Option<&RuleTable> {
        match &self.kind {
            PolicyKind::Rules(r) => Some(r),
            _ => None,
        }
    }

    /// The CPL script, when the policy is one.
    pub fn cpl(&self) -> Option<&CplScript> {
        match &self.kind {
            PolicyKind::Cpl(c) => Some(c),
            _ => None,
        }
    }

    /// Whether call policy is off.
    pub fn is_off(&self) -> bool {
        matches!(self.kind, PolicyKind::Off)
    }
}
