//! `read_info`: what a CPS says about itself and its holder, without the PIN.
//! Data objects first, then the certificate's subject and ANS extensions,
//! then the "last 4 characters" rule; every fallback taken is a warning.

use super::super::codes::{coded, Coded, Table};
use super::super::pkcs15::{read_object, read_object_optional, ObjectPath};
use super::super::{cert, CardError};
use super::layout::{self, Layout};
use super::objects::{self, Name};
use super::pin::{self, PinStatus};
use super::stamp::{self, Actua, CardStamp};
use super::{select, KeyUsage};
use crate::apdu::Exchange;
use crate::card::profile::{CpsProfile, Generation};
use serde::Serialize;
use std::time::SystemTime;

/// The holder, as the card names them (the API's type). Never logged.
pub use lecteur_proto::cps::Holder as CpsHolder;

/// One certificate of the card (the API's type).
pub use lecteur_proto::cps::Certificate as CertificateInfo;

/// What a CPS says of itself and its holder, read without the PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CpsCardInfo {
    /// `cps3` or `cps4`.
    pub generation: &'static str,
    /// The card serial number (EF.SN.ICC).
    pub serial: String,
    /// G02: CPS, CPF, CPE, CPA.
    pub card_type: Option<Coded>,
    /// G01: real or test card.
    pub category: Option<Coded>,
    /// Raw `AAAAMMJJ` from CPS_ID_CARD.
    pub validity_start: Option<String>,
    /// Raw `AAAAMMJJ` from CPS_ID_CARD.
    pub validity_end: Option<String>,
    /// The holder.
    pub holder: CpsHolder,
    /// G15.
    pub profession: Option<Coded>,
    /// Raw professional category from CPS_INFO_PS.
    pub professional_category: Option<String>,
    /// R01.
    pub specialty: Option<Coded>,
    /// The signature and authentication certificates.
    pub certificates: Vec<CertificateInfo>,
    /// The PIN's tries.
    pub pin: PinStatus,
    /// EF_ACTUA decoded, `null` when absent or not decodable.
    pub actua: Option<Actua>,
    /// The cache stamp of this reading.
    pub stamp: CardStamp,
    /// What could not be read or was found elsewhere than expected.
    pub warnings: Vec<String>,
}

/// Reads everything but the situations, at the current time.
pub fn read_info(ex: &mut dyn Exchange, profile: &CpsProfile) -> Result<CpsCardInfo, CardError> {
    read_info_at(ex, profile, SystemTime::now())
}

/// [`read_info`] with the clock given (the `expired` flags).
pub fn read_info_at(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    now: SystemTime,
) -> Result<CpsCardInfo, CardError> {
    select::select_app(ex, profile)?;
    let stamp = stamp::read_stamp_selected(ex, profile)?;
    let mut warnings = Vec::new();
    let actua = match stamp.actua.as_deref().map(stamp::parse_actua) {
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => {
            warnings.push(e.to_string());
            None
        }
        None => None,
    };
    let layout = layout::resolve(ex, profile)?;
    warnings.extend(layout.warnings.iter().cloned());
    let o = &profile.objects;
    let id = object(ex, profile, &layout.id_card, "CPS_ID_CARD", &mut warnings, |r| {
        objects::id_card(r, &o.id_card)
    })?;
    let name = object(ex, profile, &layout.name, "CPS_NAME_PS", &mut warnings, |r| {
        objects::name(r, &o.name)
    })?;
    let info = object(ex, profile, &layout.info, "CPS_INFO_PS", &mut warnings, |r| {
        objects::info(r, &o.info)
    })?;
    let certs = certificates(ex, profile, &layout, now)?;
    let pin = pin::status(ex, profile)?;
    let (id, name, info) = (
        id.unwrap_or_default(),
        name.unwrap_or_default(),
        info.unwrap_or_default(),
    );
    if info.specialty_guessed {
        warnings.push("specialty taken from the last 4 characters of CPS_INFO_PS".into());
    }
    // The authentication certificate backs up the data objects.
    let c = &certs[1].1;
    let mut or_cert = |own: Option<String>, cert: Option<String>, what: &str| {
        own.or_else(|| {
            let v = cert?;
            warnings.push(format!("{what} taken from the certificate"));
            Some(v)
        })
    };
    let card_type = or_cert(id.card_type, c.card_type.map(|t| format!("{t:02}")), "card type");
    let profession = or_cert(
        info.profession,
        c.profession.map(|p| format!("{p:02}")),
        "profession",
    );
    let specialty = or_cert(info.specialty, c.specialty.clone(), "specialty");
    let holder = holder(&name, c, &mut warnings);
    Ok(CpsCardInfo {
        generation: match profile.generation {
            Generation::Cps3 => "cps3",
            Generation::Cps4 => "cps4",
        },
        serial: stamp.serial.clone(),
        card_type: card_type.map(|t| coded(Table::G02, &t)),
        category: id.category.map(|t| coded(Table::G01, &t)),
        validity_start: id.validity_start,
        validity_end: id.validity_end,
        holder,
        profession: profession.map(|p| coded(Table::G15, &p)),
        professional_category: info.category,
        specialty: specialty.map(|s| coded(Table::R01, &s)),
        certificates: certs.into_iter().map(|(c, _)| c).collect(),
        pin,
        actua,
        stamp,
        warnings,
    })
}

