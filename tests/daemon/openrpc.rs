//! docs/openrpc.json is the API contract (generated from lecteur-proto: its
//! own test keeps the file equal): every method it lists exists, takes the
//! parameters it names, and the real handlers answer results of the shape it
//! declares.

use crate::common::*;
use serde_json::{json, Map, Value};

fn contract() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openrpc.json")).unwrap();
    serde_json::from_str(&text).expect("openrpc.json is JSON")
}

/// A small JSON-schema check: type, enum, const, required, properties,
/// items, oneOf and anyOf (both as "one branch fits").
fn check(schema: &Value, v: &Value, path: &str) -> Result<(), String> {
    let branches = schema.get("oneOf").or_else(|| schema.get("anyOf"));
    if let Some(options) = branches.and_then(Value::as_array) {
        return options
            .iter()
            .find(|s| check(s, v, path).is_ok())
            .map(|_| ())
            .ok_or_else(|| format!("{path}: {v} matches no branch"));
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            return Err(format!("{path}: {v} is not {c}"));
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let integer_as_number = actual == "integer" && types.contains(&"number");
        if !types.contains(&actual) && !integer_as_number {
            return Err(format!("{path}: {v} is {actual}, not {types:?}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Err(format!("{path}: {v} not in {e:?}"));
        }
    }
    if let Value::Object(o) = v {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap();
            if !o.contains_key(r) {
                return Err(format!("{path}: missing {r}"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                if let Some(x) = o.get(k) {
                    check(s, x, &format!("{path}.{k}"))?;
                }
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (v, schema.get("items")) {
        for (i, x) in items.iter().enumerate() {
            check(s, x, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

#[test]
fn the_contract_lists_exactly_the_methods() {
    let doc = contract();
    let names: Vec<&str> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, lecteur::api::methods::METHODS);
}

#[test]
fn the_real_handlers_answer_as_declared() {
    let doc = contract();
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    for m in doc["methods"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let mut params = Map::new();
        for p in m["examples"][0]["params"].as_array().unwrap() {
            params.insert(p["name"].as_str().unwrap().to_string(), p["value"].clone());
        }
        let declared: Vec<&str> = m["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for k in params.keys() {
            assert!(
                declared.contains(&k.as_str()),
                "{name}: example uses undeclared {k}"
            );
        }
        let mut c = d.client();
        let result = c
            .call_json(name, Value::Object(params.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        check(&m["result"]["schema"], &result, name).unwrap();

        // Every declared parameter is known to the handler; others are refused.
        for p in &declared {
            let mut probe = params.clone();
            probe.entry(p.to_string()).or_insert(json!(null));
            if let Err(e) = d.client().call_json(name, Value::Object(probe)) {
                assert_ne!(kind(&e), "method_not_found", "{name}");
                assert!(
                    !e.to_string().contains("unknown field"),
                    "{name}: {p} is declared but unknown: {e}"
                );
            }
        }
        let mut bogus = params.clone();
        bogus.insert("zz_not_a_param".into(), json!(1));
        let e = d.client().call_json(name, Value::Object(bogus)).err();
        assert_eq!(
            e.as_ref().map(kind),
            Some("invalid_params"),
            "{name} accepts unknown parameters"
        );
    }
}
