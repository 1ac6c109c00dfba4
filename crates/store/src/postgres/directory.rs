//! The `dual_ring_overrides` table in PostgreSQL.

use tokio_postgres::{Client, Transaction};

use super::Statements;
use crate::error::StoreError;

pub(super) const CLEAR: &str = "DELETE FROM dual_ring_overrides";

pub(super) const UPSERT: &str = "INSERT INTO dual_ring_overrides (userid, dual_ring) VALUES ($1, $2) \
     ON CONFLICT (userid) DO UPDATE SET dual_ring = excluded.dual_ring";

/// The overrides become `overrides` (a user named twice: the last wins); returns how many.
pub(super) async fn replace(tx: &Transaction<'_>, statements: &Statements, overrides: &[(String, bool)]) -> Result<i64, StoreError> {
    tx.execute(&statements.clear_dual_ring, &[]).await?;
    for (userid, on) in overrides {
        tx.execute(&statements.upsert_dual_ring, &[userid, on]).await?;
    }
    Ok(tx.query_one("SELECT COUNT(*) FROM dual_ring_overrides", &[]).await?.try_get(0)?)
}

/// Every override, ordered by user id.
pub(super) async fn overrides(client: &Client) -> Result<Vec<(String, bool)>, StoreError> {
    let rows = client.query("SELECT userid, dual_ring FROM dual_ring_overrides ORDER BY userid COLLATE \"C\"", &[]).await?;
    rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
}
