//! CUCM route-pattern syntax, compiled once at load into a bit-parallel NFA.
//!
//! | syntax | meaning |
//! |---|---|
//! | `0`–`9`, `*`, `#` | that symbol (`#` also ends dialing on a phone; in an en-bloc SIP request it is a literal) |
//! | `\+` | a literal `+` (a bare `+` is the repetition operator) |
//! | `X` | any digit 0–9 |
//! | `!` | one or more digits |
//! | `[1-5]`, `[135]`, `[^0]` | one digit from the set; `^` first means "any digit except" |
//! | `?` | zero or more of the preceding symbol, `X` or set |
//! | `+` | one or more of the preceding symbol, `X` or set |
//! | `.` | the discard point for PreDot digit discard; matches nothing itself (one per pattern) |
//! | `@` | refused: CUCM's numbering-plan macro expands to a country dial plan (a DPI file) that Causeway does not ship |
//!
//! Matching is a bit-parallel NFA over at most 63 atoms (a pattern longer than that is refused),
//! so it runs in O(dialed length) with a few word operations per symbol and never backtracks.

mod count;
pub mod transform;

pub use count::Count;

use count::CountTable;

/// Longest dial string analysed; longer ones match nothing (CUCM's digit-string limit is 48).
pub const MAX_DIGITS: usize = 48;
/// Most atoms in one compiled pattern (`!` and `+` take two).
const MAX_ATOMS: usize = 63;
/// Symbols a dial string is made of: `0`–`9`, `*`, `#`, `+`.
const SYMBOLS: usize = 13;
const DIGIT_CLASS: u16 = 0x3ff;

fn symbol(b: u8) -> Option<usize> {
    match b {
        b'0'..=b'9' => Some(usize::from(b - b'0')),
        b'*' => Some(10),
        b'#' => Some(11),
        b'+' => Some(12),
        _ => None,
    }
}

/// A dialed number ready for analysis: `0`–`9`, `*`, `#`, with at most one leading `+`, and
/// between 1 and [`MAX_DIGITS`] symbols. Visual separators (`-`, `.`, `(`, `)`, RFC 3966
/// §5.1.1) are removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialString(String);

impl DialString {
    /// Normalises `s`; `None` when it is not a dial string (a name such as `bob`, for example).
    pub fn parse(s: &str) -> Option<Self> {
        // Bound the work on hostile input before copying: separators at most triple a number.
        if s.len() > 4 * MAX_DIGITS {
            return None;
        }
        let kept: String = s.chars().filter(|c| !matches!(c, '-' | '.' | '(' | ')')).collect();
        let body = kept.strip_prefix('+').unwrap_or(&kept);
        let ok = !body.is_empty()
            && kept.len() <= MAX_DIGITS
            && body.bytes().all(|b| b.is_ascii_digit() || b == b'*' || b == b'#');
        ok.then_some(Self(kept))
    }

    /// The normalised string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Symbol count.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true for a parsed dial string; here for the `len` convention.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn symbols(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.bytes().filter_map(symbol)
    }
}

