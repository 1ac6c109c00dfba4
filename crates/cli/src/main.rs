//! `causeway`: the command-line entry point. It parses arguments and hands each subcommand to its module;
//! it holds no SIP or routing logic of its own (STYLE.md §7: wiring only).
//!
//! To add a subcommand group, write a module with an `Args` (or a `Command` subcommand enum) and a
//! `run(..) -> anyhow::Result<ExitCode>`, then register it with one variant below and one match arm.

mod bookings;
mod cdr;
mod check;
mod locate;
mod logging;
mod meetings;
mod rooms;
mod serve;
mod sip;
mod status;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  causeway serve                       run the built-in example: UDP+TCP on 127.0.0.1:5060,
                                       every call routed to 127.0.0.1:5080
  sipp -sn uas -p 5080 -i 127.0.0.1    (in another terminal) a callee for the example
  sipp -sn uac -s 1000 -m 1 -i 127.0.0.1 127.0.0.1:5060
                                       one call through causeway
  causeway serve -c /etc/causeway/causeway.toml
  causeway check -c causeway.toml      validate a config without starting; errors as file:line:col
  causeway sip check msg1.sip msg2.sip check SIP messages; --json for machine-readable output
  causeway locate -c edge.toml --from sip:alice@example.call.webex.com --to sip:bob@ent-pa.com \
      --tls-name callservice.webex.com --route '<sip:us-cm-pub.ent-pa.com;lr>'
                                       dry-run one request: zone, transforms, search rules, next hops

Environment:
  CAUSEWAY_LOG, RUST_LOG               log filter overriding [log] level (e.g. debug,causeway_io=trace)";

/// Causeway: a SIP collaboration edge.
#[derive(Debug, Parser)]
#[command(name = "causeway", version, about = "Causeway: a self-hosted SIP collaboration edge", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the node (the built-in example when no config is given).
    Serve(serve::Args),
    /// Validate a config file without starting anything.
    Check(check::Args),
    /// Dry-run one request through the config's zones, transforms and search rules (what live traffic runs).
    Locate(locate::Args),
    /// SIP message tools.
    #[command(subcommand)]
    Sip(sip::Command),
    /// Meetings: join resolver, room calendars (CalDAV), bookings.
    #[command(subcommand)]
    Meetings(meetings::Command),
    /// Room devices over xAPI: display policy, bookings push, device simulator.
    #[command(subcommand)]
    Rooms(rooms::Command),
    /// Call detail records: list them, export them as CSV.
    #[command(subcommand)]
    Cdr(cdr::Command),
    /// A running node's zones, peers with their keepalive state, and counters (its admin endpoint).
    Status(status::Args),
}

/// A node allocates and frees short-lived message buffers of every size; under load glibc's
/// malloc spent ~22 % of call control's CPU (consolidating its fast bins at each allocation over
/// 1 KiB, perf in BENCHMARKS.md). mimalloc's per-thread free lists do not; transparent huge pages
/// stay off so an idle node's RSS stays small.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Locate(args) => locate::run(&args),
        Command::Sip(command) => sip::run(command),
        Command::Meetings(command) => meetings::run(command),
        Command::Rooms(command) => rooms::run(command),
        Command::Cdr(command) => cdr::run(command),
        Command::Status(args) => status::run(&args),
    };
    outcome.unwrap_or_else(|error| {
        eprintln!("causeway: {error:#}");
        ExitCode::from(2)
    })
}
