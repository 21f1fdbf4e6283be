//! CPS3 driven by raw APDU bytes, as a host would.

use crate::card::{default_cps3, from_toml_str, SimCard};
use der::{Decode, Encode};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};
use spki::DecodePublicKey;
use x509_cert::Certificate;

pub(crate) fn h(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).unwrap()
}

pub(crate) fn send(card: &mut dyn SimCard, apdu: &str) -> Vec<u8> {
    card.transmit(&h(apdu))
}

/// Sends a command and follows `61 xx` with GET RESPONSE; returns data + SW.
/// (GET RESPONSE takes the class byte of the command: its logical channel.)
pub(crate) fn exchange(card: &mut dyn SimCard, apdu: &str) -> Vec<u8> {
    let cla = h(apdu).first().copied().unwrap_or(0);
    let first = send(card, apdu);
    match first.as_slice() {
        [0x61, n] => card.transmit(&[cla, 0xC0, 0x00, 0x00, *n]),
        _ => first,
    }
}

/// Data of a successful exchange.
pub(crate) fn data(card: &mut dyn SimCard, apdu: &str) -> Vec<u8> {
    let mut r = exchange(card, apdu);
    assert_eq!(r[r.len() - 2..], [0x90, 0x00], "{apdu} → {r:02X?}");
    r.truncate(r.len() - 2);
    r
}

const SELECT_APP: &str = "00 A4 04 0C 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10";
const VERIFY_1234: &str = "00 20 00 01 04 31 32 33 34";
const PIN_COUNTER: &str = "00 CB 3F FF 0A 4D 08 70 06 BF 81 01 02 A0 80 00";
/// A DF's security attributes (every operation never), as the FCP shows them.
const DF_ACL: &str = "A1 14 8C 08 7F FF FF FF FF FF FF FF 9C 08 7F FF FF FF FF FF FF FF 8A 01 05";
/// The PIN's DOCP around its counters: `70 BF 81 01 { A0 { 9A 9B 9D A1 { 8C } } }`.
fn pin_docp(left: u8, usage: u8) -> Vec<u8> {
    h(&format!(
        "70 19 BF 81 01 15 A0 13 9A 01 03 9B 01 {left:02X} 9D 01 {usage:02X} A1 08 8C 06 F3 00 00 13 FF 00"
    ))
}
/// The offset of `9B`'s value (tries left) in the PIN's DOCP.
const TRIES_LEFT_AT: usize = 13;

/// Reads the current EF whole, in 0xE7 chunks, using 6Cxx for the tail.
fn read_all(card: &mut dyn SimCard) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let off = out.len() as u16;
        let [hi, lo] = off.to_be_bytes();
        let mut r = card.transmit(&[0, 0xB0, hi, lo, 0xE7]);
        if let [0x6C, n] = r.as_slice() {
            r = card.transmit(&[0, 0xB0, hi, lo, *n]);
        }
        if r == [0x6B, 0x00] {
            return out;
        }
        let sw = r.split_off(r.len() - 2);
        assert_eq!(sw, [0x90, 0x00]);
        out.extend(r);
    }
}

fn read_cert(card: &mut dyn SimCard, fid: &str) -> Certificate {
    data(card, &format!("00 A4 09 0C 06 3F 00 00 01 {fid}"));
    Certificate::from_der(&read_all(card)).unwrap()
}

pub(crate) fn public_key(cert: &Certificate) -> RsaPublicKey {
    let der = cert.tbs_certificate.subject_public_key_info.to_der().unwrap();
    RsaPublicKey::from_public_key_der(&der).unwrap()
}

