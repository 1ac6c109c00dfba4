//! The `calls` and `legs` tables in PostgreSQL.

use std::collections::HashMap;

use causeway_callctl::cdr::CallRecord;
use chrono::{DateTime, Utc};
use tokio_postgres::{Client, Row, Transaction};

use super::Statements;
use crate::error::StoreError;
use crate::record::{CallRow, LegRow};
use crate::{ListFrom, StoredCall};

/// A call and all its legs in one statement (data-modifying CTEs; legs passed as column arrays),
/// so the writer can pipeline a batch of calls without waiting for each row id.
pub(super) const INSERT_CALL: &str = "WITH c AS (\
         INSERT INTO calls (call_id, calling_number, calling_name, calling_uri, called, line, anchored_user, started, \
         answered, ended, status, released_by, answered_leg, early_media_leg, forward_reason, forward_destination) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id\
     ), l AS (\
         INSERT INTO legs (call, leg, position, kind, target, zone, started, ringing, answered, ended, status, cause, \
         released_by, reason) \
         SELECT c.id, l.leg, l.position, l.kind, l.target, l.zone, l.started, l.ringing, l.answered, l.ended, l.status, \
         l.cause, l.released_by, l.reason \
         FROM c, UNNEST($17::BIGINT[], $18::BIGINT[], $19::TEXT[], $20::TEXT[], $21::TEXT[], $22::TIMESTAMPTZ[], \
         $23::TIMESTAMPTZ[], $24::TIMESTAMPTZ[], $25::TIMESTAMPTZ[], $26::BIGINT[], $27::TEXT[], $28::TEXT[], $29::TEXT[]) \
         AS l(leg, position, kind, target, zone, started, ringing, answered, ended, status, cause, released_by, reason)\
     ) SELECT id FROM c";

const CALL_COLUMNS: &str = "id, call_id, calling_number, calling_name, calling_uri, called, line, anchored_user, \
     started, answered, ended, status, released_by, answered_leg, early_media_leg, forward_reason, forward_destination";

/// Inserts one call and its legs (one statement); returns the call's row id.
pub(super) async fn insert(tx: &Transaction<'_>, statements: &Statements, record: &CallRecord) -> Result<i64, StoreError> {
    let (c, legs) = CallRow::from_record(record)?;
    let column = |f: fn(&LegRow) -> Option<String>| legs.iter().map(f).collect::<Vec<_>>();
    let time = |f: fn(&LegRow) -> Option<DateTime<Utc>>| legs.iter().map(f).collect::<Vec<_>>();
    let leg: Vec<i64> = legs.iter().map(|l| l.leg).collect();
    let position: Vec<i64> = (0_i64..).take(legs.len()).collect();
    let kind = column(|l| Some(l.kind.clone()));
    let target = column(|l| Some(l.target.clone()));
    let zone = column(|l| l.zone.clone());
    let started = time(|l| Some(l.start));
    let ringing = time(|l| l.ringing);
    let answered = time(|l| l.answer);
    let ended = time(|l| l.end);
    let status: Vec<Option<i64>> = legs.iter().map(|l| l.status).collect();
    let cause = column(|l| l.cause.clone());
    let released_by = column(|l| l.released_by.clone());
    let reason = column(|l| l.reason.clone());
    let row = tx
        .query_one(
            &statements.insert_call,
            &[
                &c.call_id,
                &c.calling_number,
                &c.calling_name,
                &c.calling_uri,
                &c.called,
                &c.line,
                &c.anchored_user,
                &c.start,
                &c.answer,
                &c.end,
                &c.status,
                &c.released_by,
                &c.answered_leg,
                &c.early_media_leg,
                &c.forward_reason,
                &c.forward_destination,
                &leg,
                &position,
                &kind,
                &target,
                &zone,
                &started,
                &ringing,
                &answered,
                &ended,
                &status,
                &cause,
                &released_by,
                &reason,
            ],
        )
        .await?;
    Ok(row.try_get(0)?)
}

/// Up to `limit` calls in (start, id) order.
pub(super) async fn list(client: &Client, from: ListFrom, limit: u32) -> Result<Vec<StoredCall>, StoreError> {
    let limit = i64::from(limit);
    let order = "ORDER BY started, id LIMIT";
    let rows = match from {
        ListFrom::Beginning => client.query(&format!("SELECT {CALL_COLUMNS} FROM calls {order} $1"), &[&limit]).await?,
        ListFrom::Since(t) => client.query(&format!("SELECT {CALL_COLUMNS} FROM calls WHERE started >= $1 {order} $2"), &[&t, &limit]).await?,
        ListFrom::After(c) => {
            let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE (started, id) > ($1, $2) {order} $3");
            client.query(&sql, &[&c.start, &c.id, &limit]).await?
        }
    };
    collect(client, &rows).await
}

/// Every call with this SIP Call-ID, in (start, id) order.
pub(super) async fn by_call_id(client: &Client, call_id: &str) -> Result<Vec<StoredCall>, StoreError> {
    let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE call_id = $1 ORDER BY started, id");
    let rows = client.query(&sql, &[&call_id]).await?;
    collect(client, &rows).await
}

/// The calls of `rows` with their legs (read in one query). A call row is committed together
/// with its legs, so every leg of a call seen here is visible too.
async fn collect(client: &Client, rows: &[Row]) -> Result<Vec<StoredCall>, StoreError> {
    let calls = rows.iter().map(call_row).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<i64> = calls.iter().map(|(id, _)| *id).collect();
    let leg_rows = client
        .query(
            "SELECT call, leg, kind, target, zone, started, ringing, answered, ended, status, cause, released_by, reason \
             FROM legs WHERE call = ANY($1) ORDER BY call, position",
            &[&ids],
        )
        .await?;
    let mut legs: HashMap<i64, Vec<LegRow>> = HashMap::with_capacity(calls.len());
    for row in &leg_rows {
        legs.entry(row.try_get(0)?).or_default().push(leg_row(row)?);
    }
    calls
        .into_iter()
        .map(|(id, call)| Ok(StoredCall { id, record: call.into_record(legs.remove(&id).unwrap_or_default())? }))
        .collect()
}

fn call_row(row: &Row) -> Result<(i64, CallRow), StoreError> {
    let call = CallRow {
        call_id: row.try_get(1)?,
        calling_number: row.try_get(2)?,
        calling_name: row.try_get(3)?,
        calling_uri: row.try_get(4)?,
        called: row.try_get(5)?,
        line: row.try_get(6)?,
        anchored_user: row.try_get(7)?,
        start: row.try_get(8)?,
        answer: row.try_get(9)?,
        end: row.try_get(10)?,
        status: row.try_get(11)?,
        released_by: row.try_get(12)?,
        answered_leg: row.try_get(13)?,
        early_media_leg: row.try_get(14)?,
        forward_reason: row.try_get(15)?,
        forward_destination: row.try_get(16)?,
    };
    Ok((row.try_get(0)?, call))
}

fn leg_row(row: &Row) -> Result<LegRow, StoreError> {
    Ok(LegRow {
        leg: row.try_get(1)?,
        kind: row.try_get(2)?,
        target: row.try_get(3)?,
        zone: row.try_get(4)?,
        start: row.try_get(5)?,
        ringing: row.try_get(6)?,
        answer: row.try_get(7)?,
        end: row.try_get(8)?,
        status: row.try_get(9)?,
        cause: row.try_get(10)?,
        released_by: row.try_get(11)?,
        reason: row.try_get(12)?,
    })
}
