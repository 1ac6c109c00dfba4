//! Running SIPp as a UAC or UAS and reading its verdict: the exit code (0 only when every call succeeded)
//! and the cumulative counters of its `-trace_stat` CSV.

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use super::{port_taken_on, scenario, wait_until, ChildGuard};

/// Transport as SIPp spells it (TLS goes through [`super::tunnel`]: Debian's SIPp has no OpenSSL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SippTransport {
    /// `-t u1`: one UDP socket for all calls.
    Udp,
    /// `-t t1`: one TCP connection for all calls.
    Tcp,
}

impl SippTransport {
    fn args(self) -> [&'static str; 2] {
        match self {
            Self::Udp => ["-t", "u1"],
            Self::Tcp => ["-t", "t1"],
        }
    }

    fn is_stream(self) -> bool {
        self == Self::Tcp
    }
}

/// A SIPp instance: its own working directory (SIPp writes traces into it), scenario and counters file.
pub(crate) struct Sipp {
    /// `uac`, `uas`: names the working dir and log.
    name: String,
    dir: PathBuf,
    args: Vec<OsString>,
    ip: Ipv4Addr,
    port: u16,
    stream: bool,
}

impl Sipp {
    /// An instance of `scenario_file` (from tests/interop/scenarios) bound to 127.0.0.1:`port`, handling
    /// `calls` calls then exiting, with every run bounded by `limit`.
    pub(crate) fn new(name: &str, parent: &Path, scenario_file: &str, transport: SippTransport, port: u16, calls: u32, limit: Duration) -> Self {
        let dir = parent.join(name);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        let mut args: Vec<OsString> = vec![
            "-sf".into(),
            scenario(scenario_file).into(),
            "-i".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string().into(),
            "-m".into(),
            calls.to_string().into(),
            "-nostdin".into(),
            "-timeout".into(),
            format!("{}s", limit.as_secs()).into(),
            "-timeout_error".into(),
            // A lost message fails its call after 10 s instead of waiting for Timer B.
            "-recv_timeout".into(),
            "10000".into(),
            "-trace_stat".into(),
            "-stf".into(),
            "stats.csv".into(),
            "-fd".into(),
            "1".into(),
            "-trace_err".into(),
            "-trace_msg".into(),
            "-message_file".into(),
            "messages.log".into(),
            "-error_file".into(),
            "errors.log".into(),
        ];
        args.extend(transport.args().map(OsString::from));
        Self { name: name.to_owned(), dir, args, ip: Ipv4Addr::LOCALHOST, port, stream: transport.is_stream() }
    }

    /// Bind to `ip` (another loopback address, so a node can tell peers apart by source address) instead of
    /// 127.0.0.1.
    pub(crate) fn on(mut self, ip: Ipv4Addr) -> Self {
        if let Some(value) = self.args.iter().position(|a| a == "-i").and_then(|i| self.args.get_mut(i + 1)) {
            *value = ip.to_string().into();
        }
        self.ip = ip;
        self
    }

    /// Add raw SIPp arguments.
    pub(crate) fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Start as a server and wait until its port is bound.
    pub(crate) fn spawn_uas(self) -> RunningSipp {
        let process = ChildGuard::spawn(&self.name, "sipp", &self.args, &self.dir);
        let mut running = RunningSipp { process, dir: self.dir };
        let (ip, port, stream) = (self.ip, self.port, self.stream);
        let bound = wait_until(Duration::from_secs(10), || running.process.try_status().is_some() || port_taken_on(ip, port, stream));
        if let Some(status) = running.process.try_status() {
            panic!("sipp {} exited at start-up with {status}\n{}", self.name, running.report());
        }
        assert!(bound, "sipp {} did not bind port {port} within 10 s\n{}", self.name, running.report());
        running
    }

    /// Run as a client against `remote` and wait at most `limit` for it to finish.
    pub(crate) fn run_uac(mut self, remote: std::net::SocketAddr, limit: Duration) -> Outcome {
        self.args.push(remote.to_string().into());
        let process = ChildGuard::spawn(&self.name, "sipp", &self.args, &self.dir);
        let mut running = RunningSipp { process, dir: self.dir };
        running.finish(limit)
    }
}

/// A SIPp process that is running.
pub(crate) struct RunningSipp {
    process: ChildGuard,
    dir: PathBuf,
}

impl RunningSipp {
    /// Wait at most `limit` for it to exit (killing it after that) and read its counters.
    pub(crate) fn finish(&mut self, limit: Duration) -> Outcome {
        let status = self.process.wait_for(limit);
        let stats = read_stats(&self.dir.join("stats.csv"));
        Outcome { name: self.process.name().to_owned(), status, stats, report: self.report() }
    }

    /// Its screen output, errors and message trace (tails), for failure messages.
    pub(crate) fn report(&self) -> String {
        let mut text = self.process.log_tail();
        for file in ["errors.log", "messages.log"] {
            let path = self.dir.join(file);
            if path.exists() {
                text.push('\n');
                text.push_str(&super::tail(&path, 6 * 1024));
            }
        }
        text
    }
}

/// How a SIPp run ended.
pub(crate) struct Outcome {
    name: String,
    /// Exit status, `None` if it had to be killed at the time limit.
    pub(crate) status: Option<ExitStatus>,
    /// Last line of the `-trace_stat` CSV, by column name.
    pub(crate) stats: HashMap<String, String>,
    /// Logs for failure messages.
    pub(crate) report: String,
}

impl Outcome {
    /// A cumulative counter such as `SuccessfulCall(C)`.
    pub(crate) fn counter(&self, column: &str) -> u64 {
        self.stats
            .get(column)
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("sipp {}: no counter {column} in its stats\n{}", self.name, self.report))
    }

    /// Assert exit code 0 (SIPp's "all calls succeeded") and, from the CSV, `calls` successful calls and no
    /// failed one: both must agree.
    pub(crate) fn assert_all_succeeded(&self, calls: u64) {
        let code = self.status.and_then(|s| s.code());
        assert_eq!(code, Some(0), "sipp {} exit status {:?} (0 = all calls succeeded)\n{}", self.name, self.status, self.report);
        assert_eq!(self.counter("FailedCall(C)"), 0, "sipp {}: failed calls\n{}", self.name, self.report);
        assert_eq!(self.counter("SuccessfulCall(C)"), calls, "sipp {}: successful calls\n{}", self.name, self.report);
    }
}

/// Parse SIPp's `;`-separated statistics file: a header line, then one line per period; the last line holds
/// the final cumulative counters.
fn read_stats(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let Some(header) = lines.next() else { return HashMap::new() };
    let Some(last) = lines.next_back() else { return HashMap::new() };
    header.split(';').map(str::to_owned).zip(last.split(';').map(str::to_owned)).collect()
}
