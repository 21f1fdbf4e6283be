//! Vitale 2 driven by raw APDU bytes, as a host would.

use crate::card::{default_vitale1, default_vitale2, from_toml_str, load, SimCard};
use rand_chacha::rand_core::{RngCore, SeedableRng};

fn h(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).unwrap()
}

fn send(card: &mut dyn SimCard, apdu: &str) -> Vec<u8> {
    card.transmit(&h(apdu))
}

const SELECT_VITALE: &str = "00 A4 04 00 0B D2 50 00 00 02 56 49 54 41 4C 45";
const SELECT_MF_VITALE: &str = "00 A4 04 0C 0E D2 50 00 00 02 4D 46 5F 56 49 54 41 4C 45";

/// Reads the current EF in 256-byte chunks (Le = 00), following 6Cxx.
fn read_all(card: &mut dyn SimCard) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let [hi, lo] = (out.len() as u16).to_be_bytes();
        let mut r = card.transmit(&[0, 0xB0, hi, lo, 0x00]);
        if let [0x6C, n] = r.as_slice() {
            r = card.transmit(&[0, 0xB0, hi, lo, *n]);
        }
        if r == [0x6B, 0x00] {
            return out;
        }
        let sw = r.split_off(r.len() - 2);
        assert_eq!(sw, [0x90, 0x00]);
        let short = r.len() < 256;
        out.extend(r);
        if short {
            return out;
        }
    }
}

/// A minimal BER-TLV reader for the checks: (tag, value) pairs at one level.
fn tlvs(mut data: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let tag_len = if data[0] & 0x1F == 0x1F { 2 } else { 1 };
        let (tag, rest) = data.split_at(tag_len);
        let (len, rest) = match rest[0] {
            0x81 => (usize::from(rest[1]), &rest[2..]),
            0x82 => (usize::from(u16::from_be_bytes([rest[1], rest[2]])), &rest[3..]),
            n => (usize::from(n), &rest[1..]),
        };
        out.push((tag.to_vec(), rest[..len].to_vec()));
        data = &rest[len..];
    }
    out
}

fn nir_key(nir13: &str) -> u64 {
    let n = nir13.replace("2A", "19").replace("2B", "18");
    97 - n.parse::<u64>().unwrap() % 97
}

#[test]
fn select_applications_and_files() {
    let mut card = default_vitale2();
    assert_eq!(card.atr(), h("3B 75 13 00 00 44 09 EA 90 00"));
    let r = send(&mut *card, SELECT_VITALE);
    assert_eq!(r, [0x61, 0x12]);
    let fcp = send(&mut *card, "00 C0 00 00 12");
    assert_eq!(
        fcp,
        h("62 10 82 01 38 84 0B D2 50 00 00 02 56 49 54 41 4C 45 90 00")
    );
    assert_eq!(send(&mut *card, SELECT_MF_VITALE), [0x90, 0x00]);
    // As a Node reader does it: P2 00 with a trailing Le, then P1 02 by FID.
    let node_select = "00 A4 04 00 0E D2 50 00 00 02 4D 46 5F 56 49 54 41 4C 45 00";
    assert_eq!(send(&mut *card, node_select)[0], 0x61);
    assert_eq!(send(&mut *card, "00 A4 02 00 02 D0 01 00"), [0x61, 0x0D]);
    let fcp = send(&mut *card, "00 C0 00 00 0D");
    assert_eq!(fcp[..4], h("62 0B 80 02"));
    assert_eq!(fcp[9..15], h("83 02 D0 01 90 00"));
    // D001 belongs to MF_VITALE, not VITALE.
    send(&mut *card, "00 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45");
    assert_eq!(send(&mut *card, "00 A4 02 0C 02 D0 01"), [0x6A, 0x82]);
    assert_eq!(send(&mut *card, "00 A4 02 04 02 20 01"), [0x61, 0x0D]);
    // Unknown AID, wrong P2, MF.
    assert_eq!(send(&mut *card, "00 A4 04 00 03 D2 50 00"), [0x6A, 0x82]);
    assert_eq!(send(&mut *card, "00 A4 04 08 03 D2 50 00"), [0x6A, 0x86]);
    assert_eq!(send(&mut *card, "00 A4 00 0C 02 3F 00"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "00 B0 00 00 01"), [0x69, 0x86]);
    assert_eq!(send(&mut *card, "00 20 00 01 04 31 32 33 34"), [0x6D, 0x00]);
    assert_eq!(send(&mut *card, "A0 A4 00 00 02 3F 00"), [0x6E, 0x00]);
}

