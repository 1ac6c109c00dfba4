//! Listing and export formats for `causeway cdr`: CSV (RFC 4180, one line per leg with the call's
//! columns repeated), JSON (one array of calls with their legs) and a text summary. Each writer
//! takes calls one at a time, so [`each_call`] can stream a database of any size through it in
//! pages with bounded memory.

use std::io::Write;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::error::StoreError;
use crate::record::{CallRow, LegRow, ListFrom, StoredCall};
use crate::store::CdrStore;

/// Calls read per query by [`each_call`].
pub const PAGE: u32 = 500;

/// Calls `sink` with every call from `from` on, oldest first, reading [`PAGE`] at a time.
/// Returns how many calls there were.
pub async fn each_call<S: CdrStore>(
    store: &S,
    from: ListFrom,
    mut sink: impl FnMut(&StoredCall) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let mut from = from;
    let mut count = 0;
    loop {
        let page = store.calls(from, PAGE).await?;
        for call in &page {
            sink(call)?;
            count += 1;
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => from = ListFrom::After(last.cursor()),
            _ => return Ok(count),
        }
    }
}

/// The CSV header, in column order.
pub const CSV_COLUMNS: [&str; 29] = [
    "id",
    "call_id",
    "calling_number",
    "calling_name",
    "calling_uri",
    "called",
    "line",
    "anchored_user",
    "call_start",
    "call_answer",
    "call_end",
    "call_status",
    "call_released_by",
    "answered_leg",
    "early_media_leg",
    "forward_reason",
    "forward_destination",
    "leg",
    "leg_kind",
    "leg_target",
    "leg_zone",
    "leg_start",
    "leg_ringing",
    "leg_answer",
    "leg_end",
    "leg_status",
    "leg_cause",
    "leg_released_by",
    "leg_reason",
];

/// RFC 4180 CSV: a header line, then one line per leg (a call without legs gets one line with
/// empty leg columns). Lines end with CRLF (§2.1); a field holding a comma, a double quote, CR
/// or LF is enclosed in double quotes with inner quotes doubled (§2.6, §2.7). Times are
/// RFC 3339 UTC with microseconds; `leg_kind` and `leg_cause` are call control's JSON.
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    out: W,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the header.
    pub fn new(mut out: W) -> Result<Self, StoreError> {
        line(&mut out, CSV_COLUMNS.iter().copied())?;
        Ok(Self { out })
    }

    /// Writes one call's lines.
    pub fn write(&mut self, call: &StoredCall) -> Result<(), StoreError> {
        let (c, legs) = CallRow::from_record(&call.record)?;
        let call_fields = [
            call.id.to_string(),
            c.call_id,
            text(c.calling_number),
            text(c.calling_name),
            text(c.calling_uri),
            c.called,
            text(c.line),
            text(c.anchored_user),
            rfc3339(c.start),
            c.answer.map(rfc3339).unwrap_or_default(),
            c.end.map(rfc3339).unwrap_or_default(),
            number(c.status),
            text(c.released_by),
            number(c.answered_leg),
            number(c.early_media_leg),
            text(c.forward_reason),
            text(c.forward_destination),
        ];
        if legs.is_empty() {
            return line(&mut self.out, call_fields.iter().map(String::as_str).chain([""; 12]));
        }
        for l in legs {
            let leg_fields = leg_fields(l);
            line(&mut self.out, call_fields.iter().chain(&leg_fields).map(String::as_str))?;
        }
        Ok(())
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> Result<W, StoreError> {
        self.out.flush().map_err(export)?;
        Ok(self.out)
    }
}

fn leg_fields(l: LegRow) -> [String; 12] {
    [
        l.leg.to_string(),
        l.kind,
        l.target,
        text(l.zone),
        rfc3339(l.start),
        l.ringing.map(rfc3339).unwrap_or_default(),
        l.answer.map(rfc3339).unwrap_or_default(),
        l.end.map(rfc3339).unwrap_or_default(),
        number(l.status),
        text(l.cause),
        text(l.released_by),
        text(l.reason),
    ]
}

