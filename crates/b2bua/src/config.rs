//! The engine's configuration: validated input, no TOML (causeway-node builds it from the node's
//! listeners and the loaded config).

use std::time::Duration;

use causeway_policy::digest::credentials::Algorithm;
use causeway_proxy::{ListenerConfig, Timers};

/// Registrar settings (RFC 3261 §10.2.1.1, §10.3 steps 7-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// Shortest registration accepted; a shorter nonzero one gets 423 with Min-Expires.
    pub min_expires: u32,
    /// Longest registration granted; a longer one is shortened to this.
    pub max_expires: u32,
    /// Registration time when the REGISTER gives none.
    pub default_expires: u32,
    /// Most contacts one address of record may have bound at once.
    pub max_contacts: usize,
    /// Digest algorithms offered in challenges, most preferred first (RFC 8760 §2.4).
    pub algorithms: Vec<Algorithm>,
    /// How long a nonce stays good.
    pub nonce_lifetime: Duration,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        Self {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_contacts: 10,
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            nonce_lifetime: Duration::from_secs(300),
        }
    }
}

/// Everything the engine needs besides call control's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct B2buaConfig {
    /// The node's listeners, as bound (the proxy core's list): where requests leave from and
    /// what our Via and Contact name.
    pub listeners: Vec<ListenerConfig>,
    /// `Server` / `User-Agent` value of what the engine writes; `None` writes none.
    pub server: Option<String>,
    /// Transaction timers, and Timer C for each outgoing INVITE.
    pub timers: Timers,
    /// Most transactions alive at once (bounded memory).
    pub max_transactions: usize,
    /// Registrar settings.
    pub registrar: RegistrarConfig,
}

impl B2buaConfig {
    /// A config for `listeners`, everything else at its default.
    pub fn new(listeners: Vec<ListenerConfig>) -> Self {
        Self {
            listeners,
            server: Some("Causeway".to_owned()),
            timers: Timers::default(),
            max_transactions: 1 << 20,
            registrar: RegistrarConfig::default(),
        }
    }

    /// Checks the values before use.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.listeners.is_empty() {
            return Err(ConfigError::NoListener);
        }
        let r = &self.registrar;
        if r.min_expires == 0 || r.min_expires > r.default_expires || r.default_expires > r.max_expires {
            return Err(ConfigError::Expiry { min: r.min_expires, default: r.default_expires, max: r.max_expires });
        }
        if r.max_contacts == 0 {
            return Err(ConfigError::Zero { what: "max_contacts" });
        }
        if r.algorithms.is_empty() {
            return Err(ConfigError::Zero { what: "digest algorithms" });
        }
        if self.max_transactions == 0 {
            return Err(ConfigError::Zero { what: "max_transactions" });
        }
        Ok(())
    }
}

/// A [`B2buaConfig`] the engine cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No listener to send from.
    #[error("no listener configured")]
    NoListener,
    /// Registration times out of order.
    #[error("registration times must satisfy 0 < min ({min}) <= default ({default}) <= max ({max})")]
    Expiry {
        /// Minimum.
        min: u32,
        /// Default.
        default: u32,
        /// Maximum.
        max: u32,
    },
    /// A count that must be positive.
    #[error("{what} must be greater than zero")]
    Zero {
        /// Which setting.
        what: &'static str,
    },
    /// The transaction timers are refused by the transaction layer.
    #[error("transaction timers: {0}")]
    Timers(#[from] causeway_txn::ConfigError),
}
