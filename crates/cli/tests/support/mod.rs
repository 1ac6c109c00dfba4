//! The L4 interop harness: the built `causeway` binary and real peers (SIPp, sipsak, baresip) as child
//! processes on 127.0.0.1. Each test gets its own temp dir and ephemeral ports; every child is owned by a
//! [`ChildGuard`] that kills it by PID when dropped; every wait is bounded.
#![allow(dead_code)] // each test binary uses a different part of this module

pub(crate) mod edge;
pub(crate) mod callctl;
pub(crate) mod kamailio;
pub(crate) mod rfc4475;
pub(crate) mod sipp;
pub(crate) mod tls;
pub(crate) mod tunnel;

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where SIPp scenarios live (`tests/interop/scenarios/` at the repository root).
pub(crate) fn scenario(name: &str) -> PathBuf {
    repo_root().join("tests/interop/scenarios").join(name)
}

/// The repository root.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The built binary under test.
pub(crate) fn causeway_bin() -> &'static str {
    env!("CARGO_BIN_EXE_causeway")
}

/// A fresh temp dir for one test.
pub(crate) fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("causeway-interop-").tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

/// Ports already handed out in this test process (tests run in parallel threads).
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A port on 127.0.0.1 that is free for both UDP and TCP right now: the kernel picks it (bind to port 0),
/// then both sockets are released. Never the same port twice within this process.
pub(crate) fn free_port() -> u16 {
    for _ in 0..100 {
        let Ok(udp) = UdpSocket::bind("127.0.0.1:0") else { continue };
        let Ok(port) = udp.local_addr().map(|a| a.port()) else { continue };
        let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)) else { continue };
        drop((udp, tcp));
        let mut guard = HANDED_OUT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
    panic!("no free UDP+TCP port on 127.0.0.1 after 100 tries");
}

/// A free UDP+TCP port below 10000. sipsak 0.9.8.1 cuts a five-digit port in the Request-URI it writes
/// (`sip:bob@127.0.0.1:35091` goes out as `…:3509`), so a node that sipsak addresses must use four digits.
pub(crate) fn free_low_port() -> u16 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(std::process::id()) ^ u64::from(nanos);
    for i in 0..400u64 {
        let candidate = u16::try_from(6000 + (seed.wrapping_mul(7919).wrapping_add(i * 97)) % 4000).unwrap_or(6000);
        let Ok(udp) = UdpSocket::bind(("127.0.0.1", candidate)) else { continue };
        let Ok(tcp) = TcpListener::bind(("127.0.0.1", candidate)) else { continue };
        drop((udp, tcp));
        let mut guard = HANDED_OUT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.get_or_insert_with(HashSet::new).insert(candidate) {
            return candidate;
        }
    }
    panic!("no free UDP+TCP port in 6000-9999 on 127.0.0.1");
}

/// Whether something holds `port` on 127.0.0.1 for UDP (`tcp = false`) or TCP.
pub(crate) fn port_taken(port: u16, tcp: bool) -> bool {
    port_taken_on(std::net::Ipv4Addr::LOCALHOST, port, tcp)
}

/// Whether something holds `port` on the loopback address `ip` (any of 127.0.0.0/8) for UDP or TCP.
pub(crate) fn port_taken_on(ip: std::net::Ipv4Addr, port: u16, tcp: bool) -> bool {
    if tcp {
        TcpListener::bind((ip, port)).is_err()
    } else {
        UdpSocket::bind((ip, port)).is_err()
    }
}

/// Poll `ready` every 50 ms until it holds or `limit` passes.
pub(crate) fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process stopped by its PID and reaped when dropped, unless it already exited.
pub(crate) struct ChildGuard {
    child: Child,
    name: String,
    /// Where its stdout and stderr go.
    pub(crate) log: PathBuf,
}