impl std::fmt::Display for DialString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a pattern was refused; `at` is the 0-based character position in the pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// Nothing to match.
    #[error("empty pattern")]
    Empty,
    /// A character outside the syntax.
    #[error("character '{ch}' at position {at} is not CUCM pattern syntax")]
    BadChar {
        /// The character.
        ch: char,
        /// Position.
        at: usize,
    },
    /// `?` or `+` with nothing to repeat.
    #[error("'{op}' at position {at} has nothing to repeat (it applies to the symbol, X or [set] before it; write \\+ for a literal plus)")]
    NothingToRepeat {
        /// `?` or `+`.
        op: char,
        /// Position.
        at: usize,
    },
    /// `[` without `]`, an empty set, a reversed range or a non-digit in a set.
    #[error("bad digit set at position {at}: {why}")]
    BadSet {
        /// Position of the `[`.
        at: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// More than one `.`.
    #[error("second discard point '.' at position {at} (a pattern has at most one)")]
    SecondDot {
        /// Position.
        at: usize,
    },
    /// A `.` with nothing before or after it.
    #[error("discard point '.' at position {at} must have digits on both sides")]
    DotAtEdge {
        /// Position.
        at: usize,
    },
    /// The `@` macro.
    #[error("'@' at position {at}: the numbering-plan macro expands to a country dial plan that Causeway does not ship; write the patterns out (e.g. 9.1[2-9]XX[2-9]XXXXXX)")]
    NumberingPlanMacro {
        /// Position.
        at: usize,
    },
    /// `\` not followed by `+`.
    #[error("'\\' at position {at} must be followed by '+'")]
    BadEscape {
        /// Position.
        at: usize,
    },
    /// Too many atoms.
    #[error("pattern is too long (at most {MAX_ATOMS} symbols, counting ! and + twice)")]
    TooLong,
    /// The pattern accepts the empty string (`X?` alone, say).
    #[error("pattern matches an empty number")]
    MatchesEmpty,
    /// No dial string of at most 48 symbols matches.
    #[error("pattern matches no number of at most {MAX_DIGITS} symbols")]
    MatchesNothing,
    /// The determinised automaton is too large to count closest matches.
    #[error("pattern is too ambiguous to rank (too many overlapping repetitions)")]
    TooAmbiguous,
}

#[derive(Debug, Clone, Copy)]
enum Atom {
    One(u16),
    Star(u16),
}

/// The automaton: one bit per position "before atom i"; bit `atoms` is "matched".
#[derive(Debug, Clone)]
struct Nfa {
    atoms: usize,
    /// Bit i: atom i repeats (zero or more).
    star: u64,
    /// Per symbol: the atoms whose class holds it.
    accepts: [u64; SYMBOLS],
}

/// A compiled route pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    nfa: Nfa,
    /// Symbols that can start a match (a one-word prefilter).
    first: u16,
    /// Atom index the discard point stands before.
    dot: Option<usize>,
    counts: CountTable,
}

impl Pattern {
    /// Parses and compiles `text`.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let (atoms, dot) = parse_atoms(text)?;
        let mut nfa = Nfa { atoms: atoms.len(), star: 0, accepts: [0; SYMBOLS] };
        for (i, atom) in atoms.iter().enumerate() {
            let class = match *atom {
                Atom::One(c) => c,
                Atom::Star(c) => {
                    nfa.star |= 1 << i;
                    c
                }
            };
            for (sym, mask) in nfa.accepts.iter_mut().enumerate() {
                if class & (1 << sym) != 0 {
                    *mask |= 1 << i;
                }
            }
        }
        let start = nfa.start();
        let first = (0..SYMBOLS).filter(|&s| nfa.step(start, s) != 0).fold(0, |acc, s| acc | (1 << s));
        let counts = CountTable::build(start, nfa.accept(), MAX_DIGITS, SYMBOLS, |s, sym| nfa.step(s, sym))
            .ok_or(PatternError::TooAmbiguous)?;
        if counts.matches_empty() {
            return Err(PatternError::MatchesEmpty);
        }
        if counts.is_empty() {
            return Err(PatternError::MatchesNothing);
        }
        Ok(Self { text: text.to_owned(), nfa, first, dot, counts })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern has a discard point.
    pub fn has_dot(&self) -> bool {
        self.dot.is_some()
    }

    /// Whether every string it matches has one length (no `!`, `?` or `+`).
    pub fn is_fixed_length(&self) -> bool {
        self.nfa.star == 0
    }

    /// How many strings of `len` symbols the pattern matches: the closest-match measure.
    pub fn strings_of_length(&self, len: usize) -> Count {
        self.counts.at(len)
    }

