//! Transaction timers as data (RFC 3261 §17, Table 4; RFC 6026 §8.4, §8.7).
//!
//! A transaction never holds more than one timer of each [`Role`] at a time: one that
//! retransmits, one that gives up, one that lingers to absorb stray retransmissions. So the
//! table is three slots, not one per timer, and `next_timeout` is the minimum of three.
//! Arming and firing allocate nothing.
//!
//! Deadlines are [`Tick`]s, 8 bytes from the table's [`Epoch`] where an `Instant` takes 16: every
//! transaction of the last 64*T1 keeps its timers (RFC 6026), so at thousands of calls a second
//! each byte here is megabytes.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

/// The RFC 3261 §17 transaction timers plus RFC 6026's L and M. Timer C belongs to the
/// proxy core (§16.6 step 11), not to a transaction, and so is not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// INVITE client: retransmit the INVITE; starts at T1 and doubles with no cap (§17.1.1.2). UDP only.
    A,
    /// INVITE client: no response in 64*T1, give up; the TU answers 408 (§17.1.1.2).
    B,
    /// INVITE client Completed: absorb retransmitted non-2xx finals, 32 s on UDP, 0 on TCP/TLS (§17.1.1.2).
    D,
    /// Non-INVITE client: retransmit the request at T1, doubling up to T2 (§17.1.2.2). UDP only.
    E,
    /// Non-INVITE client: no final response in 64*T1, give up; the TU answers 408 (§17.1.2.2).
    F,
    /// INVITE server Completed: retransmit the non-2xx final at T1, doubling up to T2 (§17.2.1). UDP only.
    G,
    /// INVITE server Completed: no ACK in 64*T1, give up (§17.2.1).
    H,
    /// INVITE server Confirmed: absorb ACK retransmissions for T4 on UDP, 0 on TCP/TLS (§17.2.1).
    I,
    /// Non-INVITE server Completed: absorb request retransmissions for 64*T1 on UDP, 0 on TCP/TLS (§17.2.2).
    J,
    /// Non-INVITE client Completed: absorb response retransmissions for T4 on UDP, 0 on TCP/TLS (§17.1.2.2).
    K,
    /// INVITE server Accepted: absorb INVITE retransmissions and pass on 2xx for 64*T1 (RFC 6026 §8.7).
    L,
    /// INVITE client Accepted: pass on 2xx retransmissions and forked 2xx for 64*T1 (RFC 6026 §8.4).
    M,
}

impl Timer {
    /// The slot this timer occupies in a [`TimerTable`].
    const fn role(self) -> Role {
        match self {
            Self::A | Self::E | Self::G => Role::Retransmit,
            Self::B | Self::F | Self::H => Role::GiveUp,
            Self::D | Self::I | Self::J | Self::K | Self::L | Self::M => Role::Linger,
        }
    }
}

/// What a timer is for; a transaction arms at most one timer per role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A, E, G.
    Retransmit = 0,
    /// B, F, H.
    GiveUp = 1,
    /// D, I, J, K, L, M.
    Linger = 2,
}

const ROLES: usize = 3;

/// A deadline: nanoseconds since the table's [`Epoch`], plus one, so that `Option<Tick>` is 8
/// bytes too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Tick(NonZeroU64);

impl Tick {
    /// `after` from this tick.
    pub(crate) fn after(self, after: Duration) -> Self {
        Self(self.0.saturating_add(u64::try_from(after.as_nanos()).unwrap_or(u64::MAX)))
    }
}

/// The instant ticks count from: the `now` of the table's first transaction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epoch(Instant);

impl Epoch {
    pub(crate) fn new(at: Instant) -> Self {
        Self(at)
    }

    /// `at` as a tick. A time before the epoch (a monotonic clock never gives one) counts as
    /// the epoch.
    pub(crate) fn tick(self, at: Instant) -> Tick {
        let nanos = u64::try_from(at.saturating_duration_since(self.0).as_nanos()).unwrap_or(u64::MAX);
        Tick(NonZeroU64::MIN.saturating_add(nanos))
    }

    /// The instant of `tick`, exactly the one it was made from.
    pub(crate) fn instant(self, tick: Tick) -> Instant {
        let since = Duration::from_nanos(tick.0.get().saturating_sub(1));
        self.0.checked_add(since).unwrap_or(self.0)
    }
}

