//! Causeway's call policy and edge protection, as pure functions and plain state machines.
//!
//! It decides whether a request may be routed (a rule table or a CPL script, RFC 3880), checks
//! digest credentials (RFC 3261 §22, RFC 7616, RFC 8760) with stateless expiring nonces and
//! replay protection, limits floods and password guessing per source and per user, and records
//! an audit trail. It never does I/O: no sockets, no files, no clock reads — time (`Instant`
//! and wall time) and secrets come in as parameters, so the same code answers live traffic and
//! `causeway locate`, and every state machine is tested in simulated time.
//!
//! Main types: [`PolicySet`] and [`evaluate`] → ([`Verdict`], [`Trace`]); [`digest::DigestAuth`];
//! [`flood::FloodGuard`]; [`audit::AuditRecord`] and [`audit::PolicyCounters`];
//! [`seal::RouteKey`] (the proxy's Record-Route seal); [`ServerHeader`].

#![warn(missing_docs)]

pub mod address;
pub mod audit;
pub mod cpl;
pub mod digest;
mod error;
pub mod flood;
pub mod input;
pub mod pattern;
pub mod rules;
pub mod seal;
pub mod security;
pub mod server_header;
mod set;
pub mod source;
pub mod verdict;

pub use address::Address;
pub use error::PolicyError;
pub use input::PolicyInput;
pub use server_header::{ServerHeader, ServerHeaderError};
pub use set::PolicySet;
pub use source::{Location, SourceText};
pub use verdict::{Decider, PolicyAllowed, Trace, TraceStep, Verdict};

use cpl::{Continuation, Outcome, ResumeError};

/// Runs call policy over one request: the decision and every step that led to it.
pub fn evaluate(input: &PolicyInput, set: &PolicySet) -> (Verdict, Trace) {
    let mut trace = Trace::default();
    let verdict = if let Some(rules) = set.rules() {
        rules.evaluate(input, &mut trace)
    } else if let Some(script) = set.cpl() {
        script.evaluate(input, &mut trace)
    } else {
        trace.push(TraceStep::PolicyOff);
        Verdict::Allow(PolicyAllowed::new(Decider::NoPolicy, Vec::new()))
    };
    (verdict, trace)
}

/// Continues a CPL script that paused for a `lookup` or on a `proxy` result. `None`: the script
/// has nothing to do for that result, so the response received stands.
pub fn resume(
    input: &PolicyInput,
    set: &PolicySet,
    continuation: Continuation,
    outcome: Outcome,
) -> Result<(Option<Verdict>, Trace), ResumeError> {
    let script = set.cpl().ok_or(ResumeError::NotCpl)?;
    let mut trace = Trace::default();
    let verdict = script.resume(input, continuation, outcome, &mut trace)?;
    Ok((verdict, trace))
}
