//! RFC 5545 §3.1 content lines → a tree of components.
//!
//! Why a parser of our own rather than the `icalendar` or `ical` crates: this one has to (1) bound memory on hostile
//! input (a size cap checked before any work, a property count cap, a nesting cap), (2) report errors with a line
//! number, (3) keep each property's byte span so a reply can rewrite one ATTENDEE line and leave every other byte of
//! the organiser's object untouched, and (4) recover from the broken folding mail clients produce (a wrapped line
//! that lost its leading space) with a warning instead of dropping the event. Neither crate offers spans or limits.

use std::ops::Range;

use thiserror::Error;

/// Bounds applied before and during parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input in bytes (checked before parsing).
    pub max_bytes: usize,
    /// Most properties in the whole object.
    pub max_properties: usize,
    /// Deepest component nesting (VCALENDAR > VEVENT > VALARM is 3).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_bytes: 4 * 1024 * 1024, max_properties: 50_000, max_depth: 8 }
    }
}

/// Why an iCalendar object could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IcalError {
    /// The input is larger than [`Limits::max_bytes`].
    #[error("iCalendar object is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    /// The input is not UTF-8 (RFC 5545 §3.1.4 makes UTF-8 the default charset).
    #[error("iCalendar object is not valid UTF-8 (at byte {offset})")]
    NotUtf8 { offset: usize },
    /// A line that is neither a content line nor recoverable as a continuation.
    #[error("line {line}: not a content line (`name[;param]:value`, RFC 5545 §3.1)")]
    BadContentLine { line: usize },
    /// A parameter without `=` or with an unterminated quoted value (RFC 5545 §3.2).
    #[error("line {line}: malformed parameter in property {property}")]
    BadParameter { line: usize, property: String },
    /// `END:X` that does not close the open component.
    #[error("line {line}: END:{found} does not match open component {expected}")]
    MismatchedEnd { line: usize, expected: String, found: String },
    /// A component still open at the end of input.
    #[error("component {name} opened on line {line} is never closed")]
    Unterminated { name: String, line: usize },
    /// Nesting deeper than [`Limits::max_depth`].
    #[error("line {line}: components nested deeper than {limit}")]
    TooDeep { line: usize, limit: usize },
    /// More properties than [`Limits::max_properties`].
    #[error("more than {limit} properties")]
    TooManyProperties { limit: usize },
    /// A property outside any component.
    #[error("line {line}: property {property} outside BEGIN/END")]
    OutsideComponent { line: usize, property: String },
    /// No VCALENDAR in the input.
    #[error("no BEGIN:VCALENDAR found")]
    NoCalendar,
}

/// Something that was repaired while parsing; the object is still usable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseWarning {
    /// A line that was not a content line was taken as the continuation of the previous one (folding lost its
    /// leading whitespace, RFC 5545 §3.1).
    BrokenFold { line: usize },
}

impl std::fmt::Display for ParseWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BrokenFold { line } => write!(f, "line {line}: broken folding repaired (continuation without leading space)"),
        }
    }
}

/// One parameter: a name and its (possibly several, comma-separated) values, quotes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Upper-cased name.
    pub name: String,
    /// Values with DQUOTEs removed and RFC 6868 `^` escapes decoded.
    pub values: Vec<String>,
}

/// One property (content line after unfolding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Upper-cased name.
    pub name: String,
    /// Parameters in order.
    pub params: Vec<Param>,
    /// The value exactly as written (after unfolding), not unescaped.
    pub raw: String,
    /// First physical line (1-based).
    pub line: usize,
    /// Byte span of the folded property in the input, line break included.
    pub span: Range<usize>,
}

impl Property {
    /// First value of parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .and_then(|p| p.values.first())
            .map(String::as_str)
    }

    /// The value as TEXT (RFC 5545 §3.3.11): `\\`, `\;`, `\,`, `\n`/`\N` decoded.
    pub fn text(&self) -> String {
        unescape_text(&self.raw)
    }
}

/// A component (`BEGIN:NAME` … `END:NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Upper-cased name.
    pub name: String,
    /// Properties in order.
    pub properties: Vec<Property>,
    /// Nested components.
    pub children: Vec<Component>,
    /// Line of BEGIN.
    pub line: usize,
    /// Byte span from BEGIN to END inclusive.
    pub span: Range<usize>,
}

