//! CPL scripts: load-time refusals with line numbers, and execution of every supported node
//! (table tests: script + request → verdict + trace).

mod common;

use causeway_policy::cpl::{Outcome, ResumeError};
use causeway_policy::input::Direction;
use causeway_policy::verdict::{Ordering, Target};
use causeway_policy::{evaluate, resume, Decider, PolicySet, SourceText, Verdict};
use common::{addr, authenticated, cpl_policy, invite};

const HEAD: &str = r#"<cpl xmlns="urn:ietf:params:xml:ns:cpl" xmlns:taa="http://www.tandberg.net/cpl-extensions">"#;

/// A script whose `incoming` section is `body`.
fn incoming(body: &str) -> String {
    format!("{HEAD}\n<incoming>\n{body}\n</incoming>\n</cpl>\n")
}

fn load(text: &str) -> PolicySet {
    cpl_policy(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn refused(text: &str) -> String {
    match cpl_policy(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

fn rejected_status(v: &Verdict) -> Option<u16> {
    match v {
        Verdict::Reject(r) => Some(r.status),
        _ => None,
    }
}

#[test]
fn load_errors_name_the_line() {
    let sub = |body: &str| format!("{HEAD}\n{body}\n<incoming><proxy/></incoming>\n</cpl>");
    let cases: Vec<(String, &str)> = vec![
        (format!("{HEAD}\n<incoming>\n<proxy>\n</incoming></cpl>"), "policy.cpl:4:1: not well-formed XML: expected 'proxy' tag"),
        (incoming("<forward/>"), "policy.cpl:3:1: <forward> is not allowed in a place where a CPL node belongs"),
        (incoming("<reject status=\"403\" colour=\"red\"/>"), "policy.cpl:3:1: <reject> has no attribute `colour`"),
        (incoming("<reject/>"), "policy.cpl:3:1: <reject> needs attribute `status`"),
        (incoming("<reject status=\"200\"/>"), "policy.cpl:3:1: <reject status=\"200\">: expected a SIP status 400-699"),
        (incoming("<mail url=\"mailto:x@y\"/>"), "policy.cpl:3:1: <mail> is not supported by Causeway"),
        (incoming("<address-switch field=\"destination\">\n  <address regex=\"([09]\"><reject status=\"403\"/></address>\n</address-switch>"),
            "policy.cpl:4:3: invalid regex"),
        (incoming("<address-switch field=\"originating-zone\">\n<address is=\"dmz\"><reject status=\"403\"/></address>\n</address-switch>"),
            "policy.cpl:4:1: unknown zone \"dmz\""),
        (incoming("<time-switch tzid=\"Mars/Olympus\"/>"), "policy.cpl:3:1: unknown time zone \"Mars/Olympus\""),
        (incoming("<time-switch>\n<time dtstart=\"20260105T090000\" duration=\"PT1H\" freq=\"daily\" byhour=\"9\"/>\n</time-switch>"),
            "policy.cpl:4:1: attribute `byhour` is not supported"),
        (incoming("<time-switch>\n<time dtstart=\"20260105T090000\" duration=\"P400D\"/>\n</time-switch>"),
            "policy.cpl:4:1: <time> attribute `duration` periods longer than 366 days"),
        (incoming("<location url=\"sip:a@b\">\n<proxy/>\n<reject status=\"403\"/>\n</location>"),
            "policy.cpl:5:1: <location> may hold only one node"),
        (incoming("<address-switch field=\"destination\">\n<otherwise><proxy/></otherwise>\n<address is=\"x\"/>\n</address-switch>"),
            "policy.cpl:5:1: outputs after <otherwise> can never be taken"),
        (incoming("<address-switch field=\"destination\">\n<address is=\"x\" contains=\"y\"/>\n</address-switch>"),
            "policy.cpl:4:1: an output needs exactly one match operator"),
        (incoming("<address-switch field=\"origin\" subfield=\"alias-type\"/>"), "policy.cpl:3:1: <address-switch subfield=\"alias-type\">"),
        (incoming("<proxy>text</proxy>"), "policy.cpl:3:8: unexpected text"),
        (format!("{HEAD}\n<subaction id=\"a\"><proxy/></subaction>\n</cpl>"), "policy.cpl:1:1: the script has no incoming"),
        ("<script/>".to_owned(), "policy.cpl:1:1: <script> is not allowed in the document root"),
        (sub("<subaction id=\"loop\">\n  <sub ref=\"loop\"/>\n</subaction>"),
            "policy.cpl:3:3: <sub ref=\"loop\"> inside subaction \"loop\": recursion is not allowed"),
        (sub("<subaction id=\"a\">\n  <sub ref=\"b\"/>\n</subaction>\n<subaction id=\"b\"><sub ref=\"a\"/></subaction>"),
            "policy.cpl:3:3: <sub ref=\"b\"> refers to a subaction defined later"),
        (incoming("<sub ref=\"nowhere\"/>"), "policy.cpl:3:1: <sub ref=\"nowhere\"> refers to no subaction"),
        (sub("<subaction id=\"a\"><proxy/></subaction>\n<subaction id=\"a\"><proxy/></subaction>"),
            "policy.cpl:3:1: subaction \"a\" is already defined at policy.cpl:2:1"),
        (format!("{HEAD}\n<taa:routed>\n<taa:rule-switch><taa:rule message-regex=\".*\"/></taa:rule-switch>\n</taa:routed></cpl>"),
            "policy.cpl:3:18: attribute `message-regex` is not supported"),
        (format!("{HEAD}\n<incoming><proxy/></incoming>\n<incoming><proxy/></incoming>\n</cpl>"),
            "policy.cpl:3:1: <incoming> given twice"),
        (incoming("<proxy>\n<busy><reject status=\"486\"/></busy>\n<busy/>\n</proxy>"), "policy.cpl:5:1: <busy> given twice"),
        (incoming("<lookup source=\"registration\">\n<success><proxy/></success>\n<success/>\n</lookup>"),
            "policy.cpl:5:1: <success> given twice"),
    ];
    for (text, expected) in cases {
        let e = refused(&text);
        assert!(e.starts_with(expected), "got {e:?}\nwanted {expected:?}\nfor:\n{text}");
    }
}

#[test]
fn oversized_and_deeply_nested_scripts_are_refused() {
    let huge = incoming(&format!("<!-- {} --><proxy/>", "x".repeat(1 << 20)));
    assert!(refused(&huge).contains("larger than"));
    let deep = incoming(&format!(
        "{}<proxy/>{}",
        "<location url=\"sip:a@b\">".repeat(100),
        "</location>".repeat(100)
    ));
    assert!(refused(&deep).contains("nested deeper than 64"), "{}", refused(&deep));
}

#[test]
fn address_switch_subfields_and_operators() {
    let script = load(&incoming(
        r#"<address-switch field="origin" subfield="display">
  <not-present>
    <address-switch field="destination" subfield="host">
      <address subdomain-of="ent-pa.com"><reject status="404"/></address>
      <otherwise>
        <address-switch field="origin" subfield="port">
          <address is="5061"><reject status="486"/></address>
          <otherwise>
            <address-switch field="destination" subfield="tel">
              <address subdomain-of="+4420"><reject status="603"/></address>
              <not-present>
                <address-switch field="original-destination">
                  <address is="sip:SALES@legacy.example"><reject status="410"/></address>
                  <address regex="[a-z]+@legacy\.example"><reject status="480"/></address>
                </address-switch>
              </not-present>
            </address-switch>
          </otherwise>
        </address-switch>
      </otherwise>
    </address-switch>
  </not-present>
  <address contains="robot"><reject status="403"/></address>
</address-switch>"#,
    ));
    let run = |input: &causeway_policy::PolicyInput| rejected_status(&evaluate(input, &script).0);
    let mut robot = invite("default", "a@b.example", "x@y.example");
    robot.from = robot.from.clone().with_display("Dial RoBot 3000");
    assert_eq!(run(&robot), Some(403), "display contains, case-insensitive");
    assert_eq!(run(&invite("default", "a@b.example", "x@sub.ent-pa.com")), Some(404), "host subdomain-of");
    assert_eq!(run(&invite("default", "a@b.example", "x@ent-pa.com.evil.example")), None);
    let mut port = invite("default", "a@b.example", "x@y.example");
    port.from = port.from.clone().with_port(5061);
    assert_eq!(run(&port), Some(486), "port");
    assert_eq!(run(&invite("default", "a@b.example", "tel:+44-20-7946-0000")), Some(603), "tel prefix");
    let mut original = invite("default", "a@b.example", "sales@y.example");
    original.original_destination = Some(addr("sales@legacy.example"));
    assert_eq!(run(&original), Some(410), "whole-URI is, case-insensitive");
    original.original_destination = Some(addr("bob@legacy.example"));
    assert_eq!(run(&original), Some(480), "regex over the alias");
    let (verdict, trace) = evaluate(&invite("default", "a@b.example", "x@y.example"), &script);
    assert!(verdict.allowed().is_some(), "nothing matched: the script ends and allows");
    assert!(trace.to_string().ends_with("script ended without a signalling action: allow\n"), "{trace}");
}

#[test]
fn origin_means_every_caller_in_rfc_scripts_but_authenticated_callers_in_expressway_scripts() {
    let switch = r#"<address-switch field="origin"><address regex="boss@ent-pa\.com"><reject status="403"/></address></address-switch>"#;
    let rfc = load(&incoming(switch));
    let expressway = load(&format!("{HEAD}<taa:routed>{switch}</taa:routed></cpl>"));
    let claim = invite("default", "boss@ent-pa.com", "x@y");
    assert_eq!(rejected_status(&evaluate(&claim, &rfc).0), Some(403));
    assert_eq!(rejected_status(&evaluate(&claim, &expressway).0), None, "not authenticated: origin not present");
    let real = authenticated("traversal", "boss@ent-pa.com", "x@y");
    assert_eq!(rejected_status(&evaluate(&real, &expressway).0), Some(403));
}

#[test]
fn string_and_priority_switches() {
    let script = load(&incoming(
        r#"<string-switch field="user-agent">
  <string contains="friendly-scanner"><reject status="403"/></string>
  <not-present><reject status="400" reason="No User-Agent"/></not-present>
  <otherwise>
    <priority-switch>
      <priority greater="urgent"><proxy/></priority>
      <priority less="normal"><reject status="486"/></priority>
      <priority equal="x-custom"><reject status="488"/></priority>
    </priority-switch>
  </otherwise>
</string-switch>"#,
    ));
    let with = |ua: Option<&str>, prio: Option<&str>| {
        let mut i = invite("default", "a@b", "c@d");
        i.strings.user_agent = ua.map(str::to_owned);
        i.priority = prio.map(str::to_owned);
        evaluate(&i, &script).0
    };
    assert_eq!(rejected_status(&with(Some("Friendly-Scanner 1.0"), None)), Some(403));
    assert_eq!(rejected_status(&with(None, None)), Some(400));
    assert!(with(Some("phone"), Some("Emergency")).allowed().is_some());
    assert_eq!(rejected_status(&with(Some("phone"), Some("non-urgent"))), Some(486));
    assert_eq!(rejected_status(&with(Some("phone"), Some("X-Custom"))), Some(488));
    assert!(with(Some("phone"), None).allowed().is_some(), "normal: no output matches, script ends");
}

#[test]
fn locations_proxy_and_redirect() {
    let script = load(&incoming(
        r#"<location url="sip:desk@ent-pa.com" priority="0.8">
  <location url="sip:cloud@ent-pa.call.webex.com" priority="0.5">
    <remove-location location="SIP:DESK@ent-pa.com">
      <taa:location regex="(.*)@ent-pa\.com" replace="\1@cucm.ent-pa.com">
        <proxy timeout="25" ordering="sequential"/>
      </taa:location>
    </remove-location>
  </location>
</location>"#,
    ));
    let (verdict, trace) = evaluate(&invite("default", "a@b", "bob@ent-pa.com"), &script);
    let allowed = verdict.allowed().unwrap_or_else(|| panic!("{verdict:?}"));
    let uris: Vec<_> = allowed.targets().iter().map(|t| t.uri.as_str()).collect();
    assert_eq!(uris, ["sip:cloud@ent-pa.call.webex.com", "bob@cucm.ent-pa.com"]);
    let hints = allowed.proxy().copied();
    assert_eq!(hints.map(|h| (h.timeout, h.ordering, h.recurse)), Some((25, Ordering::Sequential, true)));
    assert!(allowed.continuation().is_none(), "proxy without outputs: nothing to resume");
    assert!(trace.to_string().contains("removed 1 location(s)"), "{trace}");

    let redirect = load(&incoming(r#"<location url="sip:vm@ent-pa.com" clear="yes"><redirect permanent="yes"/></location>"#));
    match evaluate(&invite("default", "a@b", "c@d"), &redirect).0 {
        Verdict::Redirect(r) => {
            assert!(r.permanent);
            assert_eq!(r.contacts, vec![Target { uri: "sip:vm@ent-pa.com".into(), priority: None }]);
        }
        other => panic!("{other:?}"),
    }
    let empty = load(&incoming("<redirect/>"));
    assert_eq!(rejected_status(&evaluate(&invite("default", "a@b", "c@d"), &empty).0), Some(500));
}

#[test]
fn lookup_pauses_for_the_caller_and_resumes() {
    let set = load(&incoming(
        r#"<lookup source="registration" timeout="5">
  <success><proxy/></success>
  <notfound><reject status="480" reason="Not Registered"/></notfound>
</lookup>"#,
    ));
    let input = invite("default", "a@b", "bob@ent-pa.com");
    let (verdict, _) = evaluate(&input, &set);
    let Verdict::Lookup(request) = verdict else { panic!("{verdict:?}") };
    assert_eq!((request.source.as_str(), request.timeout, request.clear), ("registration", 5, false));

    let found = vec![Target { uri: "sip:bob@192.0.2.4:5060".into(), priority: None }];
    let resumed = resume(&input, &set, request.continuation.clone(), Outcome::Found(found.clone()));
    let (verdict, trace) = resumed.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verdict.as_ref().and_then(Verdict::allowed).map(|a| a.targets().to_vec()), Some(found));
    assert!(trace.to_string().contains("lookup found 1 location(s): success"), "{trace}");

    let (verdict, _) = resume(&input, &set, request.continuation.clone(), Outcome::NotFound).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verdict.as_ref().and_then(rejected_status), Some(480));

    let failed = resume(&input, &set, request.continuation.clone(), Outcome::LookupFailed).unwrap_or_else(|e| panic!("{e}"));
    assert!(failed.0.is_some_and(|v| v.allowed().is_some()), "no failure output: the script ends, allow");

    assert_eq!(resume(&input, &set, request.continuation.clone(), Outcome::Busy).err(), Some(ResumeError::WrongOutcome));
    let reloaded = load(&incoming("<lookup source=\"registration\"/>"));
    assert_eq!(resume(&input, &reloaded, request.continuation.clone(), Outcome::NotFound).err(), Some(ResumeError::OtherScript));
    assert_eq!(resume(&input, &PolicySet::off(), request.continuation, Outcome::NotFound).err(), Some(ResumeError::NotCpl));
}

#[test]
fn proxy_outputs_continue_on_the_proxy_result() {
    let set = load(&incoming(
        r#"<proxy timeout="15">
  <busy><location url="sip:vm@ent-pa.com"><redirect/></location></busy>
  <default><reject status="480"/></default>
</proxy>"#,
    ));
    let input = invite("default", "a@b", "bob@ent-pa.com");
    let (verdict, _) = evaluate(&input, &set);
    let continuation = verdict.allowed().and_then(|a| a.continuation()).cloned().unwrap_or_else(|| panic!("{verdict:?}"));
    let busy = resume(&input, &set, continuation.clone(), Outcome::Busy).unwrap_or_else(|e| panic!("{e}")).0;
    assert!(matches!(busy, Some(Verdict::Redirect(_))), "{busy:?}");
    let other = resume(&input, &set, continuation, Outcome::NoAnswer).unwrap_or_else(|e| panic!("{e}")).0;
    assert_eq!(other.as_ref().and_then(rejected_status), Some(480), "falls back to <default>");

    let no_outputs_for_failure = load(&incoming(r#"<proxy><busy><reject status="486"/></busy></proxy>"#));
    let (verdict, _) = evaluate(&input, &no_outputs_for_failure);
    let continuation = verdict.allowed().and_then(|a| a.continuation()).cloned().unwrap_or_else(|| panic!("{verdict:?}"));
    let (none, trace) = resume(&input, &no_outputs_for_failure, continuation, Outcome::Failed).unwrap_or_else(|e| panic!("{e}"));
    assert!(none.is_none(), "no output: the response received stands");
    assert!(trace.to_string().contains("the response stands"));
}

#[test]
fn node_budget_stops_long_runs() {
    let chain = |n: usize| {
        format!(
            "{}<proxy/>{}",
            "<location url=\"sip:a@b\">".repeat(n),
            "</location>".repeat(n)
        )
    };
    let script = incoming(&chain(5));
    let with_budget = |budget: u32| {
        let toml = format!("[policy]\ncpl = \"chain.cpl\"\ncpl_node_budget = {budget}\n");
        PolicySet::from_toml_str(SourceText::new("p.toml", &toml), common::ZONES, |_| Ok(script.clone()))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let input = invite("default", "a@b", "c@d");
    let (verdict, trace) = evaluate(&input, &with_budget(3));
    assert_eq!(rejected_status(&verdict), Some(500));
    assert!(trace.to_string().contains("node budget of 3 exhausted"), "{trace}");
    assert!(evaluate(&input, &with_budget(6)).0.allowed().is_some());
    let zero = PolicySet::from_toml_str(SourceText::new("p.toml", "[policy]\ncpl = \"x\"\ncpl_node_budget = 0\n"), common::ZONES, |_| Ok(script.clone()));
    assert!(zero.err().is_some_and(|e| e.to_string().starts_with("p.toml:3:19: cpl_node_budget must be at least 1")));
}

#[test]
fn sections_follow_the_direction_and_subactions_are_jumps() {
    let set = load(&format!(
        r#"{HEAD}
<subaction id="deny"><reject status="403"/></subaction>
<subaction id="guarded"><address-switch field="destination" subfield="user"><address is="ceo"><sub ref="deny"/></address></address-switch></subaction>
<outgoing><sub ref="guarded"/></outgoing>
<incoming><reject status="404"/></incoming>
</cpl>"#
    ));
    let mut out = invite("default", "a@b", "ceo@ent-pa.com");
    out.direction = Direction::Outgoing;
    let (verdict, trace) = evaluate(&out, &set);
    assert_eq!(rejected_status(&verdict), Some(403));
    assert!(matches!(verdict.decided_by(), Decider::CplNode { element: "reject", line: 2, .. }), "{trace}");
    out.destination = addr("bob@ent-pa.com");
    assert!(evaluate(&out, &set).0.allowed().is_some());
    assert_eq!(rejected_status(&evaluate(&invite("default", "a@b", "ceo@x"), &set).0), Some(404));
}

#[test]
fn rule_switch_conditions_all_hold() {
    let set = load(&format!(
        r#"{HEAD}<taa:routed><taa:rule-switch>
  <taa:rule authenticated-origin=".*@ent-pa\.com" destination="9.*"><proxy/></taa:rule>
  <taa:rule originating-zone="default|webex" destination="9.*"><reject status="403"/></taa:rule>
  <otherwise><reject status="404"/></otherwise>
</taa:rule-switch></taa:routed></cpl>"#
    ));
    assert!(evaluate(&authenticated("traversal", "bob@ent-pa.com", "9011@pstn"), &set).0.allowed().is_some());
    assert_eq!(rejected_status(&evaluate(&invite("default", "bob@ent-pa.com", "9011@pstn"), &set).0), Some(403));
    assert_eq!(rejected_status(&evaluate(&invite("traversal", "x@y", "9011@pstn"), &set).0), Some(404));
}

#[test]
fn rfc3880_6_1_the_proxy_node_orders_the_location_set() {
    let script = |ordering: &str| {
        incoming(&format!(
            "<location url=\"sip:low@a\" priority=\"0.2\">\n<location url=\"sip:none@b\">\n\
             <location url=\"sip:high@c\" priority=\"0.9\">\n<location url=\"sip:also-low@d\" priority=\"0.2\">\n\
             <proxy{ordering}/>\n</location>\n</location>\n</location>\n</location>"
        ))
    };
    let tried = |ordering: &str| {
        let (verdict, _) = evaluate(&invite("default", "sip:a@x", "sip:b@y"), &load(&script(ordering)));
        let Verdict::Allow(allowed) = verdict else { panic!("{ordering}: {verdict:?}") };
        let uris: Vec<String> = allowed.locations_to_try().iter().map(|t| t.uri.clone()).collect();
        (allowed.ordering(), uris)
    };
    // No priority counts as 1.0; equal priorities keep the script's order.
    let all = ["sip:none@b", "sip:high@c", "sip:low@a", "sip:also-low@d"].map(str::to_owned).to_vec();
    assert_eq!(tried(""), (Ordering::Parallel, all.clone()));
    assert_eq!(tried(" ordering=\"sequential\""), (Ordering::Sequential, all));
    assert_eq!(tried(" ordering=\"first-only\""), (Ordering::FirstOnly, vec!["sip:none@b".to_owned()]));
    // A script that ends without a proxy node proxies to the set in parallel (RFC 3880 §6.1 default).
    let (verdict, _) = evaluate(&invite("default", "sip:a@x", "sip:b@y"), &load(&incoming("<location url=\"sip:x@z\"/>")));
    let ordering = verdict.allowed().map(|a| (a.ordering(), a.locations_to_try().len()));
    assert_eq!(ordering, Some((Ordering::Parallel, 1)));
}
