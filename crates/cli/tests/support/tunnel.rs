//! TLS for SIPp through socat: Debian's SIPp is built without OpenSSL (`-t l1` answers "To use a TLS
//! transport you must compile SIPp with OpenSSL"), so SIPp speaks TCP and socat carries it over TLS to
//! and from causeway. Both of causeway's hops are then real TLS, and each side verifies the other's
//! certificate against the test CA.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::tls::TestPki;
use super::{wait_until, ChildGuard};

/// Start socat and wait until it listens on 127.0.0.1:`port`.
fn start(name: &str, dir: &Path, port: u16, listen: String, connect: String) -> ChildGuard {
    start_on(name, dir, std::net::Ipv4Addr::LOCALHOST, port, listen, connect)
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

/// [`tls_server`] on `ip` (another loopback address, so the node tells the peer apart by address),
/// presenting `cert`/`key` and forwarding plain TCP to `ip:target_port`.
pub(crate) fn tls_server_on(dir: &Path, ip: std::net::Ipv4Addr, port: u16, cert: &Path, key: &Path, target_port: u16) -> ChildGuard {
    let listen = format!("OPENSSL-LISTEN:{port},bind={ip},reuseaddr,fork,cert={},key={},verify=0", cert.display(), key.display());
    start_on("socat-tls-server", dir, ip, port, listen, format!("TCP:{ip}:{target_port}"))
}

/// [`tls_client`] whose TLS connections to causeway come from `source` (another loopback address).
pub(crate) fn tls_client_from(dir: &Path, port: u16, ca: &Path, source: std::net::Ipv4Addr, tls_port: u16) -> ChildGuard {
    start(
        "socat-tls-client",
        dir,
        port,
        format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
        format!("OPENSSL:127.0.0.1:{tls_port},bind={source},cafile={},verify=1", ca.display()),
    )
}

/// Start socat and wait until it listens on `ip:port`.
fn start_on(name: &str, dir: &Path, ip: std::net::Ipv4Addr, port: u16, listen: String, connect: String) -> ChildGuard {
    // `fork`: one child per accepted connection; each child ends when its connection closes.
    let mut process = ChildGuard::spawn_with(name, Command::new("socat").arg("-d").arg(listen).arg(connect), dir);
    let ready = wait_until(Duration::from_secs(10), || process.try_status().is_some() || super::port_taken_on(ip, port, true));
    if let Some(status) = process.try_status() {
        panic!("socat {name} exited with {status}\n{}", process.log_tail());
    }
    assert!(ready, "socat {name} did not listen on {ip}:{port}\n{}", process.log_tail());
    process
}
