//! `causeway meetings …`: the join resolver on one invite, one poll of the room calendars, and the meetings
//! service (CalDAV polling + admin API). Wiring only: the logic is in causeway-meetings.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use causeway_meetings::booking::BookingStore;
use causeway_meetings::ical::parse::Limits;
use causeway_meetings::resolve::{resolve_ics, ResolverConfig};
use causeway_meetings::service::config::MeetingsConfig;
use causeway_meetings::service::poller::Poller;
use chrono::{DateTime, Utc};

/// `causeway meetings` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Print every join candidate of an invite and the best one, as JSON.
    Resolve(ResolveArgs),
    /// Poll every room calendar once (answer invites, build bookings) and print the bookings as JSON.
    Poll(ServiceArgs),
    /// Poll the room calendars every `poll_interval_secs` and serve bookings on the admin API.
    Serve(ServiceArgs),
}

/// Arguments of `causeway meetings resolve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ResolveArgs {
    /// An iCalendar file (`.ics`), or `-` for standard input.
    #[arg(value_name = "FILE.ics|-")]
    file: String,
    /// A meetings config whose `[meetings.resolver]` section sets priorities and providers.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The time "now" for the next-occurrence field (RFC 3339); default: the system clock.
    #[arg(long, value_name = "RFC3339")]
    now: Option<DateTime<Utc>>,
}

/// Arguments of `causeway meetings poll|serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServiceArgs {
    /// Meetings config file (a TOML file with a `[meetings]` section).
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
}

/// Runs one `meetings` subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Resolve(args) => resolve(&args),
        Command::Poll(args) => runtime()?.block_on(poll(&args.config)),
        Command::Serve(args) => runtime()?.block_on(serve(&args.config)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

fn resolve(args: &ResolveArgs) -> anyhow::Result<ExitCode> {
    let resolver = match &args.config {
        Some(path) => MeetingsConfig::load(path)?.resolver,
        None => ResolverConfig::default(),
    };
    let limits = Limits::default();
    let mut input = Vec::new();
    let cap = u64::try_from(limits.max_bytes).unwrap_or(u64::MAX).saturating_add(1);
    if args.file == "-" {
        std::io::stdin().take(cap).read_to_end(&mut input).context("reading standard input")?;
    } else {
        let file = std::fs::File::open(&args.file).with_context(|| format!("opening {}", args.file))?;
        file.take(cap).read_to_end(&mut input).with_context(|| format!("reading {}", args.file))?;
    }
    let report = resolve_ics(&input, &resolver, limits, args.now.unwrap_or_else(Utc::now)).with_context(|| args.file.clone())?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    let unusable = report.events.is_empty() && !report.errors.is_empty();
    Ok(if unusable { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn poller(path: &Path) -> anyhow::Result<Poller> {
    let config = MeetingsConfig::load(path)?;
    Poller::new(config, BookingStore::new()).context("building the CalDAV client")
}

async fn poll(path: &Path) -> anyhow::Result<ExitCode> {
    crate::logging::init(&causeway_config::LogSettings::default())?;
    let poller = poller(path)?;
    let outcomes = poller.poll_all(Utc::now()).await;
    let failed = outcomes.iter().filter(|o| o.is_err()).count();
    for error in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        eprintln!("causeway: {error}");
    }
    let rooms: Vec<_> = poller.store().rooms().iter().filter_map(|r| poller.store().room(r)).collect();
    println!("{}", serde_json::to_string_pretty(&rooms)?);
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn serve(path: &Path) -> anyhow::Result<ExitCode> {
    crate::logging::init(&causeway_config::LogSettings::default())?;
    let config = MeetingsConfig::load(path)?;
    let listen = config.listen;
    let poller = Poller::new(config, BookingStore::new()).context("building the CalDAV client")?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding the admin API on {listen}"))?;
    tracing::info!(%listen, "meetings admin API listening");
    let api = tokio::spawn(causeway_meetings::service::api::serve(listener, poller.store().clone(), shutdown_signal()));
    poller.run(shutdown_signal()).await;
    api.await.context("admin API task")?.context("admin API")?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
