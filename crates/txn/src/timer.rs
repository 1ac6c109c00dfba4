//! Transaction timers as data (RFC 3261 §17, Table 4; RFC 6026 §8.4, §8.7).
//!
//! A transaction never holds more than one timer of each [`Role`] at a time: one that
//! retransmits, one that gives up, one that lingers to absorb stray retransmissions. So the
//! table is three slots, not one per timer, and `next_timeout` is the minimum of three.
//! Arming and firing allocate nothing.

use std::time::Instant;

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

/// An armed timer: which one, and when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Armed {
    timer: Timer,
    at: Instant,
}

/// The timers of one transaction (quinn-proto `timer.rs` shape).
#[derive(Debug, Clone, Default)]
pub(crate) struct TimerTable {
    slots: [Option<Armed>; ROLES],
}

impl TimerTable {
    /// Arm `timer` to fire at `at`, replacing whatever held its role.
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        if let Some(slot) = self.slots.get_mut(timer.role() as usize) {
            *slot = Some(Armed { timer, at });
        }
    }

    /// Disarm every timer (on a state change that keeps none of them).
    pub(crate) fn clear(&mut self) {
        self.slots = [None; ROLES];
    }

    /// When `timer` fires, if armed.
    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.slots
            .get(timer.role() as usize)
            .copied()
            .flatten()
            .filter(|a| a.timer == timer)
            .map(|a| a.at)
    }

    /// The earliest deadline.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.slots.iter().flatten().map(|a| a.at).min()
    }

    /// Disarm and return the earliest timer due at `now`, if any. Ties go to the lower
    /// role (retransmit before give-up), which keeps the order deterministic.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let mut best: Option<(usize, Armed)> = None;
        for (i, armed) in self.slots.iter().enumerate() {
            if let Some(a) = armed {
                if a.at <= now && best.is_none_or(|(_, b)| a.at < b.at) {
                    best = Some((i, *a));
                }
            }
        }
        let (i, armed) = best?;
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = None;
        }
        Some(armed.timer)
    }
}

#[cfg(test)]
mod tests {
    use super::{Timer, TimerTable};
    use std::time::{Duration, Instant};

    #[test]
    fn next_timeout_is_the_minimum_and_expiry_pops_in_time_order() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        assert_eq!(table.next_timeout(), None);
        table.set(Timer::B, t0 + Duration::from_secs(32));
        table.set(Timer::A, t0 + Duration::from_millis(500));
        assert_eq!(table.next_timeout(), Some(t0 + Duration::from_millis(500)));
        assert_eq!(table.pop_expired(t0), None);
        let late = t0 + Duration::from_secs(40);
        assert_eq!(table.pop_expired(late), Some(Timer::A));
        assert_eq!(table.pop_expired(late), Some(Timer::B));
        assert_eq!(table.pop_expired(late), None);
    }

    #[test]
    fn a_timer_replaces_the_one_holding_its_role() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(Timer::E, t0);
        table.set(Timer::G, t0 + Duration::from_secs(1));
        assert_eq!(table.get(Timer::E), None);
        assert_eq!(table.get(Timer::G), Some(t0 + Duration::from_secs(1)));
        table.clear();
        assert_eq!(table.next_timeout(), None);
    }
}