/// Reads and decodes a free data object. Absent, unreadable or undecodable
/// means `None` and a warning (the certificate backs it up); a card that
/// stops answering fails the read.
fn object<T>(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    p: &ObjectPath,
    label: &str,
    warnings: &mut Vec<String>,
    decode: impl Fn(&[u8]) -> Result<T, CardError>,
) -> Result<Option<T>, CardError> {
    let raw = match read_object_optional(ex, &layout::reader(profile), p, "READ data object") {
        Ok(Some(raw)) if !objects::is_empty(&raw) => raw,
        Ok(_) => {
            warnings.push(format!("{label} is absent or empty"));
            return Ok(None);
        }
        Err(e @ CardError::Link(_)) => return Err(e),
        Err(e) => {
            warnings.push(format!("{label}: {e}"));
            return Ok(None);
        }
    };
    match decode(&raw) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            warnings.push(format!("{label}: {e}"));
            Ok(None)
        }
    }
}

/// Both certificates, signature first. They are the card's reason to be: a
/// missing or broken one fails the read.
fn certificates(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    layout: &Layout,
    now: SystemTime,
) -> Result<Vec<(CertificateInfo, cert::CertInfo)>, CardError> {
    [KeyUsage::Signature, KeyUsage::Authentication]
        .into_iter()
        .map(|usage| {
            let der = read_object(
                ex,
                &layout::reader(profile),
                layout.certificate(usage),
                "READ certificate",
            )?;
            let c = cert::parse(&der)?;
            let info = CertificateInfo {
                usage,
                subject: c.subject.clone(),
                issuer: c.issuer.clone(),
                not_before: c.not_before.clone(),
                not_after: c.not_after.clone(),
                expired: c.expired_at(now),
                key_bits: c.key_bits,
                der,
            };
            Ok((info, c))
        })
        .collect()
}

fn holder(name: &Name, c: &cert::CertInfo, warnings: &mut Vec<String>) -> CpsHolder {
    let mut from_cert = false;
    let mut pick = |own: &Option<String>, cert: &Option<String>| {
        own.clone().or_else(|| {
            from_cert |= cert.is_some();
            cert.clone()
        })
    };
    let national_id = pick(&name.national_id, &c.national_id);
    let surname = pick(&name.surname, &c.surname);
    let given_name = pick(&name.given_name, &c.given_name);
    if from_cert {
        warnings.push("holder taken from the certificate".into());
    }
    // The type is its own field, or the first character of the identifier.
    let id_type = name
        .id_type
        .clone()
        .or_else(|| national_id.as_ref().and_then(|n| n.get(..1)).map(str::to_string));
    let id_number = match (&national_id, &id_type) {
        (Some(n), Some(t)) => n.strip_prefix(t.as_str()).map(|s| s.trim().to_string()),
        _ => None,
    };
    CpsHolder {
        national_id,
        id_type: id_type.map(|t| coded(Table::G08, &t)),
        id_number,
        surname,
        given_name,
        civility: name.civility.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::testutil::{cons, tlv};

    fn cert_info() -> cert::CertInfo {
        cert::parse(include_bytes!("../../../firmware-sim/fixtures/ca.cert.der")).unwrap()
    }

    #[test]
    fn holder_from_the_name_object_or_the_certificate() {
        let name = Name {
            id_type: Some("0".into()),
            national_id: Some("0751234567".into()),
            surname: Some("DURAND".into()),
            ..Name::default()
        };
        let mut c = cert_info();
        c.given_name = Some("MARIE".into());
        let mut w = Vec::new();
        let h = holder(&name, &c, &mut w);
        assert_eq!(h.id_number.as_deref(), Some("751234567"));
        assert_eq!(h.id_type.as_ref().unwrap().label.as_deref(), Some("N° ADELI"));
        assert_eq!(h.given_name.as_deref(), Some("MARIE"));
        assert_eq!(w, ["holder taken from the certificate"]);
        assert_eq!(format!("{h:?}"), "Holder { .. }");

        c.national_id = Some("899900038839".into());
        let h = holder(&Name::default(), &c, &mut w);
        assert_eq!(h.id_type.unwrap().code, "8");
        assert_eq!(h.id_number.as_deref(), Some("99900038839"));
    }

    #[test]
    fn free_objects_degrade_to_warnings() {
        use crate::apdu::replay::Replay;
        use crate::card::profile::Profiles;
        let p = &Profiles::builtin().unwrap().cps3;
        let path = ObjectPath {
            path: vec![0x3F, 0x00, 0xD1, 0x01],
            offset: None,
            length: None,
        };
        let mut w = Vec::new();
        let mut r = Replay::new([("00A4090404 3F00D101", "6982")]);
        let v = object(&mut r, p, &path, "X", &mut w, |_| Ok(())).unwrap();
        assert!(v.is_none() && w.len() == 1);
        let body = cons(&[0xE1], &[tlv(&[0x80], b"00")]);
        let mut steps = crate::card::testutil::read_steps(0, &path.path, &body, 0xE7);
        steps.truncate(1);
        let mut r = Replay::new(steps);
        // The card stops answering mid-read: no result at all.
        assert!(object(&mut r, p, &path, "X", &mut w, |_| Ok(())).is_err());
    }
}
