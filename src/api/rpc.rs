//! JSON-RPC 2.0 frames: the envelope of a request line, and the answer lines.
//! Methods, params, results and the error table are `lecteur_proto`'s.

use lecteur_proto::frame::{Failure, NotificationFrame, Success};
pub use lecteur_proto::{ErrorKind, RpcError};
use serde::Serialize;
use serde_json::Value;

/// A request's envelope. `id` is `None` for a notification (no answer is sent).
pub struct Envelope {
    /// The request id, given back in the answer.
    pub id: Option<Value>,
    /// The method name.
    pub method: String,
    /// The params: an object (`{}` when left out).
    pub params: Value,
}

/// Parses one line's envelope. On failure returns the error and the id to
/// answer with.
pub fn parse(line: &str) -> Result<Envelope, (Value, RpcError)> {
    let v: Value = serde_json::from_str(line)
        .map_err(|e| (Value::Null, RpcError::parse_error(format!("invalid JSON: {e}"))))?;
    let invalid = |id: Value, m: &str| (id, RpcError::new(ErrorKind::InvalidRequest, m));
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
    Ok(Envelope { id, method, params })
}

/// A success line (without its `\n`).
pub fn success<R: Serialize>(id: &Value, result: R) -> String {
    let frame = Success {
        jsonrpc: "2.0",
        id,
        result,
    };
    serde_json::to_string(&frame).unwrap_or_else(|e| {
        failure(
            id,
            &RpcError::new(ErrorKind::Internal, format!("unserialisable result: {e}")),
        )
    })
}

/// A success whose result is JSON text already (valid JSON, made by serde_json).
pub fn success_line(id: &Value, result: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{result}}}"#)
}

/// An error line (without its `\n`).
pub fn failure(id: &Value, error: &RpcError) -> String {
    let frame = Failure {
        jsonrpc: "2.0",
        id,
        error,
    };
    // Strings, numbers and a kind: serialising it cannot fail.
    serde_json::to_string(&frame).unwrap_or_default()
}

/// A notification line (without its `\n`).
pub fn notification<P: Serialize>(method: &str, params: P) -> String {
    serde_json::to_string(&NotificationFrame::new(method, params)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_success_line_is_the_success_message() {
        let result = json!({"card": {"kind": "vitale2"}, "beneficiaries": [1, "é\"\n"]});
        for id in [json!(7), json!("a\"b"), Value::Null] {
            let line = success_line(&id, &result.to_string());
            assert_eq!(line, success(&id, &result));
            let v: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v, json!({"jsonrpc": "2.0", "id": id, "result": result}));
        }
    }

    #[test]
    fn rejects_bad_frames() {
        assert_eq!(
            parse("{").err().unwrap().1.code,
            lecteur_proto::error::PARSE_ERROR
        );
        assert_eq!(
            parse("[]").err().unwrap().1.code,
            lecteur_proto::error::INVALID_REQUEST
        );
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
