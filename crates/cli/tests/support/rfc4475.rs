//! The RFC 4475 torture messages and the RFC's verdict on each, from `testdata/rfc4475/MANIFEST.tsv`.

use std::path::PathBuf;

/// One manifest row.
pub(crate) struct TortureMessage {
    /// Path of the `.dat` file.
    pub(crate) path: PathBuf,
    /// `valid`, `invalid` or `valid-but-semantically-wrong`.
    pub(crate) expected: String,
}

impl TortureMessage {
    /// Whether a parser must accept it: `valid` and `valid-but-semantically-wrong` are well formed.
    pub(crate) fn well_formed(&self) -> bool {
        self.expected != "invalid"
    }
}

/// Every row of the manifest (the header line skipped).
pub(crate) fn manifest() -> Vec<TortureMessage> {
    let dir = super::repo_root().join("testdata/rfc4475");
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv"))
        .unwrap_or_else(|e| panic!("testdata/rfc4475/MANIFEST.tsv: {e}"));
    let rows: Vec<TortureMessage> = text
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut columns = line.split('\t');
            let (Some(file), Some(_section), Some(expected)) = (columns.next(), columns.next(), columns.next()) else {
                panic!("bad manifest line: {line}");
            };
            TortureMessage { path: dir.join(file), expected: expected.to_owned() }
        })
        .collect();
    assert_eq!(rows.len(), 49, "RFC 4475 has 49 scored messages");
    rows
}
