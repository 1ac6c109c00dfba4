//! How a [`CallRecord`] (causeway-callctl's CDR) maps onto the `calls` and `legs` tables: one flat
//! row per call and per leg, the same for SQLite and PostgreSQL. Plain values get their own
//! column (so SQL can filter on them); call control's small enums are stored as their serde
//! label (`caller`, `no-answer`), and the tagged ones (`LegKind`, `EndCause`) as their serde JSON.

use causeway_callctl::cdr::{CallInfo, CallRecord, LegRecord};
use causeway_callctl::origin::CallingIdentity;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::StoreError;

/// A call as stored: the database's row id and call control's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCall {
    /// Row id: unique, assigned at write (a SIP Call-ID need not be unique across calls).
    pub id: i64,
    /// The record.
    #[serde(flatten)]
    pub record: CallRecord,
}

impl StoredCall {
    /// Where a listing that ended with this call goes on.
    pub fn cursor(&self) -> Cursor {
        Cursor { start: self.record.start, id: self.id }
    }
}

/// A position in the (start, id) order of calls, for paging through a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub(crate) start: DateTime<Utc>,
    pub(crate) id: i64,
}

/// Which calls a listing returns, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFrom {
    /// Every call.
    Beginning,
    /// Calls that started at or after this time.
    Since(DateTime<Utc>),
    /// Calls after this one (the next page).
    After(Cursor),
}

/// The `calls` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallRow {
    pub(crate) call_id: String,
    pub(crate) calling_number: Option<String>,
    pub(crate) calling_name: Option<String>,
    pub(crate) calling_uri: Option<String>,
    pub(crate) called: String,
    pub(crate) line: Option<String>,
    pub(crate) anchored_user: Option<String>,
    pub(crate) start: DateTime<Utc>,
    pub(crate) answer: Option<DateTime<Utc>>,
    pub(crate) end: Option<DateTime<Utc>>,
    pub(crate) status: Option<i64>,
    pub(crate) released_by: Option<String>,
    pub(crate) answered_leg: Option<i64>,
    pub(crate) early_media_leg: Option<i64>,
    pub(crate) forward_reason: Option<String>,
    pub(crate) forward_destination: Option<String>,
}

/// A `legs` row (without the call's row id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LegRow {
    pub(crate) leg: i64,
    pub(crate) kind: String,
    pub(crate) target: String,
    pub(crate) zone: Option<String>,
    pub(crate) start: DateTime<Utc>,
    pub(crate) ringing: Option<DateTime<Utc>>,
    pub(crate) answer: Option<DateTime<Utc>>,
    pub(crate) end: Option<DateTime<Utc>>,
    pub(crate) status: Option<i64>,
    pub(crate) cause: Option<String>,
    pub(crate) released_by: Option<String>,
    pub(crate) reason: Option<String>,
}

impl CallRow {
    /// The rows of one record.
    pub(crate) fn from_record(record: &CallRecord) -> Result<(Self, Vec<LegRow>), StoreError> {
        let (forward_reason, forward_destination) = match &record.forwarded {
            Some((reason, destination)) => (Some(encode("forward reason", reason)?), Some(destination.clone())),
            None => (None, None),
        };
        let call = Self {
            call_id: record.info.call_id.clone(),
            calling_number: record.info.calling.number.clone(),
            calling_name: record.info.calling.display_name.clone(),
            calling_uri: record.info.calling.uri.clone(),
            called: record.info.called.clone(),
            line: record.info.line.clone(),
            anchored_user: record.info.anchored_user.clone(),
            start: record.start,
            answer: record.answer,
            end: record.end,
            status: record.status.map(i64::from),
            released_by: record.released_by.as_ref().map(|p| encode("released_by", p)).transpose()?,
            answered_leg: record.answered_leg.map(i64::from),
            early_media_leg: record.early_media_leg.map(i64::from),
            forward_reason,
            forward_destination,
        };
        let legs = record.legs.iter().map(LegRow::from_record).collect::<Result<_, _>>()?;
        Ok((call, legs))
    }

    /// The record these rows hold.
    pub(crate) fn into_record(self, legs: Vec<LegRow>) -> Result<CallRecord, StoreError> {
        let forwarded = match (self.forward_reason, self.forward_destination) {
            (Some(reason), Some(destination)) => Some((decode("calls.forward_reason", &reason)?, destination)),
            (None, None) => None,
            (reason, destination) => {
                return Err(StoreError::corrupt("calls.forward_destination", format!("{reason:?} / {destination:?}")))
            }
        };
        Ok(CallRecord {
            info: CallInfo {
                call_id: self.call_id,
                calling: CallingIdentity { number: self.calling_number, display_name: self.calling_name, uri: self.calling_uri },
                called: self.called,
                line: self.line,
                anchored_user: self.anchored_user,
            },
            start: self.start,
            answer: self.answer,
            end: self.end,
            status: self.status.map(|s| narrow("calls.status", s)).transpose()?,
            released_by: self.released_by.map(|p| decode("calls.released_by", &p)).transpose()?,
            answered_leg: self.answered_leg.map(|l| narrow("calls.answered_leg", l)).transpose()?,
            early_media_leg: self.early_media_leg.map(|l| narrow("calls.early_media_leg", l)).transpose()?,
            forwarded,
            legs: legs.into_iter().map(LegRow::into_record).collect::<Result<_, _>>()?,
        })
    }
}