    /// Whether the whole of `dialed` matches.
    pub fn matches(&self, dialed: &DialString) -> bool {
        let mut symbols = dialed.symbols();
        let Some(first) = symbols.next() else { return false };
        if self.first & (1 << first) == 0 {
            return false;
        }
        let nfa = &self.nfa;
        let mut set = nfa.step(nfa.start(), first);
        for sym in symbols {
            if set == 0 {
                return false;
            }
            set = nfa.step(set, sym);
        }
        set & nfa.accept() != 0
    }

    /// How many leading symbols of `dialed` the part before the discard point consumes: the
    /// digits PreDot discard removes. When the split is ambiguous (`X+.X+`) the shortest
    /// prefix that still lets the rest match is taken. `None` without a dot or a match.
    pub fn predot_len(&self, dialed: &DialString) -> Option<usize> {
        let dot = self.dot?;
        let nfa = &self.nfa;
        let syms: Vec<usize> = dialed.symbols().collect();
        // Backward sets: positions from which syms[j..] can still be accepted.
        let mut back = vec![0u64; syms.len() + 1];
        let single = |p: usize| nfa.closure(1u64 << p);
        let mut last = 0u64;
        for p in 0..=nfa.atoms {
            if single(p) & nfa.accept() != 0 {
                last |= 1 << p;
            }
        }
        if let Some(slot) = back.last_mut() {
            *slot = last;
        }
        for j in (0..syms.len()).rev() {
            let (sym, after) = (syms.get(j).copied()?, back.get(j + 1).copied()?);
            let mut here = 0u64;
            for p in 0..=nfa.atoms {
                if nfa.advance(single(p), sym) & after != 0 {
                    here |= 1 << p;
                }
            }
            *back.get_mut(j)? = here;
        }
        let bit = 1u64 << dot;
        let mut forward = nfa.start();
        for (j, b) in back.iter().enumerate() {
            if forward & bit != 0 && b & bit != 0 {
                return Some(j);
            }
            forward = nfa.step(forward, *syms.get(j)?);
        }
        None
    }
}

impl Nfa {
    fn accept(&self) -> u64 {
        1u64 << self.atoms
    }

    fn start(&self) -> u64 {
        self.closure(1)
    }

    /// Adds the positions reachable by skipping repeated atoms (they may match nothing).
    fn closure(&self, mut set: u64) -> u64 {
        loop {
            let next = set | ((set & self.star) << 1);
            if next == set {
                return set;
            }
            set = next;
        }
    }

    /// Consumes one symbol, without closing the result.
    fn advance(&self, set: u64, sym: usize) -> u64 {
        let m = set & self.accepts.get(sym).copied().unwrap_or(0);
        ((m & !self.star) << 1) | (m & self.star)
    }

    fn step(&self, set: u64, sym: usize) -> u64 {
        self.closure(self.advance(set, sym))
    }
}

/// Parses the syntax table of the module doc into atoms and the dot position.
fn parse_atoms(text: &str) -> Result<(Vec<Atom>, Option<usize>), PatternError> {
    if text.is_empty() {
        return Err(PatternError::Empty);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut atoms: Vec<Atom> = Vec::new();
    let mut dot = None;
    // Whether the last element may take `?` / `+` (a symbol, X or set not yet repeated).
    let mut repeatable = false;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '0'..='9' | '*' | '#' => {
                let sym = symbol(u8::try_from(c).unwrap_or(0)).unwrap_or(0);
                atoms.push(Atom::One(1 << sym));
                repeatable = true;
            }
            'X' | 'x' => {
                atoms.push(Atom::One(DIGIT_CLASS));
                repeatable = true;
            }
            '!' => {
                atoms.push(Atom::One(DIGIT_CLASS));
                atoms.push(Atom::Star(DIGIT_CLASS));
                repeatable = false;
            }
            '\\' => {
                if chars.get(i + 1) != Some(&'+') {
                    return Err(PatternError::BadEscape { at: i });
                }
                atoms.push(Atom::One(1 << 12));
                repeatable = true;
                i += 1;
            }
            '[' => {
                let (class, end) = parse_set(&chars, i)?;
                atoms.push(Atom::One(class));
                repeatable = true;
                i = end;
            }
            '?' | '+' => {
                let last = atoms.last().copied();
                match (repeatable, last) {
                    (true, Some(Atom::One(class))) => {
                        if c == '?' {
                            atoms.pop();
                        }
                        atoms.push(Atom::Star(class));
                        repeatable = false;
                    }
                    _ => return Err(PatternError::NothingToRepeat { op: c, at: i }),
                }
            }
            '.' => {
                if dot.is_some() {
                    return Err(PatternError::SecondDot { at: i });
                }
                if atoms.is_empty() || i + 1 == chars.len() {
                    return Err(PatternError::DotAtEdge { at: i });
                }
                dot = Some(atoms.len());
                repeatable = false;
            }
            '@' => return Err(PatternError::NumberingPlanMacro { at: i }),
            other => return Err(PatternError::BadChar { ch: other, at: i }),
        }
        if atoms.len() > MAX_ATOMS {
            return Err(PatternError::TooLong);
        }
        i += 1;
    }
    Ok((atoms, dot))
}

