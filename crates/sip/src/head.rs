//! The header-section line walker shared by [`crate::framing`] and [`crate::Message`]:
//! one pass over CRLF-terminated lines, joining folded continuation lines (RFC 3261 §7.3.1).

use crate::error::ParseError;
use crate::scan::{is_token, parse_decimal};

/// A byte range inside a message buffer. Messages are capped well below 4 GiB, so `u32`
/// keeps the header index small.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        // Message::parse caps buffers at u32::MAX bytes and framing only walks its head
        // window, so offsets fit; a wrapped value could only misplace a slice, and every
        // slice is taken with `get`.
        Self { start: start as u32, end: end as u32 }
    }

    pub(crate) fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub(crate) fn of(self, buf: &[u8]) -> &[u8] {
        buf.get(self.range()).unwrap_or_default()
    }
}

/// One header field as found on the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawField {
    /// From the first byte of the name to just past the final CRLF.
    pub(crate) line: Span,
    /// The value without surrounding LWS; may contain folds (CRLF + SP/HT).
    pub(crate) value: Span,
    /// Length of the name (which starts the line), without white space before the colon.
    pub(crate) name_len: u16,
}

impl RawField {
    /// The name's bytes.
    pub(crate) fn name<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        let start = self.line.start as usize;
        buf.get(start..start + usize::from(self.name_len)).unwrap_or_default()
    }
}

/// Longest header name accepted; real names are under 40 bytes.
const MAX_NAME: u16 = 1024;

/// Walks header lines from `pos` (just past the start line) to the empty line.
pub(crate) struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    line_no: usize,
    /// Set once the empty line is found: the first body byte.
    pub(crate) body_start: Option<usize>,
}

/// Index of the next CRLF at or after `from`. A bare LF is skipped (it is content, and
/// the checker's typed parsers reject it where the grammar does).
pub(crate) fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut pos = from;
    loop {
        let lf = pos + memchr::memchr(b'\n', buf.get(pos..)?)?;
        if lf > from && buf.get(lf - 1) == Some(&b'\r') {
            return Some(lf - 1);
        }
        pos = lf + 1;
    }
}

impl<'a> Fields<'a> {
    pub(crate) fn new(buf: &'a [u8], pos: usize) -> Self {
        Self { buf, pos, line_no: 1, body_start: None }
    }

