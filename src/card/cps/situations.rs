//! `read_situations`: the holder's "situations d'exercice"
//! (`CPS_ACTIVITY_01_PS` … `_16_PS`), readable only once the PIN is verified.

use super::super::codes::{coded, Table};
use super::super::pkcs15::read_object;
use super::super::{files, CardError};
use super::objects::{self, RawObject};
use super::{layout, select};
use crate::apdu::Exchange;
use crate::card::profile::CpsProfile;

/// A situation d'exercice, as the API gives it.
pub use lecteur_proto::cps::Situation;

/// Every situation in use, in index order. `PinRequired` when the card
/// refuses (69 82); a malformed situation fails the whole read.
pub fn read_situations(ex: &mut dyn Exchange, profile: &CpsProfile) -> Result<Vec<Situation>, CardError> {
    select::select_app(ex, profile)?;
    let layout = layout::resolve(ex, profile)?;
    situations_in(ex, profile, &layout)
}

/// What a CPS keeps behind the PIN: the situations, and (a CPS3) the
/// CPS2ter volet's objects, raw (`CPS2TER_ACTIVITY_nn_PS` for each situation
/// the DODF lists, `CPS_SIT_FACT`), with one layout discovery.
pub(super) fn read_private(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
) -> Result<(Vec<Situation>, Vec<RawObject>), CardError> {
    select::select_app(ex, profile)?;
    let layout = layout::resolve(ex, profile)?;
    let situations = situations_in(ex, profile, &layout)?;
    let listed: Vec<u8> = layout.situations.iter().map(|(i, _)| *i).collect();
    let volet = super::cps2ter::read_objects(ex, profile, &listed)?;
    Ok((situations, volet))
}

fn situations_in(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    layout: &layout::Layout,
) -> Result<Vec<Situation>, CardError> {
    let reader = layout::reader(profile);
    let mut out = Vec::new();
    for (index, path) in &layout.situations {
        let raw = match read_object(ex, &reader, path, "READ situation") {
            Ok(raw) => raw,
            Err(e) if files::is_absent(&e) => continue,
            Err(e) if files::is_denied(&e) => return Err(CardError::PinRequired),
            Err(e) => return Err(e),
        };
        if objects::is_empty(&raw) {
            continue;
        }
        let f = objects::situation(&raw, &profile.objects.situation)?;
        out.push(Situation {
            index: *index,
            structure_name: f.structure_name,
            structure_id: f.structure_id,
            structure_id_type: f.structure_id_type.map(|t| coded(Table::G07, &t)),
            sector: f.sector.map(|s| coded(Table::R02, &s)),
            mode: f.mode,
            status: f.status,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;
    use crate::card::profile::Profiles;
    use crate::card::testutil::{absent_step, cons, h, read_steps, tlv};

    fn cps3_pinned() -> CpsProfile {
        let mut p = (*Profiles::builtin().unwrap().cps3).clone();
        p.discovery.pkcs15 = false;
        p.files.situations.count = 4;
        p
    }

    fn select() -> (String, String) {
        ("00A4040C0D E828BD080F8025000001FF0010".into(), "9000".into())
    }

    #[test]
    fn reads_the_situations_in_use() {
        let p = cps3_pinned();
        let s1 = cons(
            &[0xEE],
            &[
                tlv(&[0x82], b"1"),
                tlv(&[0x84], b"CENTRE HOSPITALIER"),
                tlv(&[0x85], b"1750000000"),
                tlv(&[0x86], b"SA01"),
            ],
        );
        let mut steps = vec![select()];
        steps.extend(read_steps(0, &h("3F000001D120"), &s1, 0xE7));
        steps.extend(read_steps(0, &h("3F000001D121"), &[0; 40], 0xE7));
        steps.push(absent_step(0, &h("3F000001D122")));
        steps.extend(read_steps(
            0,
            &h("3F000001D123"),
            &cons(&[0xEE], &[tlv(&[0x86], b"SA99")]),
            0xE7,
        ));
        let mut r = Replay::new(steps);
        let s = read_situations(&mut r, &p).unwrap();
        r.finish();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].index, 1);
        assert_eq!(
            s[0].structure_id_type.as_ref().unwrap().label.as_deref(),
            Some("N° FINESS")
        );
        assert_eq!(
            s[0].sector.as_ref().unwrap().label.as_deref(),
            Some("Etablissement public de santé")
        );
        assert_eq!(
            (s[1].index, s[1].sector.as_ref().unwrap().label.as_ref()),
            (4, None)
        );
        let json = serde_json::to_value(&s[1]).unwrap();
        assert_eq!(json["sector"], serde_json::json!({"code": "SA99", "label": null}));
    }

    #[test]
    fn without_the_pin_it_says_so() {
        let p = cps3_pinned();
        let mut r = Replay::new([select(), ("00A4090406 3F000001D120".into(), "6982".into())]);
        assert_eq!(read_situations(&mut r, &p), Err(CardError::PinRequired));
        let mut steps = vec![select()];
        steps.extend(read_steps(0, &h("3F000001D120"), &[0xEE, 0x09, 0x84], 0xE7));
        let mut r = Replay::new(steps);
        assert!(matches!(
            read_situations(&mut r, &p),
            Err(CardError::Malformed(_))
        ));
    }
}
