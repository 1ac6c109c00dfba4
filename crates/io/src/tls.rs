//! TLS material: PEM loading, rustls server/client configs, and the peer certificate's subject names.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::config::{ClientAuth, ClientConfig, TlsServerConfig};
use crate::error::TlsConfigError;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn open(path: &Path) -> Result<BufReader<std::fs::File>, TlsConfigError> {
    std::fs::File::open(path)
        .map(BufReader::new)
        .map_err(|source| TlsConfigError::Read { path: path.to_owned(), source })
}

/// Reads every certificate in a PEM file, in file order.
pub(crate) fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let certs = rustls_pemfile::certs(&mut open(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsConfigError::Read { path: path.to_owned(), source })?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate { path: path.to_owned() });
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    rustls_pemfile::private_key(&mut open(path)?)
        .map_err(|source| TlsConfigError::Read { path: path.to_owned(), source })?
        .ok_or_else(|| TlsConfigError::NoPrivateKey { path: path.to_owned() })
}

fn load_roots(paths: &[PathBuf]) -> Result<RootCertStore, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    for path in paths {
        for cert in load_certs(path)? {
            roots
                .add(cert)
                .map_err(|source| TlsConfigError::Rustls { path: path.clone(), source })?;
        }
    }
    Ok(roots)
}

/// Builds the rustls server config of one TLS listener, with a client verifier when mutual TLS is on.
pub(crate) fn server_config(cfg: &TlsServerConfig) -> Result<Arc<rustls::ServerConfig>, TlsConfigError> {
    let chain = load_certs(&cfg.cert_chain)?;
    let key = load_key(&cfg.private_key)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsConfigError::Versions)?;
    let builder = match &cfg.client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Required { ca_bundle } | ClientAuth::Optional { ca_bundle } => {
            let roots = Arc::new(load_roots(std::slice::from_ref(ca_bundle))?);
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider());
            let verifier = if matches!(cfg.client_auth, ClientAuth::Optional { .. }) {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier
                .build()
                .map_err(|source| TlsConfigError::ClientVerifier { path: ca_bundle.clone(), source })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|source| TlsConfigError::Rustls { path: cfg.private_key.clone(), source })?;
    Ok(Arc::new(config))
}

/// Builds the rustls client config for outbound TLS, or `None` when no roots are configured.
pub(crate) fn client_config(cfg: &ClientConfig) -> Result<Option<Arc<rustls::ClientConfig>>, TlsConfigError> {
    if cfg.tls_roots.is_empty() {
        return Ok(None);
    }
    let roots = load_roots(&cfg.tls_roots)?;
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsConfigError::Versions)?
        .with_root_certificates(roots);
    let config = match &cfg.client_cert {
        None => builder.with_no_client_auth(),
        Some(cert) => {
            let chain = load_certs(&cert.cert_chain)?;
            let key = load_key(&cert.private_key)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|source| TlsConfigError::Rustls { path: cert.private_key.clone(), source })?
        }
    };
    Ok(Some(Arc::new(config)))
}

/// The names a peer's (already verified) end-entity certificate vouches for: every SAN dNSName and URI entry,
/// then the subject CNs not already listed. The routing layer matches these against a zone's
/// `tls_verify_subject` (issue 3, item 2). A certificate that cannot be parsed yields no names, so it can never match a trusted zone.
pub(crate) fn peer_names(cert: &CertificateDer<'_>) -> Arc<[String]> {
    let Ok((_, x509)) = X509Certificate::from_der(cert.as_ref()) else {
        return Arc::from([]);
    };
    let mut names = Vec::new();
    if let Ok(Some(san)) = x509.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
                GeneralName::URI(uri) => names.push((*uri).to_owned()),
                _ => {}
            }
        }
    }
    for cn in x509.subject().iter_common_name().filter_map(|cn| cn.as_str().ok()) {
        if !names.iter().any(|name| name == cn) {
            names.push(cn.to_owned());
        }
    }
    Arc::from(names)
}
