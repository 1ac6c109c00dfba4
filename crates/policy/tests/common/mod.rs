//! Helpers shared by the policy integration tests: crafted request inputs and example loading.
#![allow(dead_code, unreachable_pub)]

use causeway_policy::{Address, PolicyInput, PolicySet, SourceText};
use chrono::{DateTime, TimeZone, Utc};

/// The zones of the field guide's deployment.
pub const ZONES: &[&str] = &["default", "traversal", "webex"];

/// `user@host`, `host`, or `tel:number` as an address (user part as it would appear in the URI,
/// percent-escapes included).
pub fn addr(text: &str) -> Address {
    if let Some(number) = text.strip_prefix("tel:") {
        return Address::tel(number);
    }
    match text.rsplit_once('@') {
        Some((user, host)) => Address::sip(Some(user), host),
        None => Address::sip(None, text),
    }
}

/// A Monday morning in November 2026, 10:00 UTC.
pub fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).single().unwrap_or_default()
}

/// An unauthenticated INVITE from `from` to `to` classified into `zone`.
pub fn invite(zone: &str, from: &str, to: &str) -> PolicyInput {
    PolicyInput::new(zone, addr(from), addr(to), monday_morning())
}

/// The same, authenticated.
pub fn authenticated(zone: &str, from: &str, to: &str) -> PolicyInput {
    let mut input = invite(zone, from, to);
    input.authenticated = true;
    input
}

pub fn example_path(name: &str) -> String {
    format!("{}/../../examples/policy/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn example_text(name: &str) -> String {
    std::fs::read_to_string(example_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Loads a shipped TOML policy.
pub fn load_toml(name: &str) -> PolicySet {
    let text = example_text(name);
    PolicySet::from_toml_str(SourceText::new(name, &text), ZONES, |p| std::fs::read_to_string(p))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Loads a shipped CPL policy.
pub fn load_cpl(name: &str) -> PolicySet {
    let text = example_text(name);
    PolicySet::from_cpl(SourceText::new(name, &text), ZONES).unwrap_or_else(|e| panic!("{e}"))
}

/// Loads a TOML snippet, returning the error text on failure.
pub fn toml_policy(text: &str) -> Result<PolicySet, String> {
    PolicySet::from_toml_str(SourceText::new("policy.toml", text), ZONES, |p| {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, p.to_owned()))
    })
    .map_err(|e| e.to_string())
}

/// Loads a CPL snippet, returning the error text on failure.
pub fn cpl_policy(text: &str) -> Result<PolicySet, String> {
    PolicySet::from_cpl(SourceText::new("policy.cpl", text), ZONES).map_err(|e| e.to_string())
}
