//! Exact string counts for closest-match selection.
//!
//! CUCM picks, among the patterns that match a dialed string, the one that matches the fewest
//! strings; a variable-length pattern (`!`, `?`, `+`) is counted over strings *of the dialed
//! length* only (`15!` dialed as `1515` counts as the 100 strings `1500`–`1599`). A pattern is
//! a small NFA, and an NFA with repetitions can accept one string along several paths (`X?X?`),
//! so the count is taken on the determinised automaton: distinct strings, never paths. Counts
//! reach 13^48 (about 2^178), hence a 192-bit integer; only addition and comparison are needed.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// A non-negative 192-bit integer (little-endian limbs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Count([u64; 3]);

impl Count {
    /// Zero.
    pub const ZERO: Self = Self([0; 3]);
    /// One.
    pub const ONE: Self = Self([1, 0, 0]);

    /// The sum; saturates (13^48 < 2^192, so no pattern of at most 48 symbols reaches it).
    #[must_use]
    pub fn plus(self, other: Self) -> Self {
        let mut out = [0u64; 3];
        let mut carry = false;
        for (i, slot) in out.iter_mut().enumerate() {
            let (a, b) = (self.0.get(i).copied().unwrap_or(0), other.0.get(i).copied().unwrap_or(0));
            let (s1, c1) = a.overflowing_add(b);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            *slot = s2;
            carry = c1 || c2;
        }
        if carry {
            Self([u64::MAX; 3])
        } else {
            Self(out)
        }
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 3]
    }

    /// Divides by a small divisor, returning (quotient, remainder).
    fn div_small(self, divisor: u64) -> (Self, u64) {
        let mut out = [0u64; 3];
        let mut rem: u128 = 0;
        for i in (0..3).rev() {
            let cur = (rem << 64) | u128::from(self.0.get(i).copied().unwrap_or(0));
            let q = cur / u128::from(divisor);
            rem = cur % u128::from(divisor);
            if let Some(slot) = out.get_mut(i) {
                *slot = u64::try_from(q).unwrap_or(u64::MAX);
            }
        }
        (Self(out), u64::try_from(rem).unwrap_or(0))
    }
}

impl Ord for Count {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }
}

impl PartialOrd for Count {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<u64> for Count {
    fn from(v: u64) -> Self {
        Self([v, 0, 0])
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut digits = Vec::new();
        let mut n = *self;
        while !n.is_zero() {
            let (q, r) = n.div_small(10);
            digits.push(char::from(b'0' + u8::try_from(r).unwrap_or(0)));
            n = q;
        }
        digits.iter().rev().try_for_each(|c| fmt::Write::write_char(f, *c))
    }
}

impl serde::Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Subsets of NFA states tracked per length while counting; a pattern whose determinised
/// automaton needs more is refused at load (no real dial plan comes near it).
pub(crate) const MAX_SUBSETS: usize = 4096;

/// Counts of strings matched per length, trimmed to the lengths that have any.
#[derive(Debug, Clone)]
pub(crate) struct CountTable {
    first_len: usize,
    counts: Box<[Count]>,
}

impl CountTable {
    /// Runs the subset construction one symbol at a time up to `max_len`. `start` is the
    /// closed start set, `step` the NFA transition (closed), `accept` the accepting bit.
    /// `None` when more than [`MAX_SUBSETS`] subsets are live at one length.
    pub(crate) fn build(start: u64, accept: u64, max_len: usize, symbols: usize, step: impl Fn(u64, usize) -> u64) -> Option<Self> {
        let mut frontier: Vec<(u64, Count)> = vec![(start, Count::ONE)];
        let mut all = Vec::with_capacity(max_len + 1);
        for len in 0..=max_len {
            let here = frontier.iter().filter(|(s, _)| s & accept != 0).fold(Count::ZERO, |acc, (_, c)| acc.plus(*c));
            all.push(here);
            if len == max_len || frontier.is_empty() {
                break;
            }
            let mut next: BTreeMap<u64, Count> = BTreeMap::new();
            for (set, count) in &frontier {
                for sym in 0..symbols {
                    let to = step(*set, sym);
                    if to != 0 {
                        let slot = next.entry(to).or_default();
                        *slot = slot.plus(*count);
                    }
                }
            }
            if next.len() > MAX_SUBSETS {
                return None;
            }
            frontier = next.into_iter().collect();
        }
        let first_len = all.iter().position(|c| !c.is_zero()).unwrap_or(all.len());
        let last = all.iter().rposition(|c| !c.is_zero()).map_or(first_len, |i| i + 1);
        let counts = all.get(first_len..last).unwrap_or_default().to_vec().into_boxed_slice();
        Some(Self { first_len, counts })
    }

    /// Strings of exactly `len` symbols that the pattern matches.
    pub(crate) fn at(&self, len: usize) -> Count {
        len.checked_sub(self.first_len).and_then(|i| self.counts.get(i)).copied().unwrap_or(Count::ZERO)
    }

    /// Whether no string at all is matched (up to the length limit).
    pub(crate) fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Whether the empty string is matched.
    pub(crate) fn matches_empty(&self) -> bool {
        !self.at(0).is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_counts_add_with_carry_and_print_in_decimal() {
        let max64 = Count::from(u64::MAX);
        let sum = max64.plus(Count::ONE);
        assert_eq!(sum.to_string(), "18446744073709551616");
        assert!(sum > max64);
        let mut ten48 = Count::ONE;
        for _ in 0..48 {
            let mut times_ten = Count::ZERO;
            for _ in 0..10 {
                times_ten = times_ten.plus(ten48);
            }
            ten48 = times_ten;
        }
        assert_eq!(ten48.to_string(), format!("1{}", "0".repeat(48)));
        assert_eq!(Count::ZERO.to_string(), "0");
    }

    #[test]
    fn saturates_instead_of_wrapping() {
        let max = Count([u64::MAX; 3]);
        assert_eq!(max.plus(Count::ONE), max);
    }
}
