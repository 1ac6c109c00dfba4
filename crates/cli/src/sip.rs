//! `causeway sip …`: tools on SIP messages. `sip check FILE...` runs causeway-sip's strict checker on each
//! file and prints one verdict per file (text or JSON); exit 0 only when every file is valid.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

/// `causeway sip` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Check SIP messages (one message per file, raw bytes): prints `FILE: valid` (with what a proxy would do
    /// about a well-formed but semantically wrong message, e.g. `FILE: valid; proxy: 420 Bad Extension ...`)
    /// or `FILE: invalid: <reason>`.
    Check(CheckArgs),
}

/// Arguments of `causeway sip check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Files holding one SIP message each, exactly as sent on the wire.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print a JSON array of `{"file", "valid", "reason", "notes"}` objects instead of lines.
    #[arg(long)]
    json: bool,
}

/// One file's verdict, as printed.
#[derive(Debug, Serialize)]
struct Verdict {
    file: String,
    valid: bool,
    /// Why the message is invalid; absent when valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// For a valid message, what a proxy or registrar would answer instead of forwarding it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    /// The text line.
    #[serde(skip)]
    line: String,
}

pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check(args) => check(&args),
    }
}

fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let verdicts: Vec<Verdict> = args.files.iter().map(|path| verdict(path)).collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &verdicts)?;
        writeln!(out)?;
    } else {
        for verdict in &verdicts {
            writeln!(out, "{}", verdict.line)?;
        }
    }
    let all_valid = verdicts.iter().all(|verdict| verdict.valid);
    Ok(if all_valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn verdict(path: &std::path::Path) -> Verdict {
    let file = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => {
            let report = causeway_sip::check::check(&bytes);
            let line = report.line(&file);
            Verdict { file, valid: report.valid, reason: report.reason, notes: report.notes, line }
        }
        Err(error) => {
            let reason = format!("cannot read the file: {error}");
            let line = format!("{file}: invalid: {reason}");
            Verdict { file, valid: false, reason: Some(reason), notes: Vec::new(), line }
        }
    }
}
