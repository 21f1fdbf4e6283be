//! The CPS data objects, read through the profile's tag map
//! (docs/cps-data-objects.md). Only the situation tags 84/85/86 are known
//! from a real card; hence the ANS sample's "last 4 characters" fallback for
//! the specialty and the sector.

use super::super::tlv::{self, Tlv};
use super::super::CardError;
use crate::card::profile::{IdCardTags, InfoTags, NameTags, SituationTags, Tag};

/// A data object as the card holds it, by PKCS#15 label.
#[derive(Clone, PartialEq, Eq)]
pub struct RawObject {
    /// Its PKCS#15 label.
    pub label: String,
    /// Needs the PIN.
    pub private: bool,
    /// The file's content.
    pub value: Vec<u8>,
}

// Values carry names and identifiers: they stay out of logs.
impl std::fmt::Debug for RawObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RawObject {{ label: {:?}, private: {}, .. }}",
            self.label, self.private
        )
    }
}

/// An object whose bytes are all filler is empty (a situation not in use).
pub(super) fn is_empty(raw: &[u8]) -> bool {
    raw.iter().all(|b| *b == 0x00 || *b == 0xFF)
}

/// The fields of an object: the children of its template when the template
/// is there, else the top-level objects (a card without templates).
fn fields<'a>(raw: &'a [u8], template: &Option<Tag>, what: &str) -> Result<Vec<Tlv<'a>>, CardError> {
    let top = tlv::parse_all(raw).ok_or_else(|| CardError::Malformed(format!("{what} is not BER-TLV")))?;
    match template.as_ref().and_then(|t| top.iter().find(|o| o.is(&t.0))) {
        Some(t) => tlv::parse_all(t.value)
            .ok_or_else(|| CardError::Malformed(format!("{what} template is not BER-TLV"))),
        None => Ok(top),
    }
}

/// A mapped text field: Latin-1, trailing blanks removed, empty = absent.
fn text(fields: &[Tlv<'_>], tag: &Option<Tag>) -> Option<String> {
    let tag = tag.as_ref()?;
    let v = tlv::text(tlv::find(fields, &tag.0)?);
    (!v.is_empty()).then_some(v)
}

/// The ANS sample's rule: the last 4 characters of the object (after its
/// filler), when they look like a code (`SM26`, `SA07`).
pub(super) fn last4(raw: &[u8]) -> Option<String> {
    let end = raw.iter().rposition(|b| !matches!(b, 0x00 | 0xFF | b' '))? + 1;
    let tail = raw.get(end.checked_sub(4)?..end)?;
    tail.iter()
        .all(u8::is_ascii_alphanumeric)
        .then(|| tlv::text(tail))
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct IdCard {
    pub card_type: Option<String>,
    pub category: Option<String>,
    pub serial: Option<String>,
    pub validity_start: Option<String>,
    pub validity_end: Option<String>,
}

pub(super) fn id_card(raw: &[u8], t: &IdCardTags) -> Result<IdCard, CardError> {
    let f = fields(raw, &t.template, "CPS_ID_CARD")?;
    Ok(IdCard {
        card_type: text(&f, &t.card_type),
        category: text(&f, &t.category),
        serial: text(&f, &t.serial),
        validity_start: text(&f, &t.validity_start),
        validity_end: text(&f, &t.validity_end),
    })
}

#[derive(Clone, Default, PartialEq, Eq)]
pub(super) struct Name {
    pub id_type: Option<String>,
    pub national_id: Option<String>,
    pub civility: Option<String>,
    pub surname: Option<String>,
    pub given_name: Option<String>,
}

// Names and identifiers stay out of logs.
impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Name { .. }")
    }
}