impl Component {
    /// First property called `name`.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// All properties called `name`.
    pub fn properties_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Property> + 'a {
        self.properties.iter().filter(move |p| p.name == name)
    }

    /// Direct children called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Component> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// A parsed iCalendar stream: its VCALENDAR components and repairs made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ical {
    /// Top-level components (normally one VCALENDAR).
    pub calendars: Vec<Component>,
    /// Repairs made while parsing.
    pub warnings: Vec<ParseWarning>,
}

/// A logical (unfolded) line with its position.
struct Logical {
    text: String,
    line: usize,
    span: Range<usize>,
}

/// Parses `input` under `limits`.
pub fn parse(input: &[u8], limits: Limits) -> Result<Ical, IcalError> {
    if input.len() > limits.max_bytes {
        return Err(IcalError::TooLarge { size: input.len(), limit: limits.max_bytes });
    }
    let text = std::str::from_utf8(input).map_err(|e| IcalError::NotUtf8 { offset: e.valid_up_to() })?;
    let text = text.strip_prefix('\u{feff}').map_or((text, 0), |t| (t, 3));
    let (logical, warnings) = unfold(text.0, text.1);
    let calendars = build_tree(&logical, limits)?;
    if !calendars.iter().any(|c| c.name == "VCALENDAR") {
        return Err(IcalError::NoCalendar);
    }
    Ok(Ical { calendars, warnings })
}

/// RFC 5545 §3.1: a CRLF followed by one space or tab is removed. Bare LF is accepted too. A non-empty line that
/// does not start like a content line is joined to the previous one (repair of lost folding whitespace).
fn unfold(text: &str, base: usize) -> (Vec<Logical>, Vec<ParseWarning>) {
    let mut out: Vec<Logical> = Vec::new();
    let mut warnings = Vec::new();
    let mut offset = base;
    for (index, physical) in text.split_inclusive('\n').enumerate() {
        let line = index + 1;
        let start = offset;
        offset += physical.len();
        let content = physical.trim_end_matches(['\r', '\n']);
        if let Some(rest) = content.strip_prefix([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.text.push_str(rest);
                last.span.end = offset;
                continue;
            }
        }
        if content.trim().is_empty() {
            if let Some(last) = out.last_mut() {
                last.span.end = offset;
            }
            continue;
        }
        if !looks_like_content_line(content) {
            if let Some(last) = out.last_mut() {
                warnings.push(ParseWarning::BrokenFold { line });
                last.text.push_str(content);
                last.span.end = offset;
                continue;
            }
        }
        out.push(Logical { text: content.to_owned(), line, span: start..offset });
    }
    (out, warnings)
}

/// `name` (iana-token / x-name: ALPHA, DIGIT, `-`) followed by `;` or `:` (RFC 5545 §3.1). Names are
/// case-insensitive, but producers write them in upper case; a mixed-case name that is not a standard one
/// (`Passcode: 123` from a wrapped description) is taken as text, not as a property.
fn looks_like_content_line(line: &str) -> bool {
    let name_len = line.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'-').count();
    if name_len == 0 || !matches!(line.as_bytes().get(name_len), Some(b';' | b':')) {
        return false;
    }
    let name = &line[..name_len];
    !name.bytes().any(|b| b.is_ascii_lowercase())
        || KNOWN_NAMES.iter().any(|known| known.eq_ignore_ascii_case(name))
}

/// Standard names accepted in any case by [`looks_like_content_line`].
const KNOWN_NAMES: &[&str] = &[
    "BEGIN", "END", "VERSION", "PRODID", "METHOD", "UID", "DTSTART", "DTEND", "DURATION", "DTSTAMP", "SUMMARY",
    "DESCRIPTION", "LOCATION", "URL", "ORGANIZER", "ATTENDEE", "RRULE", "EXDATE", "RDATE", "RECURRENCE-ID",
    "SEQUENCE", "STATUS", "TZID", "TZOFFSETFROM", "TZOFFSETTO", "CONFERENCE", "TRANSP", "CREATED",
];

