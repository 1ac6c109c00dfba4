//! Turns what a device says (initial `xQuery` results and `xFeedback/Event` payloads) into display-policy
//! inputs. Pure: it keeps a mirror of the subscribed status so partial updates (`{"id":2,"Connected":"False"}`)
//! and removals (`{"id":2,"ghost":"True"}`) are read against the last full picture.

use crate::policy::{Display, Input, MonitorRole, Presentation};
use crate::tree::{self, parse_text_path, Path};
use serde_json::Value;

/// Queries the controller subscribes to (and reads once at connect).
pub const STATUS_QUERIES: [&str; 3] =
    ["Status Video Output Connector", "Status Conference Presentation", "Configuration Video Output Connector"];

/// The panel click event the swap button produces.
pub const PANEL_CLICKED: &str = "Event UserInterface Extensions Panel Clicked";

fn path(text: &str) -> Path {
    parse_text_path(text).unwrap_or_default()
}

/// The UI Extensions XML for the swap button, saved with `UserInterface Extensions Panel Save`.
pub fn panel_xml(panel_id: &str) -> String {
    let id: String = panel_id
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!(
        "<Extensions><Version>1.11</Version><Panel><Order>1</Order><PanelId>{id}</PanelId><Origin>local</Origin>\
         <Location>HomeScreenAndCallControls</Location><Icon>Sliders</Icon><Color>#1170CF</Color>\
         <Name>Swap screens</Name><ActivityType>Custom</ActivityType></Panel></Extensions>"
    )
}

/// Mirror of the device state the policy depends on.
#[derive(Debug, Clone)]
pub struct FeedbackSync {
    mirror: Value,
    panel_id: String,
}

fn is_ghost(v: &Value) -> bool {
    v.get("ghost").and_then(Value::as_str) == Some("True")
}

/// Most entries kept per array in the mirror (devices have a handful of outputs and presentation instances;
/// a device reporting more cannot grow the controller's memory).
pub const MAX_MIRROR_ENTRIES: usize = 64;

fn prune_ghosts(v: &mut Value) {
    match v {
        Value::Array(items) => {
            items.retain(|e| !is_ghost(e));
            items.truncate(MAX_MIRROR_ENTRIES);
            items.iter_mut().for_each(prune_ghosts);
        }
        Value::Object(map) => map.values_mut().for_each(prune_ghosts),
        _ => {}
    }
}

fn entries<'a>(root: &'a Value, at: &str) -> impl Iterator<Item = (u64, &'a Value)> {
    tree::get(root, &path(at))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| tree::entry_id(e).map(|id| (id, e)))
}

