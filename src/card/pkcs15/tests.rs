use super::parse;
use super::*;
use crate::apdu::replay::Replay;
use crate::card::profile::PathSelection;
use crate::card::testutil::{cons, h, read_steps, tlv, Rng};

const APP: [u8; 4] = [0x3F, 0x00, 0x00, 0x01];

fn utf8(s: &str) -> Vec<u8> {
    tlv(&[0x0C], s.as_bytes())
}

fn path(p: &[u8]) -> Vec<u8> {
    cons(&[0x30], &[tlv(&[0x04], p)])
}

fn common(label: &str, private: bool, auth: Option<u8>) -> Vec<u8> {
    let mut parts = vec![utf8(label)];
    if private {
        parts.push(tlv(&[0x03], &[0x07, 0x80]));
    }
    if let Some(a) = auth {
        parts.push(tlv(&[0x04], &[a]));
    }
    cons(&[0x30], &parts)
}

pub(crate) fn ef_dir() -> Vec<u8> {
    cons(
        &[0x61],
        &[
            tlv(&[0x4F], &h("E828BD080F8025000001FF0010")),
            tlv(&[0x50], b"CPX IAS"),
            tlv(&[0x51], &APP),
        ],
    )
}

pub(crate) fn odf() -> Vec<u8> {
    [
        tlv(&[0xA0], &path(&h("3F0000015001"))),
        tlv(&[0xA4], &path(&h("5002"))), // relative to the application
        tlv(&[0xA8], &path(&h("3F0000015003"))),
        tlv(&[0xA7], &path(&h("3F0000015004"))),
        vec![0, 0, 0], // unused tail of the file
    ]
    .concat()
}

fn key(label: &str, id: u8, usage: &[u8], key_ref: &[u8]) -> Vec<u8> {
    cons(
        &[0x30],
        &[
            common(label, true, Some(1)),
            cons(
                &[0x30],
                &[tlv(&[0x04], &[id]), tlv(&[0x03], usage), tlv(&[0x02], key_ref)],
            ),
            tlv(
                &[0xA1],
                &cons(&[0x30], &[path(&APP), tlv(&[0x02], &[0x08, 0x00])]),
            ),
        ],
    )
}

pub(crate) fn prkdf() -> Vec<u8> {
    [
        key("CPS_PRIV_SIG", 1, &[0x06, 0x00, 0x40], &[0x81]),
        key("CPS_PRIV_AUT", 2, &[0x05, 0x60], &[0x00, 0x82]),
        // An EC key ([0]): skipped.
        tlv(&[0xA0], &[0x30, 0x00]),
    ]
    .concat()
}

fn cert(label: &str, id: u8, fid: &[u8]) -> Vec<u8> {
    cons(
        &[0x30],
        &[
            common(label, false, None),
            cons(&[0x30], &[tlv(&[0x04], &[id])]),
            tlv(&[0xA1], &cons(&[0x30], &[path(fid)])),
        ],
    )
}

pub(crate) fn cdf() -> Vec<u8> {
    [
        cert("Certificat de Signature CPS", 1, &h("E001")),
        cert("Certificat d'Authentification CPS", 2, &h("3F000001E002")),
    ]
    .concat()
}

pub(crate) fn aodf() -> Vec<u8> {
    let attrs = cons(
        &[0x30],
        &[
            tlv(&[0x03], &[0x03, 0x08]),
            tlv(&[0x0A], &[0x01]),
            tlv(&[0x02], &[4]),
            tlv(&[0x02], &[8]),
            tlv(&[0x02], &[8]),
            tlv(&[0x80], &[0x01]),
            tlv(&[0x04], &[0xFF]),
        ],
    );
    cons(
        &[0x30],
        &[
            common("PIN CPS", false, None),
            cons(&[0x30], &[tlv(&[0x04], &[0x01])]),
            tlv(&[0xA1], &attrs),
        ],
    )
}

fn data_object(label: &str, fid: &[u8], private: bool) -> Vec<u8> {
    cons(
        &[0x30],
        &[
            common(label, private, private.then_some(1)),
            cons(&[0x30], &[utf8("CPS")]),
            tlv(&[0xA1], &path(fid)),
        ],
    )
}

