//! Call control over real SIP on loopback: a node running the shipped ent-pa call-control example (with
//! short Single Number Reach timers) beside zones whose peers are SIPp instances, desk phones that register
//! with digest before they call or ring, and the CDRs read back with `causeway cdr list --json`.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::sipp::{Outcome, RunningSipp, Sipp, SippTransport};
use super::{causeway_bin, free_port, options_ping, wait_until, ChildGuard};

/// Bound on every SIPp run of these tests.
pub(crate) const LIMIT: Duration = Duration::from_secs(60);

/// The shipped example, with timers short enough for tests: Bob's cloud identity rings 1 s after his
/// desk and is cancelled 6 s after its INVITE (answer too soon stays 1.5 s); Bob's line forwards to
/// voicemail after 9 s without an answer.
pub(crate) fn callctl_section() -> String {
    let example = std::fs::read_to_string(super::repo_root().join("examples/callctl/ent-pa.toml"))
        .unwrap_or_else(|e| panic!("read the call-control example: {e}"));
    let short = example
        .replace("delay_before_ringing_ms = 4000", "delay_before_ringing_ms = 1000")
        .replace("answer_too_late_ms = 19000", "answer_too_late_ms = 6000")
        .replace("forward_no_answer = { destination = \"8000\", after_ms = 24000 }", "forward_no_answer = { destination = \"8000\", after_ms = 9000 }");
    assert_ne!(short, example, "the example's timers changed: update the test's replacements");
    short
}

/// The places of one test: the node and the peers of its zones, each on its own port of 127.0.0.1.
pub(crate) struct Topology {
    pub(crate) node: u16,
    /// Webex (Bob's and Alice's cloud app): a neighbour zone the edge trusts, first in the file so that a
    /// caller on 127.0.0.1 that is not a registered phone is classified into it (flow F2).
    pub(crate) cloud: u16,
    /// Unity voicemail (8000).
    pub(crate) unity: u16,
    pub(crate) pstn: u16,
    pub(crate) teams: u16,
}

impl Topology {
    pub(crate) fn new() -> Self {
        Self { node: free_port(), cloud: free_port(), unity: free_port(), pstn: free_port(), teams: free_port() }
    }

    pub(crate) fn node_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.node))
    }

    /// The node's config: UDP and TCP listeners, zones, the webex search rule, MD5 challenges (SIPp answers only the
    /// first challenge and knows only MD5), the store in `dir`, and `callctl` (a `[callctl]` section).
    pub(crate) fn config(&self, dir: &Path, callctl: &str) -> String {
        let mut c = format!(
            "[node]\nname = \"callctl\"\n\n[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{0}\"\n\n\
             [[listener]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:{0}\"\n\n\
             [log]\nlevel = \"info\"\n\n[security.flood]\ntrusted_cidrs = [\"127.0.0.1/32\"]\n\n",
            self.node
        );
        // Flow F2: the cloud names the user's home cluster in a Route, so its zone honours Route headers.
        for (name, port, auth, honor_route) in [
            ("webex", self.cloud, "treat-as-authenticated", true),
            ("unity", self.unity, "do-not-check", false),
            ("pstn-gw", self.pstn, "do-not-check", false),
            ("teams", self.teams, "do-not-check", false),
        ] {
            let _ = write!(
                c,
                "[[zone]]\nname = \"{name}\"\nkind = \"neighbor\"\npeer = [{{ address = \"127.0.0.1:{port}\", transport = \"udp\" }}]\n\
                 keepalive = {{ enabled = false }}\nauthentication = \"{auth}\"\nhonor_route_header = {honor_route}\n\n"
            );
        }
        let _ = write!(
            c,
            "[[search_rule]]\nname = \"to-webex\"\npriority = 50\nsource = \"any-authenticated\"\npattern_type = \"regex\"\n\
             pattern = '.*@ent-pa\\.call\\.webex\\.com'\ntarget = \"webex\"\n\n\
             [registrar]\ndigest_algorithms = [\"MD5\"]\n\n[store]\nurl = \"sqlite://{}\"\n\n{callctl}",
            db_path(dir).display()
        );
        c
    }
}

/// The node's SQLite file in `dir`.
pub(crate) fn db_path(dir: &Path) -> PathBuf {
    dir.join("causeway.db")
}

/// A running node.
pub(crate) struct Node {
    pub(crate) process: ChildGuard,
    pub(crate) port: u16,
}

impl Node {
    /// Writes `config` and starts `causeway serve` on it; waits until it answers OPTIONS on `port`.
    pub(crate) fn start(dir: &Path, name: &str, port: u16, config: &str) -> Self {
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, config).unwrap_or_else(|e| panic!("write config: {e}"));
        let mut process = ChildGuard::spawn(name, causeway_bin(), [OsStr::new("serve"), OsStr::new("-c"), path.as_os_str()], dir);
        let target = SocketAddr::from(([127, 0, 0, 1], port));
        let ready = wait_until(Duration::from_secs(15), || {
            process.try_status().is_some() || options_ping(target, Duration::from_millis(200)).is_some()
        });
        if let Some(status) = process.try_status() {
            panic!("causeway exited at start-up with {status}\n{}", process.log_tail());
        }
        assert!(ready, "causeway did not answer OPTIONS on {target}\n{}", process.log_tail());
        Self { process, port }
    }

    /// Its log, for failure messages.
    pub(crate) fn log(&self) -> String {
        self.process.log_tail()
    }
}

