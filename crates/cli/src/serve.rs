//! `causeway serve [-c FILE]`: load the config (the built-in example without `-c`), start logging, build the
//! node and run it until SIGINT or SIGTERM (linkerd's Config → build → run, STYLE.md §4).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use causeway_config::{Config, BUILTIN_NAME};
use causeway_node::{Node, NodeConfig};

use crate::logging;

/// Arguments of `causeway serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Config file; without it the built-in example runs (UDP+TCP on 127.0.0.1:5060, every request to
    /// 127.0.0.1:5080).
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let loaded = match &args.config {
        Some(path) => Config::load(path),
        None => Config::builtin(),
    };
    let config = match loaded {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    logging::init(&config.log)?;
    match &args.config {
        Some(path) => tracing::info!(config = %path.display(), node = %config.node.name, "starting"),
        None => tracing::info!(config = BUILTIN_NAME, "no -c FILE given: running the built-in example"),
    }
    // One thread: the node is one sans-IO core driven by one task that reads its UDP sockets itself (causeway-io),
    // so a second worker would only add wake-ups and cross-thread hand-offs per datagram.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("tokio runtime")?;
    runtime.block_on(serve(&config))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let mut node_config = NodeConfig::from_config(config);
    let meetings = match &config.meetings {
        Some(link) => Some(crate::bookings::InProcess::start(link).await.context("cannot start the meetings service")?),
        None => None,
    };
    node_config.zoom_repair = meetings.as_ref().map(|m| m.repair.clone());
    let zones = node_config.routing.clone();
    let mut node = Node::build(node_config).context("cannot start the node")?;
    for listener in node.listeners() {
        tracing::info!(transport = %listener.transport, address = %listener.local, "listening");
    }
    keep_state(config, &mut node).await?;
    let admin = match &config.admin {
        Some(settings) => {
            let source = causeway_admin::StatusSource::new(&config.node.name, zones, node.stats_handle());
            let server = causeway_admin::AdminServer::start(settings.listen, causeway_admin::router(source)).await?;
            tracing::info!(address = %server.local_addr(), "admin endpoint listening");
            Some(server)
        }
        None => None,
    };
    let stats = node.run(causeway_node::shutdown_signal()).await;
    if let Some(admin) = admin {
        admin.stop().await;
    }
    if let Some(meetings) = meetings {
        meetings.stop().await;
    }
    tracing::info!(counters = %summary(&stats.proxy), "stopped");
    Ok(())
}

/// `[store]`: the node keeps registrations, dual-ringing switches and CDRs there, and a restart finds the
/// registrations again.
async fn keep_state(config: &Config, node: &mut Node) -> anyhow::Result<()> {
    match &config.store {
        Some(url) => {
            let url: causeway_store::DbUrl = url.parse()?;
            let store = causeway_store::Store::open(&url).await.with_context(|| format!("opening the store {url}"))?;
            node.attach_store(store).await.with_context(|| format!("loading registrations from {url}"))?;
        }
        None if config.call_control.is_some() => {
            tracing::warn!("[callctl] without [store]: registrations and CDRs are not kept");
        }
        None => {}
    }
    Ok(())
}

/// The proxy counters on one line, zero entries left out:
/// `requests_received INVITE=50 ACK=50; responses_sent 100=50 200=50; malformed_dropped=0 …; security
/// flood_dropped=0 …; policy rule 1 "x": allowed=3 rejected=0 redirected=0`.
fn summary(counters: &causeway_proxy::Counters) -> String {
    let methods = |name: &str, counts: &causeway_proxy::MethodCounts| {
        let seen: Vec<String> = counts.iter().filter(|&(_, n)| n > 0).map(|(m, n)| format!("{m}={n}")).collect();
        format!("{name} {}", seen.join(" "))
    };
    let codes = |name: &str, counts: &causeway_proxy::CodeCounts| {
        let seen: Vec<String> = counts.iter().map(|(code, n)| format!("{code}={n}")).collect();
        format!("{name} {}", seen.join(" "))
    };
    format!(
        "{}; {}; {}; {}; malformed_dropped={} malformed_answered={} stateless_forwarded={} dropped={} \
         transport_errors={} transactions_alive={} contexts_alive={}; security {}",
        methods("requests_received", &counters.requests_received),
        methods("requests_sent", &counters.requests_sent),
        codes("responses_received", &counters.responses_received),
        codes("responses_sent", &counters.responses_sent),
        counters.malformed_dropped,
        counters.malformed_answered,
        counters.stateless_forwarded,
        counters.dropped,
        counters.transport_errors,
        counters.transactions_alive,
        counters.contexts_alive,
        counters.security,
    )
}
