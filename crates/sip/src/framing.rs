//! Stream framing for TCP and TLS (RFC 3261 §18.3): finds where one message ends in a byte
//! stream. Pure: the io layer feeds it the bytes received so far and splits off what it says.
//!
//! A stream message must carry Content-Length (RFC 3261 §18.3, §20.14); conflicting,
//! negative or garbled values make the stream unframeable, so the connection must close
//! (RFC 4475 §3.1.2.3, §3.3.9). CRLFs between messages are keep-alives (RFC 5626 §3.5.1)
//! or noise to skip before a start line (RFC 3261 §7.5).

use crate::error::ParseError;
use crate::head::{find_crlf, ContentLength, Fields};
use crate::status::StatusCode;
use crate::header::name::HeaderName;

/// Size limits that keep one connection from holding unbounded memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramingLimits {
    /// Largest start line plus header section, empty line included.
    pub max_head_bytes: usize,
    /// Largest whole message (head plus body).
    pub max_message_bytes: usize,
}

impl Default for FramingLimits {
    /// 32 KiB of headers, 128 KiB per message: far above real SIP traffic, small enough
    /// that thousands of connections cannot exhaust memory.
    fn default() -> Self {
        Self { max_head_bytes: 32 * 1024, max_message_bytes: 128 * 1024 }
    }
}

/// What the bytes at the start of the buffer are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Not enough bytes yet to decide; read more.
    NeedMore,
    /// `len` bytes of CRLF keep-alive to consume. `ping` is a double CRLF, which a server
    /// answers with a single CRLF "pong" (RFC 5626 §3.5.1, §4.4.1); a single CRLF is a pong
    /// (or a stray CRLF before a start line, RFC 3261 §7.5) and needs no answer.
    KeepAlive {
        /// Bytes to consume (4 for a ping, 2 otherwise).
        len: usize,
        /// True for a double-CRLF ping.
        ping: bool,
    },
    /// A complete message occupies the first `len` bytes; parse them with
    /// [`crate::Message::parse`].
    Message {
        /// Head plus Content-Length body bytes.
        len: usize,
    },
}

/// Why a stream cannot be framed. The connection must be closed after any of these; the
/// status says what to answer first, if anything (RFC 3261 §18.3: "the connection SHOULD be closed").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// No empty line within the head size limit.
    #[error("header section exceeds {max} bytes")]
    HeadTooLarge {
        /// Configured limit.
        max: usize,
    },
    /// Content-Length announces a message above the limit.
    #[error("message of {len} bytes exceeds {max} bytes")]
    MessageTooLarge {
        /// Head plus announced body.
        len: usize,
        /// Configured limit.
        max: usize,
    },
    /// Stream message without Content-Length (RFC 3261 §18.3).
    #[error("Content-Length missing on a stream transport")]
    MissingContentLength,
    /// Negative, garbled or conflicting Content-Length.
    #[error(transparent)]
    ContentLength(ParseError),
}

