//! `[callctl]`, `[registrar]` and `[store]`. Call control validates its own section against the zones of the routing
//! table (route patterns, trunks and loop avoidance name zones) and places its errors itself; this module
//! turns them into [`ConfigError`]s. The store URL is only checked for its scheme here: the store opens it.

use causeway_callctl::config::CallCtlConfig;
use causeway_callctl::Cluster;
use causeway_policy::digest::credentials::Algorithm;
use causeway_policy::SourceText;
use toml::Spanned;

use super::security::split_location;
use super::Validator;
use crate::error::{ConfigError, Reason};
use crate::raw::{RawRegistrar, RawStore};
use crate::settings::{CallControl, RegistrarSettings};

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

/// Longest registration time accepted in `[registrar]` (a day).
const MAX_REGISTRATION_SECS: u64 = 86_400;

impl Validator<'_> {
    /// `[registrar]`: times in order and within a day, at least one contact, known distinct algorithms.
    pub(crate) fn registrar(&mut self, raw: RawRegistrar) -> RegistrarSettings {
        let default = RegistrarSettings::default();
        let secs = |v: &mut Self, key, value: Option<Spanned<u64>>, d: u32| {
            let n = v.number(key, value.as_ref(), u64::from(d), 1, "at least 1");
            if n > MAX_REGISTRATION_SECS {
                if let Some(value) = &value {
                    v.error(value.span(), Reason::OutOfRange { key, rule: "at most 86400 (a day)", value: n });
                }
                return d;
            }
            u32::try_from(n).unwrap_or(d)
        };
        let table_span = raw.min_expires_secs.as_ref().or(raw.default_expires_secs.as_ref()).map(Spanned::span);
        let min_expires = secs(self, "min_expires_secs", raw.min_expires_secs, default.min_expires);
        let max_expires = secs(self, "max_expires_secs", raw.max_expires_secs, default.max_expires);
        let default_expires = secs(self, "default_expires_secs", raw.default_expires_secs, default.default_expires);
        if !(min_expires <= default_expires && default_expires <= max_expires) {
            let reason = Reason::RegistrarTimes { min: min_expires.into(), default: default_expires.into(), max: max_expires.into() };
            self.error(table_span.unwrap_or(0..0), reason);
        }
        let max_contacts = self.count("max_contacts", raw.max_contacts, default.max_contacts, 1, "at least 1");
        let digest_algorithms = match raw.digest_algorithms {
            None => default.digest_algorithms,
            Some(values) => self.algorithms(values),
        };
        RegistrarSettings { min_expires, max_expires, default_expires, max_contacts, digest_algorithms }
    }

    fn algorithms(&mut self, values: Spanned<Vec<Spanned<String>>>) -> Vec<Algorithm> {
        let span = values.span();
        let values = values.into_inner();
        let mut out = Vec::new();
        for value in &values {
            match Algorithm::from_token(value.get_ref()) {
                Some(a) if out.contains(&a) => {
                    self.error(value.span(), Reason::BadDigestAlgorithm { value: value.get_ref().clone(), why: "is given twice" });
                }
                Some(a) => out.push(a),
                None => {
                    let why = "is not a digest algorithm offered (MD5, SHA-256)";
                    self.error(value.span(), Reason::BadDigestAlgorithm { value: value.get_ref().clone(), why });
                }
            }
        }
        if values.is_empty() {
            self.error(span, Reason::BadDigestAlgorithm { value: String::new(), why: "is empty: offer at least one" });
        }
        out
    }
}
