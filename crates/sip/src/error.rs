//! Typed parse errors and their mapping to the response a server sends (RFC 3261 §8.2, §21).

use crate::status::StatusCode;

/// Why a message, header or URI could not be parsed. Each variant names the fault so the
/// checker and logs can say what is wrong; `StatusCode::from(&err)` gives the answer to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing but (possibly) CRLFs.
    #[error("empty message")]
    Empty,
    /// The message exceeds the configured size limit.
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Size seen so far.
        len: usize,
        /// Configured limit.
        max: usize,
    },
    /// No empty line ends the header section (RFC 3261 §7).
    #[error("header section not terminated by an empty line")]
    UnterminatedHeaders,
    /// More header fields than the index holds.
    #[error("more than {max} header fields")]
    TooManyHeaders {
        /// Configured limit.
        max: usize,
    },
    /// A header line without `name:`; `line` counts from 1 at the start line.
    #[error("header line {line} is not `name: value`")]
    InvalidHeaderLine {
        /// 1-based line number.
        line: usize,
    },
    /// The first line is neither a Request-Line nor a Status-Line (RFC 3261 §7.1, §7.2).
    #[error("start line is neither a Request-Line nor a Status-Line")]
    InvalidStartLine,
    /// The method is not a token (RFC 3261 §25.1).
    #[error("method is not a token")]
    InvalidMethod,
    /// The Request-URI is malformed.
    #[error("Request-URI: {0}")]
    InvalidRequestUri(UriError),
    /// A well-formed version other than SIP/2.0 (RFC 3261 §8.2.6 answers 505).
    #[error("unsupported protocol version {version}")]
    UnsupportedVersion {
        /// The version text as received.
        version: String,
    },
    /// The version is not `SIP/<digits>.<digits>`.
    #[error("malformed SIP-Version")]
    InvalidVersion,
    /// The status code is not three digits in 100..=699 (RFC 3261 §7.2).
    #[error("status code {text} is not in 100-699")]
    InvalidStatusCode {
        /// The code as received.
        text: String,
    },
    /// Content-Length is not a non-negative decimal number (RFC 3261 §20.14).
    #[error("Content-Length {value:?} is not a non-negative number")]
    InvalidContentLength {
        /// The value as received.
        value: String,
    },
    /// Two Content-Length headers disagree (RFC 4475 §3.3.9).
    #[error("conflicting Content-Length values {first} and {second}")]
    ConflictingContentLength {
        /// First value.
        first: usize,
        /// A later, different value.
        second: usize,
    },
    /// Content-Length announces more octets than the datagram carries (RFC 3261 §18.3).
    #[error("Content-Length {declared} exceeds body length {available}")]
    BodyTooShort {
        /// Declared length.
        declared: usize,
        /// Octets present after the header section.
        available: usize,
    },
    /// A stream message without Content-Length cannot be framed (RFC 3261 §18.3, §20.14).
    #[error("Content-Length missing on a stream transport")]
    MissingContentLength,
    /// A header value that does not match its grammar.
    #[error("{name}: {fault}")]
    InvalidHeader {
        /// Canonical header name.
        name: &'static str,
        /// What is wrong.
        fault: HeaderFault,
    },
}

/// What is wrong inside one header value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderFault {
    /// The header is required here but absent.
    #[error("missing")]
    Missing,
    /// Empty value where the grammar needs one.
    #[error("empty value")]
    Empty,
    /// A single-value header appears more than once with different values (RFC 3261 §7.3).
    #[error("appears more than once")]
    Repeated,
    /// Header value holds bytes that are not UTF-8 (RFC 3261 §25.1 `TEXT-UTF8`).
    #[error("value is not UTF-8")]
    NotUtf8,
    /// `"` without its closing quote.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// `<` without its `>`.
    #[error("unterminated <")]
    UnterminatedAngle,
    /// A required token is missing or contains a non-token character.
    #[error("invalid {what}")]
    InvalidToken {
        /// The grammar element, e.g. "method", "branch".
        what: &'static str,
    },
    /// An empty element between separators, e.g. `;;` or `,,` (RFC 4475 §3.1.2.1).
    #[error("empty {what}")]
    EmptyElement {
        /// "parameter" or "value".
        what: &'static str,
    },
    /// A number that is not decimal digits.
    #[error("{what} {text:?} is not a number")]
    NotANumber {
        /// The field.
        what: &'static str,
        /// The text.
        text: String,
    },
    /// A number over the grammar's maximum.
    #[error("{what} {text} exceeds {max}")]
    OutOfRange {
        /// The field.
        what: &'static str,
        /// The text.
        text: String,
        /// The limit.
        max: u64,
    },
    /// A display name that is neither a quoted string nor tokens (RFC 3261 §25.1 `display-name`).
    #[error("display name {text:?} is neither a token sequence nor a quoted string")]
    InvalidDisplayName {
        /// The display name.
        text: String,
    },
    /// Unexpected text after the value.
    #[error("unexpected text {text:?}")]
    Trailing {
        /// The extra text.
        text: String,
    },
    /// An addr-spec holding `,`, `;` or `?` outside `<>` (RFC 3261 §20.10).
    #[error("URI with {ch:?} must be enclosed in <>")]
    NeedsAngleBrackets {
        /// The offending character.
        ch: char,
    },
    /// The URI inside is malformed.
    #[error("{0}")]
    Uri(UriError),
    /// A Date that is not RFC 1123 in GMT (RFC 3261 §20.17).
    #[error("not in GMT (RFC 1123)")]
    DateNotGmt,
    /// A Date that is not RFC 1123 syntax.
    #[error("not an RFC 1123 date")]
    InvalidDate,
    /// CSeq names another method than the Request-Line (RFC 3261 §8.1.1.5; RFC 4475 §3.1.2.17).
    #[error("method {cseq} does not match request method {request}")]
    MethodMismatch {
        /// Method in CSeq.
        cseq: String,
        /// Method in the Request-Line.
        request: String,
    },
    /// Via protocol is not `SIP/2.0/<transport>`.
    #[error("sent-protocol is not SIP/2.0/<transport>")]
    InvalidSentProtocol,
}

