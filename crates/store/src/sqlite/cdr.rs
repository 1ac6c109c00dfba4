//! The `calls` and `legs` tables in SQLite.

use causeway_callctl::cdr::CallRecord;
use rusqlite::{params, Connection, Row, Transaction};

use super::{micros, opt_time, time};
use crate::error::StoreError;
use crate::record::{CallRow, LegRow};
use crate::{ListFrom, StoredCall};

const CALL_COLUMNS: &str = "id, call_id, calling_number, calling_name, calling_uri, called, line, anchored_user, \
     started_us, answered_us, ended_us, status, released_by, answered_leg, early_media_leg, forward_reason, forward_destination";

/// Inserts one call and its legs; returns the call's row id.
pub(super) fn insert(tx: &Transaction<'_>, record: &CallRecord) -> Result<i64, StoreError> {
    let (call, legs) = CallRow::from_record(record)?;
    tx.prepare_cached(
        "INSERT INTO calls (call_id, calling_number, calling_name, calling_uri, called, line, anchored_user, \
         started_us, answered_us, ended_us, status, released_by, answered_leg, early_media_leg, forward_reason, forward_destination) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        call.call_id,
        call.calling_number,
        call.calling_name,
        call.calling_uri,
        call.called,
        call.line,
        call.anchored_user,
        micros(call.start),
        call.answer.map(micros),
        call.end.map(micros),
        call.status,
        call.released_by,
        call.answered_leg,
        call.early_media_leg,
        call.forward_reason,
        call.forward_destination,
    ])?;
    let id = tx.last_insert_rowid();
    let mut insert_leg = tx.prepare_cached(
        "INSERT INTO legs (call, leg, position, kind, target, zone, started_us, ringing_us, answered_us, ended_us, \
         status, cause, released_by, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    for (position, leg) in (0_i64..).zip(legs) {
        insert_leg.execute(params![
            id,
            leg.leg,
            position,
            leg.kind,
            leg.target,
            leg.zone,
            micros(leg.start),
            leg.ringing.map(micros),
            leg.answer.map(micros),
            leg.end.map(micros),
            leg.status,
            leg.cause,
            leg.released_by,
            leg.reason,
        ])?;
    }
    Ok(id)
}

/// Up to `limit` calls in (start, id) order.
pub(super) fn list(conn: &mut Connection, from: ListFrom, limit: u32) -> Result<Vec<StoredCall>, StoreError> {
    let tx = conn.transaction()?;
    let calls = {
        let order = "ORDER BY started_us, id LIMIT";
        let (sql, args) = match from {
            ListFrom::Beginning => (format!("SELECT {CALL_COLUMNS} FROM calls {order} ?1"), vec![i64::from(limit)]),
            ListFrom::Since(t) => (format!("SELECT {CALL_COLUMNS} FROM calls WHERE started_us >= ?1 {order} ?2"), vec![micros(t), i64::from(limit)]),
            ListFrom::After(c) => (
                format!("SELECT {CALL_COLUMNS} FROM calls WHERE (started_us, id) > (?1, ?2) {order} ?3"),
                vec![micros(c.start), c.id, i64::from(limit)],
            ),
        };
        let mut stmt = tx.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        collect(&tx, &mut rows)?
    };
    tx.commit()?;
    Ok(calls)
}

/// Every call with this SIP Call-ID, in (start, id) order.
pub(super) fn by_call_id(conn: &mut Connection, call_id: &str) -> Result<Vec<StoredCall>, StoreError> {
    let tx = conn.transaction()?;
    let calls = {
        let mut stmt = tx.prepare_cached(&format!("SELECT {CALL_COLUMNS} FROM calls WHERE call_id = ?1 ORDER BY started_us, id"))?;
        let mut rows = stmt.query([call_id])?;
        collect(&tx, &mut rows)?
    };
    tx.commit()?;
    Ok(calls)
}

fn collect(tx: &Transaction<'_>, rows: &mut rusqlite::Rows<'_>) -> Result<Vec<StoredCall>, StoreError> {
    let mut legs = tx.prepare_cached(
        "SELECT leg, kind, target, zone, started_us, ringing_us, answered_us, ended_us, status, cause, released_by, reason \
         FROM legs WHERE call = ?1 ORDER BY position",
    )?;
    let mut calls = Vec::new();
    while let Some(row) = rows.next()? {
        let (id, call) = call_row(row)?;
        let mut leg_rows = Vec::new();
        let mut found = legs.query([id])?;
        while let Some(leg) = found.next()? {
            leg_rows.push(leg_row(leg)?);
        }
        calls.push(StoredCall { id, record: call.into_record(leg_rows)? });
    }
    Ok(calls)
}

fn call_row(row: &Row<'_>) -> Result<(i64, CallRow), StoreError> {
    let call = CallRow {
        call_id: row.get(1)?,
        calling_number: row.get(2)?,
        calling_name: row.get(3)?,
        calling_uri: row.get(4)?,
        called: row.get(5)?,
        line: row.get(6)?,
        anchored_user: row.get(7)?,
        start: time("calls.started_us", row.get(8)?)?,
        answer: opt_time("calls.answered_us", row.get(9)?)?,
        end: opt_time("calls.ended_us", row.get(10)?)?,
        status: row.get(11)?,
        released_by: row.get(12)?,
        answered_leg: row.get(13)?,
        early_media_leg: row.get(14)?,
        forward_reason: row.get(15)?,
        forward_destination: row.get(16)?,
    };
    Ok((row.get(0)?, call))
}

fn leg_row(row: &Row<'_>) -> Result<LegRow, StoreError> {
    Ok(LegRow {
        leg: row.get(0)?,
        kind: row.get(1)?,
        target: row.get(2)?,
        zone: row.get(3)?,
        start: time("legs.started_us", row.get(4)?)?,
        ringing: opt_time("legs.ringing_us", row.get(5)?)?,
        answer: opt_time("legs.answered_us", row.get(6)?)?,
        end: opt_time("legs.ended_us", row.get(7)?)?,
        status: row.get(8)?,
        cause: row.get(9)?,
        released_by: row.get(10)?,
        reason: row.get(11)?,
    })
}
