use super::pointers::tests::pointers;
use super::*;
use crate::apdu::replay::Replay;
use crate::card::profile::{PeriodTags, Tag};
use crate::card::testutil::{cons, h, hx, tlv, Rng};

fn obj(tag: u8, fields: &[(u8, &str)]) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = fields.iter().map(|(t, v)| tlv(&[*t], v.as_bytes())).collect();
    cons(&[tag], &parts)
}

fn profile() -> VitaleProfile {
    (*Profiles::builtin().unwrap().vitale2).clone()
}

fn identity() -> Vec<u8> {
    let mut raw = obj(
        0x65,
        &[
            (0x80, "MARTIN"),
            (0x81, "JEAN"),
            (0x82, "19800412"),
            (0x90, "FR"),
            (0x93, "185057800608491"),
        ],
    );
    raw.extend(obj(
        0x65,
        &[
            (0x80, "MARTIN"),
            (0x81, "LEA"),
            (0x82, "20150035"),
            (0x93, "185057800608492"),
        ],
    ));
    raw.extend(obj(0x66, &[(0x80, "20230115")]));
    raw
}

#[test]
fn decodes_beneficiaries_and_lunar_dates() {
    let d = parse_identity(&identity()).unwrap();
    assert_eq!(d.beneficiaries.len(), 2);
    let a = &d.beneficiaries[0];
    assert_eq!(
        (a.nir.as_str(), a.nir_key.as_str(), a.nir_valid),
        ("1850578006084", "91", true)
    );
    assert_eq!(a.birth_date.iso.as_deref(), Some("1980-04-12"));
    assert_eq!(a.nationality.as_deref(), Some("FR"));
    assert_eq!(
        a.nir_parts.as_ref().unwrap().sex_label.as_deref(),
        Some("masculin")
    );
    let b = &d.beneficiaries[1];
    assert!(b.birth_date.lunar && b.birth_date.iso.is_none() && !b.nir_valid);
    assert_eq!(b.birth_date.computation_date.as_deref(), Some("2015-01-01"));
    assert_eq!(d.validity_start.as_deref(), Some("20230115"));
    assert!(d.extra.is_empty() && d.beneficiaries[0].extra.is_empty());
    assert_eq!(format!("{a:?}"), "Beneficiary { .. }");
}

#[test]
fn a_broken_beneficiary_fails_the_whole_read() {
    let mut raw = identity();
    raw.extend(obj(0x65, &[(0x80, "A"), (0x81, "B")]));
    assert!(parse_identity(&raw).is_err());
    assert!(parse_identity(&[0x65, 0x10, 0x80]).is_err());
    let bad_nir = obj(
        0x65,
        &[(0x80, "A"), (0x81, "B"), (0x82, "19800412"), (0x93, "1850578")],
    );
    assert!(parse_identity(&bad_nir).is_err());
}

#[test]
fn unmapped_objects_come_back_as_extra() {
    let mut raw = obj(
        0x65,
        &[
            (0x80, "A"),
            (0x81, "B"),
            (0x82, "800412"),
            (0x93, "185057800608491"),
            (0xA5, "x"),
            (0x80, "DUP"),
        ],
    );
    raw.extend(obj(0x66, &[(0x80, "20230115"), (0x81, "20330115")]));
    raw.extend(tlv(&[0x7F, 0x21], &[1, 2, 3]));
    let d = parse_identity(&raw).unwrap();
    let b = &d.beneficiaries[0];
    assert!(b.birth_date.year_only && b.birth_date.computation_date.is_none());
    let e: Vec<(&str, &str, &str)> = b
        .extra
        .iter()
        .map(|e| (e.path.as_str(), e.tag.as_str(), e.hex.as_str()))
        .collect();
    assert_eq!(e, [("D001/65[1]", "A5", "78"), ("D001/65[1]", "80", "445550")]);
    let e: Vec<(&str, &str)> = d
        .extra
        .iter()
        .map(|e| (e.path.as_str(), e.tag.as_str()))
        .collect();
    // 7F21 is named (cardpeek's "Certificat"), not left in `extra`.
    assert_eq!(e, [("D001/66[1]", "81")]);
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(
        json["certificates"][0],
        serde_json::json!({"file": "D001", "certificate": "010203", "ca_signature": null, "public_key_remainder": null})
    );
    assert_eq!(
        json["beneficiaries"][0]["rights"]["amo_periods"],
        serde_json::json!([])
    );
}