#[test]
fn atr_and_select_variants() {
    let mut card = default_cps3();
    assert_eq!(
        card.atr(),
        h("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00")
    );
    let aid = "E8 28 BD 08 0F 80 25 00 00 01 FF 00 10";
    assert_eq!(send(&mut *card, &format!("00 A4 04 00 0D {aid}")), [0x6A, 0x86]);
    assert_eq!(send(&mut *card, SELECT_APP), [0x90, 0x00]);
    let fcp = data(&mut *card, &format!("00 A4 04 04 0D {aid}"));
    assert_eq!(
        fcp,
        h(&format!("62 2F 82 01 38 83 02 00 01 84 0D {aid} {DF_ACL}"))
    );
    // Also with a trailing Le.
    assert_eq!(
        send(&mut *card, &format!("00 A4 04 04 0D {aid} 00")),
        [0x61, 0x31]
    );
    assert_eq!(send(&mut *card, "00 A4 04 04 03 E8 28 BD"), [0x6A, 0x82]);
    // By path from the MF; the 3F00 prefix is required.
    // EF.SN.ICC's FCP is a real CPS3's, byte for byte (OpenSC issue #2275).
    let fcp = data(&mut *card, "00 A4 09 04 04 3F 00 D0 03");
    assert_eq!(
        fcp,
        h("62 25 80 02 00 0C 82 01 01 83 02 D0 03 88 01 E0 \
           A1 12 8C 07 7B FF FF FF FF FF 00 9C 07 7B FF FF FF FF FF 00 8A 01 05")
    );
    assert_eq!(send(&mut *card, "00 A4 09 04 02 D0 03"), [0x6A, 0x82]);
    assert_eq!(send(&mut *card, "00 A4 09 0C 06 3F 00 00 01 E0 09"), [0x6A, 0x82]);
    // By FID, child of the current DF.
    assert_eq!(send(&mut *card, "00 A4 00 0C 02 3F 00"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "00 A4 02 0C 02 E0 01"), [0x6A, 0x82]);
    assert_eq!(send(&mut *card, "00 A4 02 0C 02 00 01"), [0x90, 0x00]);
    let fcp = data(&mut *card, "00 A4 02 04 02 E0 02");
    assert_eq!(fcp[..4], h("62 25 80 02"));
    // 3F00 with P1 02 is the MF, from any DF (OpenSC sends it before VERIFY).
    let fcp = data(&mut *card, "00 A4 02 04 02 3F 00");
    assert_eq!(
        fcp,
        h(&format!(
            "62 2A 82 01 38 83 02 3F 00 84 08 80 25 00 00 01 FF 01 00 {DF_ACL}"
        ))
    );
    assert_eq!(send(&mut *card, "00 A4 02 0C 02 00 01"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "00 A4 02 04 03 E0 02 00"), [0x67, 0x00]);
    assert_eq!(send(&mut *card, "00 A4 07 04 02 E0 02"), [0x6A, 0x86]);
    // The IAS AID named in EF.ATR selects the MF.
    assert_eq!(
        send(&mut *card, "00 A4 04 0C 08 80 25 00 00 01 FF 01 00"),
        [0x90, 0x00]
    );
    assert_eq!(send(&mut *card, "00 A4 02 0C 02 2F 01"), [0x90, 0x00]);
}

#[test]
fn mf_files() {
    let mut card = default_cps3();
    data(&mut *card, "00 A4 09 0C 04 3F 00 D0 03");
    assert_eq!(
        data(&mut *card, "00 B0 00 00 0C"),
        h("5A 0A 80 25 00 00 01 25 00 57 72 53")
    );
    data(&mut *card, "00 A4 00 0C 02 3F 00");
    // By SFI 1C from the MF.
    assert_eq!(data(&mut *card, "00 B0 9C 00 02"), h("5A 0A"));
    data(&mut *card, "00 A4 09 0C 04 3F 00 2F 01");
    let atr = read_all(&mut *card);
    assert_eq!(atr[..4], h("80 43 01 B8"));
    assert_eq!(atr[atr.len() - 4..], h("82 02 90 00"));
    data(&mut *card, "00 A4 09 0C 04 3F 00 2F 00");
    let dir = read_all(&mut *card);
    assert_eq!(dir[..4], h("61 1E 4F 0D"));
    assert!(dir.windows(7).any(|w| w == b"CPX IAS"));
}

#[test]
fn read_binary_limits() {
    let mut card = default_cps3();
    assert_eq!(send(&mut *card, "00 B0 00 00 10"), [0x69, 0x86]);
    data(&mut *card, "00 A4 09 0C 06 3F 00 00 01 E0 01");
    assert_eq!(send(&mut *card, "00 B0 00 00 E7").len(), 0xE7 + 2);
    assert_eq!(send(&mut *card, "00 B0 00 00 E8"), [0x67, 0x00]);
    // Le = 00: up to 256, answered with the card's chunk (IAS-ECC).
    let first = send(&mut *card, "00 B0 00 00 00");
    assert_eq!(first.len(), 0xE7 + 2);
    assert_eq!(first[0xE7..], [0x90, 0x00]);
    assert_eq!(send(&mut *card, "00 B0 00 00"), [0x67, 0x00]);
    let size = read_all(&mut *card).len();
    assert_eq!(first[..0xE7], read_all(&mut *card)[..0xE7]);
    let [hi, lo] = ((size - 5) as u16).to_be_bytes();
    assert_eq!(card.transmit(&[0, 0xB0, hi, lo, 0x10]), [0x6C, 0x05]);
    assert_eq!(card.transmit(&[0, 0xB0, hi, lo, 0x05]).len(), 7);
    // Le = 00 near the end: what remains.
    assert_eq!(card.transmit(&[0, 0xB0, hi, lo, 0x00]).len(), 7);
    let [hi, lo] = (size as u16).to_be_bytes();
    assert_eq!(card.transmit(&[0, 0xB0, hi, lo, 0x01]), [0x6B, 0x00]);
    assert_eq!(card.transmit(&[0, 0xB0, hi, lo, 0x00]), [0x6B, 0x00]);
    assert_eq!(send(&mut *card, "00 B0 7F FF 01"), [0x6B, 0x00]);
}

