//! `causeway rooms …`: the room controller (display policy + bookings over xAPI) and the RoomOS-like device
//! simulator. Wiring only: the logic is in causeway-rooms (and causeway-meetings for calendars).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use causeway_meetings::booking::BookingStore;
use causeway_meetings::service::config::MeetingsConfig;
use causeway_meetings::service::poller::Poller;
use causeway_rooms::bookings::BookingSource;
use causeway_rooms::controller::{spawn_room, ControllerConfig};
use causeway_rooms::sim::wire::parse_displays;
use causeway_rooms::sim::{SimConfig, Simulator};

/// `causeway rooms` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Control room devices: presentation on the largest display, swap button, booking push.
    Run(RunArgs),
    /// Validate a rooms config without connecting to anything.
    Check(CheckArgs),
    /// Run a RoomOS-like xAPI device simulator (WebSocket JSON-RPC at /ws).
    Simulate(SimulateArgs),
}

/// Arguments of `causeway rooms run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Rooms config file (`[controller]` and `[[room]]` sections).
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
    /// Also poll the room calendars of this meetings config and push their bookings (room names must match).
    #[arg(long, value_name = "FILE")]
    meetings_config: Option<PathBuf>,
}

/// Arguments of `causeway rooms check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Rooms config file.
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
}

/// Arguments of `causeway rooms simulate`.
#[derive(Debug, clap::Args)]
pub(crate) struct SimulateArgs {
    /// Address to listen on (port 0: pick a free port and print it).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Native resolutions of output connectors 1, 2, … (WIDTHxHEIGHT, comma separated).
    #[arg(long, default_value = "3840x2160,1920x1080")]
    displays: String,
    /// Serve plain ws:// instead of wss:// with a self-signed certificate.
    #[arg(long)]
    plain: bool,
    /// Accepted user name.
    #[arg(long, default_value = "admin")]
    username: String,
    /// Accepted password.
    #[arg(long, default_value = "")]
    password: String,
    /// Write the self-signed certificate (PEM) here, for a controller's `ca_file`.
    #[arg(long, value_name = "FILE")]
    cert_out: Option<PathBuf>,
}

/// Runs one `rooms` subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check(args) => {
            let config = ControllerConfig::load(&args.config)?;
            println!("{}: ok, {} room(s)", args.config.display(), config.rooms.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => runtime()?.block_on(controller(args)),
        Command::Simulate(args) => runtime()?.block_on(simulate(args)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

async fn controller(args: RunArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(&causeway_config::LogSettings::default())?;
    let config = ControllerConfig::load(&args.config)?;
    let mut poller_task = None;
    let source: Option<Arc<dyn BookingSource>> = match &args.meetings_config {
        Some(path) => {
            let meetings = MeetingsConfig::load(path)?;
            let poller = Poller::new(meetings, BookingStore::new()).context("building the CalDAV client")?;
            let store = poller.store().clone();
            poller_task = Some(tokio::spawn(async move { poller.run(shutdown_signal()).await }));
            Some(Arc::new(store))
        }
        None => None,
    };
    let rooms: Vec<_> =
        config.rooms.into_iter().map(|room| spawn_room(room, config.settings.clone(), source.clone())).collect();
    tracing::info!(rooms = rooms.len(), "room controller running; Ctrl-C to stop");
    shutdown_signal().await;
    drop(rooms);
    if let Some(task) = poller_task {
        task.await.context("calendar poller task")?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(&causeway_config::LogSettings::default())?;
    let displays = parse_displays(&args.displays)?;
    let sim = Simulator::start(SimConfig {
        listen: args.listen,
        displays,
        tls: !args.plain,
        username: args.username,
        password: args.password,
    })
    .await?;
    if let (Some(path), Some(pem)) = (&args.cert_out, sim.cert_pem()) {
        std::fs::write(path, pem).with_context(|| format!("writing the certificate to {}", path.display()))?;
    }
    println!("{}", sim.url());
    shutdown_signal().await;
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
