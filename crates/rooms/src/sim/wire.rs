//! What the simulator's server checks and decodes before the device model sees anything: the WebSocket
//! upgrade's credentials, and the `Sim/…` control methods that tests and demos use. Pure.

use super::device::Control;
use crate::rpc::{self, RpcError};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Why an upgrade request was refused (answered with HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Neither an `Authorization: Basic` header nor an `auth-…` subprotocol.
    #[error("no credentials (send Authorization: Basic or the auth-<base64url> subprotocol)")]
    Missing,
    /// Credentials were present but not decodable.
    #[error("malformed credentials")]
    Malformed,
    /// Wrong user name or password.
    #[error("wrong user name or password")]
    Rejected,
}

/// Checks the upgrade's credentials against `user`/`pass`, trying the `Authorization: Basic` header first
/// and then each `Sec-WebSocket-Protocol` entry of the form `auth-<base64url(user:pass), no padding>`.
/// On success returns the subprotocol to echo back (the `ws` client fails a handshake that drops it).
pub fn check_auth(
    authorization: Option<&str>,
    protocols: Option<&str>,
    user: &str,
    pass: &str,
) -> Result<Option<String>, AuthError> {
    let expected = format!("{user}:{pass}");
    let mut seen = false;
    if let Some(header) = authorization {
        seen = true;
        let (scheme, token) = header.trim().split_once(' ').ok_or(AuthError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("Basic") {
            return Err(AuthError::Malformed);
        }
        let decoded = STANDARD.decode(token.trim()).map_err(|_| AuthError::Malformed)?;
        if decoded == expected.as_bytes() {
            return Ok(None);
        }
    }
    for proto in protocols.unwrap_or("").split(',').map(str::trim) {
        let Some(token) = proto.strip_prefix("auth-") else { continue };
        seen = true;
        let decoded = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).map_err(|_| AuthError::Malformed)?;
        if decoded == expected.as_bytes() {
            return Ok(Some(proto.to_owned()));
        }
    }
    Err(if seen { AuthError::Rejected } else { AuthError::Missing })
}

/// A `Sim/…` method, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimMethod {
    /// Change the simulated world.
    Control(Control),
    /// `Sim/JoinButton {At}`: which booking's join button shows at that time.
    JoinButton(DateTime<Utc>),
    /// `Sim/Fault {Method, Kind, Count}`: misbehave on the next requests for that method.
    Fault(super::Fault),
}

fn bad(cause: impl Into<String>) -> RpcError {
    RpcError::new(rpc::INVALID_PARAMS, "Invalid or missing parameters", cause)
}

fn flag(params: &Value, name: &str) -> Result<bool, RpcError> {
    match params.get(name) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(bad(format!("{name} must be true or false"))),
    }
}

fn number(params: &Value, name: &str) -> Result<u64, RpcError> {
    params.get(name).and_then(Value::as_u64).ok_or_else(|| bad(format!("{name} must be a non-negative integer")))
}

fn pixels(params: &Value, name: &str) -> Result<u32, RpcError> {
    match params.get(name) {
        None => Ok(0),
        Some(v) => v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| bad(format!("{name} must be a pixel count"))),
    }
}

fn text<'a>(params: &'a Value, name: &str) -> Result<&'a str, RpcError> {
    params.get(name).and_then(Value::as_str).ok_or_else(|| bad(format!("{name} must be a string")))
}

/// Decodes `Sim/<name>` with its params; `None` when `method` is not a `Sim/` method.
pub fn parse_sim(method: &str, params: &Value) -> Option<Result<SimMethod, RpcError>> {
    let name = method.strip_prefix("Sim/")?;
    Some(match name {
        "LocalShare" => flag(params, "Active").map(|active| SimMethod::Control(Control::LocalShare { active })),
        "RemoteShare" => flag(params, "Active").map(|active| SimMethod::Control(Control::RemoteShare { active })),
        "Display" => (|| {
            Ok(SimMethod::Control(Control::Display {
                connector: number(params, "Connector")?,
                connected: flag(params, "Connected")?,
                width: pixels(params, "Width")?,
                height: pixels(params, "Height")?,
            }))
        })(),
        "PanelClick" => text(params, "PanelId").map(|id| SimMethod::Control(Control::PanelClick { panel_id: id.to_owned() })),
        "JoinButton" => text(params, "At").and_then(|at| {
            at.parse::<DateTime<Utc>>().map(SimMethod::JoinButton).map_err(|e| bad(format!("At: {e}")))
        }),
        "Fault" => (|| {
            let method = text(params, "Method")?.to_owned();
            let count = params.get("Count").map_or(Ok(1), |_| number(params, "Count"))?;
            let count = u32::try_from(count).map_err(|_| bad("Count is too large"))?;
            let action = match text(params, "Kind")? {
                "Drop" => super::FaultAction::Drop,
                "Error" => super::FaultAction::Error,
                other => return Err(bad(format!("Kind {other:?} is not Drop or Error"))),
            };
            Ok(SimMethod::Fault(super::Fault { method, action, count }))
        })(),
        _ => Err(RpcError::new(rpc::METHOD_NOT_FOUND, "Method not found", method.to_owned())),
    })
}

