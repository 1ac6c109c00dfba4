//! Where a configuration item came from, so that every load error can say `file:line:col: reason`.

use std::fmt;
use std::ops::Range;

/// The text of one configuration file (TOML or CPL) and the name to print in errors.
#[derive(Debug, Clone, Copy)]
pub struct SourceText<'a> {
    /// File name as the administrator wrote it (printed verbatim in errors).
    pub file: &'a str,
    /// The whole file; spans are byte offsets into it.
    pub text: &'a str,
}

impl<'a> SourceText<'a> {
    /// Names `text` as coming from `file`.
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Self { file, text }
    }

    /// The position of the first byte of `span` (1-based line and column, columns in characters).
    pub fn locate(&self, span: &Range<usize>) -> Location {
        let offset = span.start.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        Location { file: self.file.to_owned(), line: to_u32(line), col: to_u32(col) }
    }

    /// A position given directly as line and column (roxmltree reports them that way).
    pub fn at(&self, line: u32, col: u32) -> Location {
        Location { file: self.file.to_owned(), line, col }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `file:line:col`, printed in front of every load error.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// File name.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub col: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_line_and_column() {
        let src = SourceText::new("p.toml", "a = 1\nbé = \"x\"\n");
        assert_eq!(src.locate(&(0..1)).to_string(), "p.toml:1:1");
        // 'é' is two bytes but one column: the '=' after "bé " is column 4.
        let eq = src.text.find("= \"").unwrap_or(0);
        assert_eq!(src.locate(&(eq..eq + 1)).to_string(), "p.toml:2:4");
    }

    #[test]
    fn out_of_range_span_is_clamped_to_the_end() {
        let src = SourceText::new("p.toml", "ab\ncd");
        assert_eq!(src.locate(&(99..100)).to_string(), "p.toml:2:3");
    }
}
