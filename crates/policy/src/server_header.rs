//! The Server / User-Agent value Causeway puts in messages it originates. The default names the
//! product without a version, so a scanner (`svmap`) learns nothing it could match against a
//! vulnerability list; administrators may change it or leave the header out.

use std::fmt;

/// Longest value accepted.
const MAX_LEN: usize = 128;

/// Config `server_header`: the product token, or `""` for no header at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHeader {
    value: Option<String>,
}

impl Default for ServerHeader {
    /// `Causeway`, no version.
    fn default() -> Self {
        Self { value: Some("Causeway".to_owned()) }
    }
}

impl ServerHeader {
    /// Validates a configured value: RFC 3261 §20.35 `server-val` text (printable ASCII, no line
    /// breaks), at most 128 characters. `""` means send no Server/User-Agent header.
    pub fn new(value: &str) -> Result<Self, ServerHeaderError> {
        if value.is_empty() {
            return Ok(Self { value: None });
        }
        if value.len() > MAX_LEN {
            return Err(ServerHeaderError::TooLong { limit: MAX_LEN });
        }
        if value.trim() != value || !value.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
            return Err(ServerHeaderError::BadCharacters);
        }
        Ok(Self { value: Some(value.to_owned()) })
    }

    /// The header value to send, or `None` for no header.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

impl fmt::Display for ServerHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.value.as_deref().unwrap_or("(none)"))
    }
}

/// Why a `server_header` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerHeaderError {
    /// Over the length limit.
    #[error("server_header is longer than {limit} characters")]
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// Control characters, line breaks, non-ASCII or surrounding spaces.
    #[error("server_header must be printable ASCII without leading or trailing spaces")]
    BadCharacters,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_reveals_no_version() {
        let value = ServerHeader::default().value().map(str::to_owned).unwrap_or_default();
        assert_eq!(value, "Causeway");
        assert!(!value.chars().any(|c| c.is_ascii_digit()), "no version number in {value}");
    }

    #[test]
    fn values_are_checked() {
        assert_eq!(ServerHeader::new("Edge (x)").map(|s| s.value().map(str::to_owned)), Ok(Some("Edge (x)".into())));
        assert_eq!(ServerHeader::new("").map(|s| s.value().is_none()), Ok(true));
        assert_eq!(ServerHeader::new("a\r\nX-Injected: 1"), Err(ServerHeaderError::BadCharacters));
        assert_eq!(ServerHeader::new(" pad"), Err(ServerHeaderError::BadCharacters));
        assert_eq!(ServerHeader::new(&"x".repeat(129)), Err(ServerHeaderError::TooLong { limit: 128 }));
    }
}
