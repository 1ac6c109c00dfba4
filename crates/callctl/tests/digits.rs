//! Digit analysis: table tests for every wildcard, closest match, transformations, translation
//! patterns, CSS order, directory URIs and `<digits>@<CFQDN>`.

mod common;

use causeway_callctl::pattern::{DialString, Pattern, PatternError};
use causeway_callctl::{Cluster, Origin, Outcome, TraceStep, ZoneCall};
use causeway_policy::Address;
use common::{cluster, example, sip};

fn dial(s: &str) -> DialString {
    DialString::parse(s).unwrap_or_else(|| panic!("not a dial string: {s}"))
}

#[test]
fn every_wildcard_matches_what_cucm_says() {
    let table: &[(&str, &str, bool)] = &[
        ("1XXX", "1234", true),
        ("1XXX", "123", false),
        ("1XXX", "12345", false),
        ("1xxx", "1000", true),
        ("X", "*", false),
        ("9!", "91", true),
        ("9!", "9", false),
        ("9!", "9123456789", true),
        ("9!", "91*", false),
        ("[1-5]XX", "555", true),
        ("[1-5]XX", "655", false),
        ("[135]0", "30", true),
        ("[135]0", "20", false),
        ("[^0]XX", "100", true),
        ("[^0]XX", "012", false),
        ("[^1-3]X", "45", true),
        ("[^1-3]X", "25", false),
        ("12?3", "13", true),
        ("12?3", "123", true),
        ("12?3", "12223", true),
        ("12?3", "143", false),
        ("1X+", "1", false),
        ("1X+", "12", true),
        ("1X+", "1234567", true),
        ("1[2-3]+4", "124", true),
        ("1[2-3]+4", "1233234", true),
        ("1[2-3]+4", "14", false),
        ("9.911", "9911", true),
        ("9.911", "911", false),
        ("*88", "*88", true),
        ("*88", "88", false),
        ("9011!#", "9011442079460000#", true),
        ("9011!#", "9011442079460000", false),
        ("\\+1XXX", "+1234", true),
        ("\\+1XXX", "1234", false),
        ("\\+!", "+14085551234", true),
        ("X?1", "1", true),
        ("X?1", "99991", true),
    ];
    for (pattern, dialed, expect) in table {
        let p = Pattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        assert_eq!(p.matches(&dial(dialed)), *expect, "{pattern} vs {dialed}");
    }
}

#[test]
fn pattern_syntax_is_checked_with_positions() {
    let table: &[(&str, PatternError)] = &[
        ("", PatternError::Empty),
        ("9.@", PatternError::NumberingPlanMacro { at: 2 }),
        ("?1", PatternError::NothingToRepeat { op: '?', at: 0 }),
        ("+1408", PatternError::NothingToRepeat { op: '+', at: 0 }),
        ("1!?", PatternError::NothingToRepeat { op: '?', at: 2 }),
        ("1X+?", PatternError::NothingToRepeat { op: '?', at: 3 }),
        ("9.?1", PatternError::NothingToRepeat { op: '?', at: 2 }),
        (".911", PatternError::DotAtEdge { at: 0 }),
        ("911.", PatternError::DotAtEdge { at: 3 }),
        ("9.1.1", PatternError::SecondDot { at: 3 }),
        ("1[2-", PatternError::BadSet { at: 1, why: "a range needs a digit after '-'" }),
        ("1[23", PatternError::BadSet { at: 1, why: "no closing ']'" }),
        ("1[]", PatternError::BadSet { at: 1, why: "the set holds no digit" }),
        ("1[^0-9]", PatternError::BadSet { at: 1, why: "the set holds no digit" }),
        ("1[5-1]", PatternError::BadSet { at: 1, why: "range runs backwards" }),
        ("1[a]", PatternError::BadSet { at: 1, why: "only digits and ranges such as 1-5 go inside [ ]" }),
        ("\\1", PatternError::BadEscape { at: 0 }),
        ("1A2", PatternError::BadChar { ch: 'A', at: 1 }),
        ("X?", PatternError::MatchesEmpty),
    ];
    for (pattern, expect) in table {
        assert_eq!(Pattern::parse(pattern).err().as_ref(), Some(expect), "{pattern}");
    }
    let long = "X".repeat(64);
    assert_eq!(Pattern::parse(&long).err(), Some(PatternError::TooLong));
    let beyond = "X".repeat(49);
    assert_eq!(Pattern::parse(&beyond).err(), Some(PatternError::MatchesNothing));
}

