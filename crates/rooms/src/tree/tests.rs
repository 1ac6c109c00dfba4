use super::*;
use serde_json::json;

fn p(text: &str) -> Path {
    parse_text_path(text).expect("test path parses")
}

fn doc() -> Value {
    json!({
        "Status": {
            "Video": {"Output": {"Connector": [
                {"id": 1, "Connected": "True", "Resolution": {"Width": 3840, "Height": 2160}},
                {"id": 2, "Connected": "False", "Resolution": {"Width": 0, "Height": 0}}
            ]}},
            "Conference": {"Presentation": {"Mode": "Off"}}
        },
        "Configuration": {"Video": {"Output": {"Connector": [
            {"id": 1, "MonitorRole": "Auto"}, {"id": 2, "MonitorRole": "Auto"}
        ]}}}
    })
}

#[test]
fn json_paths_take_numbers_digit_strings_and_wildcards() {
    let path = parse_path(&json!(["Status", "Video", 1, "2", "**"])).expect("parses");
    assert_eq!(
        path,
        vec![
            PathElem::Node("Status".into()),
            PathElem::Node("Video".into()),
            PathElem::Index(1),
            PathElem::Index(2),
            PathElem::AnyDepth
        ]
    );
    assert_eq!(parse_path(&json!("Status")), Err(TreeError::NotAPath { got: "string" }));
    assert_eq!(parse_path(&json!([{"a": 1}])), Err(TreeError::NotAPath { got: "object" }));
    assert!(matches!(parse_path(&json!(["Sta tus"])), Err(TreeError::BadElement { .. })));
    assert!(matches!(parse_path(&json!([-1])), Err(TreeError::BadElement { .. })));
    assert_eq!(path_to_json(&path), json!(["Status", "Video", 1, 2, "**"]));
}

#[test]
fn get_is_relative_and_case_insensitive_with_indexes_by_id() {
    let d = doc();
    assert_eq!(get(&d, &p("status video output connector 1 resolution width")), Some(&json!(3840)));
    assert_eq!(get(&d, &p("Status Video Output Connector 2 Connected")), Some(&json!("False")));
    assert_eq!(get(&d, &p("Status Video Output Connector 3")), None);
    assert_eq!(get(&d, &p("Status Conference Presentation Mode Deeper")), None);
    let connectors = get(&d, &p("Status Video Output Connector")).and_then(Value::as_array).map(Vec::len);
    assert_eq!(connectors, Some(2));
}

#[test]
fn select_keeps_the_path_from_the_root_and_entry_ids() {
    let d = doc();
    let got = select(&d, &p("Status Video Output Connector 2 Connected"));
    assert_eq!(got, Some(json!({"Status": {"Video": {"Output": {"Connector": [{"id": 2, "Connected": "False"}]}}}})));
    assert_eq!(select(&d, &p("Status Nothing")), None);
}

#[test]
fn select_with_any_depth_finds_every_match() {
    let d = doc();
    let got = select(&d, &p("** Connector ** MonitorRole"));
    assert_eq!(
        got,
        Some(json!({"Configuration": {"Video": {"Output": {"Connector": [
            {"id": 1, "MonitorRole": "Auto"}, {"id": 2, "MonitorRole": "Auto"}
        ]}}}}))
    );
    let widths = select(&d, &p("Status ** Width")).expect("widths");
    assert_eq!(get(&widths, &p("Status Video Output Connector 1 Resolution Width")), Some(&json!(3840)));
    assert_eq!(get(&widths, &p("Status Video Output Connector 1 Connected")), None);
}

#[test]
fn name_steps_over_arrays_apply_to_every_entry() {
    let d = doc();
    let got = select(&d, &p("Status Video Output Connector Connected"));
    assert_eq!(
        got,
        Some(json!({"Status": {"Video": {"Output": {"Connector": [
            {"id": 1, "Connected": "True"}, {"id": 2, "Connected": "False"}
        ]}}}}))
    );
}

#[test]
fn ghost_entries_reach_subscribers_of_the_entry_and_above() {
    let delta = nest(&p("Status Conference Presentation LocalInstance 1"), json!({"ghost": "True"}));
    assert_eq!(
        delta,
        json!({"Status": {"Conference": {"Presentation": {"LocalInstance": [{"id": 1, "ghost": "True"}]}}}})
    );
    assert_eq!(select(&delta, &p("Status Conference Presentation")), Some(delta.clone()));
    assert_eq!(select(&delta, &p("Status Conference Presentation LocalInstance 1 Source")), Some(delta.clone()));
    assert_eq!(select(&delta, &p("Status Conference Presentation LocalInstance 2")), None);
}

#[test]
fn upsert_creates_entries_in_id_order_and_merges_objects() {
    let mut d = doc();
    upsert(&mut d, &p("Configuration Video Output Connector 1 MonitorRole"), json!("Second")).expect("set");
    assert_eq!(get(&d, &p("Configuration Video Output Connector 1 MonitorRole")), Some(&json!("Second")));
    upsert(&mut d, &p("Status Video Output Connector 3"), json!({"Connected": "True"})).expect("new entry");
    upsert(&mut d, &p("Status Video Output Connector 0 Connected"), json!("False")).expect("new entry");
    let ids: Vec<_> = get(&d, &p("Status Video Output Connector"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(entry_id).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![0, 1, 2, 3]);
    upsert(&mut d, &p("Status Video Output Connector 1"), json!({"Connected": "False"})).expect("merge");
    assert_eq!(get(&d, &p("Status Video Output Connector 1 Resolution Width")), Some(&json!(3840)));
    assert!(matches!(
        upsert(&mut d, &p("Status Conference Presentation Mode X"), json!(1)),
        Err(TreeError::ThroughLeaf { .. })
    ));
    assert_eq!(upsert(&mut d, &p("Status ** X"), json!(1)), Err(TreeError::WildcardNotAllowed));
}

#[test]
fn merge_combines_deltas_and_ghosts_replace_entries() {
    let mut acc = nest(&p("Status Call 1"), json!({"Status": "Connected"}));
    merge(&mut acc, nest(&p("Status Conference Presentation Mode"), json!("Receiving")));
    merge(&mut acc, nest(&p("Status Call 1"), json!({"ghost": "True"})));
    assert_eq!(
        acc,
        json!({"Status": {"Call": [{"id": 1, "ghost": "True"}], "Conference": {"Presentation": {"Mode": "Receiving"}}}})
    );
}

#[test]
fn remove_entry_reports_whether_it_existed() {
    let mut d = doc();
    assert!(remove_entry(&mut d, &p("Status Video Output Connector"), 2));
    assert!(!remove_entry(&mut d, &p("Status Video Output Connector"), 2));
    assert!(!remove_entry(&mut d, &p("Status Nothing"), 1));
    assert_eq!(DisplayPath(&p("Status Video Output Connector 1")).to_string(), "Status Video Output Connector 1");
}
