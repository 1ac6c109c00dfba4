//! The routing sections of the configuration file — `[[zone]]`, `[[transform]]`,
//! `[[search_rule]]` — raw ([`raw`]), then compiled into a [`RoutingTable`].
//!
//! [`RoutingConfig`] deserializes from the same TOML file as the rest of the configuration: it
//! reads the three top-level arrays and ignores every other section, so the configuration loader
//! can either parse the file a second time with [`RoutingConfig::parse`] or embed the three
//! public fields in its own raw struct. [`RoutingConfig::compile`] applies defaults and refuses,
//! all at once and each with its span: invalid regexes, rules targeting unknown zones,
//! duplicate names, duplicate transform priorities, rules an earlier catch-all Stop rule makes
//! unreachable, wildcard misuse in `tls_verify_subject`, and the rest of [`ConfigReason`].

mod error;
pub mod raw;
mod rules;
mod zones;

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

pub use error::{ConfigReason, DisplayErrors, RoutingConfigError};
pub use raw::{SearchRuleConfig, TransformConfig, ZoneConfig};

use crate::table::RoutingTable;

/// The routing sections of a configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoutingConfig {
    /// `[[zone]]`.
    #[serde(default, rename = "zone")]
    pub zones: Vec<Spanned<ZoneConfig>>,
    /// `[[transform]]`.
    #[serde(default, rename = "transform")]
    pub transforms: Vec<Spanned<TransformConfig>>,
    /// `[[search_rule]]`.
    #[serde(default, rename = "search_rule")]
    pub search_rules: Vec<Spanned<SearchRuleConfig>>,
}

impl RoutingConfig {
    /// Reads the routing sections of a whole configuration file; other sections are ignored.
    pub fn parse(source: &str) -> Result<Self, RoutingConfigError> {
        toml::from_str(source).map_err(|e| {
            let message = e.message().trim_end().lines().collect::<Vec<_>>().join("; ");
            RoutingConfigError::new(e.span().unwrap_or(0..0), ConfigReason::Toml(message))
        })
    }

    /// Validates and compiles; every problem found is returned.
    pub fn compile(&self) -> Result<RoutingTable, Vec<RoutingConfigError>> {
        let mut c = Compiler::default();
        let (zones, default_zone) = zones::compile(&mut c, &self.zones);
        let transforms = rules::compile_transforms(&mut c, &self.transforms);
        let known: Vec<&crate::table::Zone> = zones.iter().chain(std::iter::once(&default_zone)).collect();
        let rules = rules::compile_search_rules(&mut c, &self.search_rules, &known);
        if c.errors.is_empty() {
            Ok(RoutingTable { zones, default_zone, transforms, rules })
        } else {
            c.errors.sort_by_key(|e| e.span.start);
            Err(c.errors)
        }
    }
}

/// [`RoutingConfig::parse`] then [`RoutingConfig::compile`].
pub fn load(source: &str) -> Result<RoutingTable, Vec<RoutingConfigError>> {
    RoutingConfig::parse(source).map_err(|e| vec![e])?.compile()
}

/// Collects errors while compiling.
#[derive(Default)]
pub(crate) struct Compiler {
    errors: Vec<RoutingConfigError>,
}

impl Compiler {
    pub(crate) fn error(&mut self, span: Range<usize>, reason: ConfigReason) {
        self.errors.push(RoutingConfigError::new(span, reason));
    }

    /// A number in `min..=max`, or `default` when absent; an error (and `None`) otherwise.
    pub(crate) fn ranged(
        &mut self,
        key: &'static str,
        value: Option<&Spanned<u64>>,
        (min, max): (u64, u64),
        default: u64,
    ) -> Option<u64> {
        match value {
            None => Some(default),
            Some(v) if (min..=max).contains(v.get_ref()) => Some(*v.get_ref()),
            Some(v) => {
                self.error(v.span(), ConfigReason::OutOfRange { key, min, max, value: *v.get_ref() });
                None
            }
        }
    }
}

/// A name may be used in trace lines and CLI arguments: non-empty, printable, no spaces.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| !c.is_whitespace() && !c.is_control())
}
