//! Structured logging: tracing-subscriber on stderr, text or JSON, filter from the environment or config.

use anyhow::Context as _;
use causeway_config::{LogFormat, LogSettings};
use tracing_subscriber::EnvFilter;

/// Environment variables that override `[log] level`, first found wins.
const ENV_FILTERS: [&str; 2] = ["CAUSEWAY_LOG", "RUST_LOG"];

/// Install the global subscriber.
pub(crate) fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let from_env = ENV_FILTERS.iter().find_map(|name| Some((*name, std::env::var(name).ok()?)));
    let filter = match from_env {
        Some((name, value)) => EnvFilter::builder().parse(&value).with_context(|| format!("{name}={value}"))?,
        None => EnvFilter::builder().parse(&settings.level).with_context(|| format!("[log] level {}", settings.level))?,
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match settings.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!("cannot install the log subscriber: {error}"))
}
