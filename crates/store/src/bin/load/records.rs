//! Synthetic call records shaped like Causeway's calls (flows F1 and F2 of DESIGN.md), built with
//! call control's own [`CdrBuilder`]: the load generator writes them, and the store's tests
//! (which include this file) check them after a round trip. Call `n` cycles through three shapes:
//! the desk phone answers and the mobile leg is cancelled "completed elsewhere"; nobody answers
//! and the call forwards to voicemail; the line is busy. Times are whole microseconds (the
//! store's precision), so a stored record equals the one written.

use std::time::{Duration, Instant};

use causeway_callctl::cdr::{CallInfo, CallRecord, CdrBuilder, CdrError, CdrEvent, EndCause, Party};
use causeway_callctl::directory::ReachKind;
use causeway_callctl::fork::{ForwardReason, LegKind, LegTarget};
use causeway_callctl::origin::CallingIdentity;
use causeway_callctl::snr::{CancelReason, LegId, COMPLETED_ELSEWHERE};
use chrono::{DateTime, Utc};

/// The record of call `n`, which arrived at `start` (whole microseconds).
pub(crate) fn call(n: u64, start: DateTime<Utc>) -> Result<CallRecord, CdrError> {
    let t0 = Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let info = CallInfo {
        call_id: format!("{n:08x}-load@127.0.0.1"),
        calling: CallingIdentity {
            number: Some("+14085550100".to_owned()),
            // Commas, quotes and a line break: what an attacker may put in a display name.
            display_name: n.is_multiple_of(2).then(|| format!("Load, \"Tester\"\r\n#{n}")),
            uri: Some("alice@ent-pa.example.com".to_owned()),
        },
        called: "1002".to_owned(),
        line: Some("1002".to_owned()),
        anchored_user: (n % 4 == 1).then(|| "bob".to_owned()),
    };
    let mut cdr = CdrBuilder::new(info, t0, start);
    let desk = LegId(0);
    let device = LegKind::Device { device: "bob-desk".to_owned() };
    let contact = LegTarget::Contact { contact: format!("sip:bob@192.0.2.10:{};transport=tcp", 5060 + n % 1000) };
    let mut events = vec![
        CdrEvent::LegStarted { leg: desk, kind: device, target: contact, at: at(0) },
        CdrEvent::LegRinging { leg: desk, at: at(120) },
    ];
    match n % 3 {
        0 => {
            let mobile = LegId(1);
            let kind = LegKind::Remote { user: "bob".to_owned(), name: "mobile".to_owned(), reach: ReachKind::RemoteDestination };
            let target = LegTarget::Zone { zone: "pstn".to_owned(), destination: "+14085550199".to_owned(), avoid: Vec::new() };
            let talk = 1_000 + n % 60_000;
            events.extend([
                CdrEvent::LegStarted { leg: mobile, kind, target, at: at(4_000) },
                CdrEvent::LegRinging { leg: mobile, at: at(4_900) },
                CdrEvent::EarlyMedia { leg: mobile },
                CdrEvent::LegAnswered { leg: desk, at: at(6_500) },
                CdrEvent::CallAnswered { leg: desk, at: at(6_500) },
                CdrEvent::LegEnded {
                    leg: mobile,
                    at: at(6_501),
                    status: 487,
                    cause: EndCause::Cancelled(CancelReason::CompletedElsewhere),
                    reason: Some(COMPLETED_ELSEWHERE.to_owned()),
                },
                CdrEvent::LegEnded { leg: desk, at: at(6_500 + talk), status: 200, cause: EndCause::CallerHungUp, reason: None },
                CdrEvent::CallEnded { at: at(6_500 + talk), status: 200, released_by: Party::Caller },
            ]);
        }
        1 => {
            let voicemail = LegId(1);
            let kind = LegKind::Forward { reason: ForwardReason::NoAnswer };
            let target = LegTarget::Zone { zone: "voicemail".to_owned(), destination: "8000".to_owned(), avoid: Vec::new() };
            events.extend([
                CdrEvent::LegEnded { leg: desk, at: at(12_000), status: 487, cause: EndCause::Cancelled(CancelReason::NoAnswer), reason: None },
                CdrEvent::Forwarded { reason: ForwardReason::NoAnswer, destination: "8000".to_owned() },
                CdrEvent::LegStarted { leg: voicemail, kind, target, at: at(12_000) },
                CdrEvent::LegAnswered { leg: voicemail, at: at(12_300) },
                CdrEvent::CallAnswered { leg: voicemail, at: at(12_300) },
                CdrEvent::LegEnded { leg: voicemail, at: at(40_000), status: 200, cause: EndCause::CalleeHungUp, reason: None },
                CdrEvent::CallEnded { at: at(40_000), status: 200, released_by: Party::Callee },
            ]);
        }
        _ => {
            events.extend([
                CdrEvent::LegEnded {
                    leg: desk,
                    at: at(2_000),
                    status: 486,
                    cause: EndCause::Rejected,
                    reason: Some("SIP;cause=486;text=\"Busy Here\"".to_owned()),
                },
                CdrEvent::CallEnded { at: at(2_000), status: 486, released_by: Party::Callee },
            ]);
        }
    }
    for event in events {
        cdr.apply(event)?;
    }
    Ok(cdr.into_record())
}
