//! Wall time for what outlives the process or faces people: binding expiry in the store, CDR
//! times, ring schedules (STYLE.md §6.2: a `WallClock`, quinn's `TimeSource`). The engine never
//! reads a clock; it asks this one for the wall time that corresponds to a monotonic `now`.

use std::time::Instant;

use chrono::{DateTime, Utc};

/// Maps the monotonic `now` the engine is given to wall-clock time.
pub trait WallClock {
    /// The wall time at `now`.
    fn wall(&self, now: Instant) -> DateTime<Utc>;
}

/// A clock that was at `wall` when the monotonic clock read `at`, and runs with it: what a node
/// uses (anchored once at start), and what tests use in simulated time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock {
    /// The monotonic instant of the anchor.
    pub at: Instant,
    /// The wall time at that instant.
    pub wall: DateTime<Utc>,
}

impl WallClock for FixedClock {
    fn wall(&self, now: Instant) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(now.saturating_duration_since(self.at)).unwrap_or_default();
        self.wall + elapsed
    }
}