#[test]
fn status_words_for_bad_commands() {
    let mut card = default_cps3();
    assert_eq!(send(&mut *card, "00 12 00 00"), [0x6D, 0x00]);
    assert_eq!(send(&mut *card, "80 A4 00 0C 02 3F 00"), [0x6E, 0x00]);
    assert_eq!(send(&mut *card, "00 A4"), [0x67, 0x00]);
    assert_eq!(send(&mut *card, "00 A4 00 0C 05 3F 00"), [0x67, 0x00]);
    // Nothing pending.
    assert_eq!(send(&mut *card, "00 C0 00 00 10"), [0x69, 0x85]);
    // GET RESPONSE with the wrong Le, then the right one; then it is gone.
    assert_eq!(send(&mut *card, "00 A4 09 04 04 3F 00 D0 03"), [0x61, 0x27]);
    assert_eq!(send(&mut *card, "00 C0 00 00 30"), [0x6C, 0x27]);
    assert_eq!(send(&mut *card, "00 C0 00 00 27").len(), 0x29);
    assert_eq!(send(&mut *card, "00 C0 00 00 27"), [0x69, 0x85]);
    // Another command drops pending data.
    assert_eq!(send(&mut *card, "00 A4 09 04 04 3F 00 D0 03"), [0x61, 0x27]);
    assert_eq!(send(&mut *card, "00 20 00 01"), [0x63, 0xC3]);
    assert_eq!(send(&mut *card, "00 C0 00 00 27"), [0x69, 0x85]);
}

#[test]
fn certificates_are_the_issued_ones_and_chain() {
    let mut card = default_cps3();
    let sig = read_cert(&mut *card, "E0 01");
    let auth = read_cert(&mut *card, "E0 02");
    let ca = Certificate::from_der(crate::pki::CA_CERT_DER).unwrap();
    for cert in [&sig, &auth] {
        let tbs = cert.tbs_certificate.to_der().unwrap();
        public_key(&ca)
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(&tbs),
                cert.signature.raw_bytes(),
            )
            .unwrap();
        let subject = cert.tbs_certificate.subject.to_string();
        for part in ["899900038839", "TRAL", "ADEMIS", "TEST", "Médecin"] {
            assert!(subject.contains(part), "{part} missing from {subject}");
        }
    }
    assert_ne!(
        sig.tbs_certificate.serial_number,
        auth.tbs_certificate.serial_number
    );
}

#[test]
fn pin_counter_behaviour() {
    let mut card = default_cps3();
    let counter = |card: &mut dyn SimCard| data(card, PIN_COUNTER);
    // The real card's DOCP (OpenSC issue #2275) with the usage counter.
    assert_eq!(counter(&mut *card), pin_docp(3, 0xFF));
    // Also accepted without the trailing 00.
    assert_eq!(
        send(&mut *card, &PIN_COUNTER[..PIN_COUNTER.len() - 3]),
        [0x61, 0x1B]
    );
    // A no-data VERIFY tells the tries left without using one.
    for _ in 0..5 {
        assert_eq!(send(&mut *card, "00 20 00 01"), [0x63, 0xC3]);
    }
    assert_eq!(send(&mut *card, "00 20 00 01 04 31 31 31 31"), [0x63, 0xC2]);
    assert_eq!(send(&mut *card, "00 20 00 01 00"), [0x63, 0xC2]);
    assert_eq!(counter(&mut *card)[TRIES_LEFT_AT], 0x02);
    assert_eq!(send(&mut *card, VERIFY_1234), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "00 20 00 01"), [0x90, 0x00]);
    assert_eq!(counter(&mut *card)[TRIES_LEFT_AT], 0x03);
    // A wrong PIN ends the verified state.
    assert_eq!(send(&mut *card, "00 20 00 01 02 31 32"), [0x63, 0xC2]);
    assert_eq!(send(&mut *card, "00 20 00 01"), [0x63, 0xC2]);
    assert_eq!(send(&mut *card, "00 20 00 01 04 30 30 30 30"), [0x63, 0xC1]);
    assert_eq!(send(&mut *card, "00 20 00 01 04 30 30 30 30"), [0x63, 0xC0]);
    // Blocked: even the right PIN is refused, and the usage counter shows 0.
    assert_eq!(send(&mut *card, VERIFY_1234), [0x69, 0x83]);
    assert_eq!(send(&mut *card, "00 20 00 01"), [0x69, 0x83]);
    assert_eq!(counter(&mut *card), pin_docp(0, 0));
    // Blocked state survives a reset.
    card.reset();
    assert_eq!(send(&mut *card, VERIFY_1234), [0x69, 0x83]);
    // Wrong reference / P1.
    assert_eq!(send(&mut *card, "00 20 00 81 04 31 32 33 34"), [0x6A, 0x88]);
    assert_eq!(send(&mut *card, "00 20 01 01 04 31 32 33 34"), [0x6A, 0x86]);
    // Unblock with the PUK and a new PIN.
    assert_eq!(
        send(&mut *card, "00 2C 00 01 0C 31 32 33 34 35 36 37 30 39 39 39 39"),
        [0x63, 0xC9]
    );
    let puk = data(&mut *card, "00 CB 3F FF 0A 4D 08 70 06 BF 81 02 02 A0 80 00");
    assert_eq!(
        puk,
        h("70 1A BF 81 02 16 A0 14 9A 01 0A 9B 01 09 9D 02 00 64 A1 08 8C 06 F3 FF 00 FF FF 00")
    );
    assert_eq!(
        send(&mut *card, "00 2C 00 01 0C 31 32 33 34 35 36 37 38 39 39 39 39"),
        [0x90, 0x00]
    );
    assert_eq!(send(&mut *card, "00 20 00 01"), [0x63, 0xC3]);
    assert_eq!(send(&mut *card, VERIFY_1234), [0x63, 0xC2]);
    assert_eq!(send(&mut *card, "00 20 00 01 04 39 39 39 39"), [0x90, 0x00]);
    // Change it back.
    assert_eq!(
        send(&mut *card, "00 24 00 01 08 39 39 39 39 31 32 33 34"),
        [0x90, 0x00]
    );
    assert_eq!(
        send(&mut *card, "00 24 00 01 08 39 39 39 39 31 32 33 34"),
        [0x63, 0xC2]
    );
    assert_eq!(send(&mut *card, "00 24 00 01 06 31 32 33 34 31 32"), [0x6A, 0x80]);
    assert_eq!(send(&mut *card, VERIFY_1234), [0x90, 0x00]);
    // Only the counter (P1 = 01).
    assert_eq!(
        send(&mut *card, "00 2C 01 01 08 31 32 33 34 35 36 37 38"),
        [0x90, 0x00]
    );
    // Unknown GET DATA objects.
    assert_eq!(
        send(&mut *card, "00 CB 3F FF 0A 4D 08 70 06 BF FB 05 02 7B 80"),
        [0x6A, 0x88]
    );
}

