//! `causeway check -c FILE`: load and validate a config without binding a socket (linkerd's contract:
//! report the invalid configuration and exit non-zero).

use std::path::PathBuf;
use std::process::ExitCode;

use causeway_config::Config;

/// Arguments of `causeway check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Config file to validate.
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
}

/// Print `FILE: ok` and exit 0, or every error as `file:line:col: reason` on stderr and exit 1.
pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    match Config::load(&args.config) {
        Ok(_) => {
            println!("{}: ok", args.config.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("{error}");
            Ok(ExitCode::FAILURE)
        }
    }
}
