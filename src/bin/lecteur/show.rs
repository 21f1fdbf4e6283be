//! Human output of the CLI, one function per result shape.

use serde_json::Value;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("-")
}

pub fn readers(v: &Value) -> String {
    let list = v.as_array().map(Vec::as_slice).unwrap_or_default();
    if list.is_empty() {
        return "no reader".into();
    }
    list.iter()
        .map(|r| {
            let card = match &r["card"] {
                Value::Null => "empty".to_string(),
                c => format!("{} ({})", s(&c["kind"]), s(&c["atr"])),
            };
            format!(
                "{:<12} {:<7} {:<40} {}",
                s(&r["id"]),
                s(&r["transport"]),
                s(&r["name"]),
                card
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn event(v: &Value) -> String {
    let card = v["card"]["kind"]
        .as_str()
        .map(|k| format!(" {k}"))
        .unwrap_or_default();
    format!("{} {}{}", s(&v["type"]), s(&v["reader"]), card)
}

pub fn vitale(v: &Value) -> String {
    let mut out = format!("carte {} ({})", s(&v["card"]["kind"]), s(&v["card"]["atr"]));
    for (i, b) in v["beneficiaries"].as_array().into_iter().flatten().enumerate() {
        let date = &b["birth_date"];
        let born = match date["iso"].as_str() {
            Some(iso) => iso.to_string(),
            None => format!("{} (lunar date)", s(&date["raw"])),
        };
        let key = if b["nir_valid"] == true {
            "key ok"
        } else {
            "KEY INVALID"
        };
        out += &format!(
            "\n  {}. {} {}, born {born}, NIR {} {} ({key})",
            i + 1,
            s(&b["surname"]),
            s(&b["first_name"]),
            s(&b["nir"]),
            s(&b["nir_key"]),
        );
    }
    out
}

fn coded(v: &Value) -> String {
    match (v["code"].as_str(), v["label"].as_str()) {
        (Some(code), Some(label)) => format!("{label} ({code})"),
        (Some(code), None) => code.to_string(),
        _ => "-".to_string(),
    }
}

pub fn cps_info(v: &Value) -> String {
    let mut out = format!(
        "carte {} serial {} ({})\n  holder {} {} ({}, {})\n  profession {}, specialty {}\n  PIN: {} of {} tries left",
        s(&v["card"]["kind"]),
        s(&v["card"]["serial"]),
        coded(&v["card"]["card_type"]),
        s(&v["holder"]["given_name"]),
        s(&v["holder"]["surname"]),
        s(&v["holder"]["national_id"]),
        coded(&v["holder"]["id_type"]),
        coded(&v["profession"]),
        coded(&v["specialty"]),
        v["pin"]["tries_left"],
        v["pin"]["tries_max"],
    );
    for c in v["certificates"].as_array().into_iter().flatten() {
        let expired = if c["expired"] == true { " EXPIRED" } else { "" };
        out += &format!(
            "\n  {} certificate until {}{expired}",
            s(&c["usage"]),
            s(&c["not_after"])
        );
    }
    for st in v["situations"].as_array().into_iter().flatten() {
        out += &format!(
            "\n  situation {}: {} ({}), {}",
            st["index"],
            s(&st["structure_name"]),
            s(&st["structure_id"]),
            coded(&st["sector"])
        );
    }
    out
}

pub fn verified(v: &Value) -> String {
    format!("PIN verified ({} tries left)", v["tries_left"])
}

pub fn certificate(v: &Value) -> String {
    format!(
        "{} certificate: {} (valid until {})",
        s(&v["usage"]),
        s(&v["subject"]),
        s(&v["not_after"])
    )
}

pub fn signed(_: &Value) -> String {
    "signature written".into()
}