#[test]
fn blocked_card_from_toml() {
    let mut card = from_toml_str("kind = \"cps3\"\n[pin]\ntries_left = 0\n").unwrap();
    assert_eq!(send(&mut *card, "00 20 00 01"), [0x69, 0x83]);
    assert_eq!(send(&mut *card, VERIFY_1234), [0x69, 0x83]);
}

fn sign_hash(card: &mut dyn SimCard, hash: &[u8]) -> Vec<u8> {
    let mut apdu = vec![0x00, 0x2A, 0x9E, 0x9A, hash.len() as u8];
    apdu.extend_from_slice(hash);
    apdu.push(0x00);
    assert_eq!(card.transmit(&apdu), [0x61, 0x00]);
    let mut r = card.transmit(&h("00 C0 00 00 00"));
    assert_eq!(r.split_off(256), [0x90, 0x00]);
    r
}

#[test]
fn signature_with_key_81() {
    let mut card = default_cps3();
    let cert = read_cert(&mut *card, "E0 01");
    let key = public_key(&cert);
    let hash = Sha256::digest(b"ordonnance");
    let cds = format!("00 2A 9E 9A 20 {}", hex::encode(hash));
    // No MSE yet, then no PIN.
    assert_eq!(send(&mut *card, &cds), [0x69, 0x85]);
    assert_eq!(send(&mut *card, "00 22 41 B6 06 80 01 42 84 01 81"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, &cds), [0x69, 0x82]);
    assert_eq!(send(&mut *card, VERIFY_1234), [0x90, 0x00]);
    // Wrong hash length for SHA-256.
    assert_eq!(
        send(
            &mut *card,
            "00 2A 9E 9A 14 00 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19"
        ),
        [0x67, 0x00]
    );
    let sig = sign_hash(&mut *card, &hash);
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &hash, &sig).unwrap();
    // The PIN stays verified for the next signature.
    let sig = sign_hash(&mut *card, &hash);
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &hash, &sig).unwrap();
    // SHA-1.
    assert_eq!(send(&mut *card, "00 22 41 B6 06 80 01 12 84 01 81"), [0x90, 0x00]);
    let sha1 = sha1::Sha1::digest(b"ordonnance");
    let sig = sign_hash(&mut *card, &sha1);
    key.verify(Pkcs1v15Sign::new::<sha1::Sha1>(), &sha1, &sig)
        .unwrap();
    // A reset ends the verified state and the security environment.
    card.reset();
    assert_eq!(send(&mut *card, &cds), [0x69, 0x85]);
    assert_eq!(send(&mut *card, "00 22 41 B6 06 80 01 42 84 01 81"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, &cds), [0x69, 0x82]);
}

#[test]
fn mse_rejects_wrong_key_or_algorithm() {
    let mut card = default_cps3();
    for bad in [
        "00 22 41 B6 06 80 01 42 84 01 82",
        "00 22 41 B6 06 80 01 99 84 01 81",
        "00 22 41 B6 03 80 01 42",
        "00 22 41 A4 06 80 01 02 84 01 81",
        "00 22 41 A4 06 80 01 42 84 01 82",
        "00 22 41 AA 03 80 01 42",
        "00 22 41 B6 05 80 01 42 84 01",
    ] {
        assert_eq!(send(&mut *card, bad), [0x6A, 0x80], "{bad}");
    }
    assert_eq!(send(&mut *card, "00 22 41 B8 06 80 01 1A 84 01 82"), [0x6A, 0x86]);
    assert_eq!(send(&mut *card, "00 22 81 B6 04 91 02 28 90"), [0x6A, 0x86]);
    assert_eq!(send(&mut *card, "00 22 41 A4 06 80 01 02 84 01 82"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "00 22 41 AA 03 80 01 40"), [0x90, 0x00]);
}

