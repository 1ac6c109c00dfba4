//! The edit list ("lumps", after Kamailio's `lump_struct.h`): changes recorded against a
//! parsed [`Message`] and applied while writing it out. Untouched bytes are copied as
//! received, so forwarding costs one memcpy plus the edits (RFC 3261 §16.6 changes only a
//! few header fields).

use smallvec::SmallVec;

use crate::head::Span;
use crate::header::name::HeaderName;
use crate::header::params::Params;
use crate::header::ValueRef;
use crate::message::{Message, StartLine};

/// Why an edit list cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// Two edits change overlapping bytes.
    #[error("edits overlap at byte {at}")]
    Overlap {
        /// Where the second edit starts.
        at: usize,
    },
    /// The edits were recorded against a different message.
    #[error("edit list belongs to another message")]
    WrongMessage,
    /// The edit addresses something the message lacks (e.g. a Request-URI on a response).
    #[error("the message has no {what} to edit")]
    Missing {
        /// What was missing.
        what: &'static str,
    },
}

#[derive(Debug, Clone, Copy)]
struct Op {
    at: Span,
    text: Span,
}

/// Recorded changes to one message.
#[derive(Debug, Clone, Default)]
pub struct Edits {
    origin: Option<(usize, usize)>,
    text: Vec<u8>,
    ops: SmallVec<[Op; 8]>,
}

impl Edits {
    /// An empty edit list.
    pub fn new() -> Self {
        Self::default()
    }