#[test]
fn a_profile_can_map_rights() {
    let mut p = profile();
    let m = &mut p.tags.beneficiary_fields;
    m.regime = Some(Tag(vec![0x85]));
    m.amo_periods = Some(PeriodTags {
        template: Tag(vec![0xA0]),
        start: Tag(vec![0x80]),
        end: Tag(vec![0x81]),
    });
    let period = |s: &str, e: &str| cons(&[0xA0], &[tlv(&[0x80], s.as_bytes()), tlv(&[0x81], e.as_bytes())]);
    let raw = cons(
        &[0x65],
        &[
            tlv(&[0x80], b"A"),
            tlv(&[0x81], b"B"),
            tlv(&[0x82], b"19800412"),
            tlv(&[0x93], b"185057800608491"),
            tlv(&[0x85], b"01"),
            period("20240101", "20241231"),
            period("20250101", ""),
        ],
    );
    let mut out = VitaleData::default();
    identity::decode(&raw, "D001", &p, &mut out).unwrap();
    let r = &out.beneficiaries[0].rights;
    assert_eq!(r.regime.as_deref(), Some("01"));
    assert_eq!(r.amo_periods.len(), 2);
    assert_eq!(r.amo_periods[1].end.as_deref(), Some(""));
    assert!(out.beneficiaries[0].extra.is_empty());
}

fn select(aid: &str) -> (String, String) {
    let aid = h(aid);
    (format!("00A4040C{:02X}{}", aid.len(), hx(&aid)), "9000".into())
}

fn file(fid: &str, content: &[u8]) -> Vec<(String, String)> {
    let mut steps = vec![(
        format!("00A4020402{fid}"),
        format!("6204 8002{:04X} 9000", content.len()),
    )];
    let mut off = 0;
    while off < content.len() {
        let n = 256.min(content.len() - off);
        steps.push((
            format!("00B0{off:04X}{:02X}", n as u8),
            format!("{}9000", hx(&content[off..off + n])),
        ));
        off += n;
    }
    steps
}

const VITALE: &str = "D250000002564954414C45";
const MF_VITALE: &str = "D2500000024D465F564954414C45";

#[test]
fn reads_through_pointers() {
    let ptr = pointers(&[
        (b"IDENTITE", [0, 1], [0xD0, 0x01]),
        (b"AUTRE   ", [0, 1], [0xD0, 0x02]),
        (b"CERTIF  ", [0, 1], [0xD0, 0x03]),
    ]);
    let mut steps = vec![select(VITALE)];
    steps.extend(file("2001", &ptr));
    steps.push(select(MF_VITALE));
    steps.extend(file("D001", &identity()));
    steps.extend(file("D002", &[0x04, 0x00, 0xAA]));
    let cert = h("7F21 09 5F37 02 AABB 5F38 01 CC");
    steps.extend(file("D003", &cert));
    // 2F02 (PAN), which POINTERS does not name, read in MF_VITALE as cardpeek does.
    steps.extend(file("2F02", &h("5A05 4200000001")));
    let mut r = Replay::new(steps);
    let d = read(&mut r).unwrap();
    r.finish();
    assert_eq!(d.beneficiaries.len(), 2);
    assert_eq!(d.extra_files.len(), 2);
    assert_eq!(
        (d.extra_files[0].name.as_str(), d.extra_files[0].hex.as_str()),
        ("AUTRE", "0400AA")
    );
    // Shown raw by cardpeek's rule (starts with 04 00): no certificate looked for.
    assert_eq!(d.certificates.len(), 1);
    let c = &d.certificates[0];
    assert_eq!(
        (
            c.file.as_str(),
            c.ca_signature.as_deref(),
            c.public_key_remainder.as_deref()
        ),
        ("D003", Some("AABB"), Some("CC"))
    );
    assert_eq!(d.pan.as_deref(), Some("5A054200000001"));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
}

