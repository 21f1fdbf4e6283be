//! The CPS3 as an IAS-ECC driver sees it (OpenSC's `iasecc`, docs/opensc.md):
//! the security data objects' DOCPs, the data parts it asks for first, and
//! TokenInfo's algorithms.

use super::tests::{data, h, send};
use super::walk::{der_items, fields, one, read_path};
use crate::card::default_cps3;

fn get_data(sdo: &str, tag: &str) -> String {
    let body = format!("BF {sdo} {:02X} {tag} 80", h(tag).len() + 1);
    let inner = format!("70 {:02X} {body}", h(&body).len());
    let list = format!("4D {:02X} {inner}", h(&inner).len());
    format!("00 CB 3F FF {:02X} {list}", h(&list).len())
}

#[test]
fn key_docps_give_size_and_access_rules() {
    let mut card = default_cps3();
    assert_eq!(
        data(&mut *card, &get_data("90 01", "A0")),
        h("70 15 BF 90 01 11 A0 0F A1 09 8C 07 7B 11 FF FF FF FF 00 80 02 01 00")
    );
    assert_eq!(
        data(&mut *card, &get_data("90 02", "A0")),
        h("70 15 BF 90 02 11 A0 0F A1 09 8C 07 7B FF 11 11 FF FF 00 80 02 01 00")
    );
    // No key 03, no SE object, no public-key SDO.
    assert_eq!(send(&mut *card, &get_data("90 03", "A0")), [0x6A, 0x88]);
    assert_eq!(send(&mut *card, &get_data("FB 05", "7B")), [0x6A, 0x88]);
    assert_eq!(send(&mut *card, &get_data("91 01", "7F 49")), [0x6A, 0x88]);
}

#[test]
fn secret_parts_are_never_read_out() {
    let mut card = default_cps3();
    // As OpenSC asks before the DOCP: an "incorrect data" SW, not 6A88.
    assert_eq!(send(&mut *card, &get_data("81 01", "7F 41")), [0x6A, 0x80]);
    assert_eq!(send(&mut *card, &get_data("90 01", "7F 48")), [0x6A, 0x80]);
    assert_eq!(send(&mut *card, &get_data("90 02", "7F 48")), [0x6A, 0x80]);
    // Malformed requests and other P1 P2.
    assert_eq!(send(&mut *card, "00 CB 3F FF 02 4D 00"), [0x6A, 0x80]);
    assert_eq!(
        send(&mut *card, "00 CB 3F FF 0A 4D 08 70 06 BF 81 01 02 A0 81"),
        [0x6A, 0x80]
    );
    assert_eq!(
        send(&mut *card, "00 CB 00 FF 0A 4D 08 70 06 BF 81 01 02 A0 80"),
        [0x6A, 0x86]
    );
    // The PIN's DOCP is still there, its tries untouched.
    assert_eq!(data(&mut *card, &get_data("81 01", "A0"))[13], 3);
}

#[test]
fn token_info_names_the_real_cards_algorithms() {
    let mut card = default_cps3();
    let info = read_path(&mut *card, 0, &h("3F00 0001 5032")).unwrap();
    let items = der_items(one(&info, 0x30));
    let tags: Vec<u8> = items.iter().map(|d| d.tag).collect();
    assert_eq!(tags, [0x02, 0x04, 0x0C, 0x80, 0x03, 0xA2]);
    // Read-only, login required.
    assert_eq!(items[4].value, [0x06, 0xC0]);
    // (reference, mechanism, operations, algRef) as pkcs15-tool lists a real CPS3's.
    let algorithms: Vec<(u8, Vec<u8>, Vec<u8>, u8)> = der_items(items[5].value)
        .into_iter()
        .map(|a| {
            assert_eq!(a.tag, 0x30);
            let f = der_items(a.value);
            let alg_ref = f.last().unwrap().value[0];
            (f[0].value[0], f[1].value.to_vec(), f[3].value.to_vec(), alg_ref)
        })
        .collect();
    let hash = vec![0x01, 0x02];
    let sign = vec![0x06, 0x40];
    assert_eq!(
        algorithms,
        [
            (1, vec![0x02, 0x20], hash.clone(), 0x10),
            (2, vec![0x02, 0x50], hash, 0x40),
            (3, vec![0x06], sign.clone(), 0x12),
            (4, vec![0x40], sign.clone(), 0x42),
            (5, vec![0x01], sign, 0x02),
        ]
    );
    // The OIDs of the first four: SHA-1, SHA-256, sha1/sha256WithRSAEncryption.
    let sha256 = fields(
        der_items(items[5].value)[1].value,
        &[0x02, 0x02, 0x05, 0x03, 0x06, 0x02],
    );
    assert_eq!(sha256[4], h("60 86 48 01 65 03 04 02 01"));
}

#[test]
fn get_challenge_gives_8_bytes() {
    let mut card = default_cps3();
    let a = data(&mut *card, "00 84 00 00 08");
    let b = data(&mut *card, "00 84 00 00 08");
    assert_eq!((a.len(), b.len()), (8, 8));
    assert_ne!(a, b);
    for bad in ["00 84 00 00 10", "00 84 00 00 00", "00 84 00 00"] {
        assert_eq!(send(&mut *card, bad), [0x67, 0x00], "{bad}");
    }
    assert_eq!(send(&mut *card, "00 84 01 00 08"), [0x6A, 0x86]);
}