#[test]
fn pso_hash_then_signature() {
    let mut card = default_cps3();
    let key = public_key(&read_cert(&mut *card, "E0 01"));
    data(&mut *card, VERIFY_1234);
    // No environment yet.
    assert_eq!(send(&mut *card, "00 2A 90 A0 05 90 00 80 01 41"), [0x69, 0x85]);
    data(&mut *card, "00 22 41 AA 03 80 01 40");
    data(&mut *card, "00 22 41 B6 06 80 01 42 84 01 81");
    // Simple form: the whole message (≤ 64 bytes).
    let msg = b"<SignedInfo>short message</SignedInfo>";
    let mut apdu = vec![0x00, 0x2A, 0x90, 0xA0, (msg.len() + 4) as u8, 0x90, 0x00, 0x80];
    apdu.push(msg.len() as u8);
    apdu.extend_from_slice(msg);
    assert_eq!(card.transmit(&apdu), [0x90, 0x00]);
    let mut r = send(&mut *card, "00 2A 9E 9A 00");
    assert_eq!(r.split_off(256), [0x90, 0x00]);
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg), &r)
        .unwrap();
    // The hash is used once.
    assert_eq!(send(&mut *card, "00 2A 9E 9A 00"), [0x69, 0x85]);

    // Intermediate form: the host hashed the first two blocks itself.
    let long: Vec<u8> = (0..150u8).collect();
    use crate::card::cps3::hash::HashAlg;
    let mut state = HashAlg::Sha256.initial_state();
    HashAlg::Sha256.compress(&mut state, &long[..128]);
    let mut body = vec![0x90, 40];
    body.extend_from_slice(&state);
    body.extend_from_slice(&(128u64 * 8).to_be_bytes());
    body.extend_from_slice(&[0x80, 22]);
    body.extend_from_slice(&long[128..]);
    let mut apdu = vec![0x00, 0x2A, 0x90, 0xA0, body.len() as u8];
    apdu.extend_from_slice(&body);
    assert_eq!(card.transmit(&apdu), [0x90, 0x00]);
    // Case 2 with a wrong Le: 6C 00 (256 available), the hash is kept.
    assert_eq!(send(&mut *card, "00 2A 9E 9A 80"), [0x6C, 0x00]);
    let mut r = send(&mut *card, "00 2A 9E 9A 00");
    assert_eq!(r.split_off(256), [0x90, 0x00]);
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(&long), &r)
        .unwrap();
    // A bit counter that is not a whole number of blocks.
    apdu[5 + 2 + 32 + 7] = 0x01;
    assert_eq!(card.transmit(&apdu), [0x6A, 0x80]);
    // Malformed bodies.
    assert_eq!(send(&mut *card, "00 2A 90 A0 03 90 00 80"), [0x6A, 0x80]);
    assert_eq!(send(&mut *card, "00 2A 90 A0 02 80 00"), [0x6A, 0x80]);
}

#[test]
fn internal_authenticate_with_key_82() {
    let mut card = default_cps3();
    let key = public_key(&read_cert(&mut *card, "E0 02"));
    let challenge = [0x5Au8; 36];
    let mut apdu = vec![0x00, 0x88, 0x00, 0x00, 36];
    apdu.extend_from_slice(&challenge);
    apdu.push(0x00);
    assert_eq!(card.transmit(&apdu), [0x69, 0x85]);
    data(&mut *card, "00 22 41 A4 06 80 01 02 84 01 82");
    assert_eq!(card.transmit(&apdu), [0x69, 0x82]);
    data(&mut *card, VERIFY_1234);
    assert_eq!(card.transmit(&apdu), [0x61, 0x00]);
    let mut r = send(&mut *card, "00 C0 00 00 00");
    assert_eq!(r.split_off(256), [0x90, 0x00]);
    key.verify(Pkcs1v15Sign::new_unprefixed(), &challenge, &r)
        .unwrap();
    // 102 bytes is the limit.
    let mut apdu = vec![0x00, 0x88, 0x00, 0x00, 102];
    apdu.extend_from_slice(&[1; 102]);
    assert_eq!(card.transmit(&apdu), [0x61, 0x00]);
    let mut apdu = vec![0x00, 0x88, 0x00, 0x00, 103];
    apdu.extend_from_slice(&[1; 103]);
    assert_eq!(card.transmit(&apdu), [0x67, 0x00]);
    // The signature key cannot be used through INTERNAL AUTHENTICATE and vice versa.
    card.reset();
    data(&mut *card, VERIFY_1234);
    data(&mut *card, "00 22 41 B6 06 80 01 42 84 01 81");
    assert_eq!(send(&mut *card, "00 88 00 00 02 01 02 00"), [0x69, 0x85]);
}

#[test]
fn toml_holder_and_expired_certificate() {
    let text = r#"
        kind = "cps3"
        serial = "2500000042"
        [holder]
        national_id = "810001234567"
        surname = "DURAND-TEST"
        given_name = "ÉLODIE"
        profession_code = 21
        profession_label = "Pharmacien"
        [certificates]
        not_before = "2015-01-01"
        not_after = "2018-01-01"
    "#;
    let mut card = from_toml_str(text).unwrap();
    let cert = read_cert(&mut *card, "E0 02");
    let subject = cert.tbs_certificate.subject.to_string();
    for part in ["810001234567", "DURAND-TEST", "ÉLODIE", "Pharmacien"] {
        assert!(subject.contains(part), "{part} missing from {subject}");
    }
    let not_after = cert.tbs_certificate.validity.not_after.to_unix_duration();
    assert_eq!(not_after.as_secs(), 1_514_764_800);
    data(&mut *card, "00 A4 09 0C 04 3F 00 D0 03");
    assert_eq!(data(&mut *card, "00 B0 00 00 0C")[7..], h("25 00 00 00 42"));
}

