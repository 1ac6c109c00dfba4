//! Helpers for the edge routing tests (`tests/edge_*.rs`): a node started on zones, transforms and search rules
//! the test writes; peers on loopback addresses of their own (127.0.0.2, .3, …: the node tells zones apart by
//! source address); a test PKI with client certificates for mutual TLS; and what a SIPp UAS received.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair, SanType};

use crate::support::{causeway_bin, options_ping, wait_until, Causeway, ChildGuard};

/// A loopback address of its own for one peer.
pub(crate) fn loopback(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

/// A CA, the node's certificate (for 127.0.0.1) and client certificates made on demand, all PEM files in a dir.
pub(crate) struct EdgePki {
    dir: PathBuf,
    ca: Certificate,
    ca_key: KeyPair,
    /// The CA certificate.
    pub(crate) ca_pem: PathBuf,
    /// The node's certificate and key.
    pub(crate) server: (PathBuf, PathBuf),
}

fn fail(what: &str, e: rcgen::Error) -> ! {
    panic!("rcgen {what}: {e}")
}

impl EdgePki {
    /// A new CA and the node's certificate in `dir`.
    pub(crate) fn new(dir: &Path) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| fail("ca params", e));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "Causeway edge test CA");
        let ca_key = KeyPair::generate().unwrap_or_else(|e| fail("ca key", e));
        let ca = params.self_signed(&ca_key).unwrap_or_else(|e| fail("ca cert", e));
        let ca_pem = dir.join("edge-ca.pem");
        write(&ca_pem, &ca.pem());
        let mut pki = Self { dir: dir.to_owned(), ca, ca_key, ca_pem, server: (PathBuf::new(), PathBuf::new()) };
        pki.server = pki.leaf("node", &["localhost"], Some([127, 0, 0, 1]));
        pki
    }

    /// A client certificate whose subject alternative name (and common name) is `name`, signed by the CA.
    pub(crate) fn client(&self, name: &str) -> (PathBuf, PathBuf) {
        self.leaf(name, &[name], None)
    }

    fn leaf(&self, stem: &str, names: &[&str], ip: Option<[u8; 4]>) -> (PathBuf, PathBuf) {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap_or_else(|e| fail("leaf params", e));
        if let Some(ip) = ip {
            params.subject_alt_names.push(SanType::IpAddress(ip.into()));
        }
        let common_name = ip.map(|ip| Ipv4Addr::from(ip).to_string()).or_else(|| names.first().cloned()).unwrap_or_default();
        params.distinguished_name.push(DnType::CommonName, common_name);
        let key = KeyPair::generate().unwrap_or_else(|e| fail("leaf key", e));
        let cert = params.signed_by(&key, &self.ca, &self.ca_key).unwrap_or_else(|e| fail("leaf cert", e));
        let (cert_path, key_path) = (self.dir.join(format!("{stem}.pem")), self.dir.join(format!("{stem}.key")));
        write(&cert_path, &cert.pem());
        write(&key_path, &key.serialize_pem());
        (cert_path, key_path)
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Starts `causeway serve` on UDP and TCP 127.0.0.1:`port` (and, with `tls`, a mutual-TLS listener on
/// 127.0.0.1:`tls.1` that requires a client certificate from the PKI's CA), with `routing` (zones, search rules,
/// …) appended, and waits until it answers OPTIONS. Every 127.0.0.0/8 source is trusted by the flood guard: the
/// peers here send calls, not floods.
pub(crate) fn start_node(dir: &Path, port: u16, tls: Option<(&EdgePki, u16)>, routing: &str) -> Causeway {
    let mut config = format!(
        "[node]\nname = \"edge-test\"\n\n\
         [[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n\n\
         [[listener]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:{port}\"\n\n"
    );
    if let Some((pki, tls_port)) = tls {
        let _ = write!(
            config,
            "[[listener]]\ntransport = \"tls\"\naddress = \"127.0.0.1:{tls_port}\"\ncert = \"{}\"\nkey = \"{}\"\n\
             mutual_tls = {{ ca = \"{}\", required = true }}\n\n[outbound]\ntls_roots = [\"{}\"]\n\n",
            pki.server.0.display(),
            pki.server.1.display(),
            pki.ca_pem.display(),
            pki.ca_pem.display()
        );
    }
    let _ = write!(
        config,
        "[log]\nlevel = \"info,causeway_proxy=debug\"\n\n[security.flood]\ntrusted_cidrs = [\"127.0.0.0/8\"]\n\n{routing}"
    );
    let path = dir.join("causeway.toml");
    write(&path, &config);
    let mut command = Command::new(causeway_bin());
    command.args([OsStr::new("serve"), OsStr::new("-c"), path.as_os_str()]).env("NO_COLOR", "1");
    let mut process = ChildGuard::spawn_with("causeway", &mut command, dir);
    let target = SocketAddr::from(([127, 0, 0, 1], port));
    let ready = wait_until(Duration::from_secs(15), || {
        process.try_status().is_some() || options_ping(target, Duration::from_millis(200)).is_some()
    });
    if let Some(status) = process.try_status() {
        panic!("causeway exited at start-up with {status}\n{}", process.log_tail());
    }
    assert!(ready, "causeway did not answer OPTIONS on {target} within 15 s\n{}", process.log_tail());
    Causeway { process, port, tls_port: tls.map(|(_, p)| p) }
}

/// The Request-URIs of the INVITEs a SIPp instance logged (`-trace_msg`) in `<parent>/<name>/messages.log`.
pub(crate) fn invites_received(parent: &Path, name: &str) -> Vec<String> {
    let log = std::fs::read_to_string(parent.join(name).join("messages.log")).unwrap_or_default();
    log.lines()
        .filter_map(|line| line.strip_prefix("INVITE "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}