fn pixels(v: Option<&Value>) -> u32 {
    let n = match v {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

impl FeedbackSync {
    /// A mirror that knows nothing yet, watching for clicks on `panel_id`.
    pub fn new(panel_id: &str) -> Self {
        FeedbackSync { mirror: Value::Object(serde_json::Map::new()), panel_id: panel_id.to_owned() }
    }

    /// Feeds an `xQuery` result or an `xFeedback/Event` payload (its `Id` is ignored); returns the policy
    /// inputs it implies, the full display and presentation picture first, then observed roles and clicks.
    pub fn apply(&mut self, event: &Value) -> Vec<Input> {
        let mut inputs = Vec::new();
        for (connector, entry) in entries(event, "Status Video Output Connector") {
            if is_ghost(entry) {
                inputs.push(Input::DisplayRemoved { connector });
            }
        }
        for name in ["Status", "Configuration"] {
            if let Some(part) = event.get(name) {
                tree::merge(&mut self.mirror, serde_json::json!({ name: part.clone() }));
            }
        }
        prune_ghosts(&mut self.mirror);
        for (connector, entry) in entries(&self.mirror, "Status Video Output Connector") {
            let display = Display {
                connected: entry.get("Connected").and_then(Value::as_str) == Some("True"),
                width: pixels(entry.get("Resolution").and_then(|r| r.get("Width"))),
                height: pixels(entry.get("Resolution").and_then(|r| r.get("Height"))),
            };
            inputs.push(Input::Display { connector, display });
        }
        let local = entries(&self.mirror, "Status Conference Presentation LocalInstance").next().is_some();
        let mode = tree::get(&self.mirror, &path("Status Conference Presentation Mode")).and_then(Value::as_str);
        inputs.push(Input::Presentation(Presentation { local, remote: mode == Some("Receiving") }));
        for (connector, entry) in entries(event, "Configuration Video Output Connector") {
            match entry.get("MonitorRole").and_then(Value::as_str).map(str::parse::<MonitorRole>) {
                Some(Ok(role)) => inputs.push(Input::RoleObserved { connector, role }),
                Some(Err(e)) => tracing::warn!(connector, error = %e, "device reports an unknown MonitorRole"),
                None => {}
            }
        }
        let clicked = tree::get(event, &path(PANEL_CLICKED)).and_then(|c| c.get("PanelId")).and_then(Value::as_str);
        if clicked == Some(self.panel_id.as_str()) {
            inputs.push(Input::SwapPressed);
        }
        inputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn display(connected: bool, width: u32, height: u32) -> Display {
        Display { connected, width, height }
    }

    #[test]
    fn partial_updates_are_read_against_the_mirror() {
        let mut sync = FeedbackSync::new("swap");
        let initial = json!({"Status": {"Video": {"Output": {"Connector": [
            {"id": 1, "Connected": "True", "Resolution": {"Width": 3840, "Height": 2160}},
            {"id": 2, "Connected": "True", "Resolution": {"Width": "1920", "Height": "1080"}}]}}}});
        let inputs = sync.apply(&initial);
        assert_eq!(inputs.first(), Some(&Input::Display { connector: 1, display: display(true, 3840, 2160) }));
        assert_eq!(inputs.get(1), Some(&Input::Display { connector: 2, display: display(true, 1920, 1080) }));
        assert_eq!(inputs.get(2), Some(&Input::Presentation(Presentation::default())));
        let unplug = json!({"Id": 3, "Status": {"Video": {"Output": {"Connector": [{"id": 1, "Connected": "False"}]}}}});
        let inputs = sync.apply(&unplug);
        assert!(inputs.contains(&Input::Display { connector: 1, display: display(false, 3840, 2160) }));
        let gone = json!({"Status": {"Video": {"Output": {"Connector": [{"id": 2, "ghost": "True"}]}}}});
        let inputs = sync.apply(&gone);
        assert!(inputs.contains(&Input::DisplayRemoved { connector: 2 }));
        assert!(!inputs.iter().any(|i| matches!(i, Input::Display { connector: 2, .. })));
    }

    #[test]
    fn presentation_local_instances_and_remote_mode() {
        let mut sync = FeedbackSync::new("swap");
        let start = json!({"Status": {"Conference": {"Presentation": {"LocalInstance": [{"id": 1, "Source": 2}]}}}});
        assert!(sync.apply(&start).contains(&Input::Presentation(Presentation { local: true, remote: false })));
        let remote = json!({"Status": {"Conference": {"Presentation": {"Mode": "Receiving"}}}});
        assert!(sync.apply(&remote).contains(&Input::Presentation(Presentation { local: true, remote: true })));
        let stop = json!({"Status": {"Conference": {"Presentation": {"Mode": "Off", "LocalInstance": [{"id": 1, "ghost": "True"}]}}}});
        assert!(sync.apply(&stop).contains(&Input::Presentation(Presentation::default())));
    }

    #[test]
    fn roles_come_only_from_the_event_and_clicks_only_for_our_panel() {
        let mut sync = FeedbackSync::new("swap");
        let roles = json!({"Configuration": {"Video": {"Output": {"Connector": [
            {"id": 1, "MonitorRole": "Second"}, {"id": 2, "MonitorRole": "Bogus"}]}}}});
        let inputs = sync.apply(&roles);
        assert!(inputs.contains(&Input::RoleObserved { connector: 1, role: MonitorRole::Second }));
        assert!(!inputs.iter().any(|i| matches!(i, Input::RoleObserved { connector: 2, .. })));
        let later = sync.apply(&json!({"Status": {"Conference": {"Presentation": {"Mode": "Off"}}}}));
        assert!(!later.iter().any(|i| matches!(i, Input::RoleObserved { .. })), "no stale role replays");
        let other = json!({"Event": {"UserInterface": {"Extensions": {"Panel": {"Clicked": {"PanelId": "other"}}}}}});
        assert!(!sync.apply(&other).contains(&Input::SwapPressed));
        let ours = json!({"Event": {"UserInterface": {"Extensions": {"Panel": {"Clicked": {"PanelId": "swap"}}}}}});
        assert!(sync.apply(&ours).contains(&Input::SwapPressed));
    }

    #[test]
    fn a_device_reporting_absurd_numbers_of_outputs_cannot_grow_the_mirror() {
        let mut sync = FeedbackSync::new("swap");
        let many: Vec<Value> = (1..=1000).map(|id| json!({"id": id, "Connected": "True"})).collect();
        let event = json!({"Status": {"Video": {"Output": {"Connector": many}}}});
        let displays = sync.apply(&event).iter().filter(|i| matches!(i, Input::Display { .. })).count();
        assert_eq!(displays, MAX_MIRROR_ENTRIES);
    }

    #[test]
    fn panel_xml_escapes_the_id() {
        let xml = panel_xml("a<b&c");
        assert!(xml.contains("<PanelId>a&lt;b&amp;c</PanelId>"), "{xml}");
        assert!(xml.starts_with("<Extensions>") && xml.ends_with("</Extensions>"));
    }
}
