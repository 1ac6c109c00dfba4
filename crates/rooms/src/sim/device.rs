//! The simulated device's state and its answers to xAPI requests, with no I/O: the server feeds requests
//! in and broadcasts the feedback delta that each request leaves behind ([`Device::take_delta`]).

use crate::bookings::{join_button, Booking, BookingList, RoomOsBooking};
use crate::policy::MonitorRole;
use crate::rpc::{self, RpcError};
use crate::tree::{self, DisplayPath, Path, PathElem};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Most bookings a device keeps (`Bookings Put`).
pub const MAX_BOOKINGS: usize = 500;
/// Most saved panels.
pub const MAX_PANELS: usize = 64;
/// Most simultaneous calls, and most local presentation instances.
pub const MAX_CALLS: u64 = 8;
/// Highest output connector number a simulated device has.
pub const MAX_CONNECTORS: u64 = 16;
/// Largest accepted command body (panel XML, booking JSON), in bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// An operation on the simulated world that a real device would see from its sensors, not from xAPI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Someone plugs in (or starts) a local HDMI/wireless share, or stops it.
    LocalShare {
        /// Start (true) or stop.
        active: bool,
    },
    /// The far end starts or stops sharing.
    RemoteShare {
        /// Start (true) or stop.
        active: bool,
    },
    /// A display is plugged in (with its native resolution) or unplugged.
    Display {
        /// Output connector number.
        connector: u64,
        /// Plugged in or not.
        connected: bool,
        /// Native width (ignored when unplugged).
        width: u32,
        /// Native height (ignored when unplugged).
        height: u32,
    },
    /// Someone taps a saved custom panel button.
    PanelClick {
        /// The `PanelId` given to `UserInterface Extensions Panel Save`.
        panel_id: String,
    },
}

/// The device model: status/configuration tree, saved panels, bookings and calls.
#[derive(Debug, Clone)]
pub struct Device {
    tree: Value,
    panels: BTreeMap<String, String>,
    bookings: Vec<Booking>,
    delta: Option<Value>,
}

fn p(text: &str) -> Path {
    text.split_whitespace()
        .map(|w| w.parse().map(PathElem::Index).unwrap_or_else(|_| PathElem::Node(w.to_owned())))
        .collect()
}

fn at(base: &str, id: u64) -> Path {
    let mut path = p(base);
    path.push(PathElem::Index(id));
    path
}

fn ok() -> Value {
    json!({"status": "OK"})
}

fn str_param<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

