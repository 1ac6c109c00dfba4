use super::*;
use crate::tree::parse_text_path;

fn get(d: &mut Device, path: &str) -> Result<Value, RpcError> {
    let path = tree::path_to_json(&parse_text_path(path).expect("path"));
    d.handle_request("xGet", &json!({ "Path": path }))
}

fn set(d: &mut Device, path: &str, value: Value) -> Result<Value, RpcError> {
    let path = tree::path_to_json(&parse_text_path(path).expect("path"));
    d.handle_request("xSet", &json!({ "Path": path, "Value": value }))
}

fn code(r: Result<Value, RpcError>) -> i64 {
    r.err().map_or(0, |e| e.code)
}

#[test]
fn new_device_has_connected_displays_with_auto_roles_and_no_pending_feedback() {
    let mut d = Device::new(&[(3840, 2160), (1920, 1080)]);
    assert_eq!(d.take_delta(), None);
    assert_eq!(get(&mut d, "Status Video Output Connector 1 Resolution Width"), Ok(json!(3840)));
    assert_eq!(get(&mut d, "Status Video Output Connector 2 Connected"), Ok(json!("True")));
    assert_eq!(d.monitor_role(2), Some(MonitorRole::Auto));
    assert_eq!(code(get(&mut d, "Status Video Output Connector 3")), rpc::INVALID_PATH);
    let wild = d.handle_request("xGet", &json!({"Path": ["Status", "**"]}));
    assert_eq!(code(wild), rpc::INVALID_PARAMS);
    assert_eq!(code(d.handle_request("xGet", &json!({}))), rpc::INVALID_PARAMS);
}

#[test]
fn xset_validates_monitor_roles_and_emits_configuration_feedback() {
    let mut d = Device::new(&[(1920, 1080)]);
    assert_eq!(set(&mut d, "Configuration Video Output Connector 1 MonitorRole", json!("second")), Ok(json!(true)));
    assert_eq!(d.monitor_role(1), Some(MonitorRole::Second));
    assert_eq!(
        d.take_delta(),
        Some(json!({"Configuration": {"Video": {"Output": {"Connector": [{"id": 1, "MonitorRole": "Second"}]}}}}))
    );
    assert_eq!(set(&mut d, "Configuration Video Output Connector 1 MonitorRole", json!("Second")), Ok(json!(true)));
    assert_eq!(d.take_delta(), None, "setting the same value is no change");
    assert_eq!(code(set(&mut d, "Configuration Video Output Connector 1 MonitorRole", json!("Fourth"))), rpc::ILLEGAL_VALUE);
    assert_eq!(code(set(&mut d, "Configuration Video Output Connector 9 MonitorRole", json!("First"))), rpc::INVALID_PATH);
    assert_eq!(code(set(&mut d, "Status Conference Presentation Mode", json!("Off"))), rpc::INVALID_PATH);
    assert_eq!(code(set(&mut d, "Configuration Video", json!("x"))), rpc::INVALID_PATH);
    assert_eq!(code(set(&mut d, "Configuration Video Monitors", json!({"a": 1}))), rpc::ILLEGAL_VALUE);
}

#[test]
fn local_share_in_and_out_of_calls_sets_instances_and_mode() {
    let mut d = Device::new(&[(1920, 1080)]);
    assert_eq!(d.handle_request("xCommand/Presentation/Start", &json!({"PresentationSource": 2})), Ok(json!({"status": "OK"})));
    assert_eq!(get(&mut d, "Status Conference Presentation LocalInstance 1 SendingMode"), Ok(json!("LocalOnly")));
    assert_eq!(get(&mut d, "Status Conference Presentation Mode"), Ok(json!("Off")));
    let _ = d.take_delta();
    let dial = d.handle_request("xCommand/Dial", &json!({"Number": "room@example.com"}));
    assert_eq!(dial, Ok(json!({"status": "OK", "CallId": 1, "ConferenceId": 1})));
    d.handle_request("xCommand/Presentation/Stop", &json!({})).expect("stop");
    let delta = d.take_delta().expect("feedback");
    assert_eq!(delta["Status"]["Conference"]["Presentation"]["LocalInstance"], json!([{"id": 1, "ghost": "True"}]));
    d.handle_request("xCommand/Presentation/Start", &json!({})).expect("start");
    assert_eq!(get(&mut d, "Status Conference Presentation Mode"), Ok(json!("Sending")));
    d.control(Control::RemoteShare { active: true }).expect("remote");
    assert_eq!(get(&mut d, "Status Conference Presentation Mode"), Ok(json!("Receiving")));
    d.control(Control::RemoteShare { active: false }).expect("remote stop");
    assert_eq!(get(&mut d, "Status Conference Presentation Mode"), Ok(json!("Sending")));
    let _ = d.take_delta();
    d.handle_request("xCommand/Call/Disconnect", &json!({})).expect("hang up");
    let delta = d.take_delta().expect("feedback");
    assert_eq!(delta["Status"]["Call"], json!([{"id": 1, "ghost": "True"}]));
    assert_eq!(delta["Event"]["CallDisconnect"]["CallId"], json!(1));
    assert_eq!(get(&mut d, "Status Conference Presentation Mode"), Ok(json!("Off")));
}

