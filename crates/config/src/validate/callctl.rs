//! `[callctl]` and `[store]`. Call control validates its own section against the zones of the routing
//! table (route patterns, trunks and loop avoidance name zones) and places its errors itself; this module
//! turns them into [`ConfigError`]s. The store URL is only checked for its scheme here: the store opens it.

use causeway_callctl::config::CallCtlConfig;
use causeway_callctl::Cluster;
use causeway_policy::SourceText;

use super::security::split_location;
use super::Validator;
use crate::error::{ConfigError, Reason};
use crate::raw::RawStore;
use crate::settings::CallControl;

/// URL schemes the store opens.
const STORE_SCHEMES: [&str; 3] = ["sqlite://", "postgres://", "postgresql://"];

impl Validator<'_> {
    /// `[callctl]` loaded against `zones`.
    pub(crate) fn call_control(&mut self, raw: &CallCtlConfig, zones: &[&str]) -> Option<CallControl> {
        match Cluster::from_config(raw, SourceText::new(self.file, self.source), zones) {
            Ok(cluster) => Some(CallControl::new(cluster)),
            Err(error) => {
                let message = error.to_string();
                let (file, line, column, reason) = split_location(&message).unwrap_or((self.file, 1, 1, message.as_str()));
                let reason = Reason::CallControl { message: reason.to_owned() };
                self.errors.push(ConfigError { file: file.to_owned(), line, column, reason });
                None
            }
        }
    }

    /// `[store] url`.
    pub(crate) fn store(&mut self, raw: RawStore) -> Option<String> {
        let span = raw.url.span();
        let url = raw.url.into_inner();
        if STORE_SCHEMES.iter().any(|s| url.starts_with(s)) {
            Some(url)
        } else {
            self.error(span, Reason::BadStoreUrl { url });
            None
        }
    }
}