#[test]
fn pointers_lead_to_the_identity_file() {
    let mut card = default_vitale2();
    send(&mut *card, "00 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45");
    send(&mut *card, "00 A4 02 0C 02 20 01");
    let pointers = read_all(&mut *card);
    let top = tlvs(&pointers);
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].0, [0xE0]);
    let inner = tlvs(&top[0].1);
    let apps: Vec<_> = tlvs(&inner[0].1)
        .into_iter()
        .map(|(tag, v)| {
            assert_eq!(tag, [0x82]);
            (v[..2].to_vec(), v[4..].to_vec())
        })
        .collect();
    let (_, file) = inner.iter().find(|(t, _)| t == &[0x80]).unwrap();
    assert_eq!(&file[..8], b"IDENTITE");
    let aid = &apps.iter().find(|(e, _)| e[..] == file[8..10]).unwrap().1;
    assert_eq!(aid, &h("D2 50 00 00 02 4D 46 5F 56 49 54 41 4C 45"));
    assert_eq!(file[10..12], [0xD0, 0x01]);
}

#[test]
fn identity_content() {
    let mut card = default_vitale2();
    send(&mut *card, SELECT_MF_VITALE);
    send(&mut *card, "00 A4 02 0C 02 D0 01");
    let identity = read_all(&mut *card);
    let objects = tlvs(&identity);
    assert_eq!(objects.len(), 4);
    let people: Vec<Vec<(Vec<u8>, Vec<u8>)>> = objects[..3]
        .iter()
        .map(|(tag, v)| {
            assert_eq!(tag, &[0x65]);
            tlvs(v)
        })
        .collect();
    for (i, person) in people.iter().enumerate() {
        let tags: Vec<u8> = person.iter().map(|(t, _)| t[0]).collect();
        if i == 0 {
            // The unknown object comes after the known tags.
            assert_eq!(tags, [0x80, 0x81, 0x82, 0x90, 0x93, 0xA5]);
            assert_eq!(person[5].1, h("80 02 01 02"));
        } else {
            assert_eq!(tags, [0x80, 0x81, 0x82, 0x90, 0x93]);
        }
        let nir = std::str::from_utf8(&person[4].1).unwrap();
        assert_eq!(nir.len(), 15);
        assert_eq!(nir_key(&nir[..13]), nir[13..].parse::<u64>().unwrap(), "{nir}");
    }
    assert_eq!(people[0][0].1, b"LEGRAND");
    // The lunar birth date comes out exactly as stored.
    assert_eq!(people[1][2].1, b"19830032");
    assert_eq!(objects[3], (vec![0x66], h("80 08 32 30 32 33 30 31 31 35")));
    // Exact-size and too-large reads.
    let size = identity.len();
    assert!(size < 256);
    assert_eq!(send(&mut *card, "00 B0 00 00 00"), [0x6C, size as u8]);
    assert_eq!(card.transmit(&[0, 0xB0, 0, 0, size as u8]).len(), size + 2);
    assert_eq!(
        card.transmit(&[0, 0xB0, 0, 10, size as u8]),
        [0x6C, (size - 10) as u8]
    );
    assert_eq!(card.transmit(&[0, 0xB0, 0, size as u8, 1]), [0x6B, 0x00]);
    assert_eq!(send(&mut *card, "00 B0 81 00 01"), [0x6A, 0x82]);
}

