//! The identity EF through the profile's tag map: one beneficiary template
//! (`65`) per person, a card template (`66`). Every object the map does not
//! name comes back as an [`Extra`], so nothing the card holds is lost. A
//! malformed beneficiary fails the whole file: never a partial list.

use super::super::tlv::{self, Tlv};
use super::super::{nir, CardError};
use super::date::birth_date;
use super::{Beneficiary, Extra, Period, Rights, VitaleData};
use crate::card::profile::{Tag, VitaleProfile};

fn bad(what: String) -> CardError {
    CardError::Malformed(what)
}

fn extra(path: &str, t: &Tlv<'_>) -> Extra {
    Extra {
        path: path.to_string(),
        tag: t.tag_hex(),
        hex: hex::encode_upper(t.value),
    }
}

/// Whether a file looks like an identity file: BER-TLV with a beneficiary or
/// card template at the top.
pub(super) fn is_identity(raw: &[u8], profile: &VitaleProfile) -> bool {
    let t = &profile.tags;
    tlv::parse_all(raw).is_some_and(|top| top.iter().any(|o| o.is(&t.beneficiary.0) || o.is(&t.card.0)))
}

/// Decodes one identity file (`file` names it in extra paths, e.g. `D001`)
/// into `out`.
pub(super) fn decode(
    raw: &[u8],
    file: &str,
    profile: &VitaleProfile,
    out: &mut VitaleData,
) -> Result<(), CardError> {
    let t = &profile.tags;
    let top = tlv::parse_all(raw).ok_or_else(|| bad(format!("{file} is not BER-TLV")))?;
    let (mut nb, mut nc) = (0, 0);
    // The certificate objects are named, not left in `extra`.
    if let Some(c) = super::cvc::collect(file, &top) {
        out.certificates.push(c);
    }
    for obj in top.iter().filter(|o| !super::cvc::is_cvc(o)) {
        if obj.is(&t.beneficiary.0) {
            nb += 1;
            if out.beneficiaries.len() >= profile.limits.max_beneficiaries {
                return Err(bad("too many beneficiaries".into()));
            }
            let path = format!("{file}/{}[{nb}]", hex::encode_upper(&t.beneficiary.0));
            out.beneficiaries.push(beneficiary(obj.value, &path, profile)?);
        } else if obj.is(&t.card.0) {
            nc += 1;
            let path = format!("{file}/{}[{nc}]", hex::encode_upper(&t.card.0));
            let fields = tlv::parse_all(obj.value).ok_or_else(|| bad(format!("{path} is not BER-TLV")))?;
            let mut seen = false;
            for f in &fields {
                if f.is(&t.card_fields.validity_start.0) && !seen && out.validity_start.is_none() {
                    out.validity_start = Some(tlv::text(f.value));
                    seen = true;
                } else {
                    out.extra.push(extra(&path, f));
                }
            }
        } else {
            out.extra.push(extra(file, obj));
        }
    }
    Ok(())
}

/// Takes the first object with `tag` out of `fields`.
fn take<'a>(fields: &mut Vec<Tlv<'a>>, tag: &Tag) -> Option<Tlv<'a>> {
    let i = fields.iter().position(|f| f.is(&tag.0))?;
    Some(fields.remove(i))
}

fn take_text(fields: &mut Vec<Tlv<'_>>, tag: &Option<Tag>) -> Option<String> {
    take(fields, tag.as_ref()?).map(|f| tlv::text(f.value))
}

fn beneficiary(value: &[u8], path: &str, profile: &VitaleProfile) -> Result<Beneficiary, CardError> {
    let m = &profile.tags.beneficiary_fields;
    let mut fields = tlv::parse_all(value).ok_or_else(|| bad(format!("{path} is not BER-TLV")))?;
    let mut required = |tag: &Tag, name: &str| {
        take(&mut fields, tag)
            .map(|f| tlv::text(f.value))
            .ok_or_else(|| bad(format!("{path}: beneficiary without {name}")))
    };
    let full_nir = required(&m.nir, "NIR")?;
    let surname = required(&m.surname, "surname")?;
    let first_name = required(&m.first_name, "first name")?;
    let birth = required(&m.birth_date, "birth date")?;
    let (number, key, valid) =
        nir::split(&full_nir).ok_or_else(|| bad(format!("{path}: NIR is not 15 characters")))?;
    let mut rights = Rights {
        regime: take_text(&mut fields, &m.regime),
        caisse: take_text(&mut fields, &m.caisse),
        centre: take_text(&mut fields, &m.centre),
        code_gestion: take_text(&mut fields, &m.code_gestion),
        quality: take_text(&mut fields, &m.quality),
        birth_rank: take_text(&mut fields, &m.birth_rank),
        amc: take_text(&mut fields, &m.amc),
        amo_periods: Vec::new(),
    };
    if let Some(p) = &m.amo_periods {
        while let Some(period) = take(&mut fields, &p.template) {
            let pf = tlv::parse_all(period.value).ok_or_else(|| bad(format!("{path}: AMO period")))?;
            rights.amo_periods.push(Period {
                start: tlv::find(&pf, &p.start.0).map(tlv::text),
                end: tlv::find(&pf, &p.end.0).map(tlv::text),
            });
            if rights.amo_periods.len() > 16 {
                return Err(bad(format!("{path}: too many AMO periods")));
            }
        }
    }
    let nationality = take_text(&mut fields, &m.nationality);
    Ok(Beneficiary {
        nir_parts: nir::parts(number),
        nir: number.to_string(),
        nir_key: key.to_string(),
        nir_valid: valid,
        surname,
        first_name,
        birth_date: birth_date(&birth),
        nationality,
        rights,
        // Whatever is left is not mapped: handed back whole.
        extra: fields.iter().map(|f| extra(path, f)).collect(),
    })
}
