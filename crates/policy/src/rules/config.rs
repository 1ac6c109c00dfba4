//! Raw serde shapes of the `[policy]` section, as written in TOML. Every value keeps its span so
//! that validation errors can say `file:line:col`. Unknown keys are refused (a misspelt
//! `destinaton` must not silently turn a reject rule into a catch-all).

use serde::Deserialize;
use toml::Spanned;

/// The `[policy]` table.
///
/// ```toml
/// [policy]
/// default = { action = "allow" }
///
/// [[policy.rule]]
/// name = "toll-fraud"
/// source_zone = "default"
/// destination = '[09]\d*(@.*)?'
/// action = "reject"
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// What happens when no rule matches; absent means allow (Expressway: "no policy ⇒ allow").
    pub default: Option<Spanned<ActionConfig>>,
    /// Path of a CPL script to use instead of rules (the two are exclusive).
    pub cpl: Option<Spanned<String>>,
    /// Run-time budget of CPL nodes visited per request (default 1000).
    pub cpl_node_budget: Option<Spanned<u32>>,
    /// The rule table, top-down, first match wins.
    #[serde(default)]
    pub rule: Vec<Spanned<RuleConfig>>,
}

/// One `[[policy.rule]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Unique name (audit trail, counters, `causeway locate`).
    pub name: Spanned<String>,
    /// Zone the request must come from; absent means any zone.
    pub source_zone: Option<Spanned<String>>,
    /// Which callers the rule applies to; absent means all.
    pub applies_to: Option<Spanned<AppliesToConfig>>,
    /// Regex over the caller's aliases (From, P-Asserted-Identity); absent means any caller.
    pub source: Option<Spanned<String>>,
    /// Regex over the alias being routed (required, as in Expressway).
    pub destination: Spanned<String>,
    /// `allow` or `reject`.
    pub action: Spanned<ActionKindConfig>,
    /// SIP status of a reject (400–699, default 403).
    pub status: Option<Spanned<u16>>,
    /// Reason phrase of a reject (default: the status's standard phrase).
    pub reason: Option<Spanned<String>>,
}

/// `default = { action = "reject", status = 403, reason = "Forbidden" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// `allow` or `reject`.
    pub action: Spanned<ActionKindConfig>,
    /// SIP status of a reject.
    pub status: Option<Spanned<u16>>,
    /// Reason phrase of a reject.
    pub reason: Option<Spanned<String>>,
}

/// `allow` / `reject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKindConfig {
    /// Let the request be routed.
    Allow,
    /// Answer with an error.
    Reject,
}

/// `unauthenticated` / `authenticated` / `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppliesToConfig {
    /// Only callers the zone did not authenticate.
    Unauthenticated,
    /// Only authenticated callers.
    Authenticated,
    /// Everyone.
    All,
}

/// A file holding only a `[policy]` section (the shipped examples, `causeway check` on a policy file).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// The `[policy]` table.
    #[serde(default)]
    pub policy: PolicyConfig,
}
