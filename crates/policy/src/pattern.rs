//! Alias patterns: regexes compiled once, anchored at both ends and case-insensitive.
//!
//! Anchoring follows Expressway (a pattern must match the whole alias). Case-insensitivity is a
//! security choice: host names are case-insensitive (RFC 3261 §19.1.4), so a reject rule for
//! `.*@example\.com` must also stop `x@EXAMPLE.COM`. A pattern that needs case can say `(?-i)`.

use regex::{Regex, RegexBuilder};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Compiled-size limit per pattern, so a hostile or careless pattern cannot eat memory.
const SIZE_LIMIT: usize = 1 << 20;

/// A compiled alias pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    regex: Regex,
    universal: bool,
}

impl Pattern {
    /// Compiles `pattern` as `^(?:pattern)$`, case-insensitive.
    pub fn compile(pattern: &str) -> Result<Self, regex::Error> {
        let anchored = format!("^(?:{pattern})$");
        let regex = RegexBuilder::new(&anchored).case_insensitive(true).size_limit(SIZE_LIMIT).build()?;
        let universal = regex_syntax::ParserBuilder::new()
            .case_insensitive(true)
            .build()
            .parse(&anchored)
            .is_ok_and(|hir| matches_everything(&hir));
        Ok(Self { source: pattern.to_owned(), regex, universal })
    }

    /// Whether the whole of `alias` matches.
    pub fn is_match(&self, alias: &str) -> bool {
        self.regex.is_match(alias)
    }

    /// The compiled regex (for capture-group replacement).
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern provably matches every alias (`.*`, `(.*)`, `^.*$`, `x|.*`, …).
    /// Used to refuse rules that an earlier catch-all makes unreachable. Aliases never contain a
    /// line break, so `.` counts as any character.
    pub fn is_catch_all(&self) -> bool {
        self.universal
    }
}

fn matches_everything(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Capture(capture) => matches_everything(&capture.sub),
        HirKind::Repetition(rep) => rep.min == 0 && rep.max.is_none() && any_char(&rep.sub),
        HirKind::Concat(parts) => {
            parts.iter().any(matches_everything)
                && parts.iter().all(|p| matches!(p.kind(), HirKind::Look(_)) || matches_everything(p))
        }
        HirKind::Alternation(branches) => branches.iter().any(matches_everything),
        _ => false,
    }
}

fn any_char(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Capture(capture) => any_char(&capture.sub),
        HirKind::Class(Class::Unicode(class)) => {
            let mut missing = class.clone();
            missing.negate();
            missing.ranges().iter().all(|r| r.start() == '\n' && r.end() == '\n')
        }
        HirKind::Class(Class::Bytes(class)) => {
            let mut missing = class.clone();
            missing.negate();
            missing.ranges().iter().all(|r| r.start() == b'\n' && r.end() == b'\n')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        match Pattern::compile(s) {
            Ok(p) => p,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn patterns_are_anchored() {
        assert!(p("[09]\\d*(@.*)?").is_match("9011441234@ent-pa.com"));
        assert!(!p("[09]\\d*(@.*)?").is_match("x9011@ent-pa.com"));
        assert!(!p("bob").is_match("bobby"));
        assert!(!p("a|b").is_match("ab"));
    }

    #[test]
    fn patterns_ignore_case_unless_told() {
        assert!(p(".*@example\\.com.*").is_match("x@EXAMPLE.COM"));
        assert!(!p("(?-i).*@example\\.com").is_match("x@EXAMPLE.COM"));
    }

    #[test]
    fn catch_all_detection() {
        for s in [".*", "(.*)", "^.*$", ".*.*", "x|.*", "(?s).*", "(.)*", "[^@]*|.*"] {
            assert!(p(s).is_catch_all(), "{s} should be a catch-all");
        }
        for s in [".+", "a.*", ".*@example\\.com.*", "[^@]*", "", "\\d*"] {
            assert!(!p(s).is_catch_all(), "{s} is not a catch-all");
        }
    }

    #[test]
    fn invalid_regex_is_an_error() {
        assert!(Pattern::compile("([09]").is_err());
    }
}
