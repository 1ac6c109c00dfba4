//! The room controller: one task per room that keeps an xAPI session to its device, runs the display policy
//! and pushes bookings. [`spawn_room`] starts one; [`Backoff`] (pure) paces reconnects.

mod client;
mod config;
mod room;
mod sync;

pub use client::{ClientError, DeviceTarget, TlsVerify, XapiClient, MAX_QUEUED_EVENTS};
pub use config::{ConfigError, ControllerConfig, RoomConfig, Settings};
pub use room::{spawn_room, RoomHandle, RoomState, MAX_PUSHED_BOOKINGS};
pub use sync::{panel_xml, FeedbackSync, MAX_MIRROR_ENTRIES, PANEL_CLICKED, STATUS_QUERIES};

use std::time::Duration;

/// Exponential reconnect delays: `initial`, doubling per consecutive failure, capped at `max`.
/// Pure: the caller sleeps.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// A backoff with no failures yet.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff { initial, max, failures: 0 }
    }

    /// The delay before the next attempt, counting one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX);
        self.failures = self.failures.saturating_add(1);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// Forgets past failures (after a session that worked).
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(4));
        let delays: Vec<u128> = (0..6).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(delays, vec![500, 1000, 2000, 4000, 4000, 4000]);
        for _ in 0..100 {
            assert_eq!(b.next_delay(), Duration::from_secs(4), "no overflow after many failures");
        }
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(500));
    }
}
