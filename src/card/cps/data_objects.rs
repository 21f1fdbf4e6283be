//! The CPS data objects as raw bytes, by PKCS#15 label (what Cryptolib gives
//! as `CKA_VALUE`): every object of the DODF, or, when discovery failed, the
//! objects whose file ids the profile pins; then, on a CPS3, the CPS2ter
//! volet's objects as Cryptolib adds them (`CPS2TER_ACTIVITY_nn_PS`,
//! `CPS_SIT_FACT`). Private objects (the situations, the CPS2ter ones) are
//! read only when the caller says the PIN is verified.

use super::super::files;
use super::super::pkcs15::{read_object, ObjectPath};
use super::super::CardError;
use super::objects::RawObject;
use super::{layout, select};
use crate::apdu::Exchange;
use crate::card::profile::CpsProfile;

/// Reads the data objects, in the card's order. An absent file is left out;
/// a private object the card refuses means `PinRequired`.
pub fn read_data_objects(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    verified: bool,
) -> Result<Vec<RawObject>, CardError> {
    select::select_app(ex, profile)?;
    let l = layout::resolve(ex, profile)?;
    let listed: Vec<(String, bool, ObjectPath)> = match &l.pkcs15 {
        Some(p) => p
            .data_objects
            .iter()
            .map(|d| (d.label.clone(), d.private, d.path.clone()))
            .collect(),
        None => pinned(profile, &l),
    };
    let reader = layout::reader(profile);
    let mut out = Vec::new();
    for (label, private, path) in listed {
        if private && !verified {
            continue;
        }
        match read_object(ex, &reader, &path, "READ data object") {
            Ok(value) => out.push(RawObject {
                label,
                private,
                value,
            }),
            Err(e) if files::is_absent(&e) => {}
            Err(e) if private && files::is_denied(&e) => return Err(CardError::PinRequired),
            Err(e) => return Err(e),
        }
    }
    if verified {
        let listed: Vec<u8> = l.situations.iter().map(|(i, _)| *i).collect();
        out.extend(super::cps2ter::read_objects(ex, profile, &listed)?);
    }
    Ok(out)
}

/// The objects the profile pins (no `CPS_LANG_PS`: it has no pinned id).
fn pinned(profile: &CpsProfile, l: &layout::Layout) -> Vec<(String, bool, ObjectPath)> {
    let n = &profile.labels;
    let mut v = vec![
        (n.id_card.clone(), false, l.id_card.clone()),
        (n.name.clone(), false, l.name.clone()),
        (n.info.clone(), false, l.info.clone()),
    ];
    if let Some(data) = &profile.files.data {
        let path = ObjectPath {
            path: data.0.clone(),
            offset: None,
            length: None,
        };
        v.push((n.data.clone(), false, path));
    }
    v.extend(
        l.situations
            .iter()
            .map(|(i, p)| (n.situation(*i), true, p.clone())),
    );
    v
}
