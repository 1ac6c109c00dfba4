//! Alias patterns and rewrites, shared by pre-search transforms and search rules.
//!
//! Matching follows Expressway: a pattern matches the *whole* alias (prefix and suffix patterns
//! its start or end), ignoring case (host names are case-insensitive, RFC 3261 §19.1.4).
//! Regexes are compiled by the policy crate's [`Pattern`] (anchored, case-insensitive,
//! size-limited, catch-all detection), so call policy and routing agree on what a pattern means.
//! Replacements are written Expressway's way: `\1`…`\9` name capture groups.

use std::fmt;

use causeway_policy::pattern::Pattern;
use serde::Serialize;

/// How a pattern string is compared with an alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatternType {
    /// The whole alias, ignoring case.
    Exact,
    /// The start of the alias, ignoring case.
    Prefix,
    /// The end of the alias, ignoring case.
    Suffix,
    /// A regular expression over the whole alias.
    Regex,
}

impl fmt::Display for PatternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Exact => "exact",
            Self::Prefix => "prefix",
            Self::Suffix => "suffix",
            Self::Regex => "regex",
        })
    }
}

/// Why a pattern or replacement cannot be compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// An empty pattern would match everything (prefix, suffix) or nothing (exact).
    #[error("the pattern is empty")]
    Empty,
    /// The regex does not compile.
    #[error("invalid regex: {}", one_line(.0))]
    Regex(#[from] regex::Error),
    /// `strip` removes a matched prefix or suffix; exact and regex patterns have none.
    #[error("`strip` needs a prefix or suffix pattern, not {0}")]
    StripNeedsAffix(PatternType),
    /// The replacement names a capture group the regex does not have.
    #[error("the replacement uses \\{group} but the pattern has {groups} capture group(s)")]
    MissingGroup {
        /// Group named.
        group: usize,
        /// Groups the regex has.
        groups: usize,
    },
}

/// The regex crate's message without its multi-line caret drawing: `unclosed group`.
fn one_line(e: &regex::Error) -> String {
    let text = e.to_string();
    let reason = text.lines().rev().find_map(|l| l.trim().strip_prefix("error: "));
    reason.unwrap_or(text.lines().next().unwrap_or_default()).to_owned()
}

/// A compiled alias pattern.
#[derive(Debug, Clone)]
pub struct AliasPattern {
    kind: PatternType,
    text: String,
    regex: Option<Pattern>,
}

impl AliasPattern {
    /// Compiles `text` as a pattern of type `kind`.
    pub fn compile(kind: PatternType, text: &str) -> Result<Self, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        let regex = match kind {
            PatternType::Regex => Some(Pattern::compile(text)?),
            _ => None,
        };
        Ok(Self { kind, text: text.to_owned(), regex })
    }

    /// The pattern type.
    pub fn kind(&self) -> PatternType {
        self.kind
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern provably matches every alias (a regex like `.*`).
    pub fn is_catch_all(&self) -> bool {
        self.regex.as_ref().is_some_and(Pattern::is_catch_all)
    }

    /// Whether `alias` matches.
    pub fn is_match(&self, alias: &str) -> bool {
        self.matched_span(alias).is_some()
    }

    /// Byte range of `alias` the pattern covers: the prefix, the suffix, or all of it.
    fn matched_span(&self, alias: &str) -> Option<(usize, usize)> {
        let n = self.text.len();
        match self.kind {
            PatternType::Exact => alias.eq_ignore_ascii_case(&self.text).then_some((0, alias.len())),
            PatternType::Prefix => {
                alias.get(..n).filter(|p| p.eq_ignore_ascii_case(&self.text)).map(|_| (0, n))
            }
            PatternType::Suffix => {
                let start = alias.len().checked_sub(n)?;
                alias.get(start..).filter(|s| s.eq_ignore_ascii_case(&self.text)).map(|_| (start, alias.len()))
            }
            PatternType::Regex => self.regex.as_ref().filter(|r| r.is_match(alias)).map(|_| (0, alias.len())),
        }
    }

    /// Checks that `rewrite` makes sense for this pattern (load time).
    pub fn check(&self, rewrite: &Rewrite) -> Result<(), PatternError> {
        match rewrite {
            Rewrite::Strip if matches!(self.kind, PatternType::Exact | PatternType::Regex) => {
                Err(PatternError::StripNeedsAffix(self.kind))
            }
            Rewrite::Replace(r) => {
                let groups = self.regex.as_ref().map_or(0, |p| p.regex().captures_len().saturating_sub(1));
                match r.highest_group() {
                    Some(group) if group > groups => Err(PatternError::MissingGroup { group, groups }),
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    /// The rewritten alias when `alias` matches, `None` when it does not.
    pub fn apply(&self, alias: &str, rewrite: &Rewrite) -> Option<String> {
        let (start, end) = self.matched_span(alias)?;
        let head = alias.get(..start).unwrap_or_default();
        let tail = alias.get(end..).unwrap_or_default();
        Some(match rewrite {
            Rewrite::Leave => alias.to_owned(),
            Rewrite::Strip => format!("{head}{tail}"),
            Rewrite::AddPrefix(text) => format!("{text}{alias}"),
            Rewrite::AddSuffix(text) => format!("{alias}{text}"),
            Rewrite::Replace(r) => match &self.regex {
                Some(p) => p.regex().replace(alias, r.expanded.as_str()).into_owned(),
                None => format!("{head}{}{tail}", r.written),
            },
        })
    }
}

/// What happens to a matching alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "behaviour", content = "text", rename_all = "kebab-case")]
pub enum Rewrite {
    /// Unchanged (search rules only).
    Leave,
    /// The matched prefix or suffix removed.
    Strip,
    /// The matched part replaced.
    Replace(Replacement),
    /// Text put in front (transforms only).
    AddPrefix(String),
    /// Text added at the end (transforms only).
    AddSuffix(String),
}

impl fmt::Display for Rewrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Leave => f.write_str("leave"),
            Self::Strip => f.write_str("strip"),
            Self::Replace(r) => write!(f, "replace with '{}'", r.written),
            Self::AddPrefix(t) => write!(f, "add prefix '{t}'"),
            Self::AddSuffix(t) => write!(f, "add suffix '{t}'"),
        }
    }
}

/// A replacement string: as written (`\1` groups) and in the regex crate's syntax (`${1}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Replacement {
    written: String,
    expanded: String,
    highest: Option<usize>,
}

