//! Transaction timer values (RFC 3261 §17.1.1.1, Table 4).

use std::time::Duration;

/// The timer base values. T1, T2 and T4 are the RFC's knobs; every other timer derives
/// from them (RFC 3261 Appendix A, Table 4), except Timer D, which the RFC fixes at "at
/// least 32 seconds" for unreliable transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnConfig {
    /// RTT estimate; first retransmit interval (default 500 ms).
    pub t1: Duration,
    /// Cap on the retransmit interval of non-INVITE requests and INVITE responses (default 4 s).
    pub t2: Duration,
    /// Maximum time a message stays in the network (default 5 s).
    pub t4: Duration,
    /// Timer D over unreliable transports (RFC 3261 §17.1.1.2: "at least 32 seconds").
    pub timer_d: Duration,
    /// Upper bound on live transactions; past it new transactions are refused, so a flood
    /// cannot grow memory without bound.
    pub max_transactions: usize,
}

impl Default for TxnConfig {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            timer_d: Duration::from_secs(32),
            max_transactions: 1 << 20,
        }
    }
}

/// The longest any timer value may be; keeps every deadline far from `Instant` overflow.
const MAX_TIMER: Duration = Duration::from_secs(3600);

/// A [`TxnConfig`] the table cannot run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// T1 must be at least 1 ms: a zero retransmit interval would retransmit forever at one instant.
    #[error("T1 must be at least 1 ms")]
    T1TooSmall,
    /// T2 caps intervals that start at T1, so it cannot be smaller.
    #[error("T2 ({t2:?}) must not be below T1 ({t1:?})")]
    T2BelowT1 {
        /// Configured T1.
        t1: Duration,
        /// Configured T2.
        t2: Duration,
    },
    /// 64*T1, T2, T4 and Timer D must each stay within an hour.
    #[error("{name} ({value:?}) exceeds one hour")]
    TooLong {
        /// "64*T1", "T2", "T4" or "Timer D".
        name: &'static str,
        /// The value.
        value: Duration,
    },
}

impl TxnConfig {
    /// 64*T1: Timers B, F, H, J, L and M.
    pub fn t1_x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// Check the values; [`crate::TransactionTable::new`] accepts only a valid config.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.t1 < Duration::from_millis(1) {
            return Err(ConfigError::T1TooSmall);
        }
        if self.t2 < self.t1 {
            return Err(ConfigError::T2BelowT1 { t1: self.t1, t2: self.t2 });
        }
        for (name, value) in [("64*T1", self.t1_x64()), ("T2", self.t2), ("T4", self.t4), ("Timer D", self.timer_d)] {
            if value > MAX_TIMER {
                return Err(ConfigError::TooLong { name, value });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{ConfigError, TxnConfig};
    use std::time::Duration;

    #[test]
    fn defaults_are_rfc3261_table_4_and_valid() {
        let c = TxnConfig::default();
        assert_eq!((c.t1, c.t2, c.t4), (Duration::from_millis(500), Duration::from_secs(4), Duration::from_secs(5)));
        assert_eq!(c.t1_x64(), Duration::from_secs(32));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn zero_t1_small_t2_and_huge_values_are_refused() {
        let zero = TxnConfig { t1: Duration::ZERO, ..TxnConfig::default() };
        assert_eq!(zero.validate(), Err(ConfigError::T1TooSmall));
        let small_t2 = TxnConfig { t2: Duration::from_millis(100), ..TxnConfig::default() };
        assert!(matches!(small_t2.validate(), Err(ConfigError::T2BelowT1 { .. })));
        let huge = TxnConfig { t1: Duration::from_secs(60), t2: Duration::from_secs(60), ..TxnConfig::default() };
        assert_eq!(huge.validate(), Err(ConfigError::TooLong { name: "64*T1", value: Duration::from_secs(3840) }));
    }
}