/// A POINTERS the card fails to give (here `69 85` on its READ BINARY) is
/// an error, not a read of the identity EF alone: that could miss the
/// beneficiaries of the files POINTERS names.
#[test]
fn a_pointers_read_that_fails_is_an_error_not_a_partial_read() {
    let mut r = Replay::new([
        select(VITALE),
        ("00A40204022001".to_string(), "9000".to_string()),
        ("00B0000000".to_string(), "6985".to_string()),
    ]);
    let e = read(&mut r).unwrap_err();
    r.finish();
    assert!(
        matches!(
            e,
            CardError::Status {
                sw: crate::apdu::StatusWord::ConditionsNotSatisfied,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn without_pointers_the_profile_identity_is_read() {
    let mut steps = vec![(
        "00A4040C0B D250000002564954414C45".replace(' ', ""),
        "6A82".to_string(),
    )];
    steps.push(select(MF_VITALE));
    steps.extend(file("D001", &identity()));
    // No PAN on this card: fine, no warning.
    steps.push(("00A40204022F02".into(), "6A82".into()));
    let mut r = Replay::new(steps);
    let d = read(&mut r).unwrap();
    r.finish();
    assert_eq!(d.beneficiaries.len(), 2);
    assert_eq!((d.pan.as_deref(), d.warnings.len()), (None, 1));
    assert!(d.warnings[0].starts_with("POINTERS unusable"));

    // POINTERS listing a file the card refuses, and no identity file.
    let ptr = pointers(&[(b"SECRET  ", [0, 1], [0xD0, 0x09])]);
    let mut steps = vec![select(VITALE)];
    steps.extend(file("2001", &ptr));
    steps.push(select(MF_VITALE));
    steps.push(("00A4020402D009".into(), "6982".into()));
    steps.push(select(MF_VITALE));
    steps.extend(file("D001", &identity()));
    // A PAN the card refuses: a warning, the read goes on.
    steps.push(("00A40204022F02".into(), "6982".into()));
    let mut r = Replay::new(steps);
    let d = read(&mut r).unwrap();
    r.finish();
    assert_eq!(d.warnings.len(), 3, "{:?}", d.warnings);
    assert!(d.warnings[2].starts_with("PAN (2F02)"));
}

#[test]
fn a_card_pulled_mid_read_gives_no_result() {
    let mut steps = vec![select(VITALE)];
    steps.extend(file("2001", &pointers(&[(b"IDENTITE", [0, 1], [0xD0, 0x01])])));
    steps.push(select(MF_VITALE));
    let mut f = file("D001", &identity());
    f.pop();
    steps.extend(f);
    let mut r = Replay::new(steps);
    assert!(matches!(read(&mut r), Err(CardError::Link(_))));
}

#[test]
fn vitale_1_is_refused() {
    let mut r = Replay::new(Vec::<(String, String)>::new());
    let e = read_card(&mut r, CardKind::Vitale1, &profile()).unwrap_err();
    assert_eq!(
        e,
        CardError::Unsupported(
            "the Vitale 1 file layout is not public; read it through the SESAM-Vitale API".into()
        )
    );
    assert!(matches!(
        read_card(&mut r, CardKind::Cps3, &profile()),
        Err(CardError::Unsupported(_))
    ));
}

#[test]
fn random_bytes_never_panic() {
    let p = profile();
    let mut rng = Rng::new(65);
    let seeds = [identity(), obj(0x66, &[(0x80, "20230115")])];
    for input in rng.inputs(&seeds) {
        let mut out = VitaleData::default();
        let _ = identity::decode(&input, "D001", &p, &mut out);
        let _ = identity::is_identity(&input, &p);
    }
}