#[test]
fn unplugging_a_display_zeroes_it_and_a_new_one_gets_a_role_entry() {
    let mut d = Device::new(&[(1920, 1080)]);
    d.control(Control::Display { connector: 1, connected: false, width: 1920, height: 1080 }).expect("unplug");
    assert_eq!(get(&mut d, "Status Video Output Connector 1"), Ok(json!({"id": 1, "Connected": "False", "Resolution": {"Width": 0, "Height": 0}})));
    d.control(Control::Display { connector: 3, connected: true, width: 3840, height: 2160 }).expect("plug");
    assert_eq!(d.monitor_role(3), Some(MonitorRole::Auto));
    let delta = d.take_delta().expect("feedback");
    assert_eq!(delta["Configuration"]["Video"]["Output"]["Connector"], json!([{"id": 3, "MonitorRole": "Auto"}]));
}

#[test]
fn panels_must_be_saved_before_they_can_be_clicked() {
    let mut d = Device::new(&[(1920, 1080)]);
    assert_eq!(code(d.control(Control::PanelClick { panel_id: "swap".into() })), rpc::COMMAND_ERROR);
    let save = d.handle_request("xCommand/UserInterface/Extensions/Panel/Save", &json!({"PanelId": "swap", "body": "<Extensions/>"}));
    assert_eq!(save, Ok(json!({"status": "OK"})));
    assert_eq!(code(d.handle_request("xCommand/UserInterface/Extensions/Panel/Save", &json!({"PanelId": "x"}))), rpc::INVALID_PARAMS);
    let huge = "x".repeat(MAX_BODY + 1);
    assert_eq!(
        code(d.handle_request("xCommand/UserInterface/Extensions/Panel/Save", &json!({"PanelId": "x", "body": huge}))),
        rpc::COMMAND_ERROR
    );
    d.control(Control::PanelClick { panel_id: "swap".into() }).expect("click");
    assert_eq!(
        d.take_delta(),
        Some(json!({"Event": {"UserInterface": {"Extensions": {"Panel": {"Clicked": {"PanelId": "swap"}}}}}}))
    );
    let list = d.handle_request("xCommand/UserInterface/Extensions/List", &json!({})).expect("list");
    assert_eq!(list["Extensions"]["Panel"], json!([{"id": 1, "PanelId": "swap"}]));
}

#[test]
fn bookings_put_list_get_and_dial_by_booking() {
    let mut d = Device::new(&[(1920, 1080)]);
    let body = r#"{"Booking":[{"Id":"b1","Title":"Zoom sync",
        "Time":{"StartTime":"2026-11-23T10:00:00Z","EndTime":"2026-11-23T10:30:00Z","StartTimeBuffer":300},
        "MeetingPlatform":"Zoom","DialInfo":{"ConnectMode":"OBTP","Calls":{"Call":[{"Number":"85512345678.42@zoomcrc.com","Protocol":"SIP"}]}}}]}"#;
    assert_eq!(d.handle_request("xCommand/Bookings/Put", &json!({"body": body})), Ok(json!({"status": "OK"})));
    assert!(d.take_delta().is_some_and(|v| v["Event"]["Bookings"].get("Updated").is_some()));
    let list = d.handle_request("xCommand/Bookings/List", &json!({})).expect("list");
    assert_eq!(list["ResultInfo"]["TotalRows"], json!(1));
    assert_eq!(list["Booking"][0]["id"], json!(1));
    assert_eq!(list["Booking"][0]["DialInfo"]["Calls"]["Call"][0]["Number"], json!("85512345678.42@zoomcrc.com"));
    let got = d.handle_request("xCommand/Bookings/Get", &json!({"Id": "b1"})).expect("get");
    assert_eq!(got["Booking"]["Title"], json!("Zoom sync"));
    assert_eq!(code(d.handle_request("xCommand/Bookings/Get", &json!({"Id": "nope"}))), rpc::COMMAND_ERROR);
    assert_eq!(code(d.handle_request("xCommand/Bookings/Put", &json!({"body": "{\"Booking\":3}"}))), rpc::COMMAND_ERROR);
    d.handle_request("xCommand/Dial", &json!({"BookingId": "b1"})).expect("dial");
    assert_eq!(get(&mut d, "Status Call 1 RemoteNumber"), Ok(json!("85512345678.42@zoomcrc.com")));
    let start = "2026-11-23T09:55:00Z".parse().expect("time");
    assert_eq!(d.join_button(start), Some(("b1".into(), "85512345678.42@zoomcrc.com".into())));
    assert_eq!(d.join_button("2026-11-23T09:54:59Z".parse().expect("time")), None);
}

#[test]
fn unknown_methods_and_limits_are_errors_not_crashes() {
    let mut d = Device::new(&[]);
    assert_eq!(code(d.handle_request("xFoo", &json!({}))), rpc::METHOD_NOT_FOUND);
    assert_eq!(code(d.handle_request("xCommand/Self/Destruct", &json!({}))), rpc::METHOD_NOT_FOUND);
    assert_eq!(code(d.handle_request("xCommand/Dial", &json!({}))), rpc::INVALID_PARAMS);
    for _ in 0..MAX_CALLS {
        d.handle_request("xCommand/Dial", &json!({"Number": "a@b"})).expect("dial");
    }
    assert_eq!(code(d.handle_request("xCommand/Dial", &json!({"Number": "a@b"}))), rpc::COMMAND_ERROR);
    let q = d.handle_request("xQuery", &json!({"Query": ["Status", "Call", "**", "RemoteNumber"]})).expect("query");
    assert_eq!(q["Status"]["Call"].as_array().map(Vec::len), Some(MAX_CALLS as usize));
}

#[test]
fn control_rejects_connectors_out_of_range() {
    let mut d = Device::new(&[]);
    for connector in [0, MAX_CONNECTORS + 1] {
        let op = Control::Display { connector, connected: true, width: 1920, height: 1080 };
        assert_eq!(code(d.control(op)), rpc::INVALID_PARAMS);
    }
    assert_eq!(d.take_delta(), None);
}