const CLOSEST: &str = r#"
[callctl]
cluster_fqdns = ["cm.example"]
[[callctl.partition]]
name = "A"
[[callctl.partition]]
name = "B"
[[callctl.css]]
name = "AB"
partitions = ["A", "B"]
[[callctl.css]]
name = "BA"
partitions = ["B", "A"]
[[callctl.route_pattern]]
pattern = "1XXX"
partition = "A"
zone = "webex"
[[callctl.route_pattern]]
pattern = "12XX"
partition = "A"
zone = "pstn-gw"
[[callctl.route_pattern]]
pattern = "121X"
partition = "A"
zone = "unity"
[[callctl.route_pattern]]
pattern = "1234"
partition = "A"
zone = "teams"
[[callctl.route_pattern]]
pattern = "15!"
partition = "B"
zone = "webex"
[[callctl.route_pattern]]
pattern = "1[3-5]XX"
partition = "B"
zone = "pstn-gw"
[[callctl.route_pattern]]
pattern = "16XX"
partition = "A"
zone = "webex"
[[callctl.route_pattern]]
pattern = "16!"
partition = "A"
zone = "pstn-gw"
[[callctl.route_pattern]]
pattern = "17XX"
partition = "A"
zone = "webex"
[[callctl.route_pattern]]
pattern = "17XX"
partition = "B"
zone = "pstn-gw"
[[callctl.route_pattern]]
pattern = "99[5-6]"
partition = "A"
zone = "webex"
[[callctl.route_pattern]]
pattern = "99[6-7]"
partition = "A"
zone = "pstn-gw"
[[callctl.trunk]]
zone = "webex"
css = "AB"
trusted_identity = "from-or-pai"
[[callctl.trunk]]
zone = "teams"
css = "BA"
"#;

fn route(cluster: &Cluster, zone: &str, called: &str) -> (Outcome, Vec<TraceStep>) {
    let origin = Origin::Zone(ZoneCall {
        zone: zone.to_owned(),
        authenticated: false,
        from: sip("x@far.example"),
        asserted: Vec::new(),
        contact_params: Vec::new(),
    });
    let d = cluster.locate(&origin, &sip(called)).unwrap_or_else(|e| panic!("{e}"));
    (d.outcome, d.trace.steps)
}

fn zone_of(outcome: &Outcome) -> (&str, &str) {
    match outcome {
        Outcome::Route { zone, pattern, .. } => (zone, pattern),
        other => panic!("not routed: {other:?}"),
    }
}

#[test]
fn closest_match_follows_the_cucm_examples() {
    let c = cluster(CLOSEST);
    // 1XXX (1000), 12XX (100), 121X (10), 1234 (1): the fewest strings win.
    let (o, _) = route(&c, "webex", "1200@cm.example");
    assert_eq!(zone_of(&o), ("pstn-gw", "12XX"));
    let (o, _) = route(&c, "webex", "1212@cm.example");
    assert_eq!(zone_of(&o), ("unity", "121X"));
    let (o, steps) = route(&c, "webex", "1234@cm.example");
    assert_eq!(zone_of(&o), ("teams", "1234"));
    let matched = steps.iter().find_map(|s| match s {
        TraceStep::Candidates { matched, .. } => Some(matched.len()),
        _ => None,
    });
    assert_eq!(matched, Some(3), "1XXX, 12XX and 1234 match 1234");
    // 15! counts as the 100 four-digit strings 1500-1599; 1[3-5]XX as 300.
    let (o, _) = route(&c, "webex", "1515@cm.example");
    assert_eq!(zone_of(&o), ("webex", "15!"));
    // With more digits only 15! matches at all.
    let (o, _) = route(&c, "webex", "151515@cm.example");
    assert_eq!(zone_of(&o), ("webex", "15!"));
}

#[test]
fn ties_go_to_fixed_length_then_css_order_then_file_order() {
    let c = cluster(CLOSEST);
    // 16XX and 16! both match 100 four-digit strings: the fixed-length pattern wins.
    let (o, _) = route(&c, "webex", "1666@cm.example");
    assert_eq!(zone_of(&o), ("webex", "16XX"));
    // 17XX in A and in B: the partition first in the CSS wins.
    let (o, _) = route(&c, "webex", "1777@cm.example");
    assert_eq!(zone_of(&o), ("webex", "17XX"), "CSS AB");
    let (o, _) = route(&c, "teams", "1777@cm.example");
    assert_eq!(zone_of(&o), ("pstn-gw", "17XX"), "CSS BA");
    // 99[5-6] and 99[6-7] in one partition: file order.
    let (o, _) = route(&c, "webex", "996@cm.example");
    assert_eq!(zone_of(&o), ("webex", "99[5-6]"));
}