impl ChildGuard {
    /// Spawn `program args` in `dir` with stdout and stderr to `dir/<name>.log`. A missing program is a test
    /// failure that says how to install it.
    pub(crate) fn spawn<I, S>(name: &str, program: &str, args: I, dir: &Path) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Self::spawn_with(name, Command::new(program).args(args), dir)
    }

    /// Spawn a prepared command the same way.
    pub(crate) fn spawn_with(name: &str, command: &mut Command, dir: &Path) -> Self {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let err = out.try_clone().unwrap_or_else(|e| panic!("dup log: {e}"));
        let child = command
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {name} ({:?}): {e}; run `bash scripts/install-deps.sh` (as root) to install the \
                     interop peers",
                    command.get_program()
                )
            });
        Self { child, name: name.to_owned(), log }
    }

    /// The exit status if it has exited.
    pub(crate) fn try_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Wait at most `limit` for it to exit; `None` if it is still running.
    pub(crate) fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        let mut status = None;
        wait_until(limit, || {
            status = self.try_status();
            status.is_some()
        });
        status
    }

    /// Its log so far, for failure messages (the last 8 KiB).
    pub(crate) fn log_tail(&self) -> String {
        tail(&self.log, 8 * 1024)
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Name given at spawn.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ChildGuard {
    /// SIGTERM to this child's PID (causeway then logs its final counters), SIGKILL after 3 s.
    fn drop(&mut self) {
        if self.try_status().is_some() {
            return;
        }
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !terminated || self.wait_for(Duration::from_secs(3)).is_none() {
            // Child::kill sends SIGKILL to this child's PID only.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last `max` bytes of a file, lossily decoded.
pub(crate) fn tail(path: &Path, max: usize) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let start = bytes.len().saturating_sub(max);
    let mut text = String::new();
    let _ = writeln!(text, "--- {} (last {} bytes) ---", path.display(), bytes.len() - start);
    text.push_str(&String::from_utf8_lossy(bytes.get(start..).unwrap_or_default()));
    text
}

/// The proxy under test: a running `causeway serve` with UDP and TCP (and optionally TLS) listeners on
/// ephemeral ports, or Kamailio under `SIP_TEST_SUBJECT=kamailio` ([`kamailio`]).
pub(crate) struct Causeway {
    /// The process.
    pub(crate) process: ChildGuard,
    /// Port of the UDP and TCP listeners.
    pub(crate) port: u16,
    /// Port of the TLS listener, if any.
    pub(crate) tls_port: Option<u16>,
}

/// What the config of a test node holds besides its listeners.
pub(crate) struct NodeSpec<'a> {
    /// Next hop of the default route.
    pub(crate) next_hop: String,
    /// TLS listener and outbound roots: `(cert, key, ca)` paths.
    pub(crate) tls: Option<(&'a Path, &'a Path, &'a Path)>,
    /// More TOML appended to the config (extra `[[route]]`s).
    pub(crate) extra: String,
}

impl Causeway {
    /// Write a config for `spec` into `dir`, start the binary on it and wait until it answers OPTIONS.
    pub(crate) fn start(dir: &Path, spec: &NodeSpec<'_>) -> Self {
        Self::start_on(dir, spec, free_port())
    }

    /// [`Causeway::start`] with UDP and TCP on a given `port`.
    pub(crate) fn start_on(dir: &Path, spec: &NodeSpec<'_>, port: u16) -> Self {
        if kamailio::selected() {
            return kamailio::start(dir, spec, port);
        }
        let mut config = format!(
            "[node]\nname = \"interop\"\n\n\
             [[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n\n\
             [[listener]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:{port}\"\n\n"
        );
        let tls_port = spec.tls.map(|(cert, key, ca)| {
            let tls_port = free_port();
            let _ = write!(
                config,
                "[[listener]]\ntransport = \"tls\"\naddress = \"127.0.0.1:{tls_port}\"\ncert = \"{}\"\nkey = \"{}\"\n\n\
                 [outbound]\ntls_roots = [\"{}\"]\n\n",
                cert.display(),
                key.display(),
                ca.display()
            );
            tls_port
        });
        let _ = write!(
            config,
            // The interop peers run on 127.0.0.1 and send faster than the flood guard lets an internet source
            // (tests/security_*.rs attack from other 127.x addresses): the guard trusts them here.
            "[log]\nlevel = \"info\"\n\n[security.flood]\ntrusted_cidrs = [\"127.0.0.1/32\"]\n\n\
             [[route]]\ndefault = true\nnext_hop = \"{}\"\n\n{}",
            spec.next_hop, spec.extra
        );
        let mut node = Self::start_with(dir, port, &config);
        node.tls_port = tls_port;
        node
    }

    /// Start the binary on `config` (written to `dir/causeway.toml`), whose UDP listener is on `port`, and wait
    /// until it answers OPTIONS there.
    pub(crate) fn start_with(dir: &Path, port: u16, config: &str) -> Self {
        let path = dir.join("causeway.toml");
        std::fs::write(&path, config).unwrap_or_else(|e| panic!("write config: {e}"));
        let mut process = ChildGuard::spawn("causeway", causeway_bin(), [OsStr::new("serve"), OsStr::new("-c"), path.as_os_str()], dir);
        let target: SocketAddr = SocketAddr::from(([127, 0, 0, 1], port));
        let ready = wait_until(Duration::from_secs(15), || {
            process.try_status().is_some() || options_ping(target, Duration::from_millis(200)).is_some()
        });
        if let Some(status) = process.try_status() {
            panic!("causeway exited at start-up with {status}\n{}", process.log_tail());
        }
        assert!(ready, "causeway did not answer OPTIONS on {target} within 15 s\n{}", process.log_tail());
        Self { process, port, tls_port: None }
    }

    /// `127.0.0.1:<port>` of the UDP/TCP listeners.
    pub(crate) fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Panic with the log if the process has died.
    pub(crate) fn assert_alive(&mut self) {
        if let Some(status) = self.process.try_status() {
            panic!("causeway died with {status}\n{}", self.process.log_tail());
        }
    }
}

/// Send one OPTIONS addressed to `target` itself from a fresh UDP socket; return the status line of the
/// response, if one arrives within `wait`.
pub(crate) fn options_ping(target: SocketAddr, wait: Duration) -> Option<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").ok()?;
    let local = socket.local_addr().ok()?;
    let branch = format!("z9hG4bK-ping-{}-{}", local.port(), std::process::id());
    let request = format!(
        "OPTIONS sip:{target} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch={branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@{local}>;tag=probe{port}\r\n\
         To: <sip:{target}>\r\n\
         Call-ID: ping-{port}-{branch}@127.0.0.1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Accept: application/sdp\r\n\
         Content-Length: 0\r\n\r\n",
        port = local.port()
    );
    socket.set_read_timeout(Some(wait)).ok()?;
    socket.send_to(request.as_bytes(), target).ok()?;
    let mut buf = [0u8; 4096];
    let (len, _) = socket.recv_from(&mut buf).ok()?;
    let response = String::from_utf8_lossy(buf.get(..len)?).into_owned();
    response.lines().next().map(str::to_owned)
}