/// Random bytes of every length, and random bodies behind every known header:
/// the card always answers at least SW1 SW2 and never panics.
#[test]
fn garbage_never_panics() {
    let mut card = default_cps3();
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
    let headers: [&[u8]; 12] = [
        &[0x00, 0xA4],
        &[0x00, 0xB0],
        &[0x00, 0x20],
        &[0x00, 0x24],
        &[0x00, 0x2C],
        &[0x00, 0xCB],
        &[0x00, 0x22],
        &[0x00, 0x2A],
        &[0x00, 0x88],
        &[0x00, 0xC0],
        &[0x00, 0x2A, 0x90, 0xA0],
        &[0x00, 0x2A, 0x9E, 0x9A],
    ];
    data(&mut *card, VERIFY_1234);
    for len in 0..300 {
        for round in 0..8 {
            let mut apdu = vec![0u8; len];
            rng.fill_bytes(&mut apdu);
            if round > 0 && len >= 4 {
                let header = headers[(round + len) % headers.len()];
                apdu[..header.len()].copy_from_slice(header);
                if len > 5 && round % 2 == 0 {
                    apdu[4] = (len - 5) as u8;
                }
            }
            let r = card.transmit(&apdu);
            assert!(r.len() >= 2, "{apdu:02X?}");
            // Keep some state around: MSE so that signing paths run.
            if round == 3 {
                send(&mut *card, "00 22 41 B6 06 80 01 42 84 01 81");
                send(&mut *card, "00 22 41 A4 06 80 01 02 84 01 82");
                send(&mut *card, "00 A4 09 0C 06 3F 00 00 01 E0 01");
            }
        }
    }
}

// ---- Data objects, situations, EF_ACTUA, PKCS#15 ------------------------

use crate::card::cps3::walk::{self, der_items, fields, one};
use crate::card::load;

/// Selects a path under 3F00 and reads it whole; `69 82` → `None`.
fn read_file(card: &mut dyn SimCard, path: &str) -> Option<Vec<u8>> {
    walk::read_path(card, 0x00, &h(path))
}

/// `tag`'s children as (tag, text) pairs.
fn texts(object: &[u8], tag: u8) -> Vec<(u8, Vec<u8>)> {
    der_items(one(object, tag))
        .into_iter()
        .map(|d| (d.tag, d.value.to_vec()))
        .collect()
}

fn t(tag: u8, value: &[u8]) -> (u8, Vec<u8>) {
    (tag, value.to_vec())
}

#[test]
fn default_data_objects() {
    let mut card = default_cps3();
    let id_card = read_file(&mut *card, "3F00 0001 D101").unwrap();
    assert_eq!(
        id_card,
        h("E1 28 80 02 3030 81 02 3830 82 0A 32353030353737323533 83 08 3230323430313031 84 08 3230333031323331")
    );
    assert_eq!(
        texts(&read_file(&mut *card, "3F00 0001 D102").unwrap(), 0xE2),
        [
            t(0x80, b"8"),
            t(0x81, b"899900038839"),
            t(0x82, b"DR"),
            t(0x83, b"TRAL"),
            t(0x84, b"ADEMIS")
        ]
    );
    assert_eq!(
        read_file(&mut *card, "3F00 0001 D103").unwrap(),
        h("E3 04 80 02 4652")
    );
    let info = read_file(&mut *card, "3F00 0001 D104").unwrap();
    assert_eq!(
        texts(&info, 0xE4),
        [t(0x80, b"10"), t(0x81, b"C"), t(0x82, b"SM26")]
    );
    // The ANS sample code's rule: the specialty is the last 4 characters.
    assert_eq!(&info[info.len() - 4..], b"SM26");
    assert_eq!(read_file(&mut *card, "3F00 0001 D107").unwrap(), [0; 32]);
    assert_eq!(
        read_file(&mut *card, "3F00 D010").unwrap(),
        h("EC 12 81 07 20240115093000 82 07 20301231235959")
    );
}

