//! Raw `[callctl]` → [`Cluster`]: every reference resolved, every pattern compiled, every
//! refusal located at `file:line:col`.

mod directory;
mod plan;

use std::collections::HashMap;

use causeway_policy::{Location, SourceText};
use toml::Spanned;

use crate::cluster::Cluster;
use crate::config::{CallCtlConfig, CallCtlFile};
use crate::dialplan::DialPlan;
use crate::directory::{CssId, Directory};
use crate::error::LoadError;
use crate::origin::{LoopAvoidance, TrustedIdentity, Trunk};
use crate::pattern::DialString;

impl Cluster {
    /// Validates a `[callctl]` section taken from the TOML document `src` (spans index into
    /// it). `zones` are the configured zone names that route patterns, trunks and loop
    /// avoidance may name.
    pub fn from_config(raw: &CallCtlConfig, src: SourceText<'_>, zones: &[&str]) -> Result<Self, LoadError> {
        let cx = Cx { src, zones };
        let cfqdns = raw.cluster_fqdns.iter().map(|h| cx.host(h, "cluster_fqdns")).collect::<Result<Vec<_>, _>>()?;
        let mut plan = DialPlan::default();
        plan::partitions_and_css(&cx, raw, &mut plan)?;
        let mut patterns = plan::PatternIndex::default();
        plan::routes(&cx, raw, &mut plan, &mut patterns)?;
        plan::translations(&cx, raw, &mut plan, &mut patterns)?;
        let mut directory = Directory { realm: raw.realm.as_ref().map(|r| r.get_ref().clone()), ..Directory::default() };
        directory::users(&cx, raw, &plan, &mut directory)?;
        directory::lines(&cx, raw, &mut plan, &mut directory, &mut patterns)?;
        directory::devices(&cx, raw, &plan, &mut directory)?;
        directory::directory_uris(&cx, raw, &mut plan, &directory)?;
        let trunks = trunks(&cx, raw, &plan)?;
        let loop_avoidance = loop_avoidance(&cx, raw)?;
        let dual_ring_toggle = raw.dual_ring_toggle.as_ref().map(|c| cx.number(c, "dual_ring_toggle")).transpose()?;
        Ok(Self { cfqdns, directory, plan, trunks, loop_avoidance, dual_ring_toggle })
    }

    /// Parses a TOML file that holds only a `[callctl]` section (the shipped example).
    pub fn from_toml_str(src: SourceText<'_>, zones: &[&str]) -> Result<Self, LoadError> {
        let file: CallCtlFile = toml::from_str(src.text).map_err(|e| LoadError::Toml {
            at: src.locate(&e.span().unwrap_or_default()),
            message: e.message().to_owned(),
        })?;
        Self::from_config(&file.callctl, src, zones)
    }
}

/// Shared validation helpers.
#[derive(Clone, Copy)]
pub(crate) struct Cx<'a> {
    pub(crate) src: SourceText<'a>,
    pub(crate) zones: &'a [&'a str],
}

impl Cx<'_> {
    pub(crate) fn at<T>(&self, v: &Spanned<T>) -> Location {
        self.src.locate(&v.span())
    }

    pub(crate) fn field(&self, v: &Spanned<String>, field: &'static str, why: &'static str) -> LoadError {
        LoadError::Field { at: self.at(v), field, value: v.get_ref().clone(), why }
    }

    pub(crate) fn name(&self, v: &Spanned<String>, field: &'static str) -> Result<String, LoadError> {
        let s = v.get_ref();
        if s.trim().is_empty() || s.chars().any(char::is_control) {
            return Err(self.field(v, field, "must be non-empty printable text"));
        }
        Ok(s.clone())
    }

    pub(crate) fn host(&self, v: &Spanned<String>, field: &'static str) -> Result<String, LoadError> {
        let h = v.get_ref().trim_end_matches('.');
        let ok = !h.is_empty()
            && h.split('.').all(|label| {
                !label.is_empty() && !label.starts_with('-') && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !ok {
            return Err(self.field(v, field, "is not a host name"));
        }
        Ok(h.to_ascii_lowercase())
    }

    pub(crate) fn number(&self, v: &Spanned<String>, field: &'static str) -> Result<DialString, LoadError> {
        DialString::parse(v.get_ref()).ok_or_else(|| LoadError::Number { at: self.at(v), field, value: v.get_ref().clone() })
    }

    pub(crate) fn zone(&self, v: &Spanned<String>) -> Result<String, LoadError> {
        if !self.zones.contains(&v.get_ref().as_str()) {
            return Err(LoadError::Unknown { at: self.at(v), what: "zone", name: v.get_ref().clone() });
        }
        Ok(v.get_ref().clone())
    }

    pub(crate) fn css(&self, plan: &DialPlan, v: Option<&Spanned<String>>) -> Result<Option<CssId>, LoadError> {
        v.map(|v| plan.css_by_name(v.get_ref()).ok_or_else(|| LoadError::Unknown { at: self.at(v), what: "css", name: v.get_ref().clone() }))
            .transpose()
    }
}

/// Records first definitions of unique names.
pub(crate) struct Unique {
    what: &'static str,
    seen: HashMap<String, Location>,
}

impl Unique {
    pub(crate) fn new(what: &'static str) -> Self {
        Self { what, seen: HashMap::new() }
    }

    pub(crate) fn insert(&mut self, name: &str, at: Location) -> Result<(), LoadError> {
        if let Some(first) = self.seen.get(name) {
            return Err(LoadError::Duplicate { at, what: self.what, name: name.to_owned(), first: first.clone() });
        }
        self.seen.insert(name.to_owned(), at);
        Ok(())
    }
}

fn trunks(cx: &Cx<'_>, raw: &CallCtlConfig, plan: &DialPlan) -> Result<Vec<Trunk>, LoadError> {
    let mut unique = Unique::new("trunk zone");
    let mut out = Vec::new();
    for t in &raw.trunk {
        let zone = cx.zone(&t.zone)?;
        unique.insert(&zone, cx.at(&t.zone))?;
        let trusted_identity = match t.trusted_identity.as_ref().map(|v| (v, v.get_ref().as_str())) {
            None | Some((_, "pai-only")) => TrustedIdentity::PaiOnly,
            Some((_, "from-or-pai")) => TrustedIdentity::FromOrPai,
            Some((v, _)) => return Err(cx.field(v, "trusted_identity", "must be \"pai-only\" or \"from-or-pai\"")),
        };
        out.push(Trunk { zone, css: cx.css(plan, t.css.as_ref())?, trusted_identity });
    }
    Ok(out)
}

fn loop_avoidance(cx: &Cx<'_>, raw: &CallCtlConfig) -> Result<LoopAvoidance, LoadError> {
    let mut out = LoopAvoidance::default();
    let Some(cfg) = &raw.loop_avoidance else { return Ok(out) };
    if let Some(marker) = &cfg.marker {
        let (name, value) = match marker.get_ref().split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (marker.get_ref().trim(), None),
        };
        let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._!%*+`'~".contains(&b));
        if !token(name) || value.is_some_and(|v| !token(v)) {
            return Err(cx.field(marker, "marker", "must be a Contact parameter, name or name=value"));
        }
        out.param = name.to_ascii_lowercase();
        out.value = value.map(str::to_owned);
    }
    out.zones = cfg.zones.iter().map(|z| cx.zone(z)).collect::<Result<_, _>>()?;
    Ok(out)
}