pub(crate) fn dodf() -> Vec<u8> {
    [
        data_object("CPS_ID_CARD", &h("D101"), false),
        data_object("CPS_ACTIVITY_01_PS", &h("3F000001D120"), true),
    ]
    .concat()
}

#[test]
fn parses_ef_dir_and_odf() {
    let d = parse::dir(&ef_dir()).unwrap();
    assert_eq!(d[0].path.as_deref(), Some(&APP[..]));
    assert_eq!(d[0].label.as_deref(), Some("CPX IAS"));
    let o = parse::odf(&odf(), &APP).unwrap();
    assert_eq!(o.private_keys[0].path, h("3F0000015001"));
    assert_eq!(o.certificates[0].path, h("3F0000015002"));
    assert_eq!(o.auth_objects.len(), 1);
    assert_eq!(o.data_objects.len(), 1);
}

#[test]
fn parses_keys_certificates_pins_and_data_objects() {
    let k = parse::prkdf(&prkdf()).unwrap();
    assert_eq!(k.len(), 2);
    assert_eq!(
        (k[0].label.as_str(), k[0].key_ref, k[0].modulus_bits),
        ("CPS_PRIV_SIG", Some(0x81), Some(2048))
    );
    assert_eq!(k[0].usage, ["nonRepudiation"]);
    assert_eq!(k[1].usage, ["decrypt", "sign"]);
    assert_eq!(k[1].key_ref, Some(0x82));
    assert_eq!(k[1].auth_id.as_deref(), Some(&[1u8][..]));

    let c = parse::cdf(&cdf(), &APP).unwrap();
    assert_eq!(c[0].path.path, h("3F000001E001"));
    assert_eq!(c[1].path.path, h("3F000001E002"));
    assert_eq!(c[1].id, [2]);

    let p = parse::aodf(&aodf()).unwrap();
    let pin = &p[0];
    assert_eq!(
        (pin.min, pin.stored, pin.max, pin.reference, pin.pad),
        (4, 8, Some(8), Some(1), Some(0xFF))
    );
    assert_eq!(pin.pin_type, Some(1));
    assert!(pin.initialized && !pin.local && !pin.unblocking && !pin.needs_padding);

    let d = parse::dodf(&dodf(), &APP).unwrap();
    assert_eq!(d[0].path.path, h("3F000001D101"));
    assert!(!d[0].private && d[1].private);
    assert_eq!(d[1].application.as_deref(), Some("CPS"));
}

#[test]
fn accepts_implicitly_tagged_type_attributes() {
    // [1] replacing the SEQUENCE tag instead of wrapping it.
    let k = cons(
        &[0x30],
        &[
            common("K", false, None),
            cons(&[0x30], &[tlv(&[0x04], &[9]), tlv(&[0x03], &[0x07, 0x20])]),
            cons(&[0xA1], &[path(&APP), tlv(&[0x02], &[0x04, 0x00])]),
        ],
    );
    assert_eq!(parse::prkdf(&k).unwrap()[0].modulus_bits, Some(1024));
    let pin = cons(
        &[0x30],
        &[
            common("P", false, None),
            cons(&[0x30], &[]),
            cons(
                &[0xA1],
                &[
                    tlv(&[0x03], &[0x06, 0x40]),
                    tlv(&[0x0A], &[1]),
                    tlv(&[0x02], &[4]),
                    tlv(&[0x02], &[6]),
                ],
            ),
        ],
    );
    let p = &parse::aodf(&pin).unwrap()[0];
    assert!(p.local && p.max.is_none() && p.reference.is_none());
    let d = cons(
        &[0x30],
        &[
            common("D", false, None),
            cons(&[0x30], &[]),
            cons(
                &[0xA1],
                &[tlv(&[0x04], &h("D101")), tlv(&[0x02], &[4]), tlv(&[0x80], &[2])],
            ),
        ],
    );
    let d = &parse::dodf(&d, &APP).unwrap()[0];
    assert_eq!((d.path.offset, d.path.length), (Some(4), Some(2)));
}

