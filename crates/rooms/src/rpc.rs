//! JSON-RPC 2.0 framing as RoomOS uses it on `/ws`: requests with `method` (`xGet`, `xQuery`, `xSet`,
//! `xCommand/<Path>`, `xFeedback/Subscribe`, …) and an object `params`, responses with `result` or
//! `error {code, message, data}`, and `xFeedback/Event` notifications without an `id`.
//! Pure: messages in and out as text, no I/O.

use serde_json::{json, Map, Value};

/// JSON-RPC 2.0 §5.1: invalid JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC 2.0 §5.1: not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC 2.0 §5.1: the method does not exist.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC 2.0 §5.1: invalid method parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// xAPI: a command failed (jsxapi `COMMAND_ERROR`).
pub const COMMAND_ERROR: i64 = 1;
/// xAPI: a value is not allowed (jsxapi `ILLEGAL_VALUE`).
pub const ILLEGAL_VALUE: i64 = 2;
/// xAPI: no such path (jsxapi `INVALID_PATH`).
pub const INVALID_PATH: i64 = 3;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("xAPI error {code}: {message}{}", cause_suffix(.data))]
pub struct RpcError {
    /// Error code (JSON-RPC or xAPI).
    pub code: i64,
    /// Short message.
    pub message: String,
    /// `{"Cause": …}` and anything else the device adds.
    pub data: Option<Value>,
}

fn cause_suffix(data: &Option<Value>) -> String {
    match data.as_ref().and_then(|d| d.get("Cause")) {
        Some(Value::String(cause)) => format!(" ({cause})"),
        Some(other) => format!(" ({other})"),
        None => String::new(),
    }
}

impl RpcError {
    /// An error with a `Cause` in its data, as RoomOS sends them.
    pub fn new(code: i64, message: impl Into<String>, cause: impl Into<String>) -> Self {
        RpcError { code, message: message.into(), data: Some(json!({ "Cause": cause.into() })) }
    }

    fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("code".into(), Value::from(self.code));
        obj.insert("message".into(), Value::from(self.message.clone()));
        if let Some(data) = &self.data {
            obj.insert("data".into(), data.clone());
        }
        Value::Object(obj)
    }
}

/// One received JSON-RPC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A request (with `id`) or a notification (without).
    Request {
        /// The request id, absent for notifications.
        id: Option<Value>,
        /// Method name.
        method: String,
        /// Parameters; `{}` when absent.
        params: Value,
    },
    /// A successful response.
    Result {
        /// The id of the request answered.
        id: Value,
        /// The result value.
        result: Value,
    },
    /// An error response (the id is null when the request could not be read).
    Error {
        /// The id of the request answered.
        id: Value,
        /// The error.
        error: RpcError,
    },
}

/// Reads one JSON-RPC message. The error is ready to send back (`id` null, §5).
pub fn parse(text: &str) -> Result<Message, RpcError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| RpcError::new(PARSE_ERROR, "Parse error", e.to_string()))?;
    let Value::Object(mut obj) = value else {
        return Err(RpcError::new(INVALID_REQUEST, "Invalid request", "message is not a JSON object"));
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(RpcError::new(INVALID_REQUEST, "Invalid request", "jsonrpc must be \"2.0\""));
    }
    let id = obj.remove("id");
    if let Some(method) = obj.remove("method") {
        let Value::String(method) = method else {
            return Err(RpcError::new(INVALID_REQUEST, "Invalid request", "method must be a string"));
        };
        let params = match obj.remove("params") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(p @ Value::Object(_)) => p,
            Some(_) => return Err(RpcError::new(INVALID_PARAMS, "Invalid params", "params must be an object")),
        };
        return Ok(Message::Request { id, method, params });
    }
    let id = id.unwrap_or(Value::Null);
    if let Some(result) = obj.remove("result") {
        return Ok(Message::Result { id, result });
    }
    match obj.remove("error") {
        Some(Value::Object(err)) => Ok(Message::Error { id, error: error_from_json(&err) }),
        _ => Err(RpcError::new(INVALID_REQUEST, "Invalid request", "neither method, result nor error")),
    }
}

fn error_from_json(err: &Map<String, Value>) -> RpcError {
    RpcError {
        code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
        message: err.get("message").and_then(Value::as_str).unwrap_or("").to_owned(),
        data: err.get("data").cloned(),
    }
}

/// A request text.
pub fn request(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// A notification text (no id).
pub fn notification(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string()
}

/// A response text for `outcome`.
pub fn response(id: Value, outcome: Result<Value, RpcError>) -> String {
    match outcome {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(),
        Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error.to_json()}).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_results_and_errors_round_trip() {
        let text = request(7, "xGet", json!({"Path": ["Status"]}));
        assert_eq!(
            parse(&text),
            Ok(Message::Request { id: Some(json!(7)), method: "xGet".into(), params: json!({"Path": ["Status"]}) })
        );
        let ok = response(json!("3"), Ok(json!({"status": "OK"})));
        assert_eq!(parse(&ok), Ok(Message::Result { id: json!("3"), result: json!({"status": "OK"}) }));
        let err = RpcError::new(INVALID_PATH, "No match on Path argument", "Status Nothing");
        let text = response(json!(4), Err(err.clone()));
        assert_eq!(parse(&text), Ok(Message::Error { id: json!(4), error: err.clone() }));
        assert_eq!(err.to_string(), "xAPI error 3: No match on Path argument (Status Nothing)");
        let n = notification("xFeedback/Event", json!({"Id": 1}));
        assert_eq!(
            parse(&n),
            Ok(Message::Request { id: None, method: "xFeedback/Event".into(), params: json!({"Id": 1}) })
        );
    }

    #[test]
    fn malformed_messages_get_the_json_rpc_codes() {
        let code = |text: &str| parse(text).map(|_| 0).unwrap_or_else(|e| e.code);
        assert_eq!(code("{not json"), PARSE_ERROR);
        assert_eq!(code("[1,2]"), INVALID_REQUEST);
        assert_eq!(code(r#"{"id":1,"method":"xGet"}"#), INVALID_REQUEST);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":5}"#), INVALID_REQUEST);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":"xGet","params":[1]}"#), INVALID_PARAMS);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1}"#), INVALID_REQUEST);
        assert_eq!(
            parse(r#"{"jsonrpc":"2.0","id":1,"method":"xGet","params":null}"#),
            Ok(Message::Request { id: Some(json!(1)), method: "xGet".into(), params: json!({}) })
        );
    }
}
