//! Where a CPS keeps its objects: found through PKCS#15 by label, each object
//! falling back to the profile's pinned file id (noted in `warnings`).

use super::super::files::Reader;
use super::super::pkcs15::{self, ObjectPath, Pkcs15, Start};
use super::super::CardError;
use super::KeyUsage;
use crate::apdu::Exchange;
use crate::card::profile::CpsProfile;

/// Where each object of a CPS is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The PKCS#15 directory, when it could be read.
    pub pkcs15: Option<Pkcs15>,
    /// The signature certificate.
    pub signature_certificate: ObjectPath,
    /// The authentication certificate.
    pub authentication_certificate: ObjectPath,
    /// The card's data object (the profile's `labels.id_card`, CPS_ID_CARD).
    pub id_card: ObjectPath,
    /// The holder's names (`labels.name`, CPS_NAME_PS).
    pub name: ObjectPath,
    /// The holder's professional data (`labels.info`, CPS_INFO_PS).
    pub info: ObjectPath,
    /// (index 1..=16, where).
    pub situations: Vec<(u8, ObjectPath)>,
    /// The objects found at the profile's file id, not through PKCS#15.
    pub warnings: Vec<String>,
}

impl Layout {
    /// The certificate of this key.
    pub fn certificate(&self, usage: KeyUsage) -> &ObjectPath {
        match usage {
            KeyUsage::Signature => &self.signature_certificate,
            KeyUsage::Authentication => &self.authentication_certificate,
        }
    }
}

pub(super) fn reader(profile: &CpsProfile) -> Reader {
    Reader {
        cla: profile.application.cla,
        chunk: profile.read.chunk,
        select: profile.read.select,
    }
}

fn pinned(path: &[u8]) -> ObjectPath {
    ObjectPath {
        path: path.to_vec(),
        offset: None,
        length: None,
    }
}

/// The layout from the profile alone.
pub(super) fn pinned_layout(profile: &CpsProfile) -> Layout {
    let f = &profile.files;
    Layout {
        pkcs15: None,
        signature_certificate: pinned(&f.signature_certificate.0),
        authentication_certificate: pinned(&f.authentication_certificate.0),
        id_card: pinned(&f.id_card.0),
        name: pinned(&f.name.0),
        info: pinned(&f.info.0),
        situations: (1..=f.situations.count)
            .filter_map(|i| Some((i, pinned(&f.situation(i)?))))
            .collect(),
        warnings: Vec::new(),
    }
}

/// Discovers the layout (the application must be selected). Only a link
/// error fails: anything the card answers badly means the pinned ids.
pub(super) fn resolve(ex: &mut dyn Exchange, profile: &CpsProfile) -> Result<Layout, CardError> {
    let mut layout = pinned_layout(profile);
    if !profile.discovery.pkcs15 {
        return Ok(layout);
    }
    let start = Start {
        dir: &profile.discovery.dir.0,
        aid: profile.discovery.dir_aid(&profile.application),
        default_app: &profile.application.path.0,
        odf: profile.discovery.odf.0,
    };
    let p = match pkcs15::discover(ex, &reader(profile), &start) {
        Ok(p) => p,
        Err(e @ CardError::Link(_)) => return Err(e),
        Err(e) => {
            layout.warnings.push(format!(
                "PKCS#15 discovery failed ({e}); using the profile's file ids"
            ));
            return Ok(layout);
        }
    };
    let l = &profile.labels;
    let w = &mut layout.warnings;
    let mut pick = |found: Option<&ObjectPath>, label: &str, slot: &mut ObjectPath| match found {
        Some(p) => *slot = p.clone(),
        None => w.push(format!(
            "{label} is not in the PKCS#15 directory; using the profile's file id"
        )),
    };
    pick(
        p.certificate(&l.signature_certificate).map(|c| &c.path),
        &l.signature_certificate,
        &mut layout.signature_certificate,
    );
    pick(
        p.certificate(&l.authentication_certificate).map(|c| &c.path),
        &l.authentication_certificate,
        &mut layout.authentication_certificate,
    );
    pick(
        p.data_object(&l.id_card).map(|d| &d.path),
        &l.id_card,
        &mut layout.id_card,
    );
    pick(p.data_object(&l.name).map(|d| &d.path), &l.name, &mut layout.name);
    pick(p.data_object(&l.info).map(|d| &d.path), &l.info, &mut layout.info);
    let listed: Vec<(u8, ObjectPath)> = (1..=16)
        .filter_map(|i| Some((i, p.data_object(&l.situation(i))?.path.clone())))
        .collect();
    // The card lists the situations it has; none listed means the pinned ones.
    if !listed.is_empty() {
        layout.situations = listed;
    }
    check_consistency(profile, &p, &mut layout.warnings);
    layout.pkcs15 = Some(p);
    Ok(layout)
}

