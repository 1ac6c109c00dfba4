//! `causeway cdr list|export`: read call detail records from the store, as a summary, JSON or
//! RFC 4180 CSV. Wiring only: the store, its paging and the formats are in causeway-store.

use std::io::BufWriter;
use std::process::ExitCode;

use anyhow::Context as _;
use causeway_store::export::{each_call, CsvWriter, JsonWriter, TextWriter};
use causeway_store::{DbUrl, ListFrom, Store, DEFAULT_URL};
use chrono::{DateTime, Utc};

/// `causeway cdr` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List calls oldest first: a line per call and per leg, or JSON with --json.
    List(ListArgs),
    /// Export calls as CSV (RFC 4180): one line per leg with its call's columns.
    Export(ExportArgs),
}

/// Which database and which calls.
#[derive(Debug, clap::Args)]
pub(crate) struct Selection {
    /// Database URL: sqlite:///path/to/file.db or postgres://user@host/db.
    #[arg(long, value_name = "URL", default_value = DEFAULT_URL)]
    db: String,
    /// Only calls that started at or after this time (RFC 3339, e.g. 2026-03-02T09:00:00Z).
    #[arg(long, value_name = "RFC3339")]
    since: Option<DateTime<Utc>>,
}

/// Arguments of `causeway cdr list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    selection: Selection,
    /// One JSON array of calls, each with its legs.
    #[arg(long)]
    json: bool,
}

/// Arguments of `causeway cdr export`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    selection: Selection,
    /// CSV, RFC 4180 (the only export format, named so that others can follow).
    #[arg(long)]
    csv: bool,
}

/// Runs one `cdr` subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")?;
    runtime.block_on(async {
        match command {
            Command::List(args) => list(&args).await,
            Command::Export(args) if args.csv => export(&args).await,
            Command::Export(_) => anyhow::bail!("cdr export: name the format: --csv"),
        }
    })
}

async fn open(selection: &Selection) -> anyhow::Result<(Store, ListFrom)> {
    let url: DbUrl = selection.db.parse()?;
    let store = Store::open_existing(&url).await.with_context(|| format!("opening {url}"))?;
    Ok((store, selection.since.map_or(ListFrom::Beginning, ListFrom::Since)))
}

async fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let (store, from) = open(&args.selection).await?;
    let out = BufWriter::new(std::io::stdout());
    if args.json {
        let mut json = JsonWriter::new(out)?;
        each_call(&store, from, |call| json.write(call)).await?;
        json.finish()?;
    } else {
        let mut text = TextWriter::new(out);
        let count = each_call(&store, from, |call| text.write(call)).await?;
        text.finish()?;
        eprintln!("{count} calls");
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let (store, from) = open(&args.selection).await?;
    let mut csv = CsvWriter::new(BufWriter::new(std::io::stdout()))?;
    each_call(&store, from, |call| csv.write(call)).await?;
    csv.finish()?;
    Ok(ExitCode::SUCCESS)
}
