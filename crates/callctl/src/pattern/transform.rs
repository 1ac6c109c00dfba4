//! Called- and calling-party transformations of route and translation patterns, applied in
//! CUCM's order: discard digits, then the transform mask, then prefix digits.

use super::{DialString, Pattern};

/// Digit discard instructions Causeway supports. CUCM's other instructions are defined over
/// the `@` numbering plan (area code, international access, …), which is refused at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Discard {
    /// Keep every digit.
    #[default]
    None,
    /// Remove the digits matched before the `.` (`9.1!` turns `914085551234` into `14085551234`).
    PreDot,
    /// Remove a final `#` (the end-of-dialing key).
    TrailingHash,
    /// Both of the above.
    PreDotTrailingHash,
}

impl Discard {
    /// Parses the config token (`none`, `predot`, `trailing-#`, `predot-trailing-#`).
    pub fn from_token(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "predot" => Some(Self::PreDot),
            "trailing-#" => Some(Self::TrailingHash),
            "predot-trailing-#" => Some(Self::PreDotTrailingHash),
            _ => None,
        }
    }

    /// Whether the instruction needs a `.` in the pattern.
    pub fn needs_dot(self) -> bool {
        matches!(self, Self::PreDot | Self::PreDotTrailingHash)
    }

    fn apply(self, pattern: &Pattern, dialed: &DialString) -> String {
        let mut out = dialed.as_str();
        if self.needs_dot() {
            let cut = pattern.predot_len(dialed).unwrap_or(0);
            out = out.get(cut..).unwrap_or(out);
        }
        if matches!(self, Self::TrailingHash | Self::PreDotTrailingHash) {
            out = out.strip_suffix('#').unwrap_or(out);
        }
        out.to_owned()
    }
}

/// A transform mask: right-aligned over the number; `X` keeps the number's symbol in that
/// place, any other symbol replaces it; symbols of the number left of the mask are dropped.
/// `XXXX` on `4085551002` gives `1002`; `+1408555XXXX` on `1002` gives `+14085551002`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask(String);

impl Mask {
    /// Validates a mask: `0`–`9`, `*`, `#`, `X`, and `+` only in front.
    pub fn parse(s: &str) -> Option<Self> {
        let body = s.strip_prefix('+').unwrap_or(s);
        let ok = !body.is_empty() && body.chars().all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'X' | 'x'));
        ok.then(|| Self(s.to_ascii_uppercase()))
    }

    /// The mask as written (upper-case X).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Applies the mask to `number`.
    pub fn apply(&self, number: &str) -> String {
        let mut digits = number.chars().rev();
        let mut out: Vec<char> = Vec::with_capacity(self.0.len());
        for m in self.0.chars().rev() {
            let own = digits.next();
            match (m, own) {
                ('X', Some(d)) => out.push(d),
                ('X', None) => {}
                (literal, _) => out.push(literal),
            }
        }
        out.iter().rev().collect()
    }
}

/// Prefix digits: `0`–`9`, `*`, `#`, with `+` only in front (`+` alone makes a number E.164).
pub fn valid_prefix(s: &str) -> bool {
    let body = s.strip_prefix('+').unwrap_or(s);
    body.chars().all(|c| c.is_ascii_digit() || matches!(c, '*' | '#'))
}

/// What a pattern does to the called number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalledTransform {
    /// Digit discard.
    pub discard: Discard,
    /// Transform mask.
    pub mask: Option<Mask>,
    /// Prefix digits.
    pub prefix: String,
}

impl CalledTransform {
    /// The called number after this transform; `pattern` is the pattern that matched `dialed`.
    pub fn apply(&self, pattern: &Pattern, dialed: &DialString) -> String {
        let kept = self.discard.apply(pattern, dialed);
        let masked = match &self.mask {
            Some(m) => m.apply(&kept),
            None => kept,
        };
        format!("{}{masked}", self.prefix)
    }

}

/// What a pattern does to the calling number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallingTransform {
    /// Transform mask.
    pub mask: Option<Mask>,
    /// Prefix digits.
    pub prefix: String,
}

impl CallingTransform {
    /// The calling number after this transform.
    pub fn apply(&self, number: &str) -> String {
        let masked = self.mask.as_ref().map_or_else(|| number.to_owned(), |m| m.apply(number));
        format!("{}{masked}", self.prefix)
    }

}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(s: &str) -> Mask {
        Mask::parse(s).unwrap_or_else(|| panic!("bad mask {s}"))
    }

    #[test]
    fn masks_are_right_aligned() {
        assert_eq!(mask("XXXX").apply("4085551002"), "1002");
        assert_eq!(mask("+1408555XXXX").apply("1002"), "+14085551002");
        assert_eq!(mask("XX9X").apply("1234"), "1294");
        assert_eq!(mask("XXXXXX").apply("12"), "12");
        assert!(Mask::parse("1+2").is_none());
        assert!(Mask::parse("+").is_none());
    }

    #[test]
    fn discard_then_mask_then_prefix() {
        let pattern = Pattern::parse("9.1!#").unwrap_or_else(|e| panic!("{e}"));
        let dialed = DialString::parse("914085551234#").unwrap_or_else(|| panic!("dial string"));
        let t = CalledTransform { discard: Discard::PreDotTrailingHash, mask: None, prefix: "+".into() };
        assert_eq!(t.apply(&pattern, &dialed), "+14085551234");
        let t = CalledTransform { discard: Discard::PreDot, mask: Some(mask("XXXXXXXX")), prefix: "0".into() };
        assert_eq!(t.apply(&pattern, &dialed), "05551234#");
    }
}
