//! The `dual_ring_overrides` table in SQLite.

use rusqlite::{params, Connection, Transaction};

use crate::error::StoreError;

/// The overrides become `overrides` (a user named twice: the last wins); returns how many.
pub(super) fn replace(tx: &Transaction<'_>, overrides: &[(String, bool)]) -> Result<i64, StoreError> {
    tx.prepare_cached("DELETE FROM dual_ring_overrides")?.execute([])?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO dual_ring_overrides (userid, dual_ring) VALUES (?1, ?2) \
         ON CONFLICT (userid) DO UPDATE SET dual_ring = excluded.dual_ring",
    )?;
    for (userid, on) in overrides {
        upsert.execute(params![userid, on])?;
    }
    let kept: i64 = tx.query_row("SELECT COUNT(*) FROM dual_ring_overrides", [], |row| row.get(0))?;
    Ok(kept)
}

/// Every override, ordered by user id.
pub(super) fn overrides(conn: &mut Connection) -> Result<Vec<(String, bool)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT userid, dual_ring FROM dual_ring_overrides ORDER BY userid")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