fn num_param(params: &Value, name: &str) -> Option<u64> {
    match params.get(name)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn missing(name: &str) -> RpcError {
    RpcError::new(rpc::INVALID_PARAMS, "Invalid or missing parameters", format!("{name} is required"))
}

fn body(params: &Value) -> Result<&str, RpcError> {
    let text = str_param(params, "body").ok_or_else(|| missing("body"))?;
    if text.len() > MAX_BODY {
        return Err(RpcError::new(rpc::COMMAND_ERROR, "Body too large", format!("{} bytes > {MAX_BODY}", text.len())));
    }
    Ok(text)
}

fn path_param(params: &Value, name: &str) -> Result<Path, RpcError> {
    let raw = params.get(name).ok_or_else(|| missing(name))?;
    tree::parse_path(raw).map_err(|e| RpcError::new(rpc::INVALID_PARAMS, "Invalid or missing parameters", e.to_string()))
}

fn no_match(path: &[PathElem]) -> RpcError {
    RpcError::new(rpc::INVALID_PATH, "No match on Path argument", DisplayPath(path).to_string())
}

impl Device {
    /// A device whose output connectors 1..=n have these native resolutions, all connected.
    pub fn new(displays: &[(u32, u32)]) -> Self {
        let mut device = Device {
            tree: json!({
                "Status": {
                    "SystemUnit": {"ProductId": "Causeway RoomOS simulator"},
                    "Conference": {"Presentation": {"Mode": "Off"}},
                    "Video": {"Output": {"Connector": []}},
                },
                "Configuration": {"Video": {"Monitors": "Auto", "Output": {"Connector": []}}},
            }),
            panels: BTreeMap::new(),
            bookings: Vec::new(),
            delta: None,
        };
        for (n, &(width, height)) in (1u64..).zip(displays) {
            device.plug(n, true, width, height);
        }
        device.delta = None;
        device
    }

    /// The whole document (for assertions and `xQuery`).
    pub fn tree(&self) -> &Value {
        &self.tree
    }

    /// A connector's configured MonitorRole.
    pub fn monitor_role(&self, connector: u64) -> Option<MonitorRole> {
        let mut path = at("Configuration Video Output Connector", connector);
        path.push(PathElem::Node("MonitorRole".into()));
        tree::get(&self.tree, &path)?.as_str()?.parse().ok()
    }

    /// The bookings last put on the device.
    pub fn bookings(&self) -> &[Booking] {
        &self.bookings
    }

    /// Ids of the saved panels.
    pub fn panel_ids(&self) -> Vec<String> {
        self.panels.keys().cloned().collect()
    }

    /// What the join button would offer at `now`: booking id and dial string.
    pub fn join_button(&self, now: DateTime<Utc>) -> Option<(String, String)> {
        let b = join_button(&self.bookings, now)?;
        Some((b.id.clone(), b.dial_string().unwrap_or_default().to_owned()))
    }

    /// The feedback delta accumulated since the last call (rooted at the document root).
    pub fn take_delta(&mut self) -> Option<Value> {
        self.delta.take()
    }

    fn record(&mut self, path: &[PathElem], value: Value) {
        let delta = tree::nest(path, value);
        match &mut self.delta {
            Some(acc) => tree::merge(acc, delta),
            None => self.delta = Some(delta),
        }
    }

    fn write(&mut self, path: &[PathElem], value: Value) {
        if tree::get(&self.tree, path) == Some(&value) {
            return;
        }
        if tree::upsert(&mut self.tree, path, value.clone()).is_ok() {
            self.record(path, value);
        }
    }

    fn remove(&mut self, array: &str, id: u64) {
        if tree::remove_entry(&mut self.tree, &p(array), id) {
            self.record(&at(array, id), json!({"ghost": "True"}));
        }
    }

    fn event(&mut self, path: &str, body: Value) {
        self.record(&p(path), body);
    }

    fn ids(&self, array: &str) -> Vec<u64> {
        tree::get(&self.tree, &p(array))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(tree::entry_id).collect())
            .unwrap_or_default()
    }

    fn next_id(&self, array: &str) -> Result<u64, RpcError> {
        let ids = self.ids(array);
        if ids.len() as u64 >= MAX_CALLS {
            return Err(RpcError::new(rpc::COMMAND_ERROR, "Limit reached", format!("at most {MAX_CALLS} in {array}")));
        }
        Ok(ids.iter().max().map_or(1, |m| m + 1))
    }

    /// Answers `xGet`, `xQuery`, `xSet` and `xCommand/…`; feedback subscriptions are per connection and
    /// belong to the server.
    pub fn handle_request(&mut self, method: &str, params: &Value) -> Result<Value, RpcError> {
        match method {
            "xGet" => {
                let path = path_param(params, "Path")?;
                if path.contains(&PathElem::AnyDepth) {
                    return Err(RpcError::new(rpc::INVALID_PARAMS, "Invalid or missing parameters", "xGet takes no wildcard"));
                }
                tree::get(&self.tree, &path).cloned().ok_or_else(|| no_match(&path))
            }
            "xQuery" => {
                let query = path_param(params, "Query")?;
                Ok(tree::select(&self.tree, &query).unwrap_or_else(|| Value::Object(Map::new())))
            }
            "xSet" => self.set(params),
            _ => match method.strip_prefix("xCommand/") {
                Some(command) => self.command(command, params),
                None => Err(RpcError::new(rpc::METHOD_NOT_FOUND, "Method not found", method.to_owned())),
            },
        }
    }

    fn set(&mut self, params: &Value) -> Result<Value, RpcError> {
        let path = path_param(params, "Path")?;
        let value = params.get("Value").ok_or_else(|| missing("Value"))?;
        let is_config = matches!(path.first(), Some(PathElem::Node(n)) if n.eq_ignore_ascii_case("Configuration"));
        let current = tree::get(&self.tree, &path).filter(|v| !v.is_object() && !v.is_array());
        if !is_config || current.is_none() {
            return Err(no_match(&path));
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(RpcError::new(rpc::ILLEGAL_VALUE, "Illegal value", "Value must be a string or number")),
        };
        if matches!(path.last(), Some(PathElem::Node(n)) if n.eq_ignore_ascii_case("MonitorRole")) {
            let role: MonitorRole =
                text.parse().map_err(|e: crate::policy::UnknownRole| RpcError::new(rpc::ILLEGAL_VALUE, "Illegal value", e.to_string()))?;
            self.write(&path, Value::from(role.as_str()));
        } else {
            self.write(&path, Value::from(text));
        }
        Ok(Value::Bool(true))
    }

    fn command(&mut self, command: &str, params: &Value) -> Result<Value, RpcError> {
        match command.to_ascii_lowercase().as_str() {
            "presentation/start" => {
                let source = num_param(params, "PresentationSource").or(num_param(params, "ConnectorId")).unwrap_or(1);
                self.local_share(true, source)?;
                Ok(ok())
            }
            "presentation/stop" => {
                self.local_share(false, 0)?;
                Ok(ok())
            }
            "userinterface/extensions/panel/save" => {
                let id = str_param(params, "PanelId").ok_or_else(|| missing("PanelId"))?.to_owned();
                let xml = body(params)?.to_owned();
                if !self.panels.contains_key(&id) && self.panels.len() >= MAX_PANELS {
                    return Err(RpcError::new(rpc::COMMAND_ERROR, "Limit reached", format!("at most {MAX_PANELS} panels")));
                }
                self.panels.insert(id, xml);
                Ok(ok())
            }
            "userinterface/extensions/list" => {
                let panels: Vec<Value> =
                    (1u64..).zip(self.panels.keys()).map(|(n, id)| json!({"id": n, "PanelId": id})).collect();
                Ok(json!({"status": "OK", "Extensions": {"Panel": panels}}))
            }
            "bookings/put" => {
                let list: BookingList = serde_json::from_str(body(params)?)
                    .map_err(|e| RpcError::new(rpc::COMMAND_ERROR, "Invalid booking list", e.to_string()))?;
                let list = list.into_vec();
                if list.len() > MAX_BOOKINGS {
                    return Err(RpcError::new(rpc::COMMAND_ERROR, "Limit reached", format!("at most {MAX_BOOKINGS} bookings")));
                }
                self.bookings = list;
                self.event("Event Bookings Updated", json!({}));
                Ok(ok())
            }
            "bookings/list" => {
                let rows: Vec<Value> = (1u64..)
                    .zip(&self.bookings)
                    .filter_map(|(n, b)| {
                        let mut v = serde_json::to_value(RoomOsBooking(b)).ok()?;
                        v.as_object_mut()?.insert("id".into(), Value::from(n));
                        Some(v)
                    })
                    .collect();
                Ok(json!({"status": "OK", "ResultInfo": {"TotalRows": rows.len()}, "Booking": rows}))
            }
            "bookings/get" => {
                let id = str_param(params, "Id").ok_or_else(|| missing("Id"))?;
                let b = self.bookings.iter().find(|b| b.id == id).ok_or_else(|| {
                    RpcError::new(rpc::COMMAND_ERROR, "Booking not found", id.to_owned())
                })?;
                let booking = serde_json::to_value(RoomOsBooking(b)).map_err(|e| RpcError::new(rpc::COMMAND_ERROR, "Booking", e.to_string()))?;
                Ok(json!({"status": "OK", "Booking": booking}))
            }
            "dial" => self.dial(params),
            "call/disconnect" => {
                let targets = match num_param(params, "CallId") {
                    Some(id) => vec![id],
                    None => self.ids("Status Call"),
                };
                for id in targets {
                    self.remove("Status Call", id);
                    self.event("Event CallDisconnect", json!({"CallId": id, "CauseType": "LocalDisconnect"}));
                }
                if self.ids("Status Call").is_empty() {
                    self.set_mode(false);
                }
                Ok(ok())
            }
            _ => Err(RpcError::new(rpc::METHOD_NOT_FOUND, "Method not found", format!("xCommand/{command}"))),
        }
    }

    fn dial(&mut self, params: &Value) -> Result<Value, RpcError> {
        let booking_number = str_param(params, "BookingId")
            .and_then(|id| self.bookings.iter().find(|b| b.id == id))
            .and_then(Booking::dial_string)
            .map(str::to_owned);
        let number = str_param(params, "Number").map(str::to_owned).or(booking_number).ok_or_else(|| missing("Number"))?;
        let id = self.next_id("Status Call")?;
        self.write(
            &at("Status Call", id),
            json!({"Status": "Connected", "Direction": "Outgoing", "Protocol": "Sip", "RemoteNumber": number, "CallbackNumber": format!("sip:{number}")}),
        );
        Ok(json!({"status": "OK", "CallId": id, "ConferenceId": id}))
    }

    fn local_share(&mut self, active: bool, source: u64) -> Result<(), RpcError> {
        if active {
            let id = self.next_id("Status Conference Presentation LocalInstance")?;
            let mode = if self.ids("Status Call").is_empty() { "LocalOnly" } else { "LocalRemote" };
            self.write(
                &at("Status Conference Presentation LocalInstance", id),
                json!({"SendingMode": mode, "Source": source}),
            );
        } else {
            for id in self.ids("Status Conference Presentation LocalInstance") {
                self.remove("Status Conference Presentation LocalInstance", id);
            }
        }
        let receiving = self.mode() == "Receiving";
        self.set_mode(receiving);
        Ok(())
    }

    fn mode(&self) -> String {
        tree::get(&self.tree, &p("Status Conference Presentation Mode")).and_then(Value::as_str).unwrap_or("Off").to_owned()
    }

    /// Recomputes `Presentation Mode`: Receiving wins, then Sending (a local share while in a call), else Off.
    fn set_mode(&mut self, receiving: bool) {
        let sending = !self.ids("Status Call").is_empty() && !self.ids("Status Conference Presentation LocalInstance").is_empty();
        let mode = match (receiving, sending) {
            (true, _) => "Receiving",
            (false, true) => "Sending",
            (false, false) => "Off",
        };
        self.write(&p("Status Conference Presentation Mode"), Value::from(mode));
    }

    fn plug(&mut self, connector: u64, connected: bool, width: u32, height: u32) {
        let (w, h) = if connected { (width, height) } else { (0, 0) };
        let status = json!({"Connected": if connected { "True" } else { "False" }, "Resolution": {"Width": w, "Height": h}});
        self.write(&at("Status Video Output Connector", connector), status);
        let mut role = at("Configuration Video Output Connector", connector);
        role.push(PathElem::Node("MonitorRole".into()));
        if tree::get(&self.tree, &role).is_none() {
            self.write(&role, Value::from("Auto"));
        }
    }

    /// Applies a change of the simulated world.
    pub fn control(&mut self, op: Control) -> Result<Value, RpcError> {
        match op {
            Control::LocalShare { active } => self.local_share(active, 2)?,
            Control::RemoteShare { active } => self.set_mode(active),
            Control::Display { connector, connected, width, height } => {
                if !(1..=MAX_CONNECTORS).contains(&connector) {
                    return Err(RpcError::new(
                        rpc::INVALID_PARAMS,
                        "Invalid or missing parameters",
                        format!("Connector must be 1..={MAX_CONNECTORS}"),
                    ));
                }
                self.plug(connector, connected, width, height)
            }
            Control::PanelClick { panel_id } => {
                if !self.panels.contains_key(&panel_id) {
                    return Err(RpcError::new(rpc::COMMAND_ERROR, "No such panel", panel_id));
                }
                self.event("Event UserInterface Extensions Panel Clicked", json!({"PanelId": panel_id}));
            }
        }
        Ok(ok())
    }
}

#[cfg(test)]
mod tests;