#[test]
fn large_card_uses_long_ber_lengths() {
    let mut text = String::from("kind = \"vitale2\"\nvalidity_start = \"2024\"\n");
    for i in 0..6 {
        text.push_str(&format!(
            "[[beneficiaries]]\nsurname = \"{}\"\nfirst_name = \"P{i}\"\nbirth_date = \"20100000\"\nnationality = \"FR\"\nnir = \"199999999999999\"\n",
            "X".repeat(120)
        ));
    }
    let mut card = from_toml_str(&text).unwrap();
    send(&mut *card, SELECT_MF_VITALE);
    send(&mut *card, "00 A4 02 0C 02 D0 01");
    let identity = read_all(&mut *card);
    assert!(identity.len() > 512);
    assert_eq!(identity[..3], [0x65, 0x81, 0x9D]);
    let objects = tlvs(&identity);
    assert_eq!(objects.len(), 7);
    // A wrong NIR key and a non-calendar date are kept as they are.
    assert_eq!(tlvs(&objects[5].1)[4].1, b"199999999999999");
    assert_eq!(tlvs(&objects[5].1)[2].1, b"20100000");
    assert_eq!(objects[6].1, h("80 04 32 30 32 34"));
}

#[test]
fn reset_forgets_selection_and_pending_data() {
    let mut card = default_vitale2();
    send(&mut *card, SELECT_MF_VITALE);
    assert_eq!(send(&mut *card, "00 A4 02 00 02 D0 01"), [0x61, 0x0D]);
    card.reset();
    assert_eq!(send(&mut *card, "00 C0 00 00 0D"), [0x69, 0x85]);
    assert_eq!(send(&mut *card, "00 B0 00 00 01"), [0x69, 0x86]);
}

#[test]
fn garbage_never_panics() {
    let mut card = default_vitale2();
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([9; 32]);
    for len in 0..300 {
        for round in 0..6 {
            let mut apdu = vec![0u8; len];
            rng.fill_bytes(&mut apdu);
            if round > 0 && len >= 2 {
                apdu[0] = 0;
                apdu[1] = [0xA4, 0xB0, 0xC0][round % 3];
            }
            assert!(card.transmit(&apdu).len() >= 2);
            if round == 2 {
                send(&mut *card, SELECT_MF_VITALE);
                send(&mut *card, "00 A4 02 0C 02 D0 01");
            }
        }
    }
}

#[test]
fn extra_ef_is_listed_in_pointers_and_readable() {
    let mut card = default_vitale2();
    send(&mut *card, "00 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45");
    send(&mut *card, "00 A4 02 0C 02 20 01");
    let pointers = read_all(&mut *card);
    let top = tlvs(&pointers);
    let inner = tlvs(&top[0].1);
    let files: Vec<_> = inner
        .iter()
        .filter(|(t, _)| t == &[0x80])
        .map(|(_, v)| v.clone())
        .collect();
    // IDENTITE, EXTRA and CERTIF (the card-verifiable certificate's file).
    assert_eq!(files.len(), 3);
    assert_eq!(files[1], [&b"EXTRA   "[..], &[0x00, 0x01, 0xD0, 0x02]].concat());
    assert_eq!(files[2], [&b"CERTIF  "[..], &[0x00, 0x01, 0xD0, 0x03]].concat());
    send(&mut *card, SELECT_MF_VITALE);
    assert_eq!(send(&mut *card, "00 A4 02 00 02 D0 02"), [0x61, 0x0D]);
    send(&mut *card, "00 A4 02 0C 02 D0 02");
    let extra = read_all(&mut *card);
    assert_eq!(extra, h("E1 0E 80 02 30 31 A1 08 81 02 12 34 82 02 56 78"));
    let top = tlvs(&extra);
    assert_eq!(top[0].0, [0xE1]);
    assert_eq!(tlvs(&top[0].1)[1].0, [0xA1]);
}