fn line<'a>(out: &mut impl Write, fields: impl IntoIterator<Item = &'a str>) -> Result<(), StoreError> {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",").map_err(export)?;
        }
        if field.contains([',', '"', '\r', '\n']) {
            write!(out, "\"{}\"", field.replace('"', "\"\"")).map_err(export)?;
        } else {
            out.write_all(field.as_bytes()).map_err(export)?;
        }
    }
    out.write_all(b"\r\n").map_err(export)
}

/// A JSON array of calls, one per line, each with its legs (the [`StoredCall`] serde shape).
#[derive(Debug)]
pub struct JsonWriter<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> JsonWriter<W> {
    /// Opens the array.
    pub fn new(mut out: W) -> Result<Self, StoreError> {
        out.write_all(b"[").map_err(export)?;
        Ok(Self { out, written: 0 })
    }

    /// Writes one call.
    pub fn write(&mut self, call: &StoredCall) -> Result<(), StoreError> {
        self.out.write_all(if self.written == 0 { b"\n" } else { b",\n" }).map_err(export)?;
        serde_json::to_writer(&mut self.out, call).map_err(|e| StoreError::Encode { what: "call", error: Arc::new(e) })?;
        self.written += 1;
        Ok(())
    }

    /// Closes the array, flushes and returns the output.
    pub fn finish(mut self) -> Result<W, StoreError> {
        self.out.write_all(b"\n]\n").map_err(export)?;
        self.out.flush().map_err(export)?;
        Ok(self.out)
    }
}

/// A summary for people: a line per call, an indented line per leg with times relative to the
/// call's start.
#[derive(Debug)]
pub struct TextWriter<W: Write> {
    out: W,
}

impl<W: Write> TextWriter<W> {
    /// A writer.
    pub fn new(out: W) -> Self {
        Self { out }
    }

    /// Writes one call. Control characters from the record (a display name may hold CR LF or a
    /// terminal escape) are shown escaped, never sent to the terminal.
    pub fn write(&mut self, call: &StoredCall) -> Result<(), StoreError> {
        let r = &call.record;
        let calling = [&r.info.calling.display_name, &r.info.calling.number, &r.info.calling.uri]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        let (c, legs) = CallRow::from_record(r)?;
        let mut line = format!(
            "#{} {} {} -> {}  status {}  released by {}  duration {}  call-id {}",
            call.id,
            rfc3339(r.start),
            if calling.is_empty() { "(anonymous)" } else { &calling },
            r.info.called,
            number(c.status),
            c.released_by.as_deref().unwrap_or("-"),
            since(r.start, r.end),
            r.info.call_id,
        );
        if let (Some(reason), Some(to)) = (&c.forward_reason, &c.forward_destination) {
            line.push_str(&format!("  forwarded ({reason}) to {to}"));
        }
        self.line(&line)?;
        for (leg, l) in r.legs.iter().zip(legs) {
            let mark = if r.answered_leg == Some(leg.leg) { "*" } else { " " };
            self.line(&format!(
                "  {mark}leg {} {} {}{}  start {}  ringing {}  answer {}  end {}  status {}  {} by {}{}",
                l.leg,
                describe(&l.kind),
                l.target,
                l.zone.map(|z| format!(" via {z}")).unwrap_or_default(),
                since(r.start, Some(l.start)),
                since(r.start, l.ringing),
                since(r.start, l.answer),
                since(r.start, l.end),
                number(l.status),
                l.cause.as_deref().map_or_else(|| "-".to_owned(), describe),
                l.released_by.as_deref().unwrap_or("-"),
                l.reason.map(|reason| format!("  Reason: {reason}")).unwrap_or_default(),
            ))?;
        }
        Ok(())
    }

