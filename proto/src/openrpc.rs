//! docs/openrpc.json, generated from the contract: the methods of
//! [`crate::method`] with their params and results (JSON schemas from the
//! types, descriptions from their docs), the notifications, the errors.
//! `tests/openrpc.rs` keeps the file equal to [`json()`].

use crate::error::ErrorKind;
use crate::method::docs;
use schemars::generate::SchemaSettings;
use schemars::Schema;
use serde_json::{json, Map, Value};

/// The document as written to docs/openrpc.json (pretty, a final newline).
pub fn json() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}

/// Doc-comment lines as one paragraph.
fn text(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

/// A schema as the document shows it: inline, without the generator's
/// `$schema` and `title`.
fn clean(schema: Schema) -> Value {
    let mut v = schema.to_value();
    if let Some(o) = v.as_object_mut() {
        o.remove("$schema");
        o.remove("title");
    }
    v
}

/// A params struct's fields as OpenRPC params (by name).
fn params(schema: Schema) -> Vec<Value> {
    let v = clean(schema);
    let required: Vec<&str> = v["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let props = v["properties"].as_object().cloned().unwrap_or_default();
    props
        .into_iter()
        .map(|(name, mut schema)| {
            let description = schema.as_object_mut().and_then(|o| o.remove("description"));
            let mut p = Map::new();
            p.insert("name".into(), json!(name));
            p.insert("required".into(), json!(required.contains(&name.as_str())));
            if let Some(d) = description {
                p.insert("description".into(), d);
            }
            p.insert("schema".into(), schema);
            Value::Object(p)
        })
        .collect()
}

fn error(kind: ErrorKind) -> Value {
    json!({ "code": kind.code(), "message": kind.as_str() })
}

/// The OpenRPC document.
pub fn document() -> Value {
    let mut g = SchemaSettings::draft07()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let methods: Vec<Value> = docs()
        .into_iter()
        .map(|m| {
            let example = (m.example)();
            let example_params: Vec<Value> = example
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, value)| json!({ "name": name, "value": value }))
                .collect();
            let mut entry = json!({
                "name": m.name,
                "description": text(m.doc),
                "params": params((m.params)(&mut g)),
                "result": { "name": m.result_name, "schema": clean((m.result)(&mut g)) },
                "errors": m.errors.iter().map(|k| error(*k)).collect::<Vec<_>>(),
                "examples": [{ "name": "example", "params": example_params }],
            });
            let notes: Vec<Value> = (m.notifications)(&mut g)
                .into_iter()
                .map(|(method, schema)| json!({ "method": method, "params": clean(schema) }))
                .collect();
            if !notes.is_empty() {
                entry["x-notifications"] = json!(notes);
            }
            entry
        })
        .collect();
    let errors: Map<String, Value> = ErrorKind::ALL
        .iter()
        .map(|k| {
            let mut e = error(*k);
            e["description"] = json!(text(k.doc()));
            (k.as_str().to_string(), e)
        })
        .collect();
    json!({
        "openrpc": "1.2.6",
        "info": {
            "title": "lecteurd socket API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON-RPC 2.0 over a Unix socket, one JSON object per line (UTF-8, at most 1 MiB). Errors carry data.kind (components.errors; -32700 with invalid_request for a line that is not JSON); see docs/api.md. Generated from the lecteur-proto crate: do not edit.",
        },
        "methods": methods,
        "components": { "errors": errors },
    })
}
