//! Cards as data: the TOML description of a card, checked and turned into a
//! model. A file only needs `kind` and the fields it changes: everything left
//! out is taken from the embedded default card of that kind (`cards/*.toml`).

use super::cps3::cps2ter::VoletData;
use super::cps3::layout::{self, CpsData, Generation, Situation};
use super::cps3::{Cps3Card, CpsConfig, PinConfig};
use super::cps4::Cps4Card;
use super::unknown::UnknownCard;
use super::vitale1::Vitale1Card;
use super::vitale2::{Beneficiary, ExtraFile, Vitale2Card, Vitale2Config};
use super::SimCard;
use crate::pki::{CpsHolder, Date};
use serde::Deserialize;

pub const CPS3_TOML: &str = include_str!("../../cards/cps3.toml");
pub const CPS4_TOML: &str = include_str!("../../cards/cps4.toml");
pub const VITALE2_TOML: &str = include_str!("../../cards/vitale2.toml");
pub const VITALE1_TOML: &str = include_str!("../../cards/vitale1.toml");
pub const UNKNOWN_TOML: &str = include_str!("../../cards/unknown.toml");

/// Every card file of `cards/`, by name (the file stem): `load(name)` finds them.
pub const BUNDLED: [(&str, &str); 16] = [
    ("cps3", CPS3_TOML),
    ("cps4", CPS4_TOML),
    ("vitale2", VITALE2_TOML),
    ("vitale1", VITALE1_TOML),
    ("unknown", UNKNOWN_TOML),
    ("cps3-blocked", include_str!("../../cards/cps3-blocked.toml")),
    ("cps3-last-try", include_str!("../../cards/cps3-last-try.toml")),
    ("cps3-expired", include_str!("../../cards/cps3-expired.toml")),
    (
        "cps3-16-situations",
        include_str!("../../cards/cps3-16-situations.toml"),
    ),
    ("cps3-adeli", include_str!("../../cards/cps3-adeli.toml")),
    (
        "cps3-usage-spent",
        include_str!("../../cards/cps3-usage-spent.toml"),
    ),
    (
        "cps3-actua-empty",
        include_str!("../../cards/cps3-actua-empty.toml"),
    ),
    (
        "cps3-actua-garbled",
        include_str!("../../cards/cps3-actua-garbled.toml"),
    ),
    (
        "vitale2-6-beneficiaries",
        include_str!("../../cards/vitale2-6-beneficiaries.toml"),
    ),
    (
        "vitale2-missing-century",
        include_str!("../../cards/vitale2-missing-century.toml"),
    ),
    ("vitale2-lunar", include_str!("../../cards/vitale2-lunar.toml")),
];

/// The TOML text of a bundled card.
pub fn bundled(name: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CpsSpec {
    #[allow(dead_code)]
    kind: String,
    atr: String,
    serial: String,
    card: CardSpec,
    holder: HolderSpec,
    pin: PinSpec,
    certificates: CertSpec,
    actua: ActuaSpec,
    situations: Vec<SituationSpec>,
    /// CPS4 only.
    #[serde(default)]
    chipdoc: Option<ChipDocSpec>,
    #[serde(default)]
    cps2ter: Cps2terSpec,
}

/// `[chipdoc]` of a CPS4: `reselect_required = true` makes SELECT ChipDoc
/// answer `69 85` after each reset until the ISD then the CPS2ter applet
/// have been selected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChipDocSpec {
    #[serde(default)]
    reselect_required: bool,
}

