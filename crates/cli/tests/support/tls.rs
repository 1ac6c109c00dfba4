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

/// Make a CA and a leaf in `dir`.
pub(crate) fn make_pki(dir: &Path) -> TestPki {
    let fail = |what: &str, e: rcgen::Error| -> ! { panic!("rcgen {what}: {e}") };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| fail("ca params", e));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Causeway interop test CA");
    let ca_key = KeyPair::generate().unwrap_or_else(|e| fail("ca key", e));
    let ca = ca_params.self_signed(&ca_key).unwrap_or_else(|e| fail("ca cert", e));

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
