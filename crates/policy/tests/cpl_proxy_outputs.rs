//! RFC 3880 §6.1: a `proxy` node's outputs. The script pauses at the node (the verdict carries a
//! continuation), the caller proxies, and the script resumes at the output the attempt's result
//! names — never from the top — with the location set tried cleared.

mod common;

use causeway_policy::cpl::Outcome;
use causeway_policy::verdict::{ProxyOutputSet, Target};
use causeway_policy::{evaluate, resume, PolicyInput, PolicySet, Verdict};
use common::{cpl_policy, invite};

/// Carol first; busy → voicemail (proxied), noanswer → her mobile (proxied, sequential),
/// redirection → the redirect's Contacts redirected upstream, failure → 403.
const SCRIPT: &str = r#"<cpl xmlns="urn:ietf:params:xml:ns:cpl">
<incoming>
<location url="sip:carol@ent-pa.com">
  <proxy timeout="12" recurse="no">
    <busy><location url="sip:carol@vm.ent-pa.com"><proxy/></location></busy>
    <noanswer><location url="sip:carol-mobile@ent-pa.com"><proxy ordering="sequential"/></location></noanswer>
    <redirection><redirect/></redirection>
    <failure><reject status="403" reason="Not Today"/></failure>
  </proxy>
</location>
</incoming>
</cpl>
"#;