impl From<Replacement> for String {
    fn from(r: Replacement) -> Self {
        r.written
    }
}

impl Replacement {
    /// Parses Expressway syntax: `\1`…`\9` are capture groups, `\\` is a backslash, anything
    /// else is literal (a `$` included).
    pub fn new(written: &str) -> Self {
        let mut expanded = String::with_capacity(written.len());
        let mut highest = None;
        let mut chars = written.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, chars.peek().copied()) {
                ('\\', Some(d)) if d.is_ascii_digit() => {
                    chars.next();
                    let group = usize::from(d as u8 - b'0');
                    highest = highest.max(Some(group));
                    expanded.push_str(&format!("${{{group}}}"));
                }
                ('\\', Some('\\')) => {
                    chars.next();
                    expanded.push('\\');
                }
                ('$', _) => expanded.push_str("$$"),
                (c, _) => expanded.push(c),
            }
        }
        Self { written: written.to_owned(), expanded, highest }
    }

    /// The text as configured.
    pub fn as_str(&self) -> &str {
        &self.written
    }

    fn highest_group(&self) -> Option<usize> {
        self.highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(kind: PatternType, text: &str) -> AliasPattern {
        match AliasPattern::compile(kind, text) {
            Ok(p) => p,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn each_pattern_type_matches_its_part_ignoring_case() {
        assert!(pat(PatternType::Exact, "bob@ent-pa.com").is_match("BOB@ent-pa.com"));
        assert!(!pat(PatternType::Exact, "bob@ent-pa.com").is_match("bob@ent-pa.com.evil"));
        assert!(pat(PatternType::Prefix, "9").is_match("9011@x"));
        assert!(!pat(PatternType::Prefix, "9011").is_match("901"));
        assert!(pat(PatternType::Suffix, "@ENT-PA.COM").is_match("bob@ent-pa.com"));
        assert!(pat(PatternType::Regex, r".*@example\.call\.webex\.com").is_match("alice@example.call.webex.com"));
        assert!(!pat(PatternType::Regex, r"example\.call").is_match("alice@example.call.webex.com"));
        assert!(!pat(PatternType::Suffix, "é").is_match("x"));
    }

    #[test]
    fn rewrites_follow_expressway_semantics() {
        let prefix = pat(PatternType::Prefix, "9");
        assert_eq!(prefix.apply("9011@x", &Rewrite::Strip), Some("011@x".into()));
        assert_eq!(prefix.apply("9011@x", &Rewrite::Replace(Replacement::new("00"))), Some("00011@x".into()));
        assert_eq!(prefix.apply("8011@x", &Rewrite::Strip), None);
        let suffix = pat(PatternType::Suffix, "@ent-pa.local");
        assert_eq!(suffix.apply("bob@ent-pa.local", &Rewrite::Replace(Replacement::new("@ent-pa.com"))), Some("bob@ent-pa.com".into()));
        let exact = pat(PatternType::Exact, "reception");
        assert_eq!(exact.apply("reception", &Rewrite::AddSuffix("@ent-pa.com".into())), Some("reception@ent-pa.com".into()));
        assert_eq!(exact.apply("reception", &Rewrite::AddPrefix("+1".into())), Some("+1reception".into()));
        let regex = pat(PatternType::Regex, r"(9\d+)(@example\.com)");
        assert_eq!(regex.apply("9123@example.com", &Rewrite::Replace(Replacement::new(r"\1"))), Some("9123".into()));
        assert_eq!(regex.apply("9123@example.com", &Rewrite::Leave), Some("9123@example.com".into()));
    }

    #[test]
    fn replacement_syntax_is_expressways() {
        let regex = pat(PatternType::Regex, r"(\d+)@(.*)");
        let r = Replacement::new(r"\2/\1 costs $5 \\ \x");
        assert_eq!(regex.apply("42@host", &Rewrite::Replace(r)), Some(r"host/42 costs $5 \ \x".into()));
    }

    #[test]
    fn load_checks_catch_impossible_rewrites() {
        let regex = pat(PatternType::Regex, r"(\d+)@x");
        assert_eq!(regex.check(&Rewrite::Replace(Replacement::new(r"\2"))), Err(PatternError::MissingGroup { group: 2, groups: 1 }));
        assert_eq!(regex.check(&Rewrite::Replace(Replacement::new(r"\1"))), Ok(()));
        assert_eq!(regex.check(&Rewrite::Strip), Err(PatternError::StripNeedsAffix(PatternType::Regex)));
        assert_eq!(pat(PatternType::Prefix, "9").check(&Rewrite::Strip), Ok(()));
        assert!(matches!(AliasPattern::compile(PatternType::Regex, "(9"), Err(PatternError::Regex(_))));
        assert_eq!(AliasPattern::compile(PatternType::Prefix, "").err(), Some(PatternError::Empty));
        assert!(pat(PatternType::Regex, "(.*)").is_catch_all());
        assert!(!pat(PatternType::Prefix, "9").is_catch_all());
    }
}
