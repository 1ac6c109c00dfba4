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

impl TxnConfig {
    /// 64*T1: Timers B, F, H, J, L and M.
    pub fn t1_x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }
}