#[test]
fn a_broken_entry_fails_the_whole_file() {
    let mut c = cdf();
    c.extend(cons(&[0x30], &[common("X", false, None)]));
    assert!(parse::cdf(&c, &APP).is_err());
    let mut k = prkdf();
    k.truncate(k.len() - 5);
    assert!(parse::prkdf(&k).is_err());
    // Key reference over one byte, path of odd length.
    assert!(parse::prkdf(&key("K", 1, &[0x07, 0x80], &[0x01, 0x00])).is_err());
    assert!(parse::cdf(&cert("C", 1, &[0xE0, 0x01, 0x02]), &APP).is_err());
}

#[test]
fn discovers_through_the_card() {
    let chunk = 0xE7;
    let mut steps = read_steps(0, &h("3F002F00"), &ef_dir(), chunk);
    steps.extend(read_steps(0, &h("3F0000015031"), &odf(), chunk));
    steps.extend(read_steps(0, &h("3F0000015001"), &prkdf(), chunk));
    steps.extend(read_steps(0, &h("3F0000015002"), &cdf(), chunk));
    steps.extend(read_steps(0, &h("3F0000015003"), &aodf(), chunk));
    steps.extend(read_steps(0, &h("3F0000015004"), &dodf(), chunk));
    let mut r = Replay::new(steps);
    let reader = Reader {
        cla: 0,
        chunk,
        select: PathSelection::MfPath,
    };
    let start = Start {
        dir: &h("3F002F00"),
        aid: &h("E828BD080F8025000001FF0010"),
        default_app: &h("3F000002"),
        odf: [0x50, 0x31],
    };
    let p = discover(&mut r, &reader, &start).unwrap();
    r.finish();
    assert_eq!(p.application_path, APP);
    assert_eq!(
        p.certificate("Certificat de Signature CPS").unwrap().path.path,
        h("3F000001E001")
    );
    assert_eq!(p.key("CPS_PRIV_AUT").unwrap().key_ref, Some(0x82));
    assert_eq!(p.user_pin().unwrap().reference, Some(1));
    assert!(p.data_object("CPS_ACTIVITY_01_PS").unwrap().private);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["application_path"], "3F000001");
    assert_eq!(json["keys"][0]["usage"][0], "nonRepudiation");
}

#[test]
fn without_ef_dir_the_default_application_is_used() {
    let mut steps = vec![("00A4090404 3F002F00".to_string(), "6A82".to_string())];
    steps.extend(read_steps(0, &h("3F0000015031"), &[0, 0], 0xE7));
    let mut r = Replay::new(steps);
    let start = Start {
        dir: &h("3F002F00"),
        aid: &[1],
        default_app: &APP,
        odf: [0x50, 0x31],
    };
    let p = discover(
        &mut r,
        &Reader {
            cla: 0,
            chunk: 0xE7,
            select: PathSelection::MfPath,
        },
        &start,
    )
    .unwrap();
    assert_eq!(p.application_path, APP);
    assert!(p.certificates.is_empty());
    // No ODF: an error the caller turns into a fallback.
    let mut r = Replay::new([
        ("00A4090404 3F002F00", "6A82"),
        ("00A4090406 3F0000015031", "6A82"),
    ]);
    assert!(discover(
        &mut r,
        &Reader {
            cla: 0,
            chunk: 0xE7,
            select: PathSelection::MfPath
        },
        &start
    )
    .is_err());
}

#[test]
fn object_slices_are_bounded() {
    let p = ObjectPath {
        path: vec![],
        offset: Some(2),
        length: Some(2),
    };
    assert_eq!(slice(vec![1, 2, 3, 4], &p, "t").unwrap(), [3, 4]);
    assert!(slice(vec![1, 2, 3], &p, "t").is_err());
    let p = ObjectPath {
        offset: Some(usize::MAX),
        length: Some(2),
        ..p
    };
    assert!(slice(vec![1, 2, 3], &p, "t").is_err());
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(15);
    let seeds = [ef_dir(), odf(), prkdf(), cdf(), aodf(), dodf()];
    for input in rng.inputs(&seeds) {
        let _ = parse::dir(&input);
        let _ = parse::odf(&input, &APP);
        let _ = parse::prkdf(&input);
        let _ = parse::cdf(&input, &APP);
        let _ = parse::aodf(&input);
        let _ = parse::dodf(&input, &APP);
    }
}