fn build_tree(lines: &[Logical], limits: Limits) -> Result<Vec<Component>, IcalError> {
    let mut stack: Vec<Component> = Vec::new();
    let mut done = Vec::new();
    let mut count = 0usize;
    for logical in lines {
        let prop = parse_line(logical)?;
        match prop.name.as_str() {
            "BEGIN" => {
                if stack.len() >= limits.max_depth {
                    return Err(IcalError::TooDeep { line: logical.line, limit: limits.max_depth });
                }
                stack.push(Component {
                    name: prop.raw.trim().to_ascii_uppercase(),
                    properties: Vec::new(),
                    children: Vec::new(),
                    line: logical.line,
                    span: logical.span.clone(),
                });
            }
            "END" => {
                let found = prop.raw.trim().to_ascii_uppercase();
                let Some(mut open) = stack.pop() else {
                    return Err(IcalError::MismatchedEnd { line: logical.line, expected: "(none)".into(), found });
                };
                if open.name != found {
                    return Err(IcalError::MismatchedEnd { line: logical.line, expected: open.name, found });
                }
                open.span.end = logical.span.end;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(open),
                    None => done.push(open),
                }
            }
            _ => {
                count += 1;
                if count > limits.max_properties {
                    return Err(IcalError::TooManyProperties { limit: limits.max_properties });
                }
                match stack.last_mut() {
                    Some(open) => open.properties.push(prop),
                    None => return Err(IcalError::OutsideComponent { line: logical.line, property: prop.name }),
                }
            }
        }
    }
    if let Some(open) = stack.pop() {
        return Err(IcalError::Unterminated { name: open.name, line: open.line });
    }
    Ok(done)
}

/// `contentline = name *(";" param) ":" value` (RFC 5545 §3.1). Colons inside quoted parameter values do not end
/// the parameter list.
fn parse_line(logical: &Logical) -> Result<Property, IcalError> {
    let text = logical.text.as_str();
    let line = logical.line;
    let name_len = text.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'-').count();
    if name_len == 0 {
        return Err(IcalError::BadContentLine { line });
    }
    let name = text[..name_len].to_ascii_uppercase();
    let bad_param = || IcalError::BadParameter { line, property: name.clone() };
    let mut params = Vec::new();
    let mut rest = &text[name_len..];
    loop {
        if let Some(value) = rest.strip_prefix(':') {
            return Ok(Property { name, params, raw: value.to_owned(), line, span: logical.span.clone() });
        }
        let Some(after) = rest.strip_prefix(';') else {
            return Err(IcalError::BadContentLine { line });
        };
        let eq = after.find('=').ok_or_else(bad_param)?;
        let pname = &after[..eq];
        if pname.is_empty() || !pname.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(bad_param());
        }
        let (values, remaining) = parse_param_values(&after[eq + 1..]).ok_or_else(bad_param)?;
        params.push(Param { name: pname.to_ascii_uppercase(), values });
        rest = remaining;
    }
}

/// `param-value *("," param-value)`, each either quoted or a run of SAFE-CHAR; returns the rest from `;` or `:`.
fn parse_param_values(mut s: &str) -> Option<(Vec<String>, &str)> {
    let mut values = Vec::new();
    loop {
        if let Some(quoted) = s.strip_prefix('"') {
            let end = quoted.find('"')?;
            values.push(decode_caret(&quoted[..end]));
            s = &quoted[end + 1..];
        } else {
            let end = s.find([',', ';', ':'])?;
            values.push(decode_caret(&s[..end]));
            s = &s[end..];
        }
        match s.strip_prefix(',') {
            Some(next) => s = next,
            None => return Some((values, s)),
        }
    }
}

