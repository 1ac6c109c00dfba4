//! Removing the leading values of a list header field in one edit (RFC 3261 §16.4: a proxy
//! removes every Route value that names it, which may be several values of one field when
//! it record-routed twice). Separate `remove_value` calls on neighbouring values of one field
//! would overlap at the comma between them.

use super::{EditError, Edits};
use crate::header::ValueRef;
use crate::message::Message;

impl Edits {
    /// Remove every value of `last`'s field up to and including `last`: the whole line when
    /// `last` is the field's final value, else the values, the comma after `last` and the
    /// white space before the next value.
    pub fn remove_leading_values(&mut self, msg: &Message, last: &ValueRef<'_>) -> Result<(), EditError> {
        let entry = msg.headers.get(last.field).ok_or(EditError::Missing { what: "header field" })?;
        let field = entry.raw.value;
        if last.span.end >= field.end {
            return self.push(msg, entry.raw.line.start as usize, entry.raw.line.end as usize, &[]);
        }
        let buf: &[u8] = &msg.buf;
        let end = field.end as usize;
        let comma = (last.span.end as usize..end).find(|&i| buf.get(i) == Some(&b',')).unwrap_or(end);
        let mut next = comma + 1;
        while next < end && buf.get(next).is_some_and(|&c| crate::scan::is_lws(c)) {
            next += 1;
        }
        self.push(msg, field.start as usize, next.min(end), &[])
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::{Edits, HeaderName, Message};

    fn apply(raw: &'static [u8], upto: usize) -> String {
        let m = Message::parse(Bytes::from_static(raw)).expect("parses");
        let last = m.values(HeaderName::Route).nth(upto).and_then(Result::ok).expect("value");
        let mut e = Edits::new();
        e.remove_leading_values(&m, &last).expect("edit");
        let mut out = Vec::new();
        m.write_with(&e, &mut out).expect("applies");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn rfc3261_16_4_two_own_routes_in_one_field() {
        let raw = b"BYE sip:a@192.0.2.1 SIP/2.0\r\nRoute: <sip:p;lr>, <sip:q;lr>, <sip:r;lr>\r\nCSeq: 2 BYE\r\n\r\n";
        assert_eq!(apply(raw, 1), "BYE sip:a@192.0.2.1 SIP/2.0\r\nRoute: <sip:r;lr>\r\nCSeq: 2 BYE\r\n\r\n");
        assert_eq!(apply(raw, 2), "BYE sip:a@192.0.2.1 SIP/2.0\r\nCSeq: 2 BYE\r\n\r\n");
    }
}
