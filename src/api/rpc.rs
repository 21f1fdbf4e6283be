//! JSON-RPC 2.0 frames and the stable error codes.

use crate::service::ServiceError;
use serde::Serialize;
use serde_json::{json, Value};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;

/// Application error codes, one per `data.kind` (stable: clients rely on them).
pub fn code_of(kind: &str) -> i64 {
    match kind {
        "no_card" => -32001,
        "card_removed" => -32002,
        "wrong_card_type" => -32003,
        "unsupported_card" => -32004,
        "pin_incorrect" => -32005,
        "pin_blocked" => -32006,
        "pin_required" => -32007,
        "reader_busy" => -32008,
        "reader_gone" => -32009,
        "transport" => -32010,
        "pin_last_try" => -32011,
        "pin_cancelled" => -32012,
        "pin_timeout" => -32013,
        "puk_incorrect" => -32014,
        "puk_blocked" => -32015,
        "not_allowed" => -32016,
        "rate_limited" => -32017,
        "card_being_updated" => -32018,
        "invalid_params" => INVALID_PARAMS,
        _ => INTERNAL_ERROR,
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Serialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Value,
}

impl RpcError {
    pub fn new(code: i64, kind: &str, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: json!({ "kind": kind }),
        }
    }

    pub fn invalid_params(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_PARAMS, "invalid_params", message)
    }
}

impl From<ServiceError> for RpcError {
    fn from(e: ServiceError) -> Self {
        let kind = e.kind();
        let mut err = RpcError::new(code_of(kind), kind, e.to_string());
        match e {
            ServiceError::PinIncorrect { tries_left } | ServiceError::PukIncorrect { tries_left } => {
                err.data["tries_left"] = json!(tries_left);
            }
            ServiceError::PinUsageSpent => {
                err.data["tries_left"] = json!(0);
                err.data["reason"] = json!("usage_counter");
            }
            _ => {}
        }
        err
    }
}

/// A parsed request. `id` is `None` for a notification (no answer is sent).
pub struct Request {
    pub id: Option<Value>,
    pub method: String,
    pub params: Value,
}

/// Parses one line. On failure returns the error and the id to answer with.
pub fn parse(line: &str) -> Result<Request, (Value, RpcError)> {
    let v: Value = serde_json::from_str(line).map_err(|e| {
        (
            Value::Null,
            RpcError::new(PARSE_ERROR, "invalid_request", format!("invalid JSON: {e}")),
        )
    })?;
    let invalid = |id: Value, m: &str| (id, RpcError::new(INVALID_REQUEST, "invalid_request", m));
    let Value::Object(mut obj) = v else {
        return Err(invalid(
            Value::Null,
            "a request is a JSON object (batches are not supported)",
        ));
    };
    let id = obj.remove("id");
    let answer_id = id.clone().unwrap_or(Value::Null);
    if !matches!(id, None | Some(Value::Null | Value::Number(_) | Value::String(_))) {
        return Err(invalid(Value::Null, "id must be a number, a string or null"));
    }
    if obj.get("jsonrpc") != Some(&Value::String("2.0".into())) {
        return Err(invalid(answer_id, "jsonrpc must be \"2.0\""));
    }
    let Some(Value::String(method)) = obj.remove("method") else {
        return Err(invalid(answer_id, "method must be a string"));
    };
    let params = obj.remove("params").unwrap_or(Value::Object(Default::default()));
    if !params.is_object() {
        return Err(invalid(answer_id, "params must be an object (named parameters)"));
    }
    Ok(Request { id, method, params })
}

pub fn success(id: Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// A success whose result is JSON text already (valid JSON, made by serde_json).
pub fn success_line(id: &Value, result: &str) -> String {
    format!(r#"{{"id":{id},"jsonrpc":"2.0","result":{result}}}"#)
}

pub fn failure(id: Value, error: RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_line_is_the_success_message() {
        let result = json!({"card": {"kind": "vitale2"}, "beneficiaries": [1, "é\"\n"]});
        for id in [json!(7), json!("a\"b"), Value::Null] {
            let line = success_line(&id, &result.to_string());
            assert_eq!(line, success(id.clone(), result.clone()).to_string());
        }
    }

    #[test]
    fn rejects_bad_frames() {
        assert_eq!(parse("{").err().unwrap().1.code, PARSE_ERROR);
        assert_eq!(parse("[]").err().unwrap().1.code, INVALID_REQUEST);
        assert_eq!(
            parse(r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#).err().unwrap().0,
            json!(1)
        );
        assert!(parse(r#"{"jsonrpc":"2.0","id":{},"method":"x"}"#).is_err());
        assert!(parse(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}"#).is_err());
        let r = parse(r#"{"jsonrpc":"2.0","id":"a","method":"x"}"#).ok().unwrap();
        assert_eq!((r.id, r.method), (Some(json!("a")), "x".to_string()));
        assert!(parse(r#"{"jsonrpc":"2.0","method":"x"}"#)
            .ok()
            .unwrap()
            .id
            .is_none());
    }
}