/// RFC 6868 §3: `^n` → newline, `^^` → `^`, `^'` → `"`.
fn decode_caret(s: &str) -> String {
    if !s.contains('^') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('^', Some('n')) => {
                out.push('\n');
                chars.next();
            }
            ('^', Some('^')) => {
                out.push('^');
                chars.next();
            }
            ('^', Some('\'')) => {
                out.push('"');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// RFC 5545 §3.3.11 TEXT unescaping.
pub fn unescape_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Serializes one property as a content line folded at 75 octets (RFC 5545 §3.1), never splitting a UTF-8
/// character, ending in CRLF.
pub fn write_property(name: &str, params: &[Param], raw: &str) -> String {
    let mut line = String::from(name);
    for param in params {
        line.push(';');
        line.push_str(&param.name);
        line.push('=');
        for (i, value) in param.values.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            if value.contains([':', ';', ',']) {
                line.push('"');
                line.push_str(value);
                line.push('"');
            } else {
                line.push_str(value);
            }
        }
    }
    line.push(':');
    line.push_str(raw);
    fold(&line)
}

fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_event(ical: &Ical) -> Option<&Component> {
        ical.calendars.first()?.children_named("VEVENT").next()
    }

    #[test]
    fn rfc5545_3_1_unfolds_space_and_tab_continuations() -> Result<(), IcalError> {
        let src = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDESCRIPTION:Join at https://zoom.us/j/\r\n 85012345678\r\n\tend\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let ical = parse(src.as_bytes(), Limits::default())?;
        let desc = first_event(&ical).and_then(|e| e.property("DESCRIPTION")).map(Property::text);
        assert_eq!(desc.as_deref(), Some("Join at https://zoom.us/j/85012345678end"));
        assert!(ical.warnings.is_empty());
        Ok(())
    }

    #[test]
    fn broken_folding_is_repaired_with_a_warning() -> Result<(), IcalError> {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDESCRIPTION:Meeting ID\n: 850 1234 5678\nEND:VEVENT\nEND:VCALENDAR\n";
        let ical = parse(src.as_bytes(), Limits::default())?;
        let desc = first_event(&ical).and_then(|e| e.property("DESCRIPTION")).map(Property::text);
        assert_eq!(desc.as_deref(), Some("Meeting ID: 850 1234 5678"));
        assert_eq!(ical.warnings, vec![ParseWarning::BrokenFold { line: 4 }]);
        Ok(())
    }

    #[test]
    fn quoted_parameter_may_hold_colons_and_text_escapes_decode() -> Result<(), IcalError> {
        let src = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nATTENDEE;CN=\"Room: Board, 4th\";PARTSTAT=NEEDS-ACTION:mailto:board@ent.example\r\nSUMMARY:a\\, b\\; c\\nd\\\\\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let ical = parse(src.as_bytes(), Limits::default())?;
        let event = first_event(&ical).ok_or(IcalError::NoCalendar)?;
        let attendee = event.property("ATTENDEE").ok_or(IcalError::NoCalendar)?;
        assert_eq!(attendee.param("cn"), Some("Room: Board, 4th"));
        assert_eq!(attendee.param("PARTSTAT"), Some("NEEDS-ACTION"));
        assert_eq!(attendee.raw, "mailto:board@ent.example");
        assert_eq!(event.property("SUMMARY").map(Property::text).as_deref(), Some("a, b; c\nd\\"));
        Ok(())
    }

    #[test]
    fn limits_and_structure_errors_are_typed() {
        let big = vec![b'A'; 100];
        let small = Limits { max_bytes: 10, ..Limits::default() };
        assert_eq!(parse(&big, small), Err(IcalError::TooLarge { size: 100, limit: 10 }));
        assert_eq!(parse(b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n", Limits::default()),
            Err(IcalError::MismatchedEnd { line: 3, expected: "VEVENT".into(), found: "VCALENDAR".into() }));
        assert_eq!(parse(b"BEGIN:VCALENDAR\nBEGIN:VEVENT\n", Limits::default()),
            Err(IcalError::Unterminated { name: "VEVENT".into(), line: 2 }));
        assert_eq!(parse(b"not ical at all", Limits::default()), Err(IcalError::BadContentLine { line: 1 }));
        assert_eq!(parse(b"BEGIN:VCALENDAR\nX;P\"=1:v\nEND:VCALENDAR\n", Limits::default()),
            Err(IcalError::BadParameter { line: 2, property: "X".into() }));
        assert_eq!(parse(&[0xff, 0xfe], Limits::default()), Err(IcalError::NotUtf8 { offset: 0 }));
        let deep = "BEGIN:VCALENDAR\nBEGIN:A\nBEGIN:B\nEND:B\nEND:A\nEND:VCALENDAR\n";
        let shallow = Limits { max_depth: 2, ..Limits::default() };
        assert_eq!(parse(deep.as_bytes(), shallow), Err(IcalError::TooDeep { line: 3, limit: 2 }));
    }

    #[test]
    fn property_span_covers_folded_lines_and_write_folds_at_75_octets() -> Result<(), IcalError> {
        let src = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:\r\n room@ent.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let ical = parse(src.as_bytes(), Limits::default())?;
        let prop = first_event(&ical).and_then(|e| e.property("ATTENDEE")).ok_or(IcalError::NoCalendar)?;
        assert_eq!(&src[prop.span.clone()], "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:\r\n room@ent.example\r\n");
        let long = write_property("DESCRIPTION", &[], &"é".repeat(60));
        assert!(long.split("\r\n").all(|l| l.len() <= 75));
        assert_eq!(long.replace("\r\n ", ""), format!("DESCRIPTION:{}\r\n", "é".repeat(60)));
        Ok(())
    }
}
