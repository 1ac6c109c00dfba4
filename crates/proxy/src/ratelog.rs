//! "Log once per source, at most every interval": a bad peer that floods malformed messages
//! must not flood the log too. The table is bounded; when it is full of recent sources, new
//! sources are not logged (they are still counted).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Most sources remembered at once.
const CAPACITY: usize = 4096;

/// Remembers when each source was last logged.
#[derive(Debug)]
pub(crate) struct RateLimitedLog {
    interval: Duration,
    last: HashMap<IpAddr, Instant>,
}

impl RateLimitedLog {
    pub(crate) fn new(interval: Duration) -> Self {
        Self { interval, last: HashMap::new() }
    }

    /// True if a message about `source` may be logged at `now` (and records that it was).
    pub(crate) fn allow(&mut self, source: IpAddr, now: Instant) -> bool {
        if let Some(at) = self.last.get_mut(&source) {
            if now.saturating_duration_since(*at) < self.interval {
                return false;
            }
            *at = now;
            return true;
        }
        if self.last.len() >= CAPACITY {
            let interval = self.interval;
            self.last.retain(|_, at| now.saturating_duration_since(*at) < interval);
            if self.last.len() >= CAPACITY {
                return false;
            }
        }
        self.last.insert(source, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_source_per_interval() {
        let t0 = Instant::now();
        let mut log = RateLimitedLog::new(Duration::from_secs(10));
        let a = IpAddr::from([192, 0, 2, 1]);
        let b = IpAddr::from([192, 0, 2, 2]);
        assert!(log.allow(a, t0));
        assert!(!log.allow(a, t0 + Duration::from_secs(9)));
        assert!(log.allow(b, t0 + Duration::from_secs(9)));
        assert!(log.allow(a, t0 + Duration::from_secs(10)));
    }

    #[test]
    fn table_stays_bounded_under_a_spoofed_flood() {
        let t0 = Instant::now();
        let mut log = RateLimitedLog::new(Duration::from_secs(10));
        let logged = (0..CAPACITY as u32 + 100).filter(|i| log.allow(IpAddr::from(i.to_be_bytes()), t0)).count();
        assert_eq!(logged, CAPACITY);
        assert!(log.last.len() <= CAPACITY);
        // Once the old entries are stale, new sources are logged again.
        assert!(log.allow(IpAddr::from([10, 9, 9, 9]), t0 + Duration::from_secs(11)));
    }
}
