//! Carte Vitale 2: the identity file of the MF_VITALE application, one `65`
//! object per beneficiary (`80` surname, `81` first name, `82` birth date,
//! `90` nationality, `93` NIR) and a `66` object for the card.

use super::{files, nir, tlv, CardError};
use crate::apdu::Exchange;

/// "MF_VITALE" application.
pub const AID_MF_VITALE: &[u8] = b"\xD2\x50\x00\x00\x02MF_VITALE";
/// Identity EF inside MF_VITALE.
const EF_IDENTITY: [u8; 2] = [0xD0, 0x01];
/// Vitale 2 cards accept a full 256-byte READ BINARY.
const CHUNK: usize = 256;
/// A card holds a handful of beneficiaries; more is a broken or hostile card.
const MAX_BENEFICIARIES: usize = 16;

/// A birth date as the card holds it. Lunar dates (a month or day that is not
/// a calendar value) are legal and must be kept as they are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BirthDate {
    pub raw: String,
    /// `YYYY-MM-DD` when `raw` is a calendar date, else `None`.
    pub iso: Option<String>,
    pub lunar: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Beneficiary {
    /// The 13-character NIR.
    pub nir: String,
    pub nir_key: String,
    pub nir_valid: bool,
    pub surname: String,
    pub first_name: String,
    pub birth_date: BirthDate,
    pub nationality: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VitaleData {
    pub beneficiaries: Vec<Beneficiary>,
    pub validity_start: Option<String>,
}

/// Reads every beneficiary of a Vitale 2 card.
pub fn read(ex: &mut dyn Exchange) -> Result<VitaleData, CardError> {
    files::select_aid(ex, AID_MF_VITALE, "SELECT MF_VITALE")?;
    let size = files::select_ef(ex, 0x02, &EF_IDENTITY, "SELECT identity EF")?;
    let raw = files::read_binary(ex, size, CHUNK, "READ identity EF")?;
    parse_identity(&raw)
}

/// Decodes the identity file. Any malformed object fails the whole read: a
/// partial list of beneficiaries is never returned.
pub fn parse_identity(raw: &[u8]) -> Result<VitaleData, CardError> {
    let objects =
        tlv::parse_all(raw).ok_or_else(|| CardError::Malformed("identity file is not BER-TLV".into()))?;
    let mut data = VitaleData {
        beneficiaries: Vec::new(),
        validity_start: None,
    };
    for obj in &objects {
        if tlv::has_tag(obj, 0x65) {
            if data.beneficiaries.len() >= MAX_BENEFICIARIES {
                return Err(CardError::Malformed("too many beneficiaries".into()));
            }
            data.beneficiaries.push(beneficiary(obj)?);
        } else if tlv::has_tag(obj, 0x66) {
            data.validity_start = tlv::child(obj, 0x80).map(text);
        }
    }
    Ok(data)
}

fn beneficiary(obj: &iso7816_tlv::ber::Tlv) -> Result<Beneficiary, CardError> {
    let field = |tag: u8, name: &str| {
        tlv::child(obj, tag)
            .map(text)
            .ok_or_else(|| CardError::Malformed(format!("beneficiary without {name}")))
    };
    let full_nir = field(0x93, "NIR")?;
    let (number, key, valid) = nir::split(&full_nir)
        .ok_or_else(|| CardError::Malformed("NIR is not 15 characters".into()))?;
    Ok(Beneficiary {
        nir: number.to_string(),
        nir_key: key.to_string(),
        nir_valid: valid,
        surname: field(0x80, "surname")?,
        first_name: field(0x81, "first name")?,
        birth_date: birth_date(&field(0x82, "birth date")?),
        nationality: tlv::child(obj, 0x90).map(text),
    })
}

/// Card text is single-byte: map each byte to its Latin-1 character, trimmed.
fn text(bytes: &[u8]) -> String {
    let s: String = bytes.iter().map(|&b| b as char).collect();
    s.trim_end_matches([' ', '\0']).to_string()
}

fn birth_date(raw: &str) -> BirthDate {
    let iso = calendar_date(raw);
    BirthDate {
        raw: raw.to_string(),
        lunar: iso.is_none(),
        iso,
    }
}

/// `AAAAMMJJ` → `AAAA-MM-JJ` when it names a real day.
fn calendar_date(raw: &str) -> Option<String> {
    if raw.len() != 8 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: u32 = raw[0..4].parse().ok()?;
    let m: u32 = raw[4..6].parse().ok()?;
    let d: u32 = raw[6..8].parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days)
        .contains(&d)
        .then(|| format!("{}-{}-{}", &raw[0..4], &raw[4..6], &raw[6..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(tag: u8, fields: &[(u8, &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (t, v) in fields {
            body.push(*t);
            body.push(v.len() as u8);
            body.extend_from_slice(v.as_bytes());
        }
        let mut out = vec![tag, body.len() as u8];
        out.extend(body);
        out
    }

    #[test]
    fn decodes_beneficiaries_and_lunar_dates() {
        let mut raw = obj(0x65, &[(0x80, "MARTIN"), (0x81, "JEAN"), (0x82, "19800412"), (0x93, "185057800608491")]);
        raw.extend(obj(0x65, &[(0x80, "MARTIN"), (0x81, "LEA"), (0x82, "20150035"), (0x93, "185057800608492")]));
        raw.extend(obj(0x66, &[(0x80, "20230115")]));
        let d = parse_identity(&raw).unwrap();
        assert_eq!(d.beneficiaries.len(), 2);
        let a = &d.beneficiaries[0];
        assert_eq!((a.nir.as_str(), a.nir_key.as_str(), a.nir_valid), ("1850578006084", "91", true));
        assert_eq!(a.birth_date.iso.as_deref(), Some("1980-04-12"));
        let b = &d.beneficiaries[1];
        assert!(b.birth_date.lunar && b.birth_date.iso.is_none() && !b.nir_valid);
        assert_eq!(d.validity_start.as_deref(), Some("20230115"));
    }

    #[test]
    fn a_broken_beneficiary_fails_the_whole_read() {
        let mut raw = obj(0x65, &[(0x80, "A"), (0x81, "B"), (0x82, "19800412"), (0x93, "185057800608491")]);
        raw.extend(obj(0x65, &[(0x80, "A"), (0x81, "B")]));
        assert!(parse_identity(&raw).is_err());
        assert!(parse_identity(&[0x65, 0x10, 0x80]).is_err());
    }

    #[test]
    fn calendar_rules() {
        assert!(calendar_date("20000229").is_some());
        assert!(calendar_date("19000229").is_none());
        assert!(calendar_date("19801300").is_none());
        assert!(calendar_date("1980041").is_none());
    }
}