#[test]
fn situations_need_the_pin() {
    let mut card = default_cps3();
    // Selecting is free, reading is not.
    // The FCP says so: READ after user authentication (SCB 11), contact only.
    let fcp = data(&mut *card, "00 A4 09 04 06 3F 00 00 01 D1 20");
    assert_eq!(fcp[..2], [0x62, 0x25]);
    assert_eq!(
        fcp[16..],
        h("A1 12 8C 07 7B FF FF FF FF FF 11 9C 07 7B FF FF FF FF FF FF 8A 01 05")
    );
    assert_eq!(send(&mut *card, "00 B0 00 00 04"), [0x69, 0x82]);
    for n in 0..16u8 {
        assert_eq!(
            read_file(&mut *card, &format!("3F00 0001 D1 {:02X}", 0x20 + n)),
            None
        );
    }
    assert_eq!(send(&mut *card, "00 20 00 01 04 30 30 30 30"), [0x63, 0xC2]);
    assert_eq!(read_file(&mut *card, "3F00 0001 D120"), None);
    data(&mut *card, VERIFY_1234);
    let first = read_file(&mut *card, "3F00 0001 D120").unwrap();
    assert_eq!(
        texts(&first, 0xEE),
        [
            t(0x80, b"0"),
            t(0x81, b"1"),
            t(0x82, b"4"),
            t(0x84, b"CABINET DU DR TRAL"),
            t(0x85, b"499900063480001"),
            t(0x86, b"SA07")
        ]
    );
    assert_eq!(&first[first.len() - 4..], b"SA07");
    let second = read_file(&mut *card, "3F00 0001 D121").unwrap();
    assert_eq!(&second[second.len() - 4..], b"SA08");
    assert!(second.windows(15).any(|w| w == b"399900000300015"));
    for n in 2..16u8 {
        let unused = read_file(&mut *card, &format!("3F00 0001 D1 {:02X}", 0x20 + n)).unwrap();
        assert_eq!(unused, [0; 64]);
    }
    // A reset ends it.
    card.reset();
    assert_eq!(read_file(&mut *card, "3F00 0001 D120"), None);
}

#[test]
fn pkcs15_walk_finds_every_object() {
    let mut card = default_cps3();
    let found = walk::walk(&mut *card, 0x00);
    assert_eq!(found.app_path, h("3F00 0001"));
    assert_eq!(found.odf_tags, [0xA0, 0xA4, 0xA7, 0xA8]);
    let aid = "E8 28 BD 08 0F 80 25 00 00 01 FF 00 10";
    let keys: Vec<_> = found
        .keys
        .iter()
        .map(|k| (k.label.as_str(), k.id.clone(), k.key_ref, k.auth_id.clone()))
        .collect();
    assert_eq!(
        keys,
        [
            ("CPS_PRIV_SIG", h(&format!("{aid} 01")), 0x81, vec![1]),
            ("CPS_PRIV_AUT", h(&format!("{aid} 02")), 0x82, vec![1]),
        ]
    );
    assert!(found
        .keys
        .iter()
        .all(|k| k.modulus_bits == 2048 && k.path == h("3F00 0001")));
    let certs: Vec<_> = found
        .certs
        .iter()
        .map(|c| (c.label.as_str(), c.id.clone(), c.path.clone()))
        .collect();
    assert_eq!(
        certs,
        [
            (
                "Certificat de Signature CPS",
                h(&format!("{aid} 01")),
                h("3F00 0001 E001")
            ),
            (
                "Certificat d'Authentification CPS",
                h(&format!("{aid} 02")),
                h("3F00 0001 E002")
            ),
        ]
    );
    for c in &found.certs {
        Certificate::from_der(&c.der).unwrap();
    }
    assert_eq!(found.pins.len(), 1);
    let pin = &found.pins[0];
    assert_eq!(
        (pin.label.as_str(), pin.auth_id.as_slice(), pin.pin_type),
        ("PIN CPS", &[1u8][..], 1)
    );
    assert_eq!((pin.min, pin.stored, pin.max, pin.reference), (4, 8, 8, 1));
    assert_eq!(pin.path, h("3F00"));
    // Every data object: label, path, private or not; situations unreadable.
    let mut expected = vec![
        ("CPS_ID_CARD".to_string(), "D101"),
        ("CPS_NAME_PS".to_string(), "D102"),
        ("CPS_LANG_PS".to_string(), "D103"),
        ("CPS_INFO_PS".to_string(), "D104"),
        ("CPS_DATA".to_string(), "D107"),
    ];
    let fids: Vec<String> = (0..16).map(|n| format!("D1{:02X}", 0x20 + n)).collect();
    for (n, fid) in fids.iter().enumerate() {
        expected.push((format!("CPS_ACTIVITY_{:02}_PS", n + 1), fid));
    }
    assert_eq!(found.data.len(), expected.len());
    for (object, (label, fid)) in found.data.iter().zip(&expected) {
        assert_eq!(&object.label, label);
        assert_eq!(object.path, h(&format!("3F00 0001 {fid}")), "{label}");
        assert_eq!(object.app_name, "CPS");
        let situation = label.starts_with("CPS_ACTIVITY_");
        assert_eq!(object.private, situation, "{label}");
        assert_eq!(object.auth_id.is_some(), situation, "{label}");
        assert_eq!(object.content.is_none(), situation, "{label}");
    }
    // With the PIN, every object is readable.
    data(&mut *card, VERIFY_1234);
    let found = walk::walk(&mut *card, 0x00);
    assert!(found.data.iter().all(|d| d.content.is_some()));
    let first = found.data[5].content.as_ref().unwrap();
    fields(one(first, 0xEE), &[0x80, 0x81, 0x82, 0x84, 0x85, 0x86]);
}

