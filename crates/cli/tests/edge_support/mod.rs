//! Helpers for the edge routing tests (`tests/edge_*.rs`): a node started on zones, transforms and search rules
//! the test writes; peers on loopback addresses of their own (127.0.0.2, .3, …: the node tells zones apart by
//! source address); and what a SIPp UAS received.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::Path;

use crate::support::Causeway;

/// A loopback address of its own for one peer.
pub(crate) fn loopback(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

/// The node's TLS material for a mutual-TLS listener: the CA that signs client certificates (and the node's),
/// and the node's certificate and key (for 127.0.0.1).
pub(crate) struct NodeTls<'a> {
    pub(crate) ca: &'a Path,
    pub(crate) cert: &'a Path,
    pub(crate) key: &'a Path,
    /// Port of the mutual-TLS listener.
    pub(crate) port: u16,
}

/// Starts `causeway serve` on UDP and TCP 127.0.0.1:`port` (and, with `tls`, a mutual-TLS listener that requires
/// a client certificate from its CA), with `routing` (zones, search rules, …) appended, and waits until it answers
/// OPTIONS. Every 127.0.0.0/8 source is trusted by the flood guard: the peers here send calls, not floods.
pub(crate) fn start_node(dir: &Path, port: u16, tls: Option<&NodeTls<'_>>, routing: &str) -> Causeway {
    let mut config = format!(
        "[node]\nname = \"edge-test\"\n\n\
         [[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n\n\
         [[listener]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:{port}\"\n\n"
    );
    if let Some(tls) = tls {
        let _ = write!(
            config,
            "[[listener]]\ntransport = \"tls\"\naddress = \"127.0.0.1:{}\"\ncert = \"{}\"\nkey = \"{}\"\n\
             mutual_tls = {{ ca = \"{}\", required = true }}\n\n[outbound]\ntls_roots = [\"{}\"]\n\n",
            tls.port,
            tls.cert.display(),
            tls.key.display(),
            tls.ca.display(),
            tls.ca.display()
        );
    }
    let _ = write!(
        config,
        "[log]\nlevel = \"info,causeway_proxy=debug\"\n\n[security.flood]\ntrusted_cidrs = [\"127.0.0.0/8\"]\n\n{routing}"
    );
    let mut node = Causeway::start_with(dir, port, &config);
    node.tls_port = tls.map(|t| t.port);
    node
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
