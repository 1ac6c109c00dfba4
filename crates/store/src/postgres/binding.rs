//! The `bindings` table in PostgreSQL.

use chrono::{DateTime, Utc};
use tokio_postgres::{Client, Transaction};

use super::Statements;
use crate::binding::{check_unique, Binding, BindingRow};
use crate::error::StoreError;

pub(super) const CLEAR: &str = "DELETE FROM bindings WHERE aor = $1 OR expires <= $2";

pub(super) const INSERT: &str = "INSERT INTO bindings (aor, contact, expires, q, call_id, cseq, instance_id, reg_id, path, \
     transport, source, local) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

pub(super) const PURGE: &str = "DELETE FROM bindings WHERE expires <= $1";

/// The AOR's bindings become `bindings` (those still unexpired at `now`); expired bindings of
/// every AOR go too. Returns how many the AOR now has.
pub(super) async fn replace(
    tx: &Transaction<'_>,
    statements: &Statements,
    aor: &str,
    bindings: &[Binding],
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    check_unique(aor, bindings)?;
    tx.execute(&statements.clear_bindings, &[&aor, &now]).await?;
    let mut kept = 0;
    for b in bindings.iter().filter(|b| b.expires > now) {
        let r = BindingRow::from_binding(b)?;
        tx.execute(
            &statements.insert_binding,
            &[&aor, &r.contact, &r.expires, &r.q, &r.call_id, &r.cseq, &r.instance_id, &r.reg_id, &r.path, &r.transport, &r.source, &r.local],
        )
        .await?;
        kept += 1;
    }
    Ok(kept)
}

/// Deletes every binding expired at `now`; returns how many.
pub(super) async fn purge(tx: &Transaction<'_>, statements: &Statements, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let gone = tx.execute(&statements.purge_bindings, &[&now]).await?;
    Ok(i64::try_from(gone).unwrap_or(i64::MAX))
}

/// Unexpired bindings of one AOR, or of all (ordered by AOR, then contact).
pub(super) async fn lookup(client: &Client, aor: Option<&str>, now: DateTime<Utc>) -> Result<Vec<(String, Binding)>, StoreError> {
    let columns = "aor, contact, expires, q, call_id, cseq, instance_id, reg_id, path, transport, source, local";
    let rows = match aor {
        Some(aor) => {
            let sql = format!("SELECT {columns} FROM bindings WHERE aor = $1 AND expires > $2 ORDER BY contact COLLATE \"C\"");
            client.query(&sql, &[&aor, &now]).await?
        }
        None => {
            let sql = format!("SELECT {columns} FROM bindings WHERE expires > $1 ORDER BY aor COLLATE \"C\", contact COLLATE \"C\"");
            client.query(&sql, &[&now]).await?
        }
    };
    rows.iter()
        .map(|row| {
            let binding = BindingRow {
                contact: row.try_get(1)?,
                expires: row.try_get(2)?,
                q: row.try_get(3)?,
                call_id: row.try_get(4)?,
                cseq: row.try_get(5)?,
                instance_id: row.try_get(6)?,
                reg_id: row.try_get(7)?,
                path: row.try_get(8)?,
                transport: row.try_get(9)?,
                source: row.try_get(10)?,
                local: row.try_get(11)?,
            };
            Ok((row.try_get(0)?, binding.into_binding()?))
        })
        .collect()
}