/// What is wrong in a URI (RFC 3261 §19.1, §25.1; RFC 3966; RFC 5118).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// Empty URI.
    #[error("empty URI")]
    Empty,
    /// No `scheme:` or a scheme with invalid characters.
    #[error("missing or invalid scheme")]
    InvalidScheme,
    /// A URI written as `<...>` where an unbracketed one is required (Request-URI).
    #[error("URI enclosed in <>")]
    AngleBrackets,
    /// White space inside the URI.
    #[error("white space inside URI")]
    Whitespace,
    /// A `%` not followed by two hex digits.
    #[error("invalid % escape")]
    InvalidEscape,
    /// A character the URI part does not allow.
    #[error("character {ch:?} not allowed in {part}")]
    InvalidChar {
        /// The character.
        ch: char,
        /// "user", "password", "host", "parameter", "header".
        part: &'static str,
    },
    /// Host missing.
    #[error("missing host")]
    MissingHost,
    /// Host is not a hostname, IPv4 address or IPv6 reference.
    #[error("invalid host {text:?}")]
    InvalidHost {
        /// The host text.
        text: String,
    },
    /// Port is not a number in 0..=65535.
    #[error("invalid port {text:?}")]
    InvalidPort {
        /// The port text.
        text: String,
    },
    /// A `tel:` number that is not RFC 3966 syntax.
    #[error("invalid telephone-subscriber")]
    InvalidTelNumber,
    /// Headers (`?x=y`) where the context forbids them (RFC 3261 §19.1.1 table: Request-URI).
    #[error("URI headers not allowed here")]
    HeadersNotAllowed,
}

impl From<&ParseError> for StatusCode {
    /// The response a server sends for a message it cannot parse (RFC 3261 §8.2, §21):
    /// 505 for another SIP version, 513 for an oversized message, 400 otherwise.
    fn from(err: &ParseError) -> Self {
        match err {
            ParseError::UnsupportedVersion { .. } => StatusCode::VERSION_NOT_SUPPORTED,
            ParseError::TooLarge { .. } => StatusCode::MESSAGE_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl ParseError {
    /// Shorthand for [`ParseError::InvalidHeader`].
    pub(crate) const fn header(name: &'static str, fault: HeaderFault) -> Self {
        Self::InvalidHeader { name, fault }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_errors_map_to_status() {
        let v = ParseError::UnsupportedVersion { version: "SIP/7.0".into() };
        assert_eq!(StatusCode::from(&v), StatusCode::VERSION_NOT_SUPPORTED);
        assert_eq!(StatusCode::from(&ParseError::TooLarge { len: 9, max: 1 }), StatusCode::MESSAGE_TOO_LARGE);
        let cl = ParseError::BodyTooShort { declared: 9999, available: 154 };
        assert_eq!(StatusCode::from(&cl), StatusCode::BAD_REQUEST);
        assert_eq!(cl.to_string(), "Content-Length 9999 exceeds body length 154");
        let cseq = ParseError::header(
            "CSeq",
            HeaderFault::OutOfRange { what: "sequence number", text: "4294967296".into(), max: u32::MAX.into() },
        );
        assert_eq!(cseq.to_string(), "CSeq: sequence number 4294967296 exceeds 4294967295");
    }
}