/// Where the card's own PKCS#15 data disagrees with the profile, say so: the
/// profile wins, but the warning is how a real card corrects the profile.
fn check_consistency(profile: &CpsProfile, p: &Pkcs15, warnings: &mut Vec<String>) {
    if let Some(pin) = p.user_pin() {
        if pin.reference.is_some_and(|r| r != profile.pin.reference) {
            warnings.push(format!(
                "the AODF gives PIN reference {:02X}, the profile {:02X}",
                pin.reference.unwrap_or_default(),
                profile.pin.reference
            ));
        }
        if pin.min != profile.pin.min_length || pin.max.is_some_and(|m| m != profile.pin.max_length) {
            warnings.push("the AODF's PIN lengths differ from the profile's".into());
        }
        if pin.needs_padding != profile.pin.padding.is_some() {
            warnings.push("the AODF's PIN padding differs from the profile's".into());
        }
    }
    for (label, key) in [
        (&profile.labels.signature_key, profile.keys.signature),
        (&profile.labels.authentication_key, profile.keys.authentication),
    ] {
        if let Some(k) = p.key(label) {
            if k.modulus_bits.is_some_and(|m| m != key.modulus_bits) {
                warnings.push(format!(
                    "{label}: the PrKDF gives another key size than the profile"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;
    use crate::card::profile::Profiles;
    use crate::card::testutil::{h, read_steps};

    #[test]
    fn a_failed_discovery_means_pinned_ids_with_a_warning() {
        let p = &Profiles::builtin().unwrap().cps3;
        let mut r = Replay::new([
            ("00A4090404 3F002F00", "6A82"),
            ("00A4090406 3F0000015031", "6A82"),
        ]);
        let l = resolve(&mut r, p).unwrap();
        assert_eq!(l.signature_certificate.path, h("3F000001E001"));
        assert_eq!(l.situations.len(), 16);
        assert_eq!(l.situations[15].1.path, h("3F000001D12F"));
        assert_eq!(l.warnings.len(), 1);
        // A card pulled out: the error goes up.
        let mut r = Replay::new(Vec::<(String, String)>::new());
        assert!(matches!(resolve(&mut r, p), Err(CardError::Link(_))));
    }

    #[test]
    fn a_cps4_finds_its_application_by_the_cps3_pkcs15_aid() {
        use crate::card::testutil::{cons, hx, tlv};
        let p = &Profiles::builtin().unwrap().cps4;
        // EF.DIR lists the PKCS#15 AID (not ChipDoc's) with a DF that is not
        // the profile's default: discovery must go there.
        let dir = cons(
            &[0x61],
            &[
                tlv(&[0x4F], &h("E828BD080F8025000001FF0010")),
                tlv(&[0x51], &h("3F000002")),
            ],
        );
        let mut r = Replay::new([
            (
                "01A4000402 2F00".to_string(),
                format!("6204 8002{:04X} 9000", dir.len()),
            ),
            (format!("01B00000{:02X}", dir.len()), format!("{}9000", hx(&dir))),
            ("01A4090402 5031".into(), "6A82".into()),
            ("01A4000C02 0002".into(), "9000".into()),
            ("01A4090402 5031".into(), "6204 80020002 9000".into()),
            ("01B0000002".into(), "00009000".into()),
        ]);
        let l = resolve(&mut r, p).unwrap();
        r.finish();
        assert_eq!(l.pkcs15.unwrap().application_path, h("3F000002"));
        // The ChipDoc AID alone in EF.DIR: not the PKCS#15 application, so
        // the profile's default DF.
        let dir = cons(
            &[0x61],
            &[tlv(&[0x4F], &h("8025000001FF0100")), tlv(&[0x51], &h("3F000002"))],
        );
        let mut r = Replay::new([
            (
                "01A4000402 2F00".to_string(),
                format!("6204 8002{:04X} 9000", dir.len()),
            ),
            (format!("01B00000{:02X}", dir.len()), format!("{}9000", hx(&dir))),
            ("01A4090402 5031".into(), "6204 80020002 9000".into()),
            ("01B0000002".into(), "00009000".into()),
        ]);
        let l = resolve(&mut r, p).unwrap();
        r.finish();
        assert_eq!(l.pkcs15.unwrap().application_path, h("3F000001"));
    }

    #[test]
    fn discovered_objects_win() {
        use crate::card::pkcs15::tests as fx;
        let p = &Profiles::builtin().unwrap().cps3;
        let mut steps = read_steps(0, &h("3F002F00"), &fx::ef_dir(), 0xE7);
        steps.extend(read_steps(0, &h("3F0000015031"), &fx::odf(), 0xE7));
        steps.extend(read_steps(0, &h("3F0000015001"), &fx::prkdf(), 0xE7));
        steps.extend(read_steps(0, &h("3F0000015002"), &fx::cdf(), 0xE7));
        steps.extend(read_steps(0, &h("3F0000015003"), &fx::aodf(), 0xE7));
        steps.extend(read_steps(0, &h("3F0000015004"), &fx::dodf(), 0xE7));
        let mut r = Replay::new(steps);
        let l = resolve(&mut r, p).unwrap();
        r.finish();
        assert_eq!(l.situations.len(), 1);
        assert_eq!(l.id_card.path, h("3F000001D101"));
        // CPS_NAME_PS and CPS_INFO_PS are not in this DODF.
        assert_eq!(l.warnings.len(), 2, "{:?}", l.warnings);
        assert!(l.warnings[0].starts_with("CPS_NAME_PS"), "{:?}", l.warnings);
    }
}
