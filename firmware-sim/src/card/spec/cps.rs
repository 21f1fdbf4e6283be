//! CPS3 and CPS4 cards as TOML: their fields, checked, made into a model.

use super::{check_digits, check_latin1, check_text, check_timestamp, check_tries, parse_atr, parse_hex};
use crate::card::cps3::cps2ter::VoletData;
use crate::card::cps3::layout::{self, CpsData, Generation, Situation};
use crate::card::cps3::{Cps3Card, CpsConfig, PinConfig};
use crate::card::cps4::Cps4Card;
use crate::card::SimCard;
use crate::pki::{CpsHolder, Date};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CpsSpec {
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

pub(super) fn build_cps(spec: CpsSpec, generation: Generation) -> Result<Box<dyn SimCard>, String> {
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