/// A `--displays` value that is not `WIDTHxHEIGHT[,WIDTHxHEIGHT…]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("display {item:?} is not WIDTHxHEIGHT (e.g. 3840x2160)")]
pub struct DisplaySpecError {
    /// The offending item.
    pub item: String,
}

/// Parses `3840x2160,1920x1080`: native resolutions of output connectors 1, 2, …
pub fn parse_displays(spec: &str) -> Result<Vec<(u32, u32)>, DisplaySpecError> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let err = || DisplaySpecError { item: item.to_owned() };
            let (w, h) = item.split_once(['x', 'X']).ok_or_else(err)?;
            let w: u32 = w.trim().parse().map_err(|_| err())?;
            let h: u32 = h.trim().parse().map_err(|_| err())?;
            if w == 0 || h == 0 {
                return Err(err());
            }
            Ok((w, h))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn display_specs_parse_and_reject_garbage() {
        assert_eq!(parse_displays("3840x2160, 1920X1080"), Ok(vec![(3840, 2160), (1920, 1080)]));
        assert_eq!(parse_displays(""), Ok(vec![]));
        assert_eq!(parse_displays("4k"), Err(DisplaySpecError { item: "4k".into() }));
        assert_eq!(parse_displays("0x1080"), Err(DisplaySpecError { item: "0x1080".into() }));
        assert_eq!(parse_displays("1920x-1"), Err(DisplaySpecError { item: "1920x-1".into() }));
    }

    #[test]
    fn basic_header_and_auth_subprotocol_are_both_accepted() {
        let basic = format!("Basic {}", STANDARD.encode("admin:s3cret"));
        assert_eq!(check_auth(Some(&basic), None, "admin", "s3cret"), Ok(None));
        // jsxapi: base64url with '+/' mapped to '-_' and padding removed.
        let proto = format!("auth-{}", URL_SAFE_NO_PAD.encode("admin:s3cret"));
        let offered = format!("other, {proto}");
        assert_eq!(check_auth(None, Some(&offered), "admin", "s3cret"), Ok(Some(proto)));
    }

    #[test]
    fn missing_wrong_and_garbled_credentials_are_refused() {
        assert_eq!(check_auth(None, None, "a", "b"), Err(AuthError::Missing));
        assert_eq!(check_auth(None, Some("chat"), "a", "b"), Err(AuthError::Missing));
        let wrong = format!("Basic {}", STANDARD.encode("a:x"));
        assert_eq!(check_auth(Some(&wrong), None, "a", "b"), Err(AuthError::Rejected));
        assert_eq!(check_auth(Some("Bearer abc"), None, "a", "b"), Err(AuthError::Malformed));
        assert_eq!(check_auth(Some("Basic !!!"), None, "a", "b"), Err(AuthError::Malformed));
        assert_eq!(check_auth(None, Some("auth-!!"), "a", "b"), Err(AuthError::Malformed));
    }

    #[test]
    fn sim_methods_decode_and_reject_bad_params() {
        assert_eq!(parse_sim("xGet", &json!({})), None);
        assert_eq!(
            parse_sim("Sim/Display", &json!({"Connector": 2, "Connected": "True", "Width": 1920, "Height": 1080})),
            Some(Ok(SimMethod::Control(Control::Display { connector: 2, connected: true, width: 1920, height: 1080 })))
        );
        assert_eq!(
            parse_sim("Sim/Fault", &json!({"Method": "xSet", "Kind": "Drop"})),
            Some(Ok(SimMethod::Fault(super::super::Fault { method: "xSet".into(), action: super::super::FaultAction::Drop, count: 1 })))
        );
        let code = |m: &str, p: Value| parse_sim(m, &p).and_then(Result::err).map(|e| e.code);
        assert_eq!(code("Sim/LocalShare", json!({"Active": 3})), Some(rpc::INVALID_PARAMS));
        assert_eq!(code("Sim/Display", json!({"Connector": 1, "Connected": true, "Width": -5})), Some(rpc::INVALID_PARAMS));
        assert_eq!(code("Sim/JoinButton", json!({"At": "tomorrow"})), Some(rpc::INVALID_PARAMS));
        assert_eq!(code("Sim/Fault", json!({"Method": "x", "Kind": "Explode"})), Some(rpc::INVALID_PARAMS));
        assert_eq!(code("Sim/Nope", json!({})), Some(rpc::METHOD_NOT_FOUND));
    }
}
