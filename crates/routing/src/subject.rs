//! `tls_verify_subject` names: which certificate subject names classify a mutual-TLS request
//! into a zone (Expressway's "TLS verify subject name" with "TLS verify inbound mapping").
//!
//! A configured name is exact (`callservice.webex.com`) or a one-label wildcard
//! (`*.webex.com`, matching `callservice.webex.com` but not `a.b.webex.com` nor `webex.com`).
//! A presented certificate name may itself be a wildcard; it then covers exactly one label
//! (RFC 6125 §6.4.3). Comparison ignores case and a trailing dot.

use std::fmt;

use causeway_sip::uri::Host;
use serde::Serialize;

/// A configured subject name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct SubjectPattern {
    text: String,
    /// For `*.suffix`, the suffix.
    wildcard_suffix: Option<String>,
}

impl From<SubjectPattern> for String {
    fn from(p: SubjectPattern) -> Self {
        p.text
    }
}

impl fmt::Display for SubjectPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a `tls_verify_subject` entry is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubjectError {
    /// Not a host name or IP address.
    #[error("not a host name or IP address")]
    NotAHost,
    /// `*` inside a label (`a*.example.com`) or in more than one label.
    #[error("a wildcard must be a whole label of its own: write `*.example.com`")]
    PartialWildcard,
    /// `*` not in the leftmost label (`www.*.com`).
    #[error("a wildcard is only allowed as the leftmost label")]
    WildcardNotLeftmost,
    /// `*` over a top-level domain or alone (`*`, `*.com`).
    #[error("a wildcard needs at least two labels after it (`*.example.com`, not `*.com`)")]
    WildcardTooBroad,
}

impl SubjectPattern {
    /// Parses and validates a configured name.
    pub fn parse(text: &str) -> Result<Self, SubjectError> {
        let text = normalise(text);
        if !text.contains('*') {
            return match Host::parse(&text) {
                Ok(_) => Ok(Self { text, wildcard_suffix: None }),
                Err(_) => Err(SubjectError::NotAHost),
            };
        }
        let (first, suffix) = text.split_once('.').unwrap_or((text.as_str(), ""));
        if first != "*" {
            return Err(if first.contains('*') { SubjectError::PartialWildcard } else { SubjectError::WildcardNotLeftmost });
        }
        if suffix.contains('*') {
            return Err(SubjectError::PartialWildcard);
        }
        if suffix.split('.').count() < 2 || suffix.split('.').any(str::is_empty) {
            return Err(SubjectError::WildcardTooBroad);
        }
        match Host::parse(suffix) {
            Ok(Host::Name(_)) => {}
            _ => return Err(SubjectError::NotAHost),
        }
        let wildcard_suffix = Some(suffix.to_owned());
        Ok(Self { text, wildcard_suffix })
    }

    /// Whether a name presented in a peer certificate matches.
    pub fn matches(&self, presented: &str) -> bool {
        let presented = normalise(presented);
        if presented == self.text {
            return true;
        }
        let one_label = |full: &str, suffix: &str| {
            full.strip_suffix(suffix)
                .and_then(|head| head.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty() && !label.contains(['.', '*']))
        };
        match (&self.wildcard_suffix, presented.strip_prefix("*.")) {
            (Some(suffix), None) => one_label(&presented, suffix),
            // RFC 6125 §6.4.3: a presented `*.example.com` covers one label of a configured name.
            (None, Some(presented_suffix)) => {
                presented_suffix.split('.').count() >= 2 && one_label(&self.text, presented_suffix)
            }
            _ => false,
        }
    }
}

fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> SubjectPattern {
        match SubjectPattern::parse(s) {
            Ok(p) => p,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn exact_names_match_ignoring_case_and_trailing_dot() {
        let webex = p("callservice.webex.com");
        assert!(webex.matches("CallService.Webex.com."));
        assert!(!webex.matches("callservice.webex.com.evil.net"));
        assert!(!webex.matches("evilcallservice.webex.com"));
        assert!(p("10.10.10.10").matches("10.10.10.10"));
    }

    #[test]
    fn configured_wildcard_covers_exactly_one_label() {
        let w = p("*.webex.com");
        assert!(w.matches("callservice.webex.com"));
        assert!(!w.matches("a.callservice.webex.com"));
        assert!(!w.matches("webex.com"));
        assert!(!w.matches(".webex.com"));
        assert!(w.matches("*.webex.com"));
    }

    #[test]
    fn rfc6125_6_4_3_presented_wildcard_covers_one_label() {
        assert!(p("callservice.webex.com").matches("*.webex.com"));
        assert!(!p("a.callservice.webex.com").matches("*.webex.com"));
        assert!(!p("webex.com").matches("*.com"));
    }

    #[test]
    fn wildcard_misuse_is_refused() {
        assert_eq!(SubjectPattern::parse("a*.example.com"), Err(SubjectError::PartialWildcard));
        assert_eq!(SubjectPattern::parse("*.*.example.com"), Err(SubjectError::PartialWildcard));
        assert_eq!(SubjectPattern::parse("www.*.com"), Err(SubjectError::WildcardNotLeftmost));
        assert_eq!(SubjectPattern::parse("*.com"), Err(SubjectError::WildcardTooBroad));
        assert_eq!(SubjectPattern::parse("*"), Err(SubjectError::WildcardTooBroad));
        assert_eq!(SubjectPattern::parse("*.10.0.0.1"), Err(SubjectError::NotAHost));
        assert_eq!(SubjectPattern::parse("bad name"), Err(SubjectError::NotAHost));
    }
}