/// The timers of one transaction (quinn-proto `timer.rs` shape): per role, when it fires and
/// which timer it is. A role's `timer` means something only while its `at` is set.
#[derive(Debug, Clone)]
pub(crate) struct TimerTable {
    at: [Option<Tick>; ROLES],
    timer: [Timer; ROLES],
}

impl Default for TimerTable {
    fn default() -> Self {
        Self { at: [None; ROLES], timer: [Timer::A, Timer::B, Timer::D] }
    }
}

impl TimerTable {
    /// Arm `timer` to fire at `at`, replacing whatever held its role.
    pub(crate) fn set(&mut self, timer: Timer, at: Tick) {
        let role = timer.role() as usize;
        if let (Some(slot), Some(which)) = (self.at.get_mut(role), self.timer.get_mut(role)) {
            *slot = Some(at);
            *which = timer;
        }
    }

    /// Disarm every timer (on a state change that keeps none of them).
    pub(crate) fn clear(&mut self) {
        self.at = [None; ROLES];
    }

    /// When `timer` fires, if armed.
    pub(crate) fn get(&self, timer: Timer) -> Option<Tick> {
        let role = timer.role() as usize;
        self.at.get(role).copied().flatten().filter(|_| self.timer.get(role) == Some(&timer))
    }

    /// The earliest deadline.
    pub(crate) fn next_timeout(&self) -> Option<Tick> {
        self.at.iter().flatten().min().copied()
    }

    /// Disarm and return the earliest timer due at `now`, if any. Ties go to the lower
    /// role (retransmit before give-up), which keeps the order deterministic.
    pub(crate) fn pop_expired(&mut self, now: Tick) -> Option<Timer> {
        let mut best: Option<(usize, Tick)> = None;
        for (i, at) in self.at.iter().enumerate() {
            if let Some(at) = *at {
                if at <= now && best.is_none_or(|(_, b)| at < b) {
                    best = Some((i, at));
                }
            }
        }
        let (i, _) = best?;
        if let Some(slot) = self.at.get_mut(i) {
            *slot = None;
        }
        self.timer.get(i).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::{Epoch, Timer, TimerTable};
    use std::time::{Duration, Instant};

    #[test]
    fn next_timeout_is_the_minimum_and_expiry_pops_in_time_order() {
        let epoch = Epoch::new(Instant::now());
        let t0 = epoch.tick(Instant::now());
        let mut table = TimerTable::default();
        assert_eq!(table.next_timeout(), None);
        table.set(Timer::B, t0.after(Duration::from_secs(32)));
        table.set(Timer::A, t0.after(Duration::from_millis(500)));
        assert_eq!(table.next_timeout(), Some(t0.after(Duration::from_millis(500))));
        assert_eq!(table.pop_expired(t0), None);
        let late = t0.after(Duration::from_secs(40));
        assert_eq!(table.pop_expired(late), Some(Timer::A));
        assert_eq!(table.pop_expired(late), Some(Timer::B));
        assert_eq!(table.pop_expired(late), None);
    }

    #[test]
    fn a_timer_replaces_the_one_holding_its_role() {
        let epoch = Epoch::new(Instant::now());
        let t0 = epoch.tick(Instant::now());
        let mut table = TimerTable::default();
        table.set(Timer::E, t0);
        table.set(Timer::G, t0.after(Duration::from_secs(1)));
        assert_eq!(table.get(Timer::E), None);
        assert_eq!(table.get(Timer::G), Some(t0.after(Duration::from_secs(1))));
        table.clear();
        assert_eq!(table.next_timeout(), None);
    }

    #[test]
    fn ticks_give_back_the_instant_they_were_made_from() {
        let start = Instant::now();
        let epoch = Epoch::new(start);
        for after in [Duration::ZERO, Duration::from_nanos(1), Duration::from_millis(500), Duration::from_secs(32)] {
            assert_eq!(epoch.instant(epoch.tick(start + after)), start + after);
            assert_eq!(epoch.tick(start).after(after), epoch.tick(start + after));
        }
        // Before the epoch counts as the epoch.
        assert_eq!(epoch.tick(start.checked_sub(Duration::from_secs(1)).unwrap_or(start)), epoch.tick(start));
    }

    #[test]
    fn timers_of_a_transaction_take_32_bytes() {
        assert_eq!(std::mem::size_of::<TimerTable>(), 32);
        assert_eq!(std::mem::size_of::<Option<super::Tick>>(), 8);
    }
}