#[test]
fn toml_extra_tags_and_files() {
    let text = r#"
        kind = "vitale2"
        [[beneficiaries]]
        surname = "A"
        first_name = "B"
        birth_date = "800101"
        nationality = "FR"
        nir = "180017512345678"
        extra = [{ tag = "5F20", hex = "41 42" }, { tag = "BF01", hex = "80 00" }, { tag = "8C", hex = "" }]
        [[extra_files]]
        fid = "D0 03"
        name = "RAW"
        hex = "00 01 02"
        [[extra_files]]
        fid = "D004"
        name = "EMPTY"
        hex = ""
    "#;
    let mut card = from_toml_str(text).unwrap();
    send(&mut *card, SELECT_MF_VITALE);
    send(&mut *card, "00 A4 02 0C 02 D0 01");
    let identity = read_all(&mut *card);
    let person = tlvs(&tlvs(&identity)[0].1);
    let tags: Vec<Vec<u8>> = person.iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(
        tags,
        [
            vec![0x80],
            vec![0x81],
            vec![0x82],
            vec![0x90],
            vec![0x93],
            vec![0x5F, 0x20],
            vec![0xBF, 0x01],
            vec![0x8C]
        ]
    );
    assert_eq!(person[2].1, b"800101");
    assert_eq!(person[5].1, b"AB");
    assert_eq!(person[7].1, b"");
    send(&mut *card, "00 A4 02 0C 02 D0 03");
    assert_eq!(read_all(&mut *card), [0, 1, 2]);
    assert_eq!(send(&mut *card, "00 A4 02 0C 02 D0 04"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "00 B0 00 00 00"), [0x6B, 0x00]);
    assert_eq!(send(&mut *card, "00 A4 02 0C 02 D0 02"), [0x6A, 0x82]);
}

fn identity_of(name: &str) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut card = load(name).unwrap();
    send(&mut *card, SELECT_MF_VITALE);
    send(&mut *card, "00 A4 02 0C 02 D0 01");
    tlvs(&read_all(&mut *card))
        .into_iter()
        .filter(|(t, _)| t == &[0x65])
        .map(|(_, v)| tlvs(&v))
        .collect()
}

fn field(person: &[(Vec<u8>, Vec<u8>)], tag: u8) -> String {
    let (_, v) = person.iter().find(|(t, _)| t == &[tag]).unwrap();
    String::from_utf8(v.clone()).unwrap()
}

#[test]
fn variant_cards() {
    // Six beneficiaries, every NIR key right, Corsica included.
    let people = identity_of("vitale2-6-beneficiaries");
    assert_eq!(people.len(), 6);
    let nirs: Vec<String> = people.iter().map(|p| field(p, 0x93)).collect();
    for nir in &nirs {
        assert_eq!(nir.len(), 15);
        assert_eq!(nir_key(&nir[..13]), nir[13..].parse::<u64>().unwrap(), "{nir}");
    }
    assert!(nirs.iter().any(|n| &n[5..7] == "2A"));
    assert!(nirs.iter().any(|n| &n[5..7] == "2B"));
    // No century.
    let people = identity_of("vitale2-missing-century");
    assert!(people.iter().all(|p| field(p, 0x82).len() == 6));
    // Lunar dates: month 00, day 00, month > 12, day > 31.
    let dates: Vec<String> = identity_of("vitale2-lunar")
        .iter()
        .map(|p| field(p, 0x82))
        .collect();
    let month = |d: &String| d[4..6].parse::<u32>().unwrap();
    let day = |d: &String| d[6..8].parse::<u32>().unwrap();
    assert!(dates.iter().any(|d| month(d) == 0));
    assert!(dates.iter().any(|d| day(d) == 0));
    assert!(dates.iter().any(|d| month(d) > 12));
    assert!(dates.iter().any(|d| day(d) > 31));
    for p in identity_of("vitale2-lunar") {
        let nir = field(&p, 0x93);
        assert_eq!(nir_key(&nir[..13]), nir[13..].parse::<u64>().unwrap(), "{nir}");
    }
}

#[test]
fn vitale1_answers_nothing() {
    let mut card = default_vitale1();
    assert_eq!(card.atr(), h("3F 65 25 00 2C 09 69 90 00"));
    assert_eq!(send(&mut *card, SELECT_MF_VITALE), [0x6E, 0x00]);
    assert_eq!(send(&mut *card, "00 B0 00 00 00"), [0x6E, 0x00]);
    assert_eq!(
        load("vitale1").unwrap().transmit(&h("00 A4 00 0C 02 3F 00")),
        [0x6E, 0x00]
    );
}
