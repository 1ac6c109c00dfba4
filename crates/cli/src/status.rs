//! `causeway status [--admin URL | -c FILE] [--json]`: asks a running node's admin endpoint for its zones,
//! peers with their keepalive state, and counters, and prints them (issue 3 item 9).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use causeway_config::Config;

/// Where `causeway status` looks without `--admin` or `-c`.
const DEFAULT_ADMIN: &str = "http://127.0.0.1:8180";

/// Arguments of `causeway status`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Base URL of the node's admin endpoint (`[admin] listen`).
    #[arg(long, value_name = "URL", conflicts_with = "config")]
    admin: Option<String>,
    /// Take the endpoint from this config file's `[admin] listen`.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print the JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// Prints the report and exits 0; an unreachable node is an error (exit 2).
pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let base = match (&args.admin, &args.config) {
        (Some(url), _) => url.clone(),
        (None, Some(path)) => {
            let config = Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
            let admin = config.admin.with_context(|| format!("{} has no [admin] section", path.display()))?;
            format!("http://{}", admin.listen)
        }
        (None, None) => DEFAULT_ADMIN.to_owned(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("tokio runtime")?;
    let report = runtime.block_on(causeway_admin::fetch(&base))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}
