//! SNR timers as data (quinn-proto's `TimerTable` idea): an enum of what can expire and the
//! instant each armed one expires at. A call has at most one no-answer timer and one timer per
//! leg, so a small vector is the whole table.

use std::time::Instant;

use super::LegId;

/// What can expire in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(tag = "timer", content = "leg", rename_all = "kebab-case")]
pub enum SnrTimer {
    /// The line's forward-no-answer ring time ran out: forward (CFNA).
    NoAnswer,
    /// A remote leg rang for its answer-too-late time: stop it.
    AnswerTooLate(LegId),
    /// A remote leg's delay-before-ringing passed: start it.
    DelayBeforeRinging(LegId),
}

/// Armed timers.
#[derive(Debug, Clone, Default)]
pub(crate) struct TimerTable {
    armed: Vec<(SnrTimer, Instant)>,
}

impl TimerTable {
    /// Arms (or re-arms) `timer`.
    pub(crate) fn set(&mut self, timer: SnrTimer, at: Instant) {
        match self.armed.iter_mut().find(|(t, _)| *t == timer) {
            Some(slot) => slot.1 = at,
            None => self.armed.push((timer, at)),
        }
    }

    /// Disarms `timer`; whether it was armed.
    pub(crate) fn cancel(&mut self, timer: SnrTimer) -> bool {
        let before = self.armed.len();
        self.armed.retain(|(t, _)| *t != timer);
        self.armed.len() != before
    }

    /// Every armed timer.
    pub(crate) fn armed(&self) -> impl Iterator<Item = SnrTimer> + '_ {
        self.armed.iter().map(|(t, _)| *t)
    }

    /// The earliest expiry.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.armed.iter().map(|(_, at)| *at).min()
    }

    /// Removes and returns the timer that expires first at or before `now` (ties: the
    /// [`SnrTimer`] order, so a no-answer forward happens before a leg due at the same instant
    /// would start).
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<SnrTimer> {
        let (i, _) = self
            .armed
            .iter()
            .enumerate()
            .filter(|(_, (_, at))| *at <= now)
            .min_by_key(|(_, (t, at))| (*at, *t))?;
        Some(self.armed.swap_remove(i).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_in_deadline_then_kind_order() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(SnrTimer::DelayBeforeRinging(LegId(1)), t0 + Duration::from_secs(4));
        table.set(SnrTimer::NoAnswer, t0 + Duration::from_secs(4));
        table.set(SnrTimer::AnswerTooLate(LegId(0)), t0 + Duration::from_secs(2));
        assert_eq!(table.next(), Some(t0 + Duration::from_secs(2)));
        assert_eq!(table.pop_due(t0 + Duration::from_secs(1)), None);
        let now = t0 + Duration::from_secs(5);
        assert_eq!(table.pop_due(now), Some(SnrTimer::AnswerTooLate(LegId(0))));
        assert_eq!(table.pop_due(now), Some(SnrTimer::NoAnswer));
        assert!(table.cancel(SnrTimer::DelayBeforeRinging(LegId(1))));
        assert_eq!(table.pop_due(now), None);
        assert_eq!(table.next(), None);
    }
}
