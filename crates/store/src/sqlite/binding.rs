//! The `bindings` table in SQLite.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Transaction};

use super::{micros, time};
use crate::binding::{check_unique, Binding, BindingRow};
use crate::error::StoreError;

/// The AOR's bindings become `bindings` (those still unexpired at `now`); expired bindings of
/// every AOR go too. Returns how many the AOR now has.
pub(super) fn replace(tx: &Transaction<'_>, aor: &str, bindings: &[Binding], now: DateTime<Utc>) -> Result<i64, StoreError> {
    check_unique(aor, bindings)?;
    tx.prepare_cached("DELETE FROM bindings WHERE aor = ?1 OR expires_us <= ?2")?.execute(params![aor, micros(now)])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO bindings (aor, contact, expires_us, q, call_id, cseq, instance_id, reg_id, path, transport, source, local) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut kept = 0;
    for b in bindings.iter().filter(|b| b.expires > now) {
        let row = BindingRow::from_binding(b)?;
        insert.execute(params![
            aor,
            row.contact,
            micros(row.expires),
            row.q,
            row.call_id,
            row.cseq,
            row.instance_id,
            row.reg_id,
            row.path,
            row.transport,
            row.source,
            row.local,
        ])?;
        kept += 1;
    }
    Ok(kept)
}

/// Deletes every binding expired at `now`; returns how many.
pub(super) fn purge(tx: &Transaction<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let gone = tx.prepare_cached("DELETE FROM bindings WHERE expires_us <= ?1")?.execute([micros(now)])?;
    Ok(i64::try_from(gone).unwrap_or(i64::MAX))
}

/// Unexpired bindings of one AOR, or of all (ordered by AOR, then contact).
pub(super) fn lookup(conn: &mut Connection, aor: Option<&str>, now: DateTime<Utc>) -> Result<Vec<(String, Binding)>, StoreError> {
    let columns = "aor, contact, expires_us, q, call_id, cseq, instance_id, reg_id, path, transport, source, local";
    let mut stmt = match aor {
        Some(_) => conn.prepare_cached(&format!(
            "SELECT {columns} FROM bindings WHERE aor = ?2 AND expires_us > ?1 ORDER BY contact"
        ))?,
        None => conn.prepare_cached(&format!("SELECT {columns} FROM bindings WHERE expires_us > ?1 ORDER BY aor, contact"))?,
    };
    let mut rows = match aor {
        Some(aor) => stmt.query(params![micros(now), aor])?,
        None => stmt.query([micros(now)])?,
    };
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        let binding = BindingRow {
            contact: row.get(1)?,
            expires: time("bindings.expires_us", row.get(2)?)?,
            q: row.get(3)?,
            call_id: row.get(4)?,
            cseq: row.get(5)?,
            instance_id: row.get(6)?,
            reg_id: row.get(7)?,
            path: row.get(8)?,
            transport: row.get(9)?,
            source: row.get(10)?,
            local: row.get(11)?,
        };
        found.push((row.get(0)?, binding.into_binding()?));
    }
    Ok(found)
}