    fn line(&mut self, line: &str) -> Result<(), StoreError> {
        let shown: String = line.chars().flat_map(|c| if c.is_control() { c.escape_default().collect() } else { vec![c] }).collect();
        writeln!(self.out, "{shown}").map_err(export)
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> Result<W, StoreError> {
        self.out.flush().map_err(export)?;
        Ok(self.out)
    }
}

/// `{"kind":"remote","user":"bob"}` → `remote(user=bob)`; a bare label stays as it is.
fn describe(stored: &str) -> String {
    match serde_json::from_str::<Value>(stored) {
        Ok(Value::Object(fields)) => {
            let mut tag = String::new();
            let mut rest = Vec::new();
            for (key, value) in fields {
                let value = match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                if tag.is_empty() && (key == "kind" || key == "cause") {
                    tag = value;
                } else {
                    rest.push(format!("{key}={value}"));
                }
            }
            if rest.is_empty() {
                tag
            } else {
                format!("{tag}({})", rest.join(" "))
            }
        }
        _ => stored.to_owned(),
    }
}

fn since(start: DateTime<Utc>, at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), |at| format!("+{:.3}s", (at - start).as_seconds_f64()))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn text(value: Option<String>) -> String {
    value.unwrap_or_default()
}

fn number(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn export(error: std::io::Error) -> StoreError {
    StoreError::Export(Arc::new(error))
}

#[cfg(test)]
mod tests {
    use causeway_callctl::cdr::{CallInfo, CallRecord};
    use causeway_callctl::origin::CallingIdentity;

    use super::*;

    #[test]
    fn csv_fields_are_quoted_as_rfc_4180_says() {
        let mut out = Vec::new();
        line(&mut out, ["plain", "a,b", "say \"hi\"", "two\r\nlines", "", "sip:x@y;lr"]).expect("write");
        assert_eq!(String::from_utf8(out).expect("utf-8"), "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",,sip:x@y;lr\r\n");
    }

    fn hostile_call() -> StoredCall {
        let calling = CallingIdentity { display_name: Some("\u{1b}[2Jevil\r\nline".to_owned()), ..CallingIdentity::default() };
        let info = CallInfo { call_id: "c@h".to_owned(), calling, called: "1002".to_owned(), ..CallInfo::default() };
        let record = CallRecord {
            info,
            start: DateTime::UNIX_EPOCH,
            answer: None,
            end: None,
            status: None,
            released_by: None,
            answered_leg: None,
            early_media_leg: None,
            forwarded: None,
            legs: Vec::new(),
        };
        StoredCall { id: 9, record }
    }

    #[test]
    fn text_never_sends_control_characters() {
        let mut text = TextWriter::new(Vec::new());
        text.write(&hostile_call()).expect("write");
        let shown = String::from_utf8(text.finish().expect("finish")).expect("utf-8");
        assert_eq!(shown.matches('\n').count(), 1, "{shown}");
        assert!(!shown.contains('\u{1b}') && !shown.contains('\r'), "{shown}");
        assert!(shown.contains("\\u{1b}[2Jevil\\r\\nline"), "{shown}");
    }

    #[test]
    fn json_is_one_array() {
        let empty = JsonWriter::new(Vec::new()).expect("open").finish().expect("close");
        assert_eq!(serde_json::from_slice::<Value>(&empty).expect("JSON"), Value::Array(Vec::new()));
        let mut json = JsonWriter::new(Vec::new()).expect("open");
        json.write(&hostile_call()).expect("first");
        json.write(&hostile_call()).expect("second");
        let parsed: Value = serde_json::from_slice(&json.finish().expect("close")).expect("JSON");
        assert_eq!(parsed.as_array().map(Vec::len), Some(2));
        assert_eq!(parsed.pointer("/0/id"), Some(&Value::from(9)));
    }

    #[test]
    fn a_call_without_legs_is_one_csv_line() {
        let mut csv = CsvWriter::new(Vec::new()).expect("header");
        csv.write(&hostile_call()).expect("write");
        let out = String::from_utf8(csv.finish().expect("finish")).expect("utf-8");
        let expected_tail = format!("1002,,,1970-01-01T00:00:00.000000Z{}\r\n", ",".repeat(CSV_COLUMNS.len() - 9));
        assert!(out.ends_with(&expected_tail), "{out:?}");
    }

    #[test]
    fn described_values() {
        assert_eq!(describe("{\"kind\":\"remote\",\"user\":\"bob\",\"name\":\"m\"}"), "remote(name=m user=bob)");
        assert_eq!(describe("{\"cause\":\"rejected\"}"), "rejected");
        assert_eq!(describe("caller"), "caller");
    }
}