#[test]
fn variant_cards() {
    // Last try: one wrong PIN blocks the card.
    let mut card = load("cps3-last-try").unwrap();
    assert_eq!(send(&mut *card, "00 20 00 01"), [0x63, 0xC1]);
    assert_eq!(send(&mut *card, "00 20 00 01 04 39 39 39 39"), [0x63, 0xC0]);
    assert_eq!(send(&mut *card, VERIFY_1234), [0x69, 0x83]);
    let mut card = load("cps3-last-try").unwrap();
    assert_eq!(send(&mut *card, VERIFY_1234), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "00 20 00 01"), [0x90, 0x00]);

    let mut card = load("cps3-blocked").unwrap();
    assert_eq!(send(&mut *card, VERIFY_1234), [0x69, 0x83]);
    assert_eq!(data(&mut *card, PIN_COUNTER)[TRIES_LEFT_AT], 0);
    assert_eq!(read_file(&mut *card, "3F00 0001 D120"), None);

    // Expired: card validity and certificates in the past.
    let mut card = load("cps3-expired").unwrap();
    let id_card = texts(&read_file(&mut *card, "3F00 0001 D101").unwrap(), 0xE1);
    assert_eq!(id_card[2], t(0x82, b"2500000017"));
    assert_eq!(id_card[4], t(0x84, b"20171231"));
    for fid in ["E0 01", "E0 02"] {
        let cert = read_cert(&mut *card, fid);
        let not_after = cert.tbs_certificate.validity.not_after.to_unix_duration();
        assert_eq!(not_after.as_secs(), 1_514_764_800);
    }

    // 16 situations, Latin-1 in the last one.
    let mut card = load("cps3-16-situations").unwrap();
    data(&mut *card, VERIFY_1234);
    let mut types = Vec::new();
    for n in 0..16u8 {
        let s = read_file(&mut *card, &format!("3F00 0001 D1 {:02X}", 0x20 + n)).unwrap();
        let f = fields(one(&s, 0xEE), &[0x80, 0x81, 0x82, 0x84, 0x85, 0x86]);
        types.push(f[2][0]);
        assert_eq!(f[5].len(), 4);
        assert_eq!(&s[s.len() - 4..], f[5]);
    }
    types.sort();
    types.dedup();
    assert_eq!(types, b"01234");
    let last = read_file(&mut *card, "3F00 0001 D12F").unwrap();
    assert!(last.windows(7).any(|w| w == b"H\xD4PITAL"), "{last:02X?}");

    // ADELI pharmacist, Latin-1 given name, officine.
    let mut card = load("cps3-adeli").unwrap();
    let name = texts(&read_file(&mut *card, "3F00 0001 D102").unwrap(), 0xE2);
    assert_eq!(name[0], t(0x80, b"0"));
    assert_eq!(name[1].1.len(), 10, "ADELI: \"0\" + 9 characters");
    assert_eq!(name[1].1[0], b'0');
    assert_eq!(name[4], t(0x84, b"H\xC9L\xC8NE"));
    let info = texts(&read_file(&mut *card, "3F00 0001 D104").unwrap(), 0xE4);
    assert_eq!(info[0], t(0x80, b"21"));
    data(&mut *card, VERIFY_1234);
    let s = read_file(&mut *card, "3F00 0001 D120").unwrap();
    assert_eq!(&s[s.len() - 4..], b"SA33");
    assert_eq!(read_file(&mut *card, "3F00 0001 D121").unwrap(), [0; 64]);
    let subject = read_cert(&mut *card, "E0 01").tbs_certificate.subject.to_string();
    assert!(
        subject.contains("HÉLÈNE") && subject.contains("Pharmacien"),
        "{subject}"
    );
}

#[test]
fn toml_data_objects_and_absent_actua() {
    let text = r#"
        kind = "cps3"
        situations = []
        [card]
        type = "01"
        category = "00"
        data = "CAFE"
        [holder]
        languages = "FR EN"
        [actua]
        present = false
    "#;
    let mut card = from_toml_str(text).unwrap();
    let id_card = texts(&read_file(&mut *card, "3F00 0001 D101").unwrap(), 0xE1);
    assert_eq!(id_card[..2], [t(0x80, b"01"), t(0x81, b"00")]);
    assert_eq!(read_file(&mut *card, "3F00 0001 D107").unwrap(), [0xCA, 0xFE]);
    assert_eq!(
        read_file(&mut *card, "3F00 0001 D103").unwrap(),
        h("E3 07 80 05 4652 20 454E")
    );
    assert_eq!(send(&mut *card, "00 A4 09 0C 04 3F 00 D0 10"), [0x6A, 0x82]);
    data(&mut *card, VERIFY_1234);
    assert_eq!(read_file(&mut *card, "3F00 0001 D120").unwrap(), [0; 64]);
    // The card type goes into the certificates too (extension 1.2.250.1.71.1.2.2).
    let cert = read_cert(&mut *card, "E0 01");
    let ext = cert
        .tbs_certificate
        .extensions
        .unwrap()
        .into_iter()
        .find(|e| e.extn_id == crate::pki::OID_ANS_CARD_TYPE)
        .unwrap();
    assert_eq!(ext.extn_value.as_bytes(), [0x02, 0x01, 0x01]);
}