impl From<&FramingError> for StatusCode {
    /// 513 for oversize messages, 400 otherwise.
    fn from(err: &FramingError) -> Self {
        match err {
            FramingError::HeadTooLarge { .. } | FramingError::MessageTooLarge { .. } => StatusCode::MESSAGE_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// Frame the first message (or keep-alive) at the start of `buf`.
pub fn frame(buf: &[u8], limits: &FramingLimits) -> Result<Frame, FramingError> {
    match buf {
        [] | [b'\r'] | [b'\r', b'\n', b'\r'] => return Ok(Frame::NeedMore),
        [b'\r', b'\n', b'\r', b'\n', ..] => return Ok(Frame::KeepAlive { len: 4, ping: true }),
        [b'\r', b'\n', ..] => return Ok(Frame::KeepAlive { len: 2, ping: false }),
        _ => {}
    }
    let window = buf.get(..limits.max_head_bytes.min(buf.len())).unwrap_or(buf);
    let Some(end) = memchr::memmem::find(window, b"\r\n\r\n") else {
        return if buf.len() >= limits.max_head_bytes {
            Err(FramingError::HeadTooLarge { max: limits.max_head_bytes })
        } else {
            Ok(Frame::NeedMore)
        };
    };
    let head_len = end + 4;
    let first_line_end = find_crlf(buf, 0).unwrap_or(end);
    let mut fields = Fields::new(buf, first_line_end + 2);
    let mut cl = ContentLength::default();
    if first_line_end < end {
        loop {
            match fields.next_field() {
                Ok(Some(f)) => {
                    if HeaderName::from_buf(buf, f.line.start as usize, usize::from(f.name_len)) == HeaderName::ContentLength {
                        cl.add(f.value.of(buf)).map_err(FramingError::ContentLength)?;
                    }
                }
                Ok(None) => break,
                // A bad header line does not stop framing; Message::parse reports it.
                Err(ParseError::InvalidHeaderLine { .. }) => {}
                Err(_) => break,
            }
        }
    }
    let body = cl.value.ok_or(FramingError::MissingContentLength)?;
    let len = head_len.saturating_add(body);
    if len > limits.max_message_bytes {
        return Err(FramingError::MessageTooLarge { len, max: limits.max_message_bytes });
    }
    if buf.len() < len {
        return Ok(Frame::NeedMore);
    }
    Ok(Frame::Message { len })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl: 5\r\n\r\nhello";

    fn limits() -> FramingLimits {
        FramingLimits::default()
    }

    #[test]
    fn rfc3261_18_3_message_is_framed_by_content_length_across_partial_reads() {
        for cut in 0..OPTIONS.len() {
            let part = OPTIONS.get(..cut).unwrap_or_default();
            assert_eq!(frame(part, &limits()), Ok(Frame::NeedMore), "cut at {cut}");
        }
        assert_eq!(frame(OPTIONS, &limits()), Ok(Frame::Message { len: OPTIONS.len() }));
    }

    #[test]
    fn pipelined_messages_and_keepalives() {
        let mut stream = b"\r\n\r\n".to_vec();
        stream.extend_from_slice(OPTIONS);
        stream.extend_from_slice(b"\r\n");
        stream.extend_from_slice(OPTIONS);
        let mut pos = 0;
        let mut seen = Vec::new();
        while pos < stream.len() {
            let f = frame(stream.get(pos..).unwrap_or_default(), &limits());
            let n = match f {
                Ok(Frame::KeepAlive { len, .. }) | Ok(Frame::Message { len }) => len,
                other => panic!("unexpected {other:?} at {pos}"),
            };
            seen.push(f);
            pos += n;
        }
        assert_eq!(
            seen,
            vec![
                Ok(Frame::KeepAlive { len: 4, ping: true }),
                Ok(Frame::Message { len: OPTIONS.len() }),
                Ok(Frame::KeepAlive { len: 2, ping: false }),
                Ok(Frame::Message { len: OPTIONS.len() }),
            ]
        );
        assert_eq!(frame(b"\r\n\r", &limits()), Ok(Frame::NeedMore));
    }

    #[test]
    fn rfc4475_content_length_faults_break_the_stream() {
        let ncl = b"INVITE sip:a@b SIP/2.0\r\nContent-Length: -999\r\n\r\nxx";
        assert!(matches!(frame(ncl, &limits()), Err(FramingError::ContentLength(ParseError::InvalidContentLength { .. }))));
        let mcl = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 13\r\nl: 5\r\n\r\nxx";
        assert_eq!(
            frame(mcl, &limits()),
            Err(FramingError::ContentLength(ParseError::ConflictingContentLength { first: 13, second: 5 }))
        );
        let none = b"OPTIONS sip:a@b SIP/2.0\r\nTo: x\r\n\r\n";
        assert_eq!(frame(none, &limits()), Err(FramingError::MissingContentLength));
        let clerr = b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 9999\r\n\r\nshort";
        assert_eq!(frame(clerr, &limits()), Ok(Frame::NeedMore));
    }

    #[test]
    fn oversize_heads_and_bodies_are_refused() {
        let small = FramingLimits { max_head_bytes: 64, max_message_bytes: 100 };
        let long = [b'a'; 80];
        assert_eq!(frame(&long, &small), Err(FramingError::HeadTooLarge { max: 64 }));
        assert_eq!(frame(&long[..40], &small), Ok(Frame::NeedMore));
        let big = b"INVITE sip:a@b SIP/2.0\r\nl: 90\r\n\r\n";
        assert_eq!(frame(big, &small), Err(FramingError::MessageTooLarge { len: big.len() + 90, max: 100 }));
        let e = FramingError::MessageTooLarge { len: 1, max: 0 };
        assert_eq!(StatusCode::from(&e), StatusCode::MESSAGE_TOO_LARGE);
    }
}