pub(super) fn name(raw: &[u8], t: &NameTags) -> Result<Name, CardError> {
    let f = fields(raw, &t.template, "CPS_NAME_PS")?;
    Ok(Name {
        id_type: text(&f, &t.id_type),
        national_id: text(&f, &t.national_id),
        civility: text(&f, &t.civility),
        surname: text(&f, &t.surname),
        given_name: text(&f, &t.given_name),
    })
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Info {
    pub profession: Option<String>,
    pub category: Option<String>,
    pub specialty: Option<String>,
    /// The specialty came from the "last 4 characters" rule.
    pub specialty_guessed: bool,
}

pub(super) fn info(raw: &[u8], t: &InfoTags) -> Result<Info, CardError> {
    let f = fields(raw, &t.template, "CPS_INFO_PS")?;
    let mapped = text(&f, &t.specialty);
    Ok(Info {
        profession: text(&f, &t.profession),
        category: text(&f, &t.category),
        specialty_guessed: mapped.is_none() && last4(raw).is_some(),
        specialty: mapped.or_else(|| last4(raw)),
    })
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SituationFields {
    pub mode: Option<String>,
    pub status: Option<String>,
    pub structure_id_type: Option<String>,
    pub structure_name: Option<String>,
    pub structure_id: Option<String>,
    pub sector: Option<String>,
}

pub(super) fn situation(raw: &[u8], t: &SituationTags) -> Result<SituationFields, CardError> {
    let f = fields(raw, &t.template, "CPS_ACTIVITY_xx_PS")?;
    Ok(SituationFields {
        mode: text(&f, &t.mode),
        status: text(&f, &t.status),
        structure_id_type: text(&f, &t.structure_id_type),
        structure_name: text(&f, &t.structure_name),
        structure_id: text(&f, &t.structure_id),
        sector: text(&f, &t.sector).or_else(|| last4(raw)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::profile::Profiles;
    use crate::card::testutil::{cons, tlv, Rng};

    fn obj(tag: u8, fields: &[(u8, &str)]) -> Vec<u8> {
        let parts: Vec<Vec<u8>> = fields.iter().map(|(t, v)| tlv(&[*t], v.as_bytes())).collect();
        cons(&[tag], &parts)
    }

    #[test]
    fn decodes_through_the_tag_map() {
        let o = &Profiles::builtin().unwrap().cps3.objects;
        let raw = obj(0xE4, &[(0x80, "10"), (0x81, "C"), (0x82, "SM26")]);
        let i = info(&raw, &o.info).unwrap();
        assert_eq!(
            (i.profession.as_deref(), i.specialty.as_deref()),
            (Some("10"), Some("SM26"))
        );
        let raw = obj(
            0xE2,
            &[
                (0x80, "8"),
                (0x81, "899900038839"),
                (0x83, "TRAL  "),
                (0x84, "ADEMIS"),
            ],
        );
        let n = name(&raw, &o.name).unwrap();
        assert_eq!(n.surname.as_deref(), Some("TRAL"));
        assert_eq!(n.civility, None);
        assert_eq!(format!("{n:?}"), "Name { .. }");
        let mut raw = obj(
            0xEE,
            &[
                (0x82, "3"),
                (0x84, "CABINET"),
                (0x85, "499900063480001"),
                (0x86, "SA07"),
            ],
        );
        raw.extend([0; 20]);
        let s = situation(&raw, &o.situation).unwrap();
        assert_eq!(s.structure_name.as_deref(), Some("CABINET"));
        assert_eq!(s.sector.as_deref(), Some("SA07"));
    }

    #[test]
    fn falls_back_to_the_last_four_characters() {
        let o = &Profiles::builtin().unwrap().cps3.objects;
        // Unknown tags, no template: the sample's rule still finds the codes.
        let raw = obj(0xE9, &[(0x91, "10"), (0x97, "SM54")]);
        let i = info(&raw, &o.info).unwrap();
        assert_eq!(
            (i.specialty.as_deref(), i.specialty_guessed),
            (Some("SM54"), true)
        );
        let raw = obj(0xEE, &[(0x84, "X"), (0x99, "SA33")]);
        assert_eq!(
            situation(&raw, &o.situation).unwrap().sector.as_deref(),
            Some("SA33")
        );
        assert_eq!(last4(b"\x01\x02-A7"), None);
        assert_eq!(last4(b"SA"), None);
        assert!(is_empty(&[0; 12]) && is_empty(&[]) && !is_empty(&[0, 1]));
        assert!(situation(&[0xEE, 0x05, 0x80], &o.situation).is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        let o = &Profiles::builtin().unwrap().cps3.objects;
        let mut rng = Rng::new(7);
        let seeds = [
            obj(0xE4, &[(0x80, "10"), (0x82, "SM26")]),
            obj(0xEE, &[(0x84, "CABINET"), (0x86, "SA07")]),
            obj(0xE1, &[(0x80, "00"), (0x84, "20300101")]),
        ];
        for input in rng.inputs(&seeds) {
            let _ = id_card(&input, &o.id_card);
            let _ = name(&input, &o.name);
            let _ = info(&input, &o.info);
            let _ = situation(&input, &o.situation);
            let _ = last4(&input);
        }
    }
}
