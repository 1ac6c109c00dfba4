//! Byte-level helpers shared by the header and URI parsers (RFC 3261 §25.1 basic rules).
//! Every function works on indices checked with `get`, so no input can make it panic.

/// RFC 3261 `token` character: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
pub(crate) const fn is_token(b: u8) -> bool {
    // A u8 always indexes a 256-entry table.
    TOKEN[b as usize]
}

/// Lookup table for [`is_token`]: one load per byte on the hot path.
static TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~');
        i += 1;
    }
    t
};

/// Byte offset of the first `b` in `s`. `str::find(char)` is several times slower, and
/// memchr's setup costs more than a plain loop on the short strings of SIP values.
pub(crate) fn find(s: &str, b: u8) -> Option<usize> {
    find_byte(s.as_bytes(), b)
}

/// [`find`] on bytes.
pub(crate) fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
    let (head, tail) = hay.split_at(hay.len().min(64));
    match head.iter().position(|&c| c == b) {
        Some(i) => Some(i),
        None => memchr::memchr(b, tail).map(|i| i + head.len()),
    }
}

/// `s` split at the first `b`, without the separator.
pub(crate) fn split_at_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = find(s, b)?;
    Some((sub(s, 0, i), sub(s, i + 1, s.len())))
}

/// Linear white space inside a header value. CR and LF appear there only as part of a
/// line fold (the indexer ends a header at a CRLF not followed by SP/HT), so they count as LWS.
pub(crate) const fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Index of the first non-LWS byte at or after `i`.
pub(crate) fn skip_lws(s: &[u8], mut i: usize) -> usize {
    while let Some(&b) = s.get(i) {
        if !is_lws(b) {
            break;
        }
        i += 1;
    }
    i
}

/// `s` without leading and trailing LWS.
pub(crate) fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|&c| !is_lws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_lws(c)).map_or(start, |i| i + 1);
    sub(s, start, end.max(start))
}

/// Substring by byte range; empty when the range is not on char boundaries or out of range
/// (callers only split at ASCII delimiters, so the fallback never triggers on valid input).
pub(crate) fn sub(s: &str, start: usize, end: usize) -> &str {
    s.get(start..end).unwrap_or_default()
}

/// Given `s[i] == '"'`, the index just past the closing quote, honouring `\` quoted-pairs
/// (RFC 3261 §25.1 `quoted-string`). `None` if the string is unterminated.
pub(crate) fn quoted_end(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match s.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
}

/// Fault found while splitting a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplitFault {
    /// A `"` without its closing quote.
    UnterminatedQuote,
    /// A `<` without its `>`.
    UnterminatedAngle,
}

/// Splits `s` at top-level `sep` bytes: separators inside quoted strings or `<...>` do not
/// count (RFC 3261 §7.3.1: comma-separated values; §20.10 a URI in `<>` may contain `,` `;`).
pub(crate) struct Split<'a> {
    s: &'a str,
    pos: usize,
    sep: Sep,
    done: bool,
}

/// The separators lists use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sep {
    /// `,` between header values.
    Comma,
    /// `;` between parameters.
    Semi,
}

impl Sep {
    const fn byte(self) -> u8 {
        match self {
            Sep::Comma => b',',
            Sep::Semi => b';',
        }
    }

    /// Bits in [`STOP`] that end a scan for this separator.
    const fn mask(self) -> u8 {
        match self {
            Sep::Comma => 1 | 4,
            Sep::Semi => 2 | 4,
        }
    }
}

/// Bytes a split scan stops at: 1 = `,`, 2 = `;`, 4 = `"` or `<` (always).
static STOP: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b',' as usize] = 1;
    t[b';' as usize] = 2;
    t[b'"' as usize] = 4;
    t[b'<' as usize] = 4;
    t
};

pub(crate) fn split(s: &str, sep: Sep) -> Split<'_> {
    Split { s, pos: 0, sep, done: false }
}

impl<'a> Iterator for Split<'a> {
    type Item = Result<&'a str, SplitFault>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let bytes = self.s.as_bytes();
        let start = self.pos;
        let mut i = start;
        loop {
            // Jump to the next byte that matters: a plain loop on short values, SIMD on the
            // long ones (Via, Contact, Allow), where memchr's setup pays off.
            let rest = bytes.get(i..).unwrap_or_default();
            i += if rest.len() < 32 {
                let mask = self.sep.mask();
                // A u8 always indexes the 256-entry table.
                rest.iter().position(|&c| STOP[usize::from(c)] & mask != 0)
            } else {
                memchr::memchr3(self.sep.byte(), b'"', b'<', rest)
            }
            .unwrap_or(rest.len());
            match bytes.get(i) {
                None => {
                    self.done = true;
                    return Some(Ok(sub(self.s, start, i)));
                }
                Some(b'"') => match quoted_end(bytes, i) {
                    Some(end) => i = end,
                    None => {
                        self.done = true;
                        return Some(Err(SplitFault::UnterminatedQuote));
                    }
                },
                Some(b'<') => match memchr::memchr(b'>', bytes.get(i..).unwrap_or_default()) {
                    Some(off) => i += off + 1,
                    None => {
                        self.done = true;
                        return Some(Err(SplitFault::UnterminatedAngle));
                    }
                },
                Some(&b) if b == self.sep.byte() => {
                    self.pos = i + 1;
                    return Some(Ok(sub(self.s, start, i)));
                }
                Some(_) => i += 1,
            }
        }
    }
}

/// Parse a decimal number of at most `max`, allowing leading zeros (RFC 4475 §3.1.1.1
/// `0068`). `None` for an empty string, a non-digit, or a value over `max`.
pub(crate) fn parse_decimal(s: &[u8], max: u64) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        if v > max {
            return None;
        }
    }
    Some(v)
}

/// Remove the quotes and quoted-pair backslashes of a quoted string (RFC 3261 §25.1).
/// Input without surrounding quotes is returned as is.
pub(crate) fn unquote(s: &str) -> std::borrow::Cow<'_, str> {
    let inner = match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner,
        None => return std::borrow::Cow::Borrowed(s),
    };
    if !inner.contains('\\') {
        return std::borrow::Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_respects_quotes_and_angle_brackets() {
        let v: Vec<_> = split(r#""a,b" <sip:x;y,z>, c"#, Sep::Comma).collect();
        assert_eq!(v, vec![Ok(r#""a,b" <sip:x;y,z>"#), Ok(" c")]);
        let bad: Vec<_> = split(r#""abc, d"#, Sep::Comma).collect();
        assert_eq!(bad, vec![Err(SplitFault::UnterminatedQuote)]);
        let bad: Vec<_> = split("<sip:a, b", Sep::Comma).collect();
        assert_eq!(bad, vec![Err(SplitFault::UnterminatedAngle)]);
    }

    #[test]
    fn quoted_pairs_and_decimal_limits() {
        assert_eq!(quoted_end(br#""J \"x\"" z"#, 0), Some(9));
        assert_eq!(quoted_end(br#""abc\"#, 0), None);
        assert_eq!(unquote(r#""J Rosenberg \\\"""#), r#"J Rosenberg \""#);
        assert_eq!(parse_decimal(b"0068", 255), Some(68));
        assert_eq!(parse_decimal(b"256", 255), None);
        assert_eq!(parse_decimal(b"99999999999999999999999", u64::MAX), None);
        assert_eq!(parse_decimal(b"-1", 10), None);
        assert_eq!(trim(" \r\n x \t"), "x");
    }
}
