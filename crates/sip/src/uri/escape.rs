//! `%HEX HEX` escapes (RFC 3261 §19.1.2, §25.1 `escaped`).

use std::borrow::Cow;

use crate::error::UriError;

/// Check that `s` uses only `allowed` characters or valid escapes.
pub(crate) fn validate(s: &str, part: &'static str, allowed: impl Fn(u8) -> bool) -> Result<(), UriError> {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !hex(i + 1) || !hex(i + 2) {
                return Err(UriError::InvalidEscape);
            }
            i += 3;
        } else if allowed(c) {
            i += 1;
        } else {
            let ch = s.get(i..).and_then(|r| r.chars().next()).unwrap_or('\u{fffd}');
            return Err(if ch.is_whitespace() { UriError::Whitespace } else { UriError::InvalidChar { ch, part } });
        }
    }
    Ok(())
}

/// Decode escapes. `%00` becomes a NUL byte, so the result never gets shorter than the
/// escape count implies (RFC 4475 §3.1.1.4). Invalid escapes are kept literally.
pub fn unescape(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('%') {
        return Cow::Borrowed(s.as_bytes());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let decoded = (c == b'%')
            .then(|| Some((hex_val(*b.get(i + 1)?)? << 4) | hex_val(*b.get(i + 2)?)?))
            .flatten();
        match decoded {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// RFC 3261 `unreserved = alphanum / mark`.
pub(crate) const fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')')
}

/// Characters of `user` (RFC 3261 §25.1, `user-unreserved` included).
pub(crate) const fn is_user(c: u8) -> bool {
    is_unreserved(c) || matches!(c, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/')
}

/// Characters of `password`.
pub(crate) const fn is_password(c: u8) -> bool {
    is_unreserved(c) || matches!(c, b'&' | b'=' | b'+' | b'$' | b',')
}

/// `paramchar` without escapes (`param-unreserved / unreserved`).
pub(crate) const fn is_paramchar(c: u8) -> bool {
    is_unreserved(c) || matches!(c, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$')
}

/// `hname`/`hvalue` characters without escapes (`hnv-unreserved / unreserved`).
pub(crate) const fn is_hnvchar(c: u8) -> bool {
    is_unreserved(c) || matches!(c, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4475_escnull_does_not_shorten() {
        assert_eq!(&*unescape("null-%00-null"), b"null-\0-null");
        assert_eq!(&*unescape("%00%00"), b"\0\0");
        assert_eq!(&*unescape("%75se%72"), b"user");
        assert_eq!(&*unescape("100%"), b"100%");
        assert_eq!(validate("a%2", "user", is_user), Err(UriError::InvalidEscape));
        assert_eq!(validate("a b", "user", is_user), Err(UriError::Whitespace));
        assert!(validate("sips%3Auser%40example.com", "user", is_user).is_ok());
    }
}
