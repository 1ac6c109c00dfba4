//! TLS for SIPp through socat: Debian's SIPp is built without OpenSSL (`-t l1` answers "To use a TLS
//! transport you must compile SIPp with OpenSSL"), so SIPp speaks TCP and socat carries it over TLS to
//! and from causeway. Both of causeway's hops are then real TLS, and each side verifies the other's
//! certificate against the test CA.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::tls::TestPki;
use super::{port_taken, wait_until, ChildGuard};

/// Start socat and wait until it listens on `port`.
fn start(name: &str, dir: &Path, port: u16, listen: String, connect: String) -> ChildGuard {
    // `fork`: one child per accepted connection; each child ends when its connection closes.
    let mut process = ChildGuard::spawn_with(name, Command::new("socat").arg("-d").arg(listen).arg(connect), dir);
    let ready = wait_until(Duration::from_secs(10), || process.try_status().is_some() || port_taken(port, true));
    if let Some(status) = process.try_status() {
        panic!("socat {name} exited with {status}\n{}", process.log_tail());
    }
    assert!(ready, "socat {name} did not listen on {port}\n{}", process.log_tail());
    process
}

/// A TLS server on `port` (the test leaf certificate) that forwards plain TCP to `target_port`:
/// what causeway connects to as its TLS next hop.
pub(crate) fn tls_server(dir: &Path, port: u16, pki: &TestPki, target_port: u16) -> ChildGuard {
    start(
        "socat-tls-server",
        dir,
        port,
        format!(
            "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},verify=0",
            pki.cert.display(),
            pki.key.display()
        ),
        format!("TCP:127.0.0.1:{target_port}"),
    )
}

/// A plain TCP listener on `port` that connects over TLS to causeway's `tls_port`, verifying its
/// certificate against the test CA (for 127.0.0.1).
pub(crate) fn tls_client(dir: &Path, port: u16, pki: &TestPki, tls_port: u16) -> ChildGuard {
    start(
        "socat-tls-client",
        dir,
        port,
        format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
        format!("OPENSSL:127.0.0.1:{tls_port},cafile={},verify=1", pki.ca.display()),
    )
}

/// [`tls_client`] presenting a client certificate (`cert`, `key`: PEM files) for causeway's mutual-TLS
/// listener, which classifies the connection into a zone by the certificate's names.
pub(crate) fn mutual_tls_client(dir: &Path, port: u16, ca: &Path, cert: &Path, key: &Path, tls_port: u16) -> ChildGuard {
    start(
        "socat-mtls-client",
        dir,
        port,
        format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
        format!("OPENSSL:127.0.0.1:{tls_port},cafile={},cert={},key={},verify=1", ca.display(), cert.display(), key.display()),
    )
}