    /// The next field, `Ok(None)` at the empty line, `Err` for an unterminated section or a
    /// line that is not `name: value` (the walk continues after a bad line).
    pub(crate) fn next_field(&mut self) -> Result<Option<RawField>, ParseError> {
        if self.body_start.is_some() {
            return Ok(None);
        }
        let start = self.pos;
        let Some(mut eol) = find_crlf(self.buf, start) else { return Err(ParseError::UnterminatedHeaders) };
        self.line_no += 1;
        if eol == start {
            self.body_start = Some(start + 2);
            return Ok(None);
        }
        // Continuation lines (RFC 3261 §7.3.1: a line starting with SP or HT continues the field).
        while matches!(self.buf.get(eol + 2), Some(b' ' | b'\t')) {
            let Some(next) = find_crlf(self.buf, eol + 2) else { return Err(ParseError::UnterminatedHeaders) };
            eol = next;
            self.line_no += 1;
        }
        self.pos = eol + 2;
        let line_no = self.line_no;
        let bad = || ParseError::InvalidHeaderLine { line: line_no };
        // name = token, then optional SP/HT, then ':' (RFC 3261 §7.3.1).
        let mut i = start;
        while self.buf.get(i).is_some_and(|&b| is_token(b)) {
            i += 1;
        }
        let name_len = u16::try_from(i - start).ok().filter(|&n| n > 0 && n <= MAX_NAME).ok_or_else(bad)?;
        while matches!(self.buf.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if i >= eol || self.buf.get(i) != Some(&b':') {
            return Err(bad());
        }
        let mut vs = i + 1;
        let mut ve = eol;
        while vs < ve && matches!(self.buf.get(vs), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            vs += 1;
        }
        while ve > vs && matches!(self.buf.get(ve - 1), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            ve -= 1;
        }
        Ok(Some(RawField { line: Span::new(start, eol + 2), value: Span::new(vs, ve), name_len }))
    }
}

/// Folds Content-Length values: all must be valid and agree (RFC 3261 §20.14; RFC 4475
/// §3.3.9 mcl01 is a framing error, §3.1.2.3 ncl a negative value).
#[derive(Debug, Default)]
pub(crate) struct ContentLength {
    pub(crate) value: Option<usize>,
}

impl ContentLength {
    pub(crate) fn add(&mut self, raw: &[u8]) -> Result<(), ParseError> {
        // Content-Length = 1*DIGIT; a body over 4 GiB is never framed.
        let v = parse_decimal(raw, u64::from(u32::MAX))
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| ParseError::InvalidContentLength { value: String::from_utf8_lossy(raw).into_owned() })?;
        match self.value {
            Some(first) if first != v => Err(ParseError::ConflictingContentLength { first, second: v }),
            _ => {
                self.value = Some(v);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Walked = Vec<Result<(String, String), ParseError>>;

    fn walk(buf: &[u8]) -> (Walked, Option<usize>) {
        let mut f = Fields::new(buf, 0);
        let mut out = Vec::new();
        loop {
            match f.next_field() {
                Ok(Some(r)) => out.push(Ok((
                    String::from_utf8_lossy(r.name(buf)).into_owned(),
                    String::from_utf8_lossy(r.value.of(buf)).into_owned(),
                ))),
                Ok(None) => break,
                Err(ParseError::UnterminatedHeaders) => {
                    out.push(Err(ParseError::UnterminatedHeaders));
                    break;
                }
                Err(e) => out.push(Err(e)),
            }
        }
        (out, f.body_start)
    }

    #[test]
    fn rfc3261_7_3_1_folded_lines_join_one_field() {
        let buf = b"Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\ns :\r\n\r\nbody";
        let (fields, body) = walk(buf);
        let names: Vec<_> = fields.iter().filter_map(|f| f.as_ref().ok()).map(|f| f.0.as_str()).collect();
        assert_eq!(names, ["Via", "s"]);
        let via = fields.first().and_then(|f| f.as_ref().ok()).map(|f| f.1.clone());
        assert_eq!(via.as_deref(), Some("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw"));
        assert_eq!(fields.get(1).and_then(|f| f.as_ref().ok()).map(|f| f.1.as_str()), Some(""));
        assert_eq!(body, Some(buf.len() - 4));
    }

    #[test]
    fn bad_lines_and_unterminated_sections_are_reported() {
        let (fields, body) = walk(b"NoColonHere\r\nTo: x\r\n\r\n");
        assert_eq!(fields.first(), Some(&Err(ParseError::InvalidHeaderLine { line: 2 })));
        assert_eq!(fields.len(), 2);
        assert!(body.is_some());
        let (fields, body) = walk(b"To: x\r\n");
        assert_eq!(fields.last(), Some(&Err(ParseError::UnterminatedHeaders)));
        assert_eq!(body, None);
        let (fields, _) = walk(b"Bad Name: x\r\n\r\n");
        assert!(matches!(fields.first(), Some(Err(ParseError::InvalidHeaderLine { .. }))));
    }

    #[test]
    fn content_length_values_must_agree() {
        let mut cl = ContentLength::default();
        assert!(cl.add(b"13").is_ok());
        assert!(cl.add(b"013").is_ok());
        assert_eq!(cl.add(b"5"), Err(ParseError::ConflictingContentLength { first: 13, second: 5 }));
        assert!(matches!(ContentLength::default().add(b"-999"), Err(ParseError::InvalidContentLength { .. })));
        assert!(matches!(ContentLength::default().add(b"99999999999"), Err(ParseError::InvalidContentLength { .. })));
    }
}
