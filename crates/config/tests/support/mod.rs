//! Shared helpers for the config tests: temporary directories with real PEM files.

use std::path::Path;

/// Write a self-signed certificate for 127.0.0.1 and its key as `<stem>.pem` and `<stem>.key` under `dir`.
pub(crate) fn write_cert(dir: &Path, stem: &str) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "edge.example.com".to_owned()])
        .unwrap_or_else(|e| panic!("rcgen: {e}"));
    write(&dir.join(format!("{stem}.pem")), &cert.cert.pem());
    write(&dir.join(format!("{stem}.key")), &cert.key_pair.serialize_pem());
}

/// Write `text` to `path`, creating parent directories.
pub(crate) fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A fresh temporary directory.
pub(crate) fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}
