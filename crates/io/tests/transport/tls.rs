//! TLS with certificates made at test time by rcgen: server-only, mutual TLS recording the client's names, and a
//! client certificate from an untrusted CA being refused.

use std::path::{Path, PathBuf};

use causeway_io::{ClientAuth, ClientCert, ClientConfig, Event, IoConfig, ListenerConfig, Outbound, TlsServerConfig};
use causeway_io::TransportErrorKind;
use causeway_sip::Transport;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};

use crate::common::{addr, bind, localhost, next_event, next_message, ok_response, options};

/// A CA that signs leaf certificates into PEM files in a temporary directory.
struct Ca {
    dir: tempfile::TempDir,
    name: &'static str,
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// Paths of a leaf certificate chain and its key.
struct Leaf {
    cert: PathBuf,
    key: PathBuf,
}

impl Ca {
    fn new(name: &'static str) -> Self {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("self-signed CA");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(format!("{name}.pem")), cert.pem()).expect("write CA");
        Self { dir, name, cert, key }
    }

    fn bundle(&self) -> PathBuf {
        self.dir.path().join(format!("{}.pem", self.name))
    }

    /// A leaf for `dns` names (and 127.0.0.1), with an optional SIP URI SAN and subject CN.
    fn leaf(&self, file: &str, dns: &[&str], uri: Option<&str>, cn: &str) -> Leaf {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(dns.iter().map(|d| (*d).to_owned()).collect::<Vec<_>>()).expect("params");
        params.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
        if let Some(uri) = uri {
            params.subject_alt_names.push(SanType::URI(uri.try_into().expect("ia5 uri")));
        }
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.signed_by(&key, &self.cert, &self.key).expect("sign");
        let leaf = Leaf { cert: self.path(&format!("{file}.crt")), key: self.path(&format!("{file}.key")) };
        std::fs::write(&leaf.cert, cert.pem()).expect("write cert");
        std::fs::write(&leaf.key, key.serialize_pem()).expect("write key");
        leaf
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }
}

fn tls_listener(leaf: &Leaf, client_auth: ClientAuth) -> ListenerConfig {
    ListenerConfig::tls(
        localhost(),
        TlsServerConfig { cert_chain: leaf.cert.clone(), private_key: leaf.key.clone(), client_auth },
    )
}

fn client(roots: &Path, cert: Option<&Leaf>) -> IoConfig {
    IoConfig {
        client: ClientConfig {
            tls_roots: vec![roots.to_owned()],
            client_cert: cert.map(|c| ClientCert { cert_chain: c.cert.clone(), private_key: c.key.clone() }),
            ..ClientConfig::default()
        },
        ..IoConfig::default()
    }
}

fn to_edge(bytes: bytes::Bytes, edge: std::net::SocketAddr, server_name: &str) -> Outbound {
    Outbound { server_name: Some(server_name.into()), ..Outbound::new(bytes, Transport::Tls, edge) }
}

#[tokio::test]
async fn server_only_tls_carries_messages_both_ways_with_sni() {
    let ca = Ca::new("server-ca");
    let edge_leaf = ca.leaf("edge", &["edge.example.com"], None, "edge.example.com");
    let mut edge = bind(IoConfig { listeners: vec![tls_listener(&edge_leaf, ClientAuth::None)], ..IoConfig::default() });
    let mut alice = bind(client(&ca.bundle(), None));
    let edge_addr = addr(&edge, Transport::Tls);

    let request = options("tls1", Transport::Tls, 12);
    let flow = alice.send(to_edge(request.clone(), edge_addr, "edge.example.com")).expect("send");
    let got = next_message(&mut edge).await;
    assert_eq!((got.bytes, got.transport, got.local), (request, Transport::Tls, edge_addr));
    assert!(got.tls_peer_names.is_none(), "no client certificate, no names");

    let reply = ok_response("tls1", Transport::Tls);
    edge.send(Outbound::new(reply.clone(), Transport::Tls, got.peer)).expect("reply");
    let back = next_message(&mut alice).await;
    assert_eq!((back.bytes, back.flow), (reply, flow));
    let server_names = back.tls_peer_names.expect("the server's certificate names");
    assert_eq!(server_names.as_ref(), ["edge.example.com"], "a CN equal to a SAN is listed once");
}

#[tokio::test]
async fn wrong_server_name_fails_the_handshake_and_is_reported() {
    let ca = Ca::new("server-ca");
    let edge_leaf = ca.leaf("edge", &["edge.example.com"], None, "edge.example.com");
    let edge = bind(IoConfig { listeners: vec![tls_listener(&edge_leaf, ClientAuth::None)], ..IoConfig::default() });
    let mut alice = bind(client(&ca.bundle(), None));
    let edge_addr = addr(&edge, Transport::Tls);

    let flow = alice.send(to_edge(options("sni", Transport::Tls, 0), edge_addr, "other.example.com")).expect("send");
    match next_event(&mut alice).await {
        Event::TransportError(error) => {
            assert_eq!((error.transport, error.destination, Some(error.flow)), (Transport::Tls, edge_addr, flow));
            assert!(matches!(error.kind, TransportErrorKind::Tls(_)), "{:?}", error.kind);
        }
        other => panic!("expected a TLS transport error, got {other:?}"),
    }
    assert_eq!(alice.stats().tls_handshake_failures, 1);
}

#[tokio::test]
async fn mutual_tls_records_the_client_certificate_names() {
    let ca = Ca::new("trusted-ca");
    let edge_leaf = ca.leaf("edge", &["edge.example.com"], None, "edge.example.com");
    let internal = ca.leaf(
        "internal",
        &["expc.example.com", "cluster.example.com"],
        Some("sip:expc.example.com"),
        "Expressway-C",
    );
    let auth = ClientAuth::Required { ca_bundle: ca.bundle() };
    let mut edge = bind(IoConfig { listeners: vec![tls_listener(&edge_leaf, auth)], ..IoConfig::default() });
    let mut expc = bind(client(&ca.bundle(), Some(&internal)));
    let edge_addr = addr(&edge, Transport::Tls);

    let first = options("mtls1", Transport::Tls, 0);
    expc.send(to_edge(first.clone(), edge_addr, "edge.example.com")).expect("send");
    let second = options("mtls2", Transport::Tls, 0);
    expc.send(to_edge(second.clone(), edge_addr, "edge.example.com")).expect("send");
    for expected in [first, second] {
        let got = next_message(&mut edge).await;
        assert_eq!(got.bytes, expected);
        let names = got.tls_peer_names.expect("verified client names on every message");
        assert_eq!(
            names.as_ref(),
            ["expc.example.com", "cluster.example.com", "sip:expc.example.com", "Expressway-C"],
            "SAN dNSNames, then SAN URIs in certificate order, then the subject CN"
        );
    }
}

#[tokio::test]
async fn client_certificate_from_an_untrusted_ca_is_refused() {
    let trusted = Ca::new("trusted-ca");
    let rogue = Ca::new("rogue-ca");
    let edge_leaf = trusted.leaf("edge", &["edge.example.com"], None, "edge.example.com");
    let impostor = rogue.leaf("impostor", &["expc.example.com"], None, "Expressway-C");
    let auth = ClientAuth::Required { ca_bundle: trusted.bundle() };
    let mut edge = bind(IoConfig { listeners: vec![tls_listener(&edge_leaf, auth)], ..IoConfig::default() });
    let mut attacker = bind(client(&trusted.bundle(), Some(&impostor)));
    let edge_addr = addr(&edge, Transport::Tls);

    let flow = attacker.send(to_edge(options("rogue", Transport::Tls, 0), edge_addr, "edge.example.com")).expect("send");
    // TLS 1.3 finishes the client side before the server checks the certificate, so the refusal arrives as an
    // alert on the established connection: either way it is a TLS error on that flow.
    match next_event(&mut attacker).await {
        Event::TransportError(error) => {
            assert_eq!((error.destination, Some(error.flow)), (edge_addr, flow));
            assert!(matches!(error.kind, TransportErrorKind::Tls(_)), "{:?}", error.kind);
        }
        other => panic!("expected a TLS transport error, got {other:?}"),
    }
    assert!(tokio::time::timeout(std::time::Duration::from_millis(300), edge.recv()).await.is_err(), "nothing delivered");
    assert_eq!(edge.stats().tls_handshake_failures, 1);
    assert_eq!(edge.stats().stream_received, 0);
}

#[tokio::test]
async fn optional_client_auth_accepts_a_client_without_a_certificate() {
    let ca = Ca::new("trusted-ca");
    let edge_leaf = ca.leaf("edge", &["edge.example.com"], None, "edge.example.com");
    let auth = ClientAuth::Optional { ca_bundle: ca.bundle() };
    let mut edge = bind(IoConfig { listeners: vec![tls_listener(&edge_leaf, auth)], ..IoConfig::default() });
    let mut anonymous = bind(client(&ca.bundle(), None));
    let message = options("anon", Transport::Tls, 0);
    anonymous.send(to_edge(message.clone(), addr(&edge, Transport::Tls), "edge.example.com")).expect("send");
    let got = next_message(&mut edge).await;
    assert_eq!(got.bytes, message);
    assert!(got.tls_peer_names.is_none());
}

#[tokio::test]
async fn tls_send_without_trusted_roots_is_refused() {
    let mut lonely = bind(IoConfig::default());
    let refused = lonely.send(Outbound::new(options("noroots", Transport::Tls, 0), Transport::Tls, localhost()));
    assert_eq!(refused, Err(causeway_io::SendError::NoTlsClient));
}

#[test]
fn missing_key_file_is_a_clear_bind_error() {
    let ca = Ca::new("ca");
    let leaf = ca.leaf("edge", &["edge.example.com"], None, "edge");
    let broken = Leaf { cert: leaf.cert.clone(), key: ca.path("absent.key") };
    let config = IoConfig { listeners: vec![tls_listener(&broken, ClientAuth::None)], ..IoConfig::default() };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let error = runtime.block_on(async { causeway_io::Io::bind(config).err() }).expect("bind must fail");
    let text = error.to_string();
    assert!(text.contains("absent.key"), "{text}");
}
