//! Cards as data: the TOML description of a card, checked and turned into a
//! model. A file only needs `kind` and the fields it changes: everything left
//! out is taken from the embedded default card of that kind (`cards/*.toml`).

use super::cps3::{Cps3Card, Cps3Config, PinConfig};
use super::unknown::UnknownCard;
use super::vitale2::{Beneficiary, Vitale2Card, Vitale2Config};
use super::SimCard;
use crate::pki::{CpsHolder, Date};
use serde::Deserialize;

pub const CPS3_TOML: &str = include_str!("../../cards/cps3.toml");
pub const VITALE2_TOML: &str = include_str!("../../cards/vitale2.toml");
pub const UNKNOWN_TOML: &str = include_str!("../../cards/unknown.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cps3Spec {
    #[allow(dead_code)]
    kind: String,
    atr: String,
    serial: String,
    holder: HolderSpec,
    pin: PinSpec,
    certificates: CertSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolderSpec {
    national_id: String,
    surname: String,
    given_name: String,
    organisation: String,
    profession_code: u32,
    profession_label: String,
    specialty: String,
    card_type: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PinSpec {
    value: String,
    tries_left: u8,
    tries_max: u8,
    puk: String,
    puk_tries_left: u8,
    puk_tries_max: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertSpec {
    not_before: String,
    not_after: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vitale2Spec {
    #[allow(dead_code)]
    kind: String,
    atr: String,
    serial: String,
    validity_start: String,
    beneficiaries: Vec<BeneficiarySpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BeneficiarySpec {
    surname: String,
    first_name: String,
    birth_date: String,
    nationality: String,
    nir: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnknownSpec {
    #[allow(dead_code)]
    kind: String,
    atr: String,
}

/// Builds a card from TOML text; errors are plain messages (the caller adds
/// where the text came from).
pub fn card_from_toml(text: &str) -> Result<Box<dyn SimCard>, String> {
    let user: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let kind = match user.get("kind") {
        Some(toml::Value::String(kind)) => kind.clone(),
        Some(_) => return Err("`kind` must be a string".into()),
        None => return Err("missing `kind` (cps3, vitale2 or unknown)".into()),
    };
    let defaults = match kind.as_str() {
        "cps3" => CPS3_TOML,
        "vitale2" => VITALE2_TOML,
        "unknown" => UNKNOWN_TOML,
        other => {
            return Err(format!(
                "unknown kind {other:?}: use cps3, vitale2 or unknown"
            ))
        }
    };
    let mut merged: toml::Table = toml::from_str(defaults).map_err(|e| e.to_string())?;
    merge(&mut merged, user);
    let value = toml::Value::Table(merged);
    match kind.as_str() {
        "cps3" => build_cps3(value.try_into().map_err(|e| field_error(&e))?),
        "vitale2" => build_vitale2(value.try_into().map_err(|e| field_error(&e))?),
        _ => build_unknown(value.try_into().map_err(|e| field_error(&e))?),
    }
}

/// The message on one line; toml appends the key path (in `pin.tries_left`).
fn field_error(e: &toml::de::Error) -> String {
    e.to_string().trim().replace('\n', " ")
}

/// Overlays `user` on `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut toml::Table, user: toml::Table) {
    for (key, value) in user {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(u)) => merge(b, u),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// `3B AC 00 …` (spaces or colons allowed) → bytes of a plausible ATR.
pub fn parse_atr(text: &str) -> Result<Vec<u8>, String> {
    let hex_digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let atr = hex::decode(&hex_digits).map_err(|e| format!("atr {text:?}: {e}"))?;
    if !(2..=33).contains(&atr.len()) || !matches!(atr.first(), Some(0x3B | 0x3F)) {
        return Err(format!(
            "atr {text:?}: an ATR is 2 to 33 bytes starting with 3B or 3F"
        ));
    }
    Ok(atr)
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.is_empty() || value.len() > max {
        return Err(format!("{field} must be 1 to {max} bytes long"));
    }
    Ok(())
}

fn check_digits(
    field: &str,
    value: &str,
    lengths: std::ops::RangeInclusive<usize>,
) -> Result<(), String> {
    if !lengths.contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{field} {value:?} must be {} to {} ASCII digits",
            lengths.start(),
            lengths.end()
        ));
    }
    Ok(())
}

fn check_tries(field: &str, left: u8, max: u8) -> Result<(), String> {
    if !(1..=15).contains(&max) || left > max {
        return Err(format!(
            "{field}: tries_max must be 1 to 15 and tries_left at most tries_max (got {left}/{max})"
        ));
    }
    Ok(())
}

fn build_cps3(spec: Cps3Spec) -> Result<Box<dyn SimCard>, String> {
    check_digits("serial", &spec.serial, 10..=10)?;
    let h = &spec.holder;
    for (field, value) in [
        ("holder.national_id", &h.national_id),
        ("holder.surname", &h.surname),
        ("holder.given_name", &h.given_name),
        ("holder.organisation", &h.organisation),
        ("holder.profession_label", &h.profession_label),
        ("holder.specialty", &h.specialty),
    ] {
        check_text(field, value, 64)?;
    }
    let p = &spec.pin;
    check_digits("pin.value", &p.value, 4..=8)?;
    check_digits("pin.puk", &p.puk, 4..=16)?;
    check_tries("pin", p.tries_left, p.tries_max)?;
    check_tries("pin.puk", p.puk_tries_left, p.puk_tries_max)?;
    let date = |field: &str, text: &str| {
        Date::parse(text).map_err(|e| format!("certificates.{field}: {e}"))
    };
    let not_before = date("not_before", &spec.certificates.not_before)?;
    let not_after = date("not_after", &spec.certificates.not_after)?;
    if not_before >= not_after {
        return Err("certificates.not_before must be before not_after".into());
    }
    let config = Cps3Config {
        atr: parse_atr(&spec.atr)?,
        holder: CpsHolder {
            card_serial: spec.serial,
            national_id: h.national_id.clone(),
            surname: h.surname.clone(),
            given_name: h.given_name.clone(),
            organisation: h.organisation.clone(),
            profession_label: h.profession_label.clone(),
            profession_code: h.profession_code,
            specialty: h.specialty.clone(),
            card_type: h.card_type,
            not_before,
            not_after,
        },
        pin: PinConfig {
            value: p.value.clone(),
            tries_left: p.tries_left,
            tries_max: p.tries_max,
            puk: p.puk.clone(),
            puk_tries_left: p.puk_tries_left,
            puk_tries_max: p.puk_tries_max,
        },
    };
    let card = Cps3Card::new(config).map_err(|e| format!("certificates: {e}"))?;
    Ok(Box::new(card))
}

fn build_vitale2(spec: Vitale2Spec) -> Result<Box<dyn SimCard>, String> {
    check_digits("serial", &spec.serial, 1..=20)?;
    check_text("validity_start", &spec.validity_start, 64)?;
    if spec.beneficiaries.is_empty() || spec.beneficiaries.len() > 16 {
        return Err("a card holds 1 to 16 [[beneficiaries]]".into());
    }
    let mut beneficiaries = Vec::new();
    for (i, b) in spec.beneficiaries.into_iter().enumerate() {
        // Values are kept as they are (lunar dates, wrong NIR keys): only sizes are checked.
        for (field, value) in [
            ("surname", &b.surname),
            ("first_name", &b.first_name),
            ("birth_date", &b.birth_date),
            ("nationality", &b.nationality),
            ("nir", &b.nir),
        ] {
            check_text(&format!("beneficiaries[{i}].{field}"), value, 200)?;
        }
        beneficiaries.push(Beneficiary {
            surname: b.surname,
            first_name: b.first_name,
            birth_date: b.birth_date,
            nationality: b.nationality,
            nir: b.nir,
        });
    }
    let config = Vitale2Config {
        atr: parse_atr(&spec.atr)?,
        serial: spec.serial,
        validity_start: spec.validity_start,
        beneficiaries,
    };
    Ok(Box::new(Vitale2Card::new(config)))
}

fn build_unknown(spec: UnknownSpec) -> Result<Box<dyn SimCard>, String> {
    Ok(Box::new(UnknownCard::new(parse_atr(&spec.atr)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        card_from_toml(text).err().expect("should fail")
    }

    #[test]
    fn defaults_load() {
        for text in [CPS3_TOML, VITALE2_TOML, UNKNOWN_TOML] {
            card_from_toml(text).unwrap();
        }
    }

    #[test]
    fn partial_files_take_the_defaults() {
        let card =
            card_from_toml("kind = \"vitale2\"\natr = \"3B 75 13 00 00 45 09 FA 90 00\"").unwrap();
        assert_eq!(
            card.atr(),
            [0x3B, 0x75, 0x13, 0, 0, 0x45, 0x09, 0xFA, 0x90, 0]
        );
    }

    #[test]
    fn errors_are_clear() {
        assert!(err("kind = \"cps3\"\nfoo = 1").contains("unknown field `foo`"));
        assert!(err("kind = \"cps3\"\n[pin]\nbar = 1").contains("unknown field `bar`"));
        assert!(err("serial = \"1\"").contains("missing `kind`"));
        assert!(err("kind = \"cps9\"").contains("unknown kind"));
        assert!(err("kind = \"cps3\"\nserial = \"12\"").contains("serial"));
        assert!(err("kind = \"cps3\"\natr = \"zz\"").contains("atr"));
        assert!(err("kind = \"cps3\"\natr = \"11 22\"").contains("3B or 3F"));
        assert!(err("kind = \"cps3\"\n[pin]\ntries_left = 4").contains("tries_left"));
        assert!(err("kind = \"cps3\"\n[pin]\ntries_left = \"x\"").contains("in `pin.tries_left`"));
        assert!(err("kind = \"cps3\"\n[pin]\nvalue = \"12a4\"").contains("pin.value"));
        assert!(
            err("kind = \"cps3\"\n[certificates]\nnot_after = \"2034-13-01\"")
                .contains("not_after")
        );
        assert!(
            err("kind = \"cps3\"\n[certificates]\nnot_after = \"2023-01-01\"").contains("before")
        );
        assert!(err("kind = \"cps3\"\n[holder]\nsurname = \"\"").contains("holder.surname"));
        assert!(err("kind = \"vitale2\"\nbeneficiaries = []").contains("beneficiaries"));
        assert!(
            err("kind = \"vitale2\"\n[[beneficiaries]]\nsurname = \"A\"").contains("missing field")
        );
        assert!(err("kind = \"unknown\"\nserial = \"1\"").contains("unknown field"));
        assert!(err("kind = ").contains("line 1"));
    }

    #[test]
    fn atr_parsing() {
        assert_eq!(parse_atr("3b:75 13").unwrap(), [0x3B, 0x75, 0x13]);
        assert!(parse_atr("3B").is_err());
    }
}
