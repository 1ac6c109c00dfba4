//! Embedded, versioned schema migrations. Each backend keeps its own SQL (the dialects differ)
//! under `migrations/<backend>/NNNN_name.sql`, with the same version numbers. At open, the
//! backend reads the highest version in `schema_migrations`, applies the newer ones in order, each
//! in the same transaction as its `schema_migrations` row (so a crash leaves a migration either
//! applied and recorded or neither), and refuses a database some newer build has migrated.

use crate::error::StoreError;

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// Version: 1, 2, … with no gaps.
    pub(crate) version: i64,
    /// What it does, recorded next to the version.
    pub(crate) name: &'static str,
    /// The statements.
    pub(crate) sql: &'static str,
}

/// SQLite's migrations.
pub(crate) const SQLITE: &[Migration] = &[
    Migration { version: 1, name: "cdr and bindings", sql: include_str!("../migrations/sqlite/0001_cdr_and_bindings.sql") },
    Migration { version: 2, name: "dual ring overrides", sql: include_str!("../migrations/sqlite/0002_dual_ring_overrides.sql") },
];

/// PostgreSQL's migrations.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: &[Migration] = &[
    Migration { version: 1, name: "cdr and bindings", sql: include_str!("../migrations/postgres/0001_cdr_and_bindings.sql") },
    Migration { version: 2, name: "dual ring overrides", sql: include_str!("../migrations/postgres/0002_dual_ring_overrides.sql") },
];

/// The migrations a database at version `applied` still needs.
pub(crate) fn pending(list: &'static [Migration], applied: i64) -> Result<&'static [Migration], StoreError> {
    let known = list.last().map_or(0, |m| m.version);
    if applied > known {
        return Err(StoreError::SchemaTooNew { found: applied, known });
    }
    Ok(list.iter().position(|m| m.version > applied).map_or(&[][..], |first| list.get(first..).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered_from_one(list: &[Migration]) {
        for (i, m) in list.iter().enumerate() {
            assert_eq!(m.version, i64::try_from(i).expect("small") + 1, "{} is out of sequence", m.name);
            assert!(!m.sql.trim().is_empty());
        }
    }

    #[test]
    fn versions_are_sequential() {
        numbered_from_one(SQLITE);
        #[cfg(feature = "postgres")]
        {
            numbered_from_one(POSTGRES);
            assert_eq!(SQLITE.len(), POSTGRES.len(), "both backends are at the same schema version");
        }
    }

    #[test]
    fn pending_steps() {
        assert_eq!(pending(SQLITE, 0).expect("fresh").len(), SQLITE.len());
        assert!(pending(SQLITE, SQLITE.len() as i64).expect("current").is_empty());
        let from_one = pending(SQLITE, 1).expect("upgrade from 1");
        assert_eq!(from_one.first().map(|m| m.version), Some(2));
        assert!(matches!(pending(SQLITE, 99), Err(StoreError::SchemaTooNew { found: 99, .. })));
    }
}
