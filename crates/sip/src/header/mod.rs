//! Typed header access. The message index knows where each field is; these modules decode a
//! value only when asked, borrowing from the message buffer. List headers (RFC 3261 §7.3.1)
//! are split at top-level commas, so `Via: a, b` and two `Via` lines read the same.

pub mod addr;
pub mod auth;
pub mod name;
pub mod params;
pub mod simple;
pub mod via;

use crate::error::{HeaderFault, ParseError};
use crate::head::Span;
use crate::message::Message;
use crate::scan::{Sep, split, trim, Split};
use name::HeaderName;

/// One value of a (possibly comma-joined) header field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueRef<'a> {
    /// The value text without surrounding white space.
    pub text: &'a str,
    /// Index of the header field it came from (see [`crate::HeaderField::index`]).
    pub field: usize,
    /// Position among the field's comma-separated values, from 0.
    pub position: usize,
    pub(crate) span: Span,
}

/// Iterator over the values of every field with one name.
pub struct Values<'a> {
    msg: &'a Message,
    name: HeaderName,
    next_field: usize,
    current: Option<Current<'a>>,
}

struct Current<'a> {
    field: usize,
    text: &'a str,
    base: usize,
    position: usize,
    split: Option<Split<'a>>,
}

impl<'a> Iterator for Values<'a> {
    type Item = Result<ValueRef<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(cur) = &mut self.current {
                let piece = match &mut cur.split {
                    Some(split) => split.next(),
                    None if cur.position == 0 => Some(Ok(cur.text)),
                    None => None,
                };
                match piece {
                    Some(Ok(p)) => {
                        let t = trim(p);
                        let offset = (t.as_ptr() as usize).saturating_sub(cur.text.as_ptr() as usize);
                        let position = cur.position;
                        cur.position += 1;
                        return Some(Ok(ValueRef {
                            text: t,
                            field: cur.field,
                            position,
                            span: Span::new(cur.base + offset, cur.base + offset + t.len()),
                        }));
                    }
                    Some(Err(f)) => {
                        self.current = None;
                        self.next_field = usize::MAX;
                        return Some(Err(ParseError::header(self.name.as_str(), params::split_fault(f))));
                    }
                    None => self.current = None,
                }
            }
            let (idx, entry) = self.msg.headers.iter().enumerate().skip(self.next_field).find(|(_, e)| e.name == self.name)?;
            self.next_field = idx + 1;
            let raw = entry.raw.value.of(&self.msg.buf);
            let text = match std::str::from_utf8(raw) {
                Ok(t) => t,
                Err(_) => return Some(Err(ParseError::header(self.name.as_str(), HeaderFault::NotUtf8))),
            };
            if text.is_empty() && self.name.is_list() {
                continue;
            }
            let split = self.name.is_list().then(|| split(text, Sep::Comma));
            self.current =
                Some(Current { field: idx, text, base: entry.raw.value.start as usize, position: 0, split });
        }
    }
}

impl Message {
    /// Every value of every field named `name`, in message order. List headers are split at
    /// top-level commas; other headers yield each field's whole value.
    pub fn values(&self, name: HeaderName) -> Values<'_> {
        Values { msg: self, name, next_field: 0, current: None }
    }

    /// The single value of a header that must appear at most once (RFC 3261 §7.3.1; RFC 4475
    /// §3.3.8 multi01). `Ok(None)` if absent.
    pub(crate) fn single(&self, name: HeaderName) -> Result<Option<ValueRef<'_>>, ParseError> {
        let mut fields = self.headers.iter().enumerate().filter(|(_, e)| e.name == name);
        let Some((field, first)) = fields.next() else { return Ok(None) };
        let raw = first.raw.value.of(&self.buf);
        if fields.any(|(_, e)| e.raw.value.of(&self.buf) != raw) {
            return Err(ParseError::header(name.as_str(), HeaderFault::Repeated));
        }
        let Ok(text) = std::str::from_utf8(raw) else {
            return Err(ParseError::header(name.as_str(), HeaderFault::NotUtf8));
        };
        Ok(Some(ValueRef { text, field, position: 0, span: first.raw.value }))
    }
}

/// Wrap a fault of header `name`.
pub(crate) fn fault(name: HeaderName) -> impl Fn(HeaderFault) -> ParseError {
    move |f| ParseError::header(name.as_str(), f)
}

#[cfg(test)]
mod tests;