/// A scenario of tests/interop/scenarios/callctl with `@KEY@` placeholders filled in, written to `dir`.
pub(crate) fn scenario(dir: &Path, name: &str, values: &[(&str, &str)]) -> PathBuf {
    let template = super::scenario(&format!("callctl/{name}.xml"));
    let mut text = std::fs::read_to_string(&template).unwrap_or_else(|e| panic!("read {}: {e}", template.display()));
    for (key, value) in values {
        text = text.replace(&format!("@{key}@"), value);
    }
    let path = dir.join(format!("{name}-{}.xml", values.iter().map(|(_, v)| *v).collect::<Vec<_>>().join("-")));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// A desk phone registers `aor` from 127.0.0.1:`port` with its digest credentials; panics unless it gets 200.
pub(crate) fn register(dir: &Path, node: &Node, port: u16, aor: &str, user: &str, password: &str) {
    let name = format!("register-{user}-{port}");
    let outcome = Sipp::new(&name, dir, "callctl/register.xml", SippTransport::Udp, port, 1, LIMIT)
        .arg("-key")
        .arg("aor")
        .arg(aor)
        .arg("-au")
        .arg(user)
        .arg("-ap")
        .arg(password)
        .run_uac(SocketAddr::from(([127, 0, 0, 1], node.port)), LIMIT);
    if outcome.status.and_then(|s| s.code()) != Some(0) {
        panic!("{user} did not register\n{}\n{}", outcome.report, node.log());
    }
}

/// A phone or app on `port` that rings and answers after `answer_ms` unless cancelled first.
pub(crate) fn callee(dir: &Path, name: &str, port: u16, answer_ms: u64) -> RunningSipp {
    let path = scenario(dir, "callee", &[("ANSWER_MS", &answer_ms.to_string()), ("NAME", name)]);
    Sipp::new(name, dir, path.to_str().unwrap_or_default(), SippTransport::Udp, port, 1, LIMIT).spawn_uas()
}

/// A phone on `port` that plays early media (183 with SDP), answers an UPDATE, and answers the call
/// `answer_ms` after that (tests/interop/scenarios/callctl/callee-early-media.xml).
pub(crate) fn early_callee(dir: &Path, name: &str, port: u16, answer_ms: u64) -> RunningSipp {
    let path = scenario(dir, "callee-early-media", &[("ANSWER_MS", &answer_ms.to_string())]);
    Sipp::new(name, dir, path.to_str().unwrap_or_default(), SippTransport::Udp, port, 1, LIMIT).spawn_uas()
}

/// A phone on `port` that answers 486.
pub(crate) fn busy(dir: &Path, name: &str, port: u16) -> RunningSipp {
    Sipp::new(name, dir, "callctl/busy.xml", SippTransport::Udp, port, 1, LIMIT).spawn_uas()
}

/// The desk phone on `port` (registered as `aor`) dials `dialed`, holds the call `hold_ms`, hangs up.
pub(crate) fn call(dir: &Path, node: &Node, port: u16, aor: &str, dialed: &str, hold_ms: u64) -> Outcome {
    call_with("callctl/caller.xml", dir, node, port, aor, dialed, hold_ms)
}

/// [`call`] with another caller scenario (its trace under `caller-<port>`).
pub(crate) fn call_with(scenario: &str, dir: &Path, node: &Node, port: u16, aor: &str, dialed: &str, hold_ms: u64) -> Outcome {
    Sipp::new(&format!("caller-{port}"), dir, scenario, SippTransport::Udp, port, 1, LIMIT)
        .arg("-key")
        .arg("aor")
        .arg(aor)
        .arg("-s")
        .arg(dialed)
        .arg("-d")
        .arg(hold_ms.to_string())
        .run_uac(SocketAddr::from(([127, 0, 0, 1], node.port)), LIMIT)
}

/// The SIP messages a SIPp instance logged (`-trace_msg`).
pub(crate) fn messages(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name).join("messages.log")).unwrap_or_default()
}

/// Every CDR in the node's store, as `causeway cdr list --json` prints them; waits (bounded) until there
/// are `calls` of them (the node writes a record when its call ends).
pub(crate) fn cdrs(dir: &Path, calls: usize) -> Vec<serde_json::Value> {
    let url = format!("sqlite://{}", db_path(dir).display());
    let mut found = Vec::new();
    wait_until(Duration::from_secs(10), || {
        let Ok(out) = Command::new(causeway_bin()).args(["cdr", "list", "--json", "--db", &url]).output() else { return false };
        found = serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap_or_default();
        found.len() >= calls
    });
    assert_eq!(found.len(), calls, "CDRs in {url}: {found:#?}");
    found
}

/// Milliseconds from RFC 3339 time `a` to `b`.
pub(crate) fn ms_between(a: &serde_json::Value, b: &serde_json::Value) -> i64 {
    let t = |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default()).map(|t| t.timestamp_millis());
    match (t(a), t(b)) {
        (Ok(a), Ok(b)) => b - a,
        _ => panic!("not RFC 3339 times: {a} {b}"),
    }
}