    /// True if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    fn bind(&mut self, msg: &Message) -> Result<(), EditError> {
        let id = (msg.buf.as_ptr() as usize, msg.buf.len());
        match self.origin {
            None => {
                self.origin = Some(id);
                Ok(())
            }
            Some(o) if o == id => Ok(()),
            Some(_) => Err(EditError::WrongMessage),
        }
    }

    fn push(&mut self, msg: &Message, start: usize, end: usize, parts: &[&[u8]]) -> Result<(), EditError> {
        self.bind(msg)?;
        let t0 = self.text.len();
        for p in parts {
            self.text.extend_from_slice(p);
        }
        self.ops.push(Op { at: Span::new(start, end), text: Span::new(t0, self.text.len()) });
        Ok(())
    }

    /// Insert `Name: value` above the first field of that name, or right after the start
    /// line if there is none: a new top Via (RFC 3261 §16.6 step 8) or Record-Route (step 4).
    pub fn insert_header_top(&mut self, msg: &Message, name: &str, value: &str) -> Result<(), EditError> {
        let known = HeaderName::from_bytes(name.as_bytes());
        let at = msg
            .headers
            .iter()
            .find(|e| known != HeaderName::Other && e.name == known)
            .map_or(msg.start_end as usize + 2, |e| e.raw.line.start as usize);
        self.push(msg, at, at, &[name.as_bytes(), b": ", value.as_bytes(), b"\r\n"])
    }

    /// Append `Name: value` as the last header field.
    pub fn append_header(&mut self, msg: &Message, name: &str, value: &str) -> Result<(), EditError> {
        let at = (msg.body_start as usize).saturating_sub(2);
        self.push(msg, at, at, &[name.as_bytes(), b": ", value.as_bytes(), b"\r\n"])
    }

    /// Remove one value: the whole field line if it is the field's only value, else the value
    /// and its comma (the top Via of a response, RFC 3261 §16.7 step 3; the top Route, §16.4).
    pub fn remove_value(&mut self, msg: &Message, v: &ValueRef<'_>) -> Result<(), EditError> {
        let entry = msg.headers.get(v.field).ok_or(EditError::Missing { what: "header field" })?;
        let field = entry.raw.value;
        let buf: &[u8] = &msg.buf;
        if v.span == field {
            return self.push(msg, entry.raw.line.start as usize, entry.raw.line.end as usize, &[]);
        }
        let (start, end) = if v.span.start == field.start {
            // First value: drop it, its comma and the white space before the next value.
            let comma = (v.span.end as usize..field.end as usize).find(|&i| buf.get(i) == Some(&b',')).unwrap_or(field.end as usize);
            let mut next = comma + 1;
            while buf.get(next).is_some_and(|&c| crate::scan::is_lws(c)) && next < field.end as usize {
                next += 1;
            }
            (v.span.start as usize, next)
        } else {
            let comma = (field.start as usize..v.span.start as usize).rev().find(|&i| buf.get(i) == Some(&b',')).unwrap_or(v.span.start as usize);
            (comma, v.span.end as usize)
        };
        self.push(msg, start, end, &[])
    }

    /// Remove a whole header field (its line, every value in it), addressed by
    /// [`crate::HeaderField::index`]: a field a proxy must not pass on (RFC 3325 §5:
    /// an asserted identity leaving the trust domain).
    pub fn remove_field(&mut self, msg: &Message, index: usize) -> Result<(), EditError> {
        let entry = msg.headers.get(index).ok_or(EditError::Missing { what: "header field" })?;
        self.push(msg, entry.raw.line.start as usize, entry.raw.line.end as usize, &[])
    }

    /// Replace a value's text (e.g. a decremented Max-Forwards, RFC 3261 §16.6 step 3).
    pub fn replace_value(&mut self, msg: &Message, v: &ValueRef<'_>, text: &str) -> Result<(), EditError> {
        self.push(msg, v.span.start as usize, v.span.end as usize, &[text.as_bytes()])
    }

    /// Replace the whole value of every field named `name` with `text` in the first field,
    /// removing the others; appends the header if absent.
    pub fn set_header(&mut self, msg: &Message, name: HeaderName, text: &str) -> Result<(), EditError> {
        let mut fields = msg.headers.iter().filter(|e| e.name == name);
        match fields.next() {
            None => self.append_header(msg, name.as_str(), text),
            Some(first) => {
                self.push(msg, first.raw.value.start as usize, first.raw.value.end as usize, &[text.as_bytes()])?;
                for e in fields {
                    self.push(msg, e.raw.line.start as usize, e.raw.line.end as usize, &[])?;
                }
                Ok(())
            }
        }
    }

    /// Replace the Request-URI (RFC 3261 §16.6 step 2, §16.4 strict-router handling).
    pub fn replace_request_uri(&mut self, msg: &Message, uri: &str) -> Result<(), EditError> {
        let StartLine::Request { uri: at, .. } = msg.start else { return Err(EditError::Missing { what: "Request-URI" }) };
        self.push(msg, at.0.start as usize, at.0.end as usize, &[uri.as_bytes()])
    }

    /// Add `;name=value` (or `;name`) to a value, or replace the parameter's value if present:
    /// `received`/`rport` on the top Via (RFC 3261 §18.2.1, RFC 3581 §4).
    pub fn set_param(&mut self, msg: &Message, v: &ValueRef<'_>, name: &str, value: Option<&str>) -> Result<(), EditError> {
        let base = v.text.as_ptr() as usize;
        // Header parameters start at the first `;` after a `<...>` URI, if there is one.
        let after_uri = memchr::memrchr(b'>', v.text.as_bytes()).map_or(0, |i| i + 1);
        let params = crate::scan::find(v.text.get(after_uri..).unwrap_or_default(), b';')
            .and_then(|i| Params::header(v.text.get(after_uri + i + 1..).unwrap_or_default()).ok());
        let existing = params.and_then(|p| p.iter().find(|p| p.name.eq_ignore_ascii_case(name)));
        let off = |s: &str| v.span.start as usize + (s.as_ptr() as usize).saturating_sub(base);
        match existing {
            Some(p) => {
                let start = off(p.name);
                let end = p.value.map_or(start + p.name.len(), |pv| off(pv) + pv.len());
                match value {
                    Some(val) => self.push(msg, start, end, &[name.as_bytes(), b"=", val.as_bytes()]),
                    None => self.push(msg, start, end, &[name.as_bytes()]),
                }
            }
            None => {
                let at = v.span.end as usize;
                match value {
                    Some(val) => self.push(msg, at, at, &[b";", name.as_bytes(), b"=", val.as_bytes()]),
                    None => self.push(msg, at, at, &[b";", name.as_bytes()]),
                }
            }
        }
    }

    /// Make sure a Content-Length is present (stream transports need it, RFC 3261 §18.3:
    /// an RFC 2543 datagram without one must gain one before it goes out over TCP).
    pub fn ensure_content_length(&mut self, msg: &Message) -> Result<(), EditError> {
        if msg.content_length().is_some() {
            return Ok(());
        }
        self.append_header(msg, "Content-Length", &msg.body_len().to_string())
    }

    /// Replace the body and keep Content-Length right (Content-Type is the caller's).
    pub fn replace_body(&mut self, msg: &Message, body: &[u8]) -> Result<(), EditError> {
        self.set_header(msg, HeaderName::ContentLength, &body.len().to_string())?;
        self.push(msg, msg.body_start as usize, msg.buf.len(), &[body])
    }
}

impl Message {
    /// Write the message with `edits` applied into `out` (appending). With no edits this is
    /// the received bytes, byte for byte.
    pub fn write_with(&self, edits: &Edits, out: &mut Vec<u8>) -> Result<(), EditError> {
        if let Some(o) = edits.origin {
            if o != (self.buf.as_ptr() as usize, self.buf.len()) {
                return Err(EditError::WrongMessage);
            }
        }
        let mut ops = edits.ops.clone();
        // Inserts go before a replacement starting at the same byte.
        ops.sort_by_key(|o| (o.at.start, o.at.end != o.at.start));
        let mut pos = 0usize;
        out.reserve(self.buf.len() + edits.text.len());
        for op in &ops {
            let start = op.at.start as usize;
            if start < pos {
                return Err(EditError::Overlap { at: start });
            }
            out.extend_from_slice(self.buf.get(pos..start).unwrap_or_default());
            out.extend_from_slice(op.text.of(&edits.text));
            pos = pos.max(op.at.end as usize);
        }
        out.extend_from_slice(self.buf.get(pos..).unwrap_or_default());
        Ok(())
    }
}

mod pop;

#[cfg(test)]
mod tests;