/// `[...]` starting at `open`: the digit class and the index of the closing `]`.
fn parse_set(chars: &[char], open: usize) -> Result<(u16, usize), PatternError> {
    let bad = |why| PatternError::BadSet { at: open, why };
    let mut i = open + 1;
    let negate = chars.get(i) == Some(&'^');
    if negate {
        i += 1;
    }
    let mut class = 0u16;
    loop {
        let c = *chars.get(i).ok_or(bad("no closing ']'"))?;
        if c == ']' {
            break;
        }
        let lo = c.to_digit(10).ok_or(bad("only digits and ranges such as 1-5 go inside [ ]"))?;
        let hi = if chars.get(i + 1) == Some(&'-') {
            let h = chars.get(i + 2).and_then(|h| h.to_digit(10)).ok_or(bad("a range needs a digit after '-'"))?;
            if h < lo {
                return Err(bad("range runs backwards"));
            }
            i += 2;
            h
        } else {
            lo
        };
        for d in lo..=hi {
            class |= 1 << d;
        }
        i += 1;
    }
    if negate {
        class = !class & DIGIT_CLASS;
    }
    if class == 0 {
        return Err(bad("the set holds no digit"));
    }
    Ok((class, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> DialString {
        DialString::parse(s).unwrap_or_else(|| panic!("not a dial string: {s}"))
    }

    #[test]
    fn counts_follow_cucm_examples() {
        let p = |s: &str| Pattern::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(p("1XXX").strings_of_length(4), Count::from(1000));
        assert_eq!(p("12XX").strings_of_length(4), Count::from(100));
        assert_eq!(p("1[3-5]XX").strings_of_length(4), Count::from(300));
        // "15! matches 100 strings for the purposes of closest match when 4 digits are dialed".
        assert_eq!(p("15!").strings_of_length(4), Count::from(100));
        // Ambiguous repetitions count strings, not paths: X?X? of length 1 is 10 strings.
        assert_eq!(p("1X?X?").strings_of_length(2), Count::from(10));
        assert_eq!(p("1X?X?").strings_of_length(3), Count::from(100));
    }

    #[test]
    fn predot_split_takes_the_shortest_prefix() {
        let p = Pattern::parse("X+.X+").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.predot_len(&d("1234")), Some(1));
        let p = Pattern::parse("9.1!").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.predot_len(&d("914085551234")), Some(1));
        assert_eq!(p.predot_len(&d("814085551234")), None);
        let p = Pattern::parse("1X?.0").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.predot_len(&d("1550")), Some(3));
    }

    #[test]
    fn dial_strings_are_normalised_and_bounded() {
        assert_eq!(d("+1(408)-555.1234").as_str(), "+14085551234");
        assert!(DialString::parse("bob").is_none());
        assert!(DialString::parse("+").is_none());
        assert!(DialString::parse("1+2").is_none());
        assert!(DialString::parse(&"1".repeat(MAX_DIGITS + 1)).is_none());
    }
}
