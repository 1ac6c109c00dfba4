//! Test PKI made at test time with rcgen: one CA and one leaf for 127.0.0.1, shared by causeway's TLS
//! listener and SIPp's TLS endpoints; causeway trusts the CA for its outbound TLS connections.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};

/// PEM files written into a test dir.
pub(crate) struct TestPki {
    /// CA certificate (trust anchor).
    pub(crate) ca: PathBuf,
    /// Leaf certificate for IP 127.0.0.1 and `localhost`, signed by the CA.
    pub(crate) cert: PathBuf,
    /// The leaf's private key.
    pub(crate) key: PathBuf,
}

fn fail(what: &str, e: rcgen::Error) -> ! {
    panic!("rcgen {what}: {e}")
}

/// The test CA.
fn make_ca() -> (rcgen::Certificate, KeyPair) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| fail("ca params", e));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Causeway interop test CA");
    let ca_key = KeyPair::generate().unwrap_or_else(|e| fail("ca key", e));
    let ca = ca_params.self_signed(&ca_key).unwrap_or_else(|e| fail("ca cert", e));
    (ca, ca_key)
}

/// A CA (`dir/ca.pem`) and one leaf per `(stem, names)` (`dir/<stem>.pem`, `dir/<stem>.key`), each for its
/// DNS names and IP 127.0.0.1 (its CN the first name): certificates whose names place a node in a zone.
pub(crate) fn make_pki_for(dir: &Path, leaves: &[(&str, &[&str])]) -> (PathBuf, Vec<(PathBuf, PathBuf)>) {
    let (ca, ca_key) = make_ca();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap_or_else(|e| panic!("write {}: {e}", ca_path.display()));
    let mut out = Vec::new();
    for (stem, names) in leaves {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap_or_else(|e| fail("leaf params", e));
        params.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
        params.distinguished_name.push(DnType::CommonName, names.first().map_or("127.0.0.1", String::as_str));
        let key = KeyPair::generate().unwrap_or_else(|e| fail("leaf key", e));
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap_or_else(|e| fail("leaf cert", e));
        let (cert_path, key_path) = (dir.join(format!("{stem}.pem")), dir.join(format!("{stem}.key")));
        for (path, pem) in [(&cert_path, cert.pem()), (&key_path, key.serialize_pem())] {
            std::fs::write(path, pem).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
        out.push((cert_path, key_path));
    }
    (ca_path, out)
}

/// Make a CA and a leaf in `dir`.
pub(crate) fn make_pki(dir: &Path) -> TestPki {
    let (ca, ca_key) = make_ca();

    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_owned()]).unwrap_or_else(|e| fail("leaf params", e));
    leaf_params.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
    leaf_params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    let leaf_key = KeyPair::generate().unwrap_or_else(|e| fail("leaf key", e));
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap_or_else(|e| fail("leaf cert", e));

    let pki = TestPki { ca: dir.join("ca.pem"), cert: dir.join("leaf.pem"), key: dir.join("leaf.key") };
    for (path, pem) in [(&pki.ca, ca.pem()), (&pki.cert, leaf.pem()), (&pki.key, leaf_key.serialize_pem())] {
        std::fs::write(path, pem).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
    pki
}
