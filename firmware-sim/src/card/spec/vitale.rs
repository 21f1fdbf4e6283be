//! Vitale 2 cards as TOML: their fields, checked, made into a model.

use super::{check_digits, check_text, is_ber_sequence, parse_atr, parse_hex, parse_tag};
use crate::card::vitale2::{Beneficiary, ExtraFile, Vitale2Card, Vitale2Config};
use crate::card::SimCard;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Vitale2Spec {
    #[allow(dead_code)]
    kind: String,
    atr: String,
    serial: String,
    validity_start: String,
    beneficiaries: Vec<BeneficiarySpec>,
    extra_files: Vec<ExtraFileSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BeneficiarySpec {
    surname: String,
    first_name: String,
    birth_date: String,
    nationality: String,
    nir: String,
    #[serde(default)]
    extra: Vec<ExtraTlvSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtraTlvSpec {
    tag: String,
    hex: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtraFileSpec {
    fid: String,
    name: String,
    hex: String,
}

/// The tags the model writes itself inside a `65` object.
const KNOWN_BENEFICIARY_TAGS: [u8; 5] = [0x80, 0x81, 0x82, 0x90, 0x93];
/// EFs of MF_VITALE the model writes itself.
const KNOWN_VITALE_FIDS: [u16; 4] = [0x3F00, 0x2F00, 0x2F02, 0xD001];

pub(super) fn build_vitale2(spec: Vitale2Spec) -> Result<Box<dyn SimCard>, String> {
    check_digits("serial", &spec.serial, 1..=20)?;
    check_text("validity_start", &spec.validity_start, 64)?;
    if spec.beneficiaries.is_empty() || spec.beneficiaries.len() > 16 {
        return Err("a card holds 1 to 16 [[beneficiaries]]".into());
    }
    let mut beneficiaries = Vec::new();
    for (i, b) in spec.beneficiaries.into_iter().enumerate() {
        // Values are kept as they are (lunar dates, AAMMJJ dates, wrong NIR
        // keys): only sizes are checked.
        for (field, value) in [
            ("surname", &b.surname),
            ("first_name", &b.first_name),
            ("birth_date", &b.birth_date),
            ("nationality", &b.nationality),
            ("nir", &b.nir),
        ] {
            check_text(&format!("beneficiaries[{i}].{field}"), value, 200)?;
        }
        let mut extra = Vec::new();
        for (j, x) in b.extra.iter().enumerate() {
            let field = format!("beneficiaries[{i}].extra[{j}]");
            let tag = parse_tag(&format!("{field}.tag"), &x.tag)?;
            if tag.len() == 1 && KNOWN_BENEFICIARY_TAGS.contains(&tag[0]) {
                return Err(format!(
                    "{field}.tag {:?} is a known tag: use the field instead",
                    x.tag
                ));
            }
            let value = parse_hex(&format!("{field}.hex"), &x.hex)?;
            if value.len() > 1024 {
                return Err(format!("{field}.hex: at most 1024 bytes"));
            }
            if tag[0] & 0x20 != 0 && !is_ber_sequence(&value) {
                return Err(format!(
                    "{field}: tag {:?} is constructed, its value must be BER-TLV objects",
                    x.tag
                ));
            }
            extra.push((tag, value));
        }
        beneficiaries.push(Beneficiary {
            surname: b.surname,
            first_name: b.first_name,
            birth_date: b.birth_date,
            nationality: b.nationality,
            nir: b.nir,
            extra,
        });
    }
    let mut extra_files: Vec<ExtraFile> = Vec::new();
    for (i, f) in spec.extra_files.iter().enumerate() {
        let field = format!("extra_files[{i}]");
        let fid = match parse_hex(&format!("{field}.fid"), &f.fid)?.as_slice() {
            [hi, lo] => u16::from_be_bytes([*hi, *lo]),
            _ => return Err(format!("{field}.fid {:?} must be 2 bytes (4 hex digits)", f.fid)),
        };
        if KNOWN_VITALE_FIDS.contains(&fid) || extra_files.iter().any(|e| e.fid == fid) {
            return Err(format!("{field}.fid {:?} is already used", f.fid));
        }
        if f.name.is_empty() || f.name.len() > 8 || !f.name.bytes().all(|b| (0x20..0x7F).contains(&b)) {
            return Err(format!("{field}.name must be 1 to 8 printable ASCII characters"));
        }
        let content = parse_hex(&format!("{field}.hex"), &f.hex)?;
        if content.len() > 4096 {
            return Err(format!("{field}.hex: at most 4096 bytes"));
        }
        extra_files.push(ExtraFile {
            fid,
            name: f.name.clone(),
            content,
        });
    }
    let config = Vitale2Config {
        atr: parse_atr(&spec.atr)?,
        serial: spec.serial,
        validity_start: spec.validity_start,
        beneficiaries,
        extra_files,
    };
    Ok(Box::new(Vitale2Card::new(config)))
}