#[test]
fn line_css_is_searched_before_device_css() {
    let c = cluster(
        r#"
[callctl]
cluster_fqdns = ["cm.example"]
[[callctl.partition]]
name = "Internal"
[[callctl.partition]]
name = "LineP"
[[callctl.partition]]
name = "DevP"
[[callctl.css]]
name = "Line"
partitions = ["LineP"]
[[callctl.css]]
name = "Dev"
partitions = ["DevP", "Internal"]
[[callctl.route_pattern]]
pattern = "9!"
partition = "DevP"
zone = "pstn-gw"
[[callctl.route_pattern]]
pattern = "9!"
partition = "LineP"
zone = "teams"
[[callctl.line]]
dn = "100"
partition = "Internal"
css = "Line"
[[callctl.device]]
name = "phone"
css = "Dev"
lines = ["100"]
"#,
    );
    let origin = Origin::Device { device: "phone".into(), line: None };
    let d = c.locate(&origin, &sip("912345@cm.example")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(zone_of(&d.outcome), ("teams", "9!"));
    assert_eq!(d.calling.number.as_deref(), Some("100"));
    assert!(matches!(d.trace.steps.first(), Some(TraceStep::Device { css, .. }) if css == &["Line", "Dev"]));
}

fn from_device(c: &Cluster, device: &str, called: &Address) -> causeway_callctl::Decision {
    c.locate(&Origin::Device { device: device.into(), line: None }, called).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn transformations_discard_mask_prefix_on_the_example() {
    let c = example();
    let alice = "SEP00AA00000001";
    // 9.1[2-9]XX[2-9]XXXXXX: PreDot discard, prefix +, calling mask to the DID.
    let d = from_device(&c, alice, &sip("914155550123@us-cm-pub.ent-pa.com"));
    assert_eq!(
        d.outcome,
        Outcome::Route {
            zone: "pstn-gw".into(),
            called: "+14155550123".into(),
            pattern: "9.1[2-9]XX[2-9]XXXXXX".into(),
            partition: "PSTN".into()
        }
    );
    assert_eq!(d.calling.number.as_deref(), Some("+14085551001"));
    assert_eq!(d.calling.display_name.as_deref(), Some("Alice Adams"));
    assert_eq!(d.calling.uri.as_deref(), Some("alice@ent-pa.com"));
    // International, with and without the end-of-dialing #.
    let d = from_device(&c, alice, &sip("9011442079460000@ent-pa.com"));
    assert!(matches!(&d.outcome, Outcome::Route { called, pattern, .. } if called == "+442079460000" && pattern == "9011.!"));
    let d = from_device(&c, alice, &Address::tel("9011442079460000#"));
    assert!(matches!(&d.outcome, Outcome::Route { called, pattern, .. } if called == "+442079460000" && pattern == "9011.!#"));
    // Premium rate is closer than the national pattern and blocked.
    let d = from_device(&c, alice, &sip("919005551234@ent-pa.com"));
    assert_eq!(d.outcome.reject_status(), Some(403));
    // Bob's line CSS has no international partition.
    let d = from_device(&c, "SEP00AA00000002", &sip("9011442079460000@ent-pa.com"));
    assert_eq!(d.outcome, Outcome::NoMatch);
    assert_eq!(d.outcome.reject_status(), Some(404));
    // The lobby phone reaches extensions and 911, nothing else.
    let d = from_device(&c, "SEP00AA00000005", &sip("914155550123@ent-pa.com"));
    assert_eq!(d.outcome, Outcome::NoMatch);
    let d = from_device(&c, "SEP00AA00000005", &sip("911@ent-pa.com"));
    assert!(matches!(&d.outcome, Outcome::Route { zone, called, .. } if zone == "pstn-gw" && called == "911"));
    let d = from_device(&c, "SEP00AA00000005", &sip("9911@ent-pa.com"));
    assert!(matches!(&d.outcome, Outcome::Route { called, .. } if called == "911"));
}

#[test]
fn translation_patterns_rewrite_then_analyse_again() {
    let c = example();
    let pstn = Origin::Zone(ZoneCall {
        zone: "pstn-gw".into(),
        authenticated: false,
        from: Address::tel("+14155550123"),
        asserted: Vec::new(),
        contact_params: Vec::new(),
    });
    let d = c.locate(&pstn, &sip("+14085551002@ent-pa.com")).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(&d.outcome, Outcome::Line { dn, partition, .. } if dn == "1002" && partition == "Internal"));
    let applied = d.translations.first().unwrap_or_else(|| panic!("{}", d.trace));
    assert_eq!((applied.pattern.as_str(), applied.partition.as_str(), applied.called.as_str()), ("\\+14085551XXX", "Xlate", "1002"));
    assert!(d.trace.steps.iter().any(|s| matches!(s, TraceStep::Translated(t) if t == applied)), "{}", d.trace);
    // The PSTN trunk's CSS holds only the DID translations: extensions are not reachable.
    let d = c.locate(&pstn, &sip("1002@ent-pa.com")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.outcome, Outcome::NoMatch);
}

#[test]
fn translation_loops_are_cut() {
    let c = cluster(
        r#"
[callctl]
cluster_fqdns = ["cm.example"]
[[callctl.partition]]
name = "P"
[[callctl.css]]
name = "C"
partitions = ["P"]
[[callctl.translation]]
pattern = "1XXX"
partition = "P"
called_prefix = "2"
called_mask = "XXX"
calling_prefix = "9"
[[callctl.translation]]
pattern = "2XXX"
partition = "P"
css = "C"
called_prefix = "1"
called_mask = "XXX"
[[callctl.trunk]]
zone = "webex"
css = "C"
"#,
    );
    let (o, steps) = route(&c, "webex", "1234@cm.example");
    assert_eq!(o, Outcome::NoMatch);
    let translations = steps.iter().filter(|s| matches!(s, TraceStep::Translated(_))).count();
    assert_eq!(translations, causeway_callctl::dialplan::MAX_TRANSLATIONS + 1);
    assert!(matches!(steps.last(), Some(TraceStep::Note { text }) if text.contains("loop")));
}

#[test]
fn digits_at_a_cluster_fqdn_route_by_digits_and_uris_by_directory() {
    let c = example();
    let alice = "SEP00AA00000001";
    for called in [sip("1002@us-cm-pub.ent-pa.com"), sip("1002@US-CM-PUB.ent-pa.com."), sip("1002@ent-pa.com"), Address::tel("1002")] {
        let d = from_device(&c, alice, &called);
        assert!(matches!(&d.outcome, Outcome::Line { dn, .. } if dn == "1002"), "{called}: {:?}", d.outcome);
    }
    // Digits at a foreign host are not ours to analyse.
    let d = from_device(&c, alice, &sip("1002@elsewhere.example"));
    assert_eq!(d.outcome, Outcome::NoMatch);
    // Directory URIs, case-insensitively, in the line's partition.
    for uri in ["bob@ent-pa.com", "Bob@ENT-PA.COM"] {
        let d = from_device(&c, alice, &sip(uri));
        assert!(matches!(&d.outcome, Outcome::Line { dn, .. } if dn == "1002"), "{uri}");
        assert!(d.trace.steps.iter().any(|s| matches!(s, TraceStep::DirectoryUri { partition: Some(p), .. } if p == "Internal")));
    }
    let d = from_device(&c, alice, &sip("nobody@ent-pa.com"));
    assert_eq!(d.outcome, Outcome::NoMatch);
}

#[test]
fn the_toggle_code_needs_a_user() {
    let c = example();
    let d = from_device(&c, "SEP00AA00000002", &sip("*88@ent-pa.com"));
    assert!(matches!(&d.outcome, Outcome::ToggleDualRing { userid, .. } if userid == "bob"));
    // The lobby phone has no user: *88 is just digits, and nothing matches.
    let d = from_device(&c, "SEP00AA00000005", &sip("*88@ent-pa.com"));
    assert_eq!(d.outcome, Outcome::NoMatch);
}

#[test]
fn trace_reads_as_text_and_json() {
    let c = example();
    let d = from_device(&c, "SEP00AA00000001", &sip("914155550123@ent-pa.com"));
    let text = d.trace.to_string();
    assert!(text.contains("caller: device SEP00AA00000001, line 1001, css [CSS-Line-Intl, CSS-Device]"), "{text}");
    assert!(text.contains("closest match: route \"9.1[2-9]XX[2-9]XXXXXX\" in PSTN (css rank 1): 6400000000 strings of this length"), "{text}");
    let json = serde_json::to_value(&d).unwrap_or_default();
    assert_eq!(json["outcome"]["kind"], "route");
    assert_eq!(json["outcome"]["called"], "+14155550123");
    assert_eq!(json["trace"]["steps"][0]["step"], "device");
    let candidates = json["trace"]["steps"].as_array().and_then(|s| s.iter().find(|s| s["step"] == "candidates")).cloned();
    assert_eq!(candidates.map(|c| c["matched"][0]["strings_of_length"].clone()), Some("6400000000".into()));
}
