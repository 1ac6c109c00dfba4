//! `causeway-store-load DB-URL [--calls N] [--seconds S] [--concurrency C]`: writes synthetic call
//! records to a store as fast as they are acknowledged, from C concurrent writers, until N calls
//! or S seconds. Each acknowledged call is printed on stdout as one line of JSON (the
//! `StoredCall`: row id and record), written only after `record_call` has returned, i.e. after
//! the record is durable. The kill -9 test SIGKILLs this process mid-run and checks that every
//! printed call is in the database; run by hand it measures the store (calls/s on stderr).

mod records;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use causeway_store::{CdrStore, DbUrl, Store, StoredCall, StoreError};
use chrono::{DateTime, Utc};

struct Args {
    url: DbUrl,
    calls: u64,
    seconds: u64,
    concurrency: u64,
}

const USAGE: &str = "usage: causeway-store-load DB-URL [--calls N] [--seconds S] [--concurrency C]";

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let url = args.next().ok_or(USAGE)?;
    let url = url.parse().map_err(|e: StoreError| e.to_string())?;
    let mut parsed = Args { url, calls: 10_000, seconds: 60, concurrency: 16 };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number: u64 = value.parse().map_err(|_| format!("{flag} {value}: not a number"))?;
        match flag.as_str() {
            "--calls" => parsed.calls = number,
            "--seconds" => parsed.seconds = number,
            "--concurrency" => parsed.concurrency = number.clamp(1, 1024),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("causeway-store-load: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("causeway-store-load: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let store = Store::open(&args.url).await.with_context(|| format!("opening {}", args.url))?;
    let next = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let deadline = began + Duration::from_secs(args.seconds);
    // Whole milliseconds: every record's times stay at the store's microsecond precision.
    let base = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap_or_default();
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (store, next, acknowledged, calls) = (store.clone(), Arc::clone(&next), Arc::clone(&acknowledged), args.calls);
        writers.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= calls || Instant::now() >= deadline {
                    return anyhow::Ok(());
                }
                let start = base + chrono::Duration::milliseconds(i64::try_from(n)?);
                let record = records::call(n, start)?;
                let id = store.record_call(record.clone()).await?;
                let line = serde_json::to_string(&StoredCall { id, record })?;
                // Stdout's lock keeps the line whole; the pipe sees it only after the commit.
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}").and_then(|()| out.flush()).context("writing stdout")?;
                acknowledged.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while let Some(joined) = writers.join_next().await {
        joined.context("a writer task failed")??;
    }
    let written = acknowledged.load(Ordering::Relaxed);
    let secs = began.elapsed().as_secs_f64();
    eprintln!("causeway-store-load: {written} calls in {secs:.2} s ({:.0} calls/s) to {}", written as f64 / secs, args.url);
    Ok(())
}
