//! The edge under attack (tests/security_*.rs): a `causeway serve` with its security sections, attackers on
//! their own loopback addresses (SIPVicious from PyPI, SIPp, raw UDP), and what the node says afterwards — its
//! final counters and audit lines, read from its log once it has stopped.

use std::ffi::OsStr;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use super::{causeway_bin, free_port, options_ping, wait_until, ChildGuard};

/// A running edge node: UDP on 127.0.0.1:`port`.
pub(crate) struct Edge {
    process: ChildGuard,
    /// The UDP listener's port.
    pub(crate) port: u16,
}

impl Edge {
    /// Writes `edge.toml` (a UDP listener, info logging, then `sections`) into `dir`, starts the node on it and
    /// waits until it answers OPTIONS.
    pub(crate) fn start(dir: &Path, sections: &str) -> Self {
        let port = free_port();
        let config = format!(
            "[node]\nname = \"edge\"\n\n[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n\n\
             [log]\nlevel = \"info\"\n\n{sections}"
        );
        let path = dir.join("edge.toml");
        std::fs::write(&path, config).unwrap_or_else(|e| panic!("write config: {e}"));
        let mut process = ChildGuard::spawn_with(
            "causeway",
            Command::new(causeway_bin()).args([OsStr::new("serve"), OsStr::new("-c"), path.as_os_str()]).env("NO_COLOR", "1"),
            dir,
        );
        let target = SocketAddr::from(([127, 0, 0, 1], port));
        let ready = wait_until(Duration::from_secs(15), || {
            process.try_status().is_some() || options_ping(target, Duration::from_millis(200)).is_some()
        });
        if let Some(status) = process.try_status() {
            panic!("causeway exited at start-up with {status}\n{}", process.log_tail());
        }
        assert!(ready, "causeway did not answer OPTIONS on {target} within 15 s\n{}", process.log_tail());
        Self { process, port }
    }

    /// `127.0.0.1:<port>`.
    pub(crate) fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The process id (for /proc/PID/status).
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Panic with the log if the node died.
    pub(crate) fn assert_alive(&mut self) {
        if let Some(status) = self.process.try_status() {
            panic!("causeway died with {status}\n{}", self.process.log_tail());
        }
    }

    /// Stops the node (SIGTERM: it logs its final counters) and returns its log.
    pub(crate) fn stop(self) -> NodeReport {
        let log = self.process.log.clone();
        drop(self.process);
        NodeReport { text: strip_ansi(&std::fs::read_to_string(&log).unwrap_or_default()) }
    }
}

/// Resident memory of a process in KiB (`VmRSS` in /proc/PID/status).
pub(crate) fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS for {pid}:\n{status}"))
}

/// What a stopped node logged.
pub(crate) struct NodeReport {
    /// The whole log.
    pub(crate) text: String,
}

impl NodeReport {
    /// A counter of the final `stopped counters=…` line: `count("requests_received", "REGISTER")`,
    /// `count("responses_sent", "403")`, `count("security", "flood_dropped")`. Absent means 0.
    pub(crate) fn count(&self, section: &str, key: &str) -> u64 {
        let line = self.text.lines().rev().find(|l| l.contains("stopped counters=")).unwrap_or_else(|| panic!("no final counters:\n{}", self.text));
        let counters = line.split_once("counters=").map_or("", |(_, c)| c);
        let part = counters.split("; ").find(|p| p.starts_with(&format!("{section} "))).unwrap_or_default();
        part.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map_or(0, |(_, v)| v.parse().unwrap_or_else(|e| panic!("{section} {key}={v}: {e}")))
    }

    /// The audit lines (target `causeway::audit`).
    pub(crate) fn audit(&self) -> Vec<&str> {
        self.text.lines().filter(|l| l.contains("causeway::audit")).collect()
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The MD5 HA1 of `user:realm:password`, as an administrator writes it into `[[credential]]`.
pub(crate) fn ha1_md5(user: &str, realm: &str, password: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", "import hashlib,sys; print(hashlib.md5(sys.argv[1].encode()).hexdigest())", &format!("{user}:{realm}:{password}")])
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs a SIPVicious tool with every socket it binds put on `source`: svcrack ignores `-b` and svwar sends
/// from 127.0.0.1 whatever it binds, and a test needs the attack to come from its own address.
const BIND_WRAPPER: &str = r#"
import os, runpy, socket, sys
source = os.environ["SIPVICIOUS_SOURCE"]
bind = socket.socket.bind
socket.socket.bind = lambda sock, address: bind(sock, (source, address[1]))
tool = sys.argv[1]
sys.argv = ["sipvicious_" + tool] + sys.argv[2:]
runpy.run_module("sipvicious." + tool, run_name="__main__")
"#;

/// How a SIPVicious run ended.
pub(crate) struct ToolRun {
    /// Exit status (`None`: killed at the time limit).
    pub(crate) status: Option<ExitStatus>,
    /// Everything it printed.
    pub(crate) output: String,
}

/// Runs `sipvicious_<tool> args` from `source`, in its own directory under `dir` (HOME too: the tools keep
/// sessions there), for at most `limit`.
pub(crate) fn sipvicious(dir: &Path, name: &str, tool: &str, source: Ipv4Addr, args: &[&str], limit: Duration) -> ToolRun {
    let home = dir.join(name);
    std::fs::create_dir_all(&home).unwrap_or_else(|e| panic!("mkdir {}: {e}", home.display()));
    let wrapper: PathBuf = home.join("sv_from.py");
    std::fs::write(&wrapper, BIND_WRAPPER).unwrap_or_else(|e| panic!("write wrapper: {e}"));
    let mut command = Command::new("python3");
    command.arg(&wrapper).arg(tool).args(args).env("HOME", &home).env("SIPVICIOUS_SOURCE", source.to_string());
    let mut process = ChildGuard::spawn_with(name, &mut command, &home);
    let status = process.wait_for(limit);
    let output = std::fs::read_to_string(&process.log).unwrap_or_default();
    ToolRun { status, output }
}
