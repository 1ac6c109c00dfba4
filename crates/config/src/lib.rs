//! causeway-config turns a TOML configuration file into validated, typed settings. It reads the file in
//! two steps (STYLE.md §6 rule 8): serde deserializes it into raw shapes that reject unknown keys and keep
//! the span of every value, then validation applies defaults, checks ranges and cross-field rules
//! (duplicate listeners, TLS files that must exist and hold PEM items, next hops that must be IP literals)
//! and produces a [`Config`]. Every problem is reported as `file:line:col: reason`, all of them at once.
//!
//! It never opens sockets, starts tasks or builds engine objects: `causeway-node` turns a [`Config`] into
//! transport and proxy configurations. The only I/O here is reading the config file and the TLS files it
//! names, so that `causeway check` catches a missing certificate before start-up.
//!
//! Main types: [`Config`] (with [`Config::load`], [`Config::parse`], [`Config::builtin`]), [`LoadError`] and
//! [`ConfigError`] (one located problem), [`RouteTable`] (the static routing table of issue 2, which
//! `causeway-node` hands to the proxy's `StaticRoutes`).

mod error;
mod next_hop;
mod raw;
mod settings;
mod validate;

use std::path::Path;

pub use error::{ConfigError, LoadError, NextHopProblem, Reason};
pub use settings::{
    AdminSettings, CallControl, CallPolicy, ClientCert, Config, DnsSettings, Limits, Listener, ListenerTls, LogFormat, LogSettings, MeetingsLink,
    MutualTls, NextHop, NodeSettings, Outbound, RegistrarSettings, Route, RouteMatch, RouteTable, Routing, SecuritySettings, Timers,
    Transport,
};

/// The example configuration shipped as `examples/causeway.toml`, used by `causeway serve` without `-c`:
/// UDP and TCP on 127.0.0.1:5060, every request routed to a UAS on 127.0.0.1:5080.
pub const BUILTIN_EXAMPLE: &str = include_str!("../../../examples/causeway.toml");

/// The file name errors in [`BUILTIN_EXAMPLE`] would carry.
pub const BUILTIN_NAME: &str = "<built-in example>";

// === impl Config ===

impl Config {
    /// Read and validate the file at `path`. Relative TLS paths in it are resolved against its directory.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let file = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|source| LoadError::Read { file: file.clone(), source })?;
        let base_dir = path.parent().unwrap_or_else(|| Path::new(""));
        Self::parse(&source, &file, base_dir)
    }

    /// Validate `source`; errors name `file`, and relative TLS paths are resolved against `base_dir`.
    pub fn parse(source: &str, file: &str, base_dir: &Path) -> Result<Self, LoadError> {
        let raw: raw::RawConfig = toml::from_str(source).map_err(|error| {
            let span = error.span().unwrap_or(0..0);
            // toml's messages may span lines ("invalid table header\nexpected `.`, `]]`"); one error, one line.
            let message = error.message().trim_end().lines().collect::<Vec<_>>().join("; ");
            let reason = Reason::Toml { message };
            LoadError::Invalid(vec![ConfigError::at(file, source, span, reason)])
        })?;
        validate::Validator::new(file, source, base_dir).run(raw).map_err(LoadError::Invalid)
    }

    /// The built-in example ([`BUILTIN_EXAMPLE`]).
    pub fn builtin() -> Result<Self, LoadError> {
        Self::parse(BUILTIN_EXAMPLE, BUILTIN_NAME, Path::new(""))
    }
}