impl LegRow {
    fn from_record(leg: &LegRecord) -> Result<Self, StoreError> {
        Ok(Self {
            leg: i64::from(leg.leg),
            kind: encode("leg kind", &leg.kind)?,
            target: leg.target.clone(),
            zone: leg.zone.clone(),
            start: leg.start,
            ringing: leg.ringing,
            answer: leg.answer,
            end: leg.end,
            status: leg.status.map(i64::from),
            cause: leg.cause.as_ref().map(|c| encode("leg end cause", c)).transpose()?,
            released_by: leg.released_by.as_ref().map(|p| encode("leg released_by", p)).transpose()?,
            reason: leg.reason.clone(),
        })
    }

    fn into_record(self) -> Result<LegRecord, StoreError> {
        Ok(LegRecord {
            leg: narrow("legs.leg", self.leg)?,
            kind: decode("legs.kind", &self.kind)?,
            target: self.target,
            zone: self.zone,
            start: self.start,
            ringing: self.ringing,
            answer: self.answer,
            end: self.end,
            status: self.status.map(|s| narrow("legs.status", s)).transpose()?,
            cause: self.cause.map(|c| decode("legs.cause", &c)).transpose()?,
            released_by: self.released_by.map(|p| decode("legs.released_by", &p)).transpose()?,
            reason: self.reason,
        })
    }
}

/// A value's storage text: the bare label for a unit enum (`caller`), the JSON otherwise.
pub(crate) fn encode<T: Serialize>(what: &'static str, value: &T) -> Result<String, StoreError> {
    match serde_json::to_value(value) {
        Ok(Value::String(label)) => Ok(label),
        Ok(other) => Ok(other.to_string()),
        Err(e) => Err(StoreError::Encode { what, error: std::sync::Arc::new(e) }),
    }
}

/// The inverse of [`encode`].
pub(crate) fn decode<T: DeserializeOwned>(column: &'static str, text: &str) -> Result<T, StoreError> {
    let value = if text.starts_with(['{', '[']) { serde_json::from_str(text) } else { Ok(Value::String(text.to_owned())) };
    value.and_then(serde_json::from_value).map_err(|_| StoreError::corrupt(column, text))
}

fn narrow<T: TryFrom<i64>>(column: &'static str, value: i64) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::corrupt(column, value))
}

#[cfg(test)]
mod tests {
    use causeway_callctl::cdr::{EndCause, Party};
    use causeway_callctl::directory::ReachKind;
    use causeway_callctl::fork::LegKind;
    use causeway_callctl::snr::CancelReason;

    use super::*;

    #[test]
    fn labels_and_tagged_values() {
        assert_eq!(encode("p", &Party::System).expect("label"), "system");
        assert_eq!(decode::<Party>("c", "caller").expect("decode"), Party::Caller);
        let kind = LegKind::Remote { user: "bob".to_owned(), name: "mobile".to_owned(), reach: ReachKind::AssociatedIdentity };
        let stored = encode("k", &kind).expect("JSON");
        assert!(stored.starts_with('{'), "{stored}");
        assert_eq!(decode::<LegKind>("k", &stored).expect("decode"), kind);
        let cause = EndCause::Cancelled(CancelReason::AnswerTooLate);
        assert_eq!(decode::<EndCause>("c", &encode("c", &cause).expect("JSON")).expect("decode"), cause);
        assert_eq!(decode::<EndCause>("c", &encode("c", &EndCause::Rejected).expect("JSON")).expect("unit"), EndCause::Rejected);
    }

    #[test]
    fn unknown_values_name_their_column() {
        match decode::<Party>("calls.released_by", "the-cat") {
            Err(StoreError::Corrupt { column, value }) => assert_eq!((column, value.as_str()), ("calls.released_by", "the-cat")),
            other => panic!("expected Corrupt, got {other:?}"),
        }
        assert!(matches!(decode::<LegKind>("legs.kind", "{\"kind\":"), Err(StoreError::Corrupt { column: "legs.kind", .. })));
    }

    fn row() -> CallRow {
        CallRow {
            call_id: "a@b".to_owned(),
            calling_number: None,
            calling_name: None,
            calling_uri: None,
            called: "1002".to_owned(),
            line: None,
            anchored_user: None,
            start: DateTime::UNIX_EPOCH,
            answer: None,
            end: None,
            status: Some(486),
            released_by: None,
            answered_leg: None,
            early_media_leg: None,
            forward_reason: None,
            forward_destination: None,
        }
    }

    #[test]
    fn impossible_rows_are_refused() {
        let half_forward = CallRow { forward_reason: Some("busy".to_owned()), ..row() };
        assert!(matches!(half_forward.into_record(Vec::new()), Err(StoreError::Corrupt { column: "calls.forward_destination", .. })));
        let huge_status = CallRow { status: Some(70_000), ..row() };
        assert!(matches!(huge_status.into_record(Vec::new()), Err(StoreError::Corrupt { column: "calls.status", .. })));
        let record = row().into_record(Vec::new()).expect("plain row");
        assert_eq!(CallRow::from_record(&record).expect("rows"), (row(), Vec::new()));
    }
}