fn load(text: &str) -> PolicySet {
    cpl_policy(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The script paused at its `proxy` node, and the input it ran on.
fn paused(set: &PolicySet) -> (PolicyInput, causeway_policy::cpl::Continuation) {
    let input = invite("default", "alice@partner.example", "carol@ent-pa.com");
    let (verdict, _) = evaluate(&input, set);
    let continuation = verdict.allowed().and_then(|a| a.continuation()).cloned();
    (input, continuation.unwrap_or_else(|| panic!("no continuation: {verdict:?}")))
}

fn resumed(set: &PolicySet, outcome: Outcome) -> (Option<Verdict>, String) {
    let (input, continuation) = paused(set);
    let (verdict, trace) = resume(&input, set, continuation, outcome).unwrap_or_else(|e| panic!("{e}"));
    (verdict, trace.to_string())
}

fn uris(targets: &[Target]) -> Vec<&str> {
    targets.iter().map(|t| t.uri.as_str()).collect()
}

#[test]
fn rfc3880_6_1_the_node_tells_its_timer_and_outputs() {
    let set = load(SCRIPT);
    let (verdict, _) = evaluate(&invite("default", "a@b", "carol@ent-pa.com"), &set);
    let hints = verdict.allowed().and_then(|a| a.proxy()).copied().unwrap_or_else(|| panic!("{verdict:?}"));
    assert_eq!((hints.ring_limit, hints.recurse), (Some(12), false));
    assert_eq!(hints.outputs.names(), ["busy", "noanswer", "redirection", "failure"]);
    // Without `timeout`, 20 s applies only when a noanswer or default output needs it.
    let ring = |body: &str| {
        let text = format!("<cpl><incoming><location url=\"sip:x@y\">{body}</location></incoming></cpl>");
        let (verdict, _) = evaluate(&invite("default", "a@b", "c@d"), &load(&text));
        verdict.allowed().and_then(|a| a.proxy()).map(|h| (h.ring_limit, h.outputs))
    };
    let noanswer = ProxyOutputSet { noanswer: true, ..ProxyOutputSet::default() };
    assert_eq!(ring("<proxy><noanswer><reject status=\"480\"/></noanswer></proxy>"), Some((Some(20), noanswer)));
    assert_eq!(ring("<proxy/>").map(|(limit, _)| limit), Some(None), "rings as long as any call");
    let busy_only = ring("<proxy><busy><reject status=\"486\"/></busy></proxy>");
    assert_eq!(busy_only.map(|(limit, o)| (limit, o.names())), Some((None, vec!["busy"])));
}

#[test]
fn rfc3880_6_1_final_responses_name_the_output() {
    let contacts = vec![Target { uri: "sip:x@y".into(), priority: None }];
    assert_eq!(Outcome::of_final(486, Vec::new()), Outcome::Busy);
    assert_eq!(Outcome::of_final(600, Vec::new()), Outcome::Busy);
    assert_eq!(Outcome::of_final(408, Vec::new()), Outcome::NoAnswer);
    assert_eq!(Outcome::of_final(480, Vec::new()), Outcome::NoAnswer);
    assert_eq!(Outcome::of_final(302, contacts.clone()), Outcome::Redirected(contacts));
    for status in [403, 404, 487, 500, 503, 603] {
        assert_eq!(Outcome::of_final(status, Vec::new()), Outcome::Failed, "{status}");
    }
}

#[test]
fn busy_resumes_at_the_busy_output_with_the_tried_location_gone() {
    let (verdict, trace) = resumed(&load(SCRIPT), Outcome::Busy);
    let allowed = verdict.as_ref().and_then(Verdict::allowed).unwrap_or_else(|| panic!("{verdict:?}"));
    assert_eq!(uris(allowed.targets()), ["sip:carol@vm.ent-pa.com"], "Carol, who was busy, is not called again");
    assert!(allowed.continuation().is_none(), "the voicemail proxy has no outputs");
    assert!(trace.starts_with("CPL line 4 <proxy>: proxy result busy"), "resumed at the node, not the top:\n{trace}");
    assert!(!trace.contains("line 3 <location>"), "the script is not rerun:\n{trace}");
}

#[test]
fn noanswer_resumes_at_the_noanswer_output() {
    let (verdict, trace) = resumed(&load(SCRIPT), Outcome::NoAnswer);
    let allowed = verdict.as_ref().and_then(Verdict::allowed).unwrap_or_else(|| panic!("{verdict:?}"));
    assert_eq!(uris(allowed.targets()), ["sip:carol-mobile@ent-pa.com"]);
    assert_eq!(allowed.ordering(), causeway_policy::verdict::Ordering::Sequential);
    assert!(trace.contains("proxy result noanswer"), "{trace}");
}

#[test]
fn redirection_resumes_with_the_contacts_as_the_location_set() {
    let contacts = vec![Target { uri: "sip:carol@elsewhere.example".into(), priority: Some(0.7) }];
    let (verdict, _) = resumed(&load(SCRIPT), Outcome::Redirected(contacts.clone()));
    match verdict {
        Some(Verdict::Redirect(r)) => assert_eq!(r.contacts, contacts),
        other => panic!("{other:?}"),
    }
}

#[test]
fn failure_resumes_at_the_failure_output() {
    let (verdict, trace) = resumed(&load(SCRIPT), Outcome::Failed);
    match verdict {
        Some(Verdict::Reject(r)) => assert_eq!((r.status, r.reason.as_str()), (403, "Not Today")),
        other => panic!("{other:?}"),
    }
    assert!(trace.contains("proxy result failure"), "{trace}");
}

#[test]
fn default_takes_what_has_no_output_and_a_missing_output_lets_the_response_stand() {
    let set = load(
        r#"<cpl><incoming><location url="sip:carol@ent-pa.com"><proxy>
  <busy><reject status="486"/></busy>
  <default><reject status="480" reason="Gone Home"/></default>
</proxy></location></incoming></cpl>"#,
    );
    let (busy, _) = resumed(&set, Outcome::Busy);
    assert!(matches!(busy, Some(Verdict::Reject(ref r)) if r.status == 486), "{busy:?}");
    let (failed, trace) = resumed(&set, Outcome::Failed);
    assert!(matches!(failed, Some(Verdict::Reject(ref r)) if r.reason == "Gone Home"), "{failed:?}");
    assert!(trace.contains("proxy result failure"), "{trace}");

    let busy_only = load(r#"<cpl><incoming><location url="sip:c@d"><proxy><busy><reject status="486"/></busy></proxy></location></incoming></cpl>"#);
    let (none, trace) = resumed(&busy_only, Outcome::NoAnswer);
    assert!(none.is_none(), "no noanswer output: the best response goes upstream");
    assert!(trace.contains("no output, the response stands"), "{trace}");
}

#[test]
fn a_continuation_resumes_only_against_its_own_script_and_node_kind() {
    let set = load(SCRIPT);
    let (input, continuation) = paused(&set);
    let err = resume(&input, &set, continuation.clone(), Outcome::NotFound).err();
    assert_eq!(err, Some(causeway_policy::cpl::ResumeError::WrongOutcome), "a lookup outcome at a proxy node");
    let reloaded = load(SCRIPT);
    let err = resume(&input, &reloaded, continuation, Outcome::Busy).err();
    assert_eq!(err, Some(causeway_policy::cpl::ResumeError::OtherScript));
}