/// The CPS2ter volet's files (a CPS3): raw contents, as no public source
/// says what they hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cps2terSpec {
    billing: String,
    activities: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CardSpec {
    #[serde(rename = "type")]
    card_type: String,
    category: String,
    validity_start: String,
    validity_end: String,
    data: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolderSpec {
    national_id_type: String,
    national_id: String,
    civility: String,
    surname: String,
    given_name: String,
    organisation: String,
    profession_code: u32,
    profession_label: String,
    professional_category: String,
    specialty: String,
    languages: String,
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
    /// The PIN's usage counter (GET DATA `9D`); 0 = spent.
    #[serde(default)]
    usage_counter: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertSpec {
    not_before: String,
    not_after: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActuaSpec {
    present: bool,
    start: String,
    end: String,
    /// The file's content as is, instead of `EC {81 start, 82 end}`: an
    /// empty or garbled EF_ACTUA (an interrupted update).
    #[serde(default)]
    raw: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SituationSpec {
    mode: String,
    statut: String,
    structure_id_type: String,
    raison_sociale: String,
    structure_id: String,
    sector: String,
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

/// `kind = "unknown"` and `kind = "vitale1"`: only an ATR.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AtrOnlySpec {
    #[allow(dead_code)]
    kind: String,
    atr: String,
}

const KINDS: &str = "cps3, cps4, vitale2, vitale1 or unknown";

/// Builds a card from TOML text; errors are plain messages (the caller adds
/// where the text came from).
pub fn card_from_toml(text: &str) -> Result<Box<dyn SimCard>, String> {
    let user: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let kind = match user.get("kind") {
        Some(toml::Value::String(kind)) => kind.clone(),
        Some(_) => return Err("`kind` must be a string".into()),
        None => return Err(format!("missing `kind` ({KINDS})")),
    };
    let defaults = match kind.as_str() {
        "cps3" => CPS3_TOML,
        "cps4" => CPS4_TOML,
        "vitale2" => VITALE2_TOML,
        "vitale1" => VITALE1_TOML,
        "unknown" => UNKNOWN_TOML,
        other => return Err(format!("unknown kind {other:?}: use {KINDS}")),
    };
    let mut merged: toml::Table = toml::from_str(defaults).map_err(|e| e.to_string())?;
    merge(&mut merged, user);
    let value = toml::Value::Table(merged);
    match kind.as_str() {
        "cps3" => build_cps(value.try_into().map_err(|e| field_error(&e))?, Generation::Cps3),
        "cps4" => build_cps(value.try_into().map_err(|e| field_error(&e))?, Generation::Cps4),
        "vitale2" => build_vitale2(value.try_into().map_err(|e| field_error(&e))?),
        "vitale1" => {
            let spec: AtrOnlySpec = value.try_into().map_err(|e| field_error(&e))?;
            Ok(Box::new(Vitale1Card::new(parse_atr(&spec.atr)?)))
        }
        _ => {
            let spec: AtrOnlySpec = value.try_into().map_err(|e| field_error(&e))?;
            Ok(Box::new(UnknownCard::new(parse_atr(&spec.atr)?)))
        }
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
    let atr = parse_hex("atr", text)?;
    if !(2..=33).contains(&atr.len()) || !matches!(atr.first(), Some(0x3B | 0x3F)) {
        return Err(format!(
            "atr {text:?}: an ATR is 2 to 33 bytes starting with 3B or 3F"
        ));
    }
    Ok(atr)
}

/// Hex bytes, spaces or colons allowed.
fn parse_hex(field: &str, text: &str) -> Result<Vec<u8>, String> {
    let hex_digits: String = text.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    hex::decode(&hex_digits).map_err(|e| format!("{field} {text:?}: {e}"))
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.is_empty() || value.len() > max {
        return Err(format!("{field} must be 1 to {max} bytes long"));
    }
    Ok(())
}

/// Non-empty, at most `max` characters, all in Latin-1 (the data objects' encoding).
fn check_latin1(field: &str, value: &str, max: usize) -> Result<(), String> {
    let count = value.chars().count();
    if count == 0 || count > max {
        return Err(format!("{field} must be 1 to {max} characters long"));
    }
    if let Some(c) = value.chars().find(|c| u32::from(*c) > 0xFF) {
        return Err(format!("{field}: {c:?} is not a Latin-1 character"));
    }
    Ok(())
}

fn check_digits(field: &str, value: &str, lengths: std::ops::RangeInclusive<usize>) -> Result<(), String> {
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

/// `YYYYMMDDhhmmss`, a plausible date and time.
fn check_timestamp(field: &str, value: &str) -> Result<(), String> {
    check_digits(field, value, 14..=14)?;
    let n = |r: std::ops::Range<usize>| value[r].parse::<u32>().unwrap_or(99);
    if !(1..=12).contains(&n(4..6))
        || !(1..=31).contains(&n(6..8))
        || n(8..10) > 23
        || n(10..12) > 59
        || n(12..14) > 59
    {
        return Err(format!("{field} {value:?} is not a date-time YYYYMMDDhhmmss"));
    }
    Ok(())
}

fn build_cps(spec: CpsSpec, generation: Generation) -> Result<Box<dyn SimCard>, String> {
    check_digits("serial", &spec.serial, 10..=10)?;
    let c = &spec.card;
    check_digits("card.type", &c.card_type, 2..=2)?;
    check_digits("card.category", &c.category, 2..=2)?;
    let card_date = |field: &str, text: &str| Date::parse(text).map_err(|e| format!("card.{field}: {e}"));
    let validity_start = card_date("validity_start", &c.validity_start)?;
    let validity_end = card_date("validity_end", &c.validity_end)?;
    if validity_start > validity_end {
        return Err("card.validity_start must not be after validity_end".into());
    }
    let cps_data = parse_hex("card.data", &c.data)?;
    if cps_data.len() > 2048 {
        return Err("card.data holds at most 2048 bytes".into());
    }
    let h = &spec.holder;
    for (field, value, max) in [
        ("holder.national_id_type", &h.national_id_type, 2),
        ("holder.national_id", &h.national_id, 64),
        ("holder.civility", &h.civility, 16),
        ("holder.surname", &h.surname, 64),
        ("holder.given_name", &h.given_name, 64),
        ("holder.professional_category", &h.professional_category, 16),
        ("holder.specialty", &h.specialty, 64),
        ("holder.languages", &h.languages, 32),
    ] {
        check_latin1(field, value, max)?;
    }
    for (field, value) in [
        ("holder.organisation", &h.organisation),
        ("holder.profession_label", &h.profession_label),
    ] {
        check_text(field, value, 64)?;
    }
    if h.profession_code > 9999 {
        return Err("holder.profession_code must be at most 9999".into());
    }
    let p = &spec.pin;
    check_digits("pin.value", &p.value, 4..=8)?;
    check_digits("pin.puk", &p.puk, 4..=16)?;
    check_tries("pin", p.tries_left, p.tries_max)?;
    check_tries("pin.puk", p.puk_tries_left, p.puk_tries_max)?;
    let date = |field: &str, text: &str| Date::parse(text).map_err(|e| format!("certificates.{field}: {e}"));
    let not_before = date("not_before", &spec.certificates.not_before)?;
    let not_after = date("not_after", &spec.certificates.not_after)?;
    if not_before >= not_after {
        return Err("certificates.not_before must be before not_after".into());
    }
    let actua = match (&spec.actua.raw, spec.actua.present) {
        (_, false) => None,
        (Some(raw), true) => Some(parse_hex("actua.raw", raw)?),
        (None, true) => {
            check_timestamp("actua.start", &spec.actua.start)?;
            check_timestamp("actua.end", &spec.actua.end)?;
            Some(layout::actua(&spec.actua.start, &spec.actua.end))
        }
    };
    let volet = cps2ter_volet(&spec.cps2ter, generation)?;
    if spec.situations.len() > 16 {
        return Err("a card holds at most 16 [[situations]]".into());
    }
    let mut situations = Vec::new();
    for (i, s) in spec.situations.into_iter().enumerate() {
        for (field, value) in [
            ("mode", &s.mode),
            ("statut", &s.statut),
            ("structure_id_type", &s.structure_id_type),
            ("raison_sociale", &s.raison_sociale),
            ("structure_id", &s.structure_id),
            ("sector", &s.sector),
        ] {
            check_latin1(&format!("situations[{i}].{field}"), value, 100)?;
        }
        situations.push(Situation {
            mode: s.mode,
            statut: s.statut,
            structure_id_type: s.structure_id_type,
            raison_sociale: s.raison_sociale,
            structure_id: s.structure_id,
            sector: s.sector,
        });
    }
    let config = CpsConfig {
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
            card_type: c.card_type.parse().unwrap_or(0),
            not_before,
            not_after,
        },
        data: CpsData {
            card_type: c.card_type.clone(),
            card_category: c.category.clone(),
            validity_start: validity_start.compact(),
            validity_end: validity_end.compact(),
            national_id_type: h.national_id_type.clone(),
            civility: h.civility.clone(),
            languages: h.languages.clone(),
            profession_code: format!("{:02}", h.profession_code),
            professional_category: h.professional_category.clone(),
            cps_data,
            situations,
            actua,
        },
        pin: PinConfig {
            value: p.value.clone(),
            tries_left: p.tries_left,
            tries_max: p.tries_max,
            puk: p.puk.clone(),
            puk_tries_left: p.puk_tries_left,
            puk_tries_max: p.puk_tries_max,
            usage_counter: p.usage_counter,
        },
        volet,
    };
    let error = |e| format!("certificates: {e}");
    let reselect_required = spec.chipdoc.as_ref().is_some_and(|c| c.reselect_required);
    Ok(match generation {
        Generation::Cps3 if spec.chipdoc.is_some() => return Err("[chipdoc] is for a cps4 card".into()),
        Generation::Cps3 => Box::new(Cps3Card::new(config).map_err(error)?),
        Generation::Cps4 if reselect_required => {
            Box::new(Cps4Card::new(config).map_err(error)?.reselect_required())
        }
        Generation::Cps4 => Box::new(Cps4Card::new(config).map_err(error)?),
    })
}

fn cps2ter_volet(spec: &Cps2terSpec, generation: Generation) -> Result<VoletData, String> {
    if generation == Generation::Cps4 {
        if !spec.billing.is_empty() || !spec.activities.is_empty() {
            return Err("cps2ter: only a cps3 card has the CPS2ter volet here".into());
        }
        return Ok(VoletData::default());
    }
    if spec.activities.len() > 16 {
        return Err("cps2ter.activities: at most 16".into());
    }
    let file = |field: String, text: &str| {
        let b = parse_hex(&field, text)?;
        if b.len() > 4096 {
            return Err(format!("{field} holds at most 4096 bytes"));
        }
        Ok(b)
    };
    Ok(VoletData {
        billing: file("cps2ter.billing".into(), &spec.billing)?,
        activities: spec
            .activities
            .iter()
            .enumerate()
            .map(|(i, a)| file(format!("cps2ter.activities[{i}]"), a))
            .collect::<Result<_, _>>()?,
    })
}

/// A BER tag: one byte (not 00/FF, low bits not 1F), or a first byte with low
/// bits 1F followed by bytes with bit 8 set but the last.
fn parse_tag(field: &str, text: &str) -> Result<Vec<u8>, String> {
    let tag = parse_hex(field, text)?;
    let ok = match tag.as_slice() {
        [first] => *first != 0x00 && *first != 0xFF && first & 0x1F != 0x1F,
        [first, rest @ .., last] => {
            first & 0x1F == 0x1F && rest.iter().all(|b| b & 0x80 != 0) && last & 0x80 == 0 && tag.len() <= 3
        }
        [] => false,
    };
    if !ok {
        return Err(format!("{field} {text:?} is not a BER tag (1 to 3 bytes)"));
    }
    Ok(tag)
}

/// Whether `data` is a sequence of well-formed BER-TLV objects (definite lengths).
fn is_ber_sequence(mut data: &[u8]) -> bool {
    while !data.is_empty() {
        let tag_len = match data {
            [first, ..] if first & 0x1F != 0x1F => 1,
            [_, rest @ ..] => match rest.iter().position(|b| b & 0x80 == 0) {
                Some(i) => i + 2,
                None => return false,
            },
            [] => return true,
        };
        let Some(rest) = data.get(tag_len..) else {
            return false;
        };
        let (len, header) = match rest {
            [n, ..] if *n < 0x80 => (usize::from(*n), 1),
            [0x81, n, ..] => (usize::from(*n), 2),
            [0x82, a, b, ..] => (usize::from(u16::from_be_bytes([*a, *b])), 3),
            _ => return false,
        };
        match rest.get(header..header + len) {
            Some(_) => data = &rest[header + len..],
            None => return false,
        }
    }
    true
}

/// The tags the model writes itself inside a `65` object.
const KNOWN_BENEFICIARY_TAGS: [u8; 5] = [0x80, 0x81, 0x82, 0x90, 0x93];
/// EFs of MF_VITALE the model writes itself.
const KNOWN_VITALE_FIDS: [u16; 4] = [0x3F00, 0x2F00, 0x2F02, 0xD001];

fn build_vitale2(spec: Vitale2Spec) -> Result<Box<dyn SimCard>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        card_from_toml(text).err().expect("should fail")
    }

    #[test]
    fn every_bundled_card_loads() {
        for (name, text) in BUNDLED {
            let card = card_from_toml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(card.atr().len() >= 2, "{name}");
        }
    }

    #[test]
    fn bundled_names_are_the_files() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cards");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                Some(name.strip_suffix(".toml")?.to_string())
            })
            .collect();
        names.sort();
        let mut bundled: Vec<String> = BUNDLED.iter().map(|(n, _)| n.to_string()).collect();
        bundled.sort();
        assert_eq!(names, bundled);
        for (name, text) in BUNDLED {
            let on_disk = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
            assert_eq!(on_disk, text, "{name}");
        }
    }

    #[test]
    fn partial_files_take_the_defaults() {
        let card = card_from_toml("kind = \"vitale2\"\natr = \"3B 75 13 00 00 45 09 FA 90 00\"").unwrap();
        assert_eq!(card.atr(), [0x3B, 0x75, 0x13, 0, 0, 0x45, 0x09, 0xFA, 0x90, 0]);
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
        assert!(err("kind = \"cps3\"\n[certificates]\nnot_after = \"2034-13-01\"").contains("not_after"));
        assert!(err("kind = \"cps3\"\n[certificates]\nnot_after = \"2023-01-01\"").contains("before"));
        assert!(err("kind = \"cps3\"\n[holder]\nsurname = \"\"").contains("holder.surname"));
        assert!(err("kind = \"cps3\"\n[holder]\nsurname = \"Ł\"").contains("Latin-1"));
        assert!(err("kind = \"cps3\"\n[card]\ntype = \"0\"").contains("card.type"));
        assert!(err("kind = \"cps4\"\n[card]\ndata = \"0\"").contains("card.data"));
        assert!(err("kind = \"cps3\"\n[card]\nvalidity_end = \"2020-01-01\"").contains("validity_start"));
        assert!(err("kind = \"cps3\"\n[actua]\nstart = \"20241301000000\"").contains("actua.start"));
        assert!(err("kind = \"cps3\"\n[[situations]]\nmode = \"1\"").contains("missing field"));
        let many = "[[situations]]\nmode = \"1\"\nstatut = \"1\"\nstructure_id_type = \"1\"\nraison_sociale = \"X\"\nstructure_id = \"1\"\nsector = \"SA01\"\n";
        assert!(err(&format!("kind = \"cps3\"\n{}", many.repeat(17))).contains("16"));
        assert!(err("kind = \"vitale2\"\nbeneficiaries = []").contains("beneficiaries"));
        assert!(err("kind = \"vitale2\"\n[[beneficiaries]]\nsurname = \"A\"").contains("missing field"));
        let person = "[[beneficiaries]]\nsurname = \"A\"\nfirst_name = \"B\"\nbirth_date = \"800101\"\nnationality = \"FR\"\nnir = \"180017512345678\"\n";
        for (extra, needle) in [
            ("{ tag = \"A5\", hex = \"0102\" }", "constructed"),
            ("{ tag = \"80\", hex = \"01\" }", "known tag"),
            ("{ tag = \"1F\", hex = \"01\" }", "BER tag"),
            ("{ tag = \"5F81\", hex = \"01\" }", "BER tag"),
            ("{ tag = \"A5\", hex = \"zz\" }", "hex"),
        ] {
            let text = format!("kind = \"vitale2\"\n{person}extra = [{extra}]\n");
            assert!(err(&text).contains(needle), "{extra}: {}", err(&text));
        }
        for (file, needle) in [
            ("fid = \"D001\", name = \"X\", hex = \"\"", "already used"),
            ("fid = \"D0\", name = \"X\", hex = \"\"", "2 bytes"),
            ("fid = \"D003\", name = \"TOO LONG9\", hex = \"\"", "name"),
        ] {
            let text = format!("kind = \"vitale2\"\nextra_files = [{{ {file} }}]\n");
            assert!(err(&text).contains(needle), "{file}: {}", err(&text));
        }
        assert!(err("kind = \"unknown\"\nserial = \"1\"").contains("unknown field"));
        assert!(err("kind = \"vitale1\"\nserial = \"1\"").contains("unknown field"));
        assert!(err("kind = ").contains("line 1"));
    }

    #[test]
    fn ber_checks() {
        assert!(is_ber_sequence(&[]));
        assert!(is_ber_sequence(&[0x80, 0x01, 0x06, 0x5F, 0x20, 0x00]));
        assert!(is_ber_sequence(&[0xA1, 0x81, 0x01, 0x00]));
        assert!(!is_ber_sequence(&[0x01, 0x02]));
        assert!(!is_ber_sequence(&[0x5F]));
        assert!(!is_ber_sequence(&[0x80, 0x84, 0, 0, 0, 1, 0]));
        assert_eq!(parse_tag("t", "9F 02").unwrap(), [0x9F, 0x02]);
        assert_eq!(parse_tag("t", "BF8101").unwrap(), [0xBF, 0x81, 0x01]);
        assert!(parse_tag("t", "BF81818101").is_err());
        assert!(parse_tag("t", "").is_err());
        assert!(parse_tag("t", "00").is_err());
    }

    #[test]
    fn atr_parsing() {
        assert_eq!(parse_atr("3b:75 13").unwrap(), [0x3B, 0x75, 0x13]);
        assert!(parse_atr("3B").is_err());
    }
}
