//! A real PostgreSQL server for one test: `initdb` into a temporary directory, `postgres` on an
//! ephemeral 127.0.0.1 port with its own socket directory, stopped by PID when dropped. Run as
//! root (CI), the server runs as the `postgres` user, as PostgreSQL refuses to run as root.
//! Missing binaries fail the test: scripts/install-deps.sh installs the `postgresql` package.

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; dropped, it is shut down and its directory removed.
pub(crate) struct Postgres {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    data: PathBuf,
    owner: Option<(u32, u32)>,
}

impl Postgres {
    /// Starts a fresh server (panics, failing the test, if it cannot).
    pub(crate) fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::Builder::new().prefix("causeway-pg-").tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        let socket = dir.path().join("socket");
        fs::create_dir(&socket).expect("socket directory");
        let owner = server_user();
        if let Some((uid, gid)) = owner {
            for path in [dir.path(), socket.as_path()] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown to postgres");
            }
        }
        let initdb = as_server(Command::new(bin.join("initdb")), owner, dir.path())
            .args(["--auth=trust", "--username=causeway", "--encoding=UTF8", "--locale=C", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .expect("run initdb");
        assert!(initdb.status.success(), "initdb failed: {}", String::from_utf8_lossy(&initdb.stderr));
        let port = free_port();
        let log = fs::File::create(dir.path().join("server.log")).expect("server log");
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path().join("server.log"), Some(uid), Some(gid)).expect("chown log");
        }
        let child = as_server(Command::new(bin.join("postgres")), owner, dir.path())
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=40", "-k"])
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start postgres");
        let server = Self { child, dir, port, bin, data, owner };
        server.wait_ready();
        server
    }

    /// A URL for database `db` (see [`Postgres::create_database`]).
    pub(crate) fn url(&self, db: &str) -> String {
        format!("postgres://causeway@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates an empty database, so that each test step starts from nothing.
    pub(crate) async fn create_database(&self, db: &str) -> String {
        let client = self.client("postgres").await;
        client.batch_execute(&format!("CREATE DATABASE {db}")).await.expect("CREATE DATABASE");
        self.url(db)
    }

    /// A plain connection to `db`, for checks beside the store.
    pub(crate) async fn client(&self, db: &str) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url(db), tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(connection);
        client
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "causeway", "-d", "postgres"])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            let log = fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            assert!(Instant::now() < deadline, "postgres did not become ready in 60 s:\n{log}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // "Fast" shutdown of the server this test started: pg_ctl signals the PID in this data
        // directory's postmaster.pid (our child) and waits for it to exit.
        let _ = as_server(Command::new(self.bin.join("pg_ctl")), self.owner, self.dir.path())
            .args(["stop", "-m", "fast", "-w", "-t", "20", "-D"])
            .arg(&self.data)
            .stdout(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb` and `postgres`.
fn bin_dir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}: install PostgreSQL (scripts/install-deps.sh)", root.display()))
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).expect("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (scripts/install-deps.sh)")
}

/// As root, the `postgres` account's uid and gid (the server refuses to run as root).
fn server_user() -> Option<(u32, u32)> {
    let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse::<u32>().ok())
        .expect("effective uid");
    if euid != 0 {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, "postgres"]).output().expect("run id");
        assert!(out.status.success(), "running as root needs a `postgres` user (the postgresql package creates it)");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("numeric id")
    };
    Some((id("-u"), id("-g")))
}

fn as_server(mut command: Command, owner: Option<(u32, u32)>, cwd: &Path) -> Command {
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
    command.current_dir(cwd);
    command
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}
