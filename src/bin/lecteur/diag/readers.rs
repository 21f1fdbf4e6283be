//! Each reader and slot: the card inside, identified from its ATR by
//! lecteur's own table, and the slot's role (CPS or Vitale slot).

use super::report::Report;
use lecteur::card::atr;
use serde_json::{json, Value};

/// Decorates `list` (from `readers.list` or PC/SC) and adds findings.
pub(super) fn check(list: &[Value], source: &str, report: &mut Report) {
    if list.is_empty() {
        report.warning(
            "readers",
            format!("no reader seen ({source})"),
            "plug the reader in; then see the usb and serial findings below",
        );
    }
    for r in list {
        let entry = describe(r);
        let id = str_of(&entry["id"]);
        let name = str_of(&entry["name"]);
        let role = match entry["role"].as_str() {
            Some(role) => format!(", {role} slot"),
            None => String::new(),
        };
        let card = &entry["card"];
        if card.is_null() {
            report.info("readers", format!("{id} {name}{role}: no card"));
        } else {
            let kind = str_of(&card["kind"]);
            let what = card["generation"]
                .as_str()
                .unwrap_or("not a CPS or carte Vitale lecteur knows");
            let msg = format!("{id} {name}{role}: {kind} ({what}), ATR {}", str_of(&card["atr"]));
            if kind == "unknown" {
                report.warning(
                    "readers",
                    msg,
                    "insert a CPS or a carte Vitale; check the card is the right way up",
                );
            } else if kind == "vitale1" {
                report.warning(
                    "readers",
                    msg,
                    "a Vitale 1 is not supported (layout not public): the holder needs a Vitale 2",
                );
            } else if let Some(wrong) = misplaced(entry["role"].as_str(), kind) {
                report.warning(
                    "readers",
                    format!("{msg}: {wrong}"),
                    "swap the cards between the two slots",
                );
            } else {
                report.ok("readers", msg);
            }
        }
        report.readers.push(entry);
    }
}

/// The entry as reported: what lecteurd (or pcscd) said plus lecteur's own
/// identification of the ATR. Only the fields a technician needs are kept.
fn describe(r: &Value) -> Value {
    let card = match r["card"]["atr"].as_str() {
        Some(atr_hex) => {
            let bytes = hex::decode(atr_hex).unwrap_or_default();
            let (kind, generation, valid) = match atr::parse(&bytes) {
                Ok(a) => (a.kind.as_str(), a.generation, true),
                Err(_) => (
                    atr::identify(&bytes).as_str(),
                    atr::lookup(&bytes).map(|e| e.generation),
                    false,
                ),
            };
            json!({
                "atr": atr_hex.to_ascii_uppercase(),
                "kind": kind,
                "generation": generation,
                "atr_valid": valid,
                "lecteurd_kind": r["card"]["kind"],
            })
        }
        None => Value::Null,
    };
    json!({
        "id": r["id"], "name": r["name"], "transport": r["transport"],
        "role": r["role"], "pinpad": r["pinpad"], "card": card, "model": r["model"],
    })
}

fn misplaced(role: Option<&str>, kind: &str) -> Option<&'static str> {
    match (role, kind.starts_with("cps"), kind.starts_with("vitale")) {
        (Some("cps"), _, true) => Some("a carte Vitale in the CPS slot"),
        (Some("vitale"), true, _) => Some("a CPS in the Vitale slot"),
        _ => None,
    }
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("?")
}
