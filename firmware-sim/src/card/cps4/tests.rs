//! CPS4 driven by raw APDU bytes, as a host would.

use crate::card::cps3::tests::{data, exchange, h, public_key, send};
use crate::card::cps3::walk;
use crate::card::{default_cps4, from_toml_str, load, SimCard};
use der::Decode;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rsa::signature::hazmat::PrehashVerifier;
use rsa::{pss, Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

const SELECT_APP: &str = "01 A4 04 0C 08 80 25 00 00 01 FF 01 00";
const SELECT_ISD: &str = "01 A4 04 0C 07 A0 00 00 01 51 00 00";
const SELECT_CPS2TER: &str = "00 A4 04 0C 08 80 25 00 00 01 FF 00 02";
const VERIFY_1234: &str = "01 20 00 01 04 31 32 33 34";
const PIN_STATUS: &str = "01 20 00 01";

fn app_card() -> Box<dyn SimCard> {
    let mut card = default_cps4();
    assert_eq!(send(&mut *card, SELECT_APP), [0x90, 0x00]);
    card
}

fn read_cert(card: &mut dyn SimCard, fid: &str) -> Certificate {
    let der = walk::read_path(card, 0x01, &h(&format!("3F00 0001 {fid}"))).unwrap();
    Certificate::from_der(&der).unwrap()
}

/// PSO CDS with the hash as data: `61 00`, then `01 C0 00 00 00`.
fn sign_hash(card: &mut dyn SimCard, hash: &[u8]) -> Vec<u8> {
    let mut apdu = vec![0x01, 0x2A, 0x9E, 0x9A, hash.len() as u8];
    apdu.extend_from_slice(hash);
    apdu.push(0x00);
    assert_eq!(card.transmit(&apdu), [0x61, 0x00]);
    let mut r = card.transmit(&h("01 C0 00 00 00"));
    assert_eq!(r.split_off(256), [0x90, 0x00]);
    r
}

fn verify_pss_sha256(key: &RsaPublicKey, hash: &[u8], sig: &[u8]) {
    let verifier = pss::VerifyingKey::<Sha256>::new(key.clone());
    let sig = pss::Signature::try_from(sig).unwrap();
    verifier.verify_prehash(hash, &sig).unwrap();
}

#[test]
fn atr_and_channel_rules() {
    let mut card = default_cps4();
    assert_eq!(
        card.atr(),
        h("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44")
    );
    // Channel 1 before the application: SELECT → 6A 82, the rest → 69 85.
    assert_eq!(send(&mut *card, "01 A4 09 0C 04 3F 00 D0 03"), [0x6A, 0x82]);
    assert_eq!(send(&mut *card, "01 A4 00 0C 02 3F 00"), [0x6A, 0x82]);
    assert_eq!(send(&mut *card, "01 B0 00 00 0C"), [0x69, 0x85]);
    assert_eq!(send(&mut *card, PIN_STATUS), [0x69, 0x85]);
    assert_eq!(send(&mut *card, "01 C0 00 00 10"), [0x69, 0x85]);
    // The basic channel: only SELECT 3F00 and the CPS2ter application.
    assert_eq!(send(&mut *card, "00 A4 00 0C 02 3F 00"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, SELECT_CPS2TER), [0x90, 0x00]);
    let fci = data(&mut *card, "00 A4 04 04 08 80 25 00 00 01 FF 00 02");
    assert_eq!(fci, h("6F 0A 84 08 80 25 00 00 01 FF 00 02"));
    let fcp = data(&mut *card, "00 A4 00 04 02 3F 00");
    assert_eq!(fcp[0], 0x62);
    for other in [
        "00 A4 04 0C 08 80 25 00 00 01 FF 01 00",
        "00 A4 09 0C 04 3F 00 D0 03",
        "00 A4 02 0C 02 D0 03",
        "00 B0 00 00 0C",
        "00 20 00 01",
        "00 20 00 01 04 31 32 33 34",
        "00 CB 3F FF 0A 4D 08 70 06 BF 81 01 02 A0 80 00",
        "00 22 81 B6 04 91 02 28 90",
        "00 88 00 00 02 01 02 00",
        "00 70 00 00 01",
        "00 C0 00 00 10",
    ] {
        assert_eq!(send(&mut *card, other), [0x69, 0x85], "{other}");
    }
    // Other classes.
    assert_eq!(send(&mut *card, "02 A4 00 0C 02 3F 00"), [0x68, 0x81]);
    assert_eq!(send(&mut *card, "80 A4 00 0C 02 3F 00"), [0x6E, 0x00]);
    // The application, with or without FCI; P2 00 is refused.
    assert_eq!(
        send(&mut *card, "01 A4 04 00 08 80 25 00 00 01 FF 01 00"),
        [0x6A, 0x86]
    );
    let fci = data(&mut *card, "01 A4 04 04 08 80 25 00 00 01 FF 01 00");
    assert!(fci.windows(8).any(|w| w == h("80 25 00 00 01 FF 01 00")));
    assert_eq!(send(&mut *card, SELECT_APP), [0x90, 0x00]);
    // Still nothing but SELECT on the basic channel.
    assert_eq!(send(&mut *card, "00 B0 00 00 0C"), [0x69, 0x85]);
    // GET RESPONSE belongs to the channel of the command.
    assert_eq!(send(&mut *card, "01 A4 00 04 02 D0 03")[0], 0x61);
    assert_eq!(send(&mut *card, "00 C0 00 00 0D"), [0x69, 0x85]);
    assert_eq!(send(&mut *card, "01 C0 00 00 0D"), [0x69, 0x85]);
    assert_eq!(send(&mut *card, "01 A4 00 04 02 D0 03"), [0x61, 0x0D]);
    assert_eq!(send(&mut *card, "01 C0 00 00 0D").len(), 0x0F);
    assert_eq!(
        data(&mut *card, "01 B0 00 00 0C"),
        h("5A 0A 80 25 00 00 01 26 00 00 00 42")
    );
    // No INTERNAL AUTHENTICATE, no GET DATA counter.
    assert_eq!(send(&mut *card, "01 88 00 00 02 01 02 00"), [0x6D, 0x00]);
    assert_eq!(
        send(&mut *card, "01 CB 3F FF 0A 4D 08 70 06 BF 81 01 02 A0 80 00"),
        [0x6A, 0x88]
    );
    // The ISD takes channel 1 away from the application; Cryptolib's
    // reselect sequence brings it back.
    assert_eq!(send(&mut *card, SELECT_ISD), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "01 B0 00 00 0C"), [0x69, 0x85]);
    assert_eq!(send(&mut *card, SELECT_CPS2TER), [0x90, 0x00]);
    assert_eq!(send(&mut *card, SELECT_APP), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "01 A4 00 0C 02 D0 03"), [0x90, 0x00]);
    // A reset closes channel 1.
    card.reset();
    assert_eq!(send(&mut *card, "01 B0 00 00 0C"), [0x69, 0x85]);
}

#[test]
fn file_selection_as_iso_and_cryptolib_do_it() {
    let mut card = app_card();
    // No EF.ATR on the CPS4.
    assert_eq!(send(&mut *card, "01 A4 00 0C 02 2F 01"), [0x6A, 0x82]);
    // Cryptolib strips the MF and keeps the last FID: from the MF, E001 is not
    // found; it selects 0001 and tries again.
    assert_eq!(send(&mut *card, "01 A4 09 04 02 E0 01"), [0x6A, 0x82]);
    assert_eq!(send(&mut *card, "01 A4 00 0C 02 00 01"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "01 A4 09 04 02 E0 01")[0], 0x61);
    // P1 00 from inside 0001 finds MF files, the DF itself and siblings.
    assert_eq!(send(&mut *card, "01 A4 00 0C 02 D0 03"), [0x90, 0x00]);
    assert_eq!(data(&mut *card, "01 B0 00 00 02"), h("5A 0A"));
    data(&mut *card, "01 A4 00 0C 02 00 01");
    assert_eq!(send(&mut *card, "01 A4 00 0C 02 00 01"), [0x90, 0x00]);
    data(&mut *card, "01 A4 00 0C 02 E0 01");
    assert_eq!(send(&mut *card, "01 A4 00 0C 02 E0 02"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "01 A4 00 0C 02 E0 09"), [0x6A, 0x82]);
    // P1 08: from the MF without 3F00; P1 09: from the current DF, so a
    // path that starts with 3F00 is not found (Cryptolib never sends one).
    assert_eq!(send(&mut *card, "01 A4 08 0C 04 00 01 D1 01"), [0x90, 0x00]);
    assert_eq!(data(&mut *card, "01 B0 00 00 02"), h("E1 28"));
    for path in ["3F 00 00 01 D1 02", "3F 00 D0 03", "3F 00 2F 00", "3F 00"] {
        let apdu = format!("01 A4 09 0C {:02X} {path}", h(path).len());
        assert_eq!(send(&mut *card, &apdu), [0x6A, 0x82], "{apdu}");
        assert_eq!(send(&mut *card, &apdu.replace("09 0C", "09 04")), [0x6A, 0x82]);
    }
    assert_eq!(send(&mut *card, "01 A4 09 0C 02 D1 02"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "01 A4 08 0C 00"), [0x67, 0x00]);
    // The PKCS#15 DF by AID.
    assert_eq!(
        send(
            &mut *card,
            "01 A4 04 0C 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10"
        ),
        [0x90, 0x00]
    );
    assert_eq!(send(&mut *card, "01 A4 02 0C 02 50 31"), [0x90, 0x00]);
    // Parent.
    assert_eq!(send(&mut *card, "01 A4 03 0C"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "01 A4 02 0C 02 D0 10"), [0x90, 0x00]);
}

#[test]
fn pin_status_with_verify_without_data() {
    let mut card = app_card();
    assert_eq!(send(&mut *card, PIN_STATUS), [0x63, 0xC3]);
    assert_eq!(send(&mut *card, "01 20 00 01 04 31 31 31 31"), [0x63, 0xC2]);
    assert_eq!(send(&mut *card, PIN_STATUS), [0x63, 0xC2]);
    assert_eq!(send(&mut *card, VERIFY_1234), [0x90, 0x00]);
    assert_eq!(send(&mut *card, PIN_STATUS), [0x90, 0x00]);
    // Re-selecting the application keeps the verified state (unverified on
    // a real card); a reset does not.
    assert_eq!(send(&mut *card, SELECT_APP), [0x90, 0x00]);
    assert_eq!(send(&mut *card, PIN_STATUS), [0x90, 0x00]);
    card.reset();
    send(&mut *card, SELECT_APP);
    assert_eq!(send(&mut *card, PIN_STATUS), [0x63, 0xC3]);
    for left in [0xC2, 0xC1, 0xC0] {
        assert_eq!(send(&mut *card, "01 20 00 01 04 30 30 30 30"), [0x63, left]);
    }
    assert_eq!(send(&mut *card, PIN_STATUS), [0x69, 0x83]);
    assert_eq!(send(&mut *card, VERIFY_1234), [0x69, 0x83]);
    // Unblock with the PUK and a new PIN, change it back, then the CPS4
    // "new PIN only" form after VERIFY.
    assert_eq!(
        send(&mut *card, "01 2C 00 01 0C 31 32 33 34 35 36 37 38 39 39 39 39"),
        [0x90, 0x00]
    );
    assert_eq!(send(&mut *card, PIN_STATUS), [0x63, 0xC3]);
    assert_eq!(
        send(&mut *card, "01 24 00 01 08 39 39 39 39 31 32 33 34"),
        [0x90, 0x00]
    );
    assert_eq!(send(&mut *card, "01 24 01 01 04 35 35 35 35"), [0x90, 0x00]);
    card.reset();
    send(&mut *card, SELECT_APP);
    assert_eq!(send(&mut *card, "01 24 01 01 04 31 32 33 34"), [0x69, 0x82]);
    assert_eq!(send(&mut *card, "01 20 00 01 04 35 35 35 35"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "01 24 01 01 02 31 32"), [0x6A, 0x80]);
    assert_eq!(send(&mut *card, "01 24 01 01 04 31 32 33 34"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, VERIFY_1234), [0x90, 0x00]);
    // A blocked card from TOML.
    let mut card = from_toml_str("kind = \"cps4\"\n[pin]\ntries_left = 0\n").unwrap();
    send(&mut *card, SELECT_APP);
    assert_eq!(send(&mut *card, PIN_STATUS), [0x69, 0x83]);
}

#[test]
fn signatures_pkcs1_and_pss_with_both_keys() {
    let mut card = app_card();
    let sig_cert = read_cert(&mut *card, "E001");
    let auth_cert = read_cert(&mut *card, "E002");
    let sig_key = public_key(&sig_cert);
    let auth_key = public_key(&auth_cert);
    let hash = Sha256::digest(b"ordonnance");
    let cds = format!("01 2A 9E 9A 20 {} 00", hex::encode(hash));
    // No MSE yet, then no PIN.
    assert_eq!(send(&mut *card, &cds), [0x69, 0x85]);
    assert_eq!(send(&mut *card, "01 22 81 B6 04 91 02 2C 90"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, &cds), [0x69, 0x82]);
    data(&mut *card, VERIFY_1234);
    // SHA-256 RSA-PSS (salt 32, MGF1-SHA-256) with the signature key.
    let first = sign_hash(&mut *card, &hash);
    verify_pss_sha256(&sig_key, &hash, &first);
    // PSS is randomised.
    let second = sign_hash(&mut *card, &hash);
    assert_ne!(first, second);
    verify_pss_sha256(&sig_key, &hash, &second);
    assert!(pss::VerifyingKey::<Sha256>::new(auth_key.clone())
        .verify_prehash(&hash, &pss::Signature::try_from(&first[..]).unwrap())
        .is_err());
    // SHA-256 PKCS#1 v1.5, signature key, without the trailing Le.
    data(&mut *card, "01 22 81 B6 04 91 02 28 90");
    assert_eq!(
        send(&mut *card, &format!("01 2A 9E 9A 20 {}", hex::encode(hash))),
        [0x61, 0x00]
    );
    let mut sig = send(&mut *card, "01 C0 00 00 00");
    assert_eq!(sig.split_off(256), [0x90, 0x00]);
    sig_key
        .verify(Pkcs1v15Sign::new::<Sha256>(), &hash, &sig)
        .unwrap();
    // SHA-256 PSS with the authentication key; PKCS#1 with it is PSO
    // DECIPHER only (refused_as_cryptolib_never_sends_it).
    data(&mut *card, "01 22 81 B6 04 91 02 2C A0");
    verify_pss_sha256(&auth_key, &hash, &sign_hash(&mut *card, &hash));
    // SHA-1, PKCS#1 and PSS (salt 20).
    let sha1 = sha1::Sha1::digest(b"ordonnance");
    data(&mut *card, "01 22 81 B6 04 91 02 0A 90");
    assert_eq!(send(&mut *card, &cds), [0x67, 0x00]);
    sig_key
        .verify(
            Pkcs1v15Sign::new::<sha1::Sha1>(),
            &sha1,
            &sign_hash(&mut *card, &sha1),
        )
        .unwrap();
    data(&mut *card, "01 22 81 B6 04 91 02 15 90");
    let sig = sign_hash(&mut *card, &sha1);
    pss::VerifyingKey::<sha1::Sha1>::new(sig_key.clone())
        .verify_prehash(&sha1, &pss::Signature::try_from(&sig[..]).unwrap())
        .unwrap();
    // Bad MSEs.
    for (bad, sw) in [
        ("01 22 81 B6 04 91 02 2C 10", [0x6A, 0x80]),
        ("01 22 81 B6 04 91 02 2C 80", [0x6A, 0x80]),
        ("01 22 81 B6 04 91 02 42 90", [0x6A, 0x80]),
        ("01 22 81 B6 04 91 02 29 90", [0x6A, 0x80]),
        ("01 22 81 B6 03 91 02 2C", [0x6A, 0x80]),
        ("01 22 81 B6 04 90 02 2C 90", [0x6A, 0x80]),
        ("01 22 41 B6 06 80 01 42 84 01 81", [0x6A, 0x86]),
        ("01 22 41 A4 06 80 01 02 84 01 82", [0x6A, 0x86]),
    ] {
        assert_eq!(send(&mut *card, bad), sw, "{bad}");
    }
    // A refused MSE leaves no environment.
    assert_eq!(send(&mut *card, &cds), [0x69, 0x85]);
    // Reset: no environment, no PIN.
    card.reset();
    send(&mut *card, SELECT_APP);
    assert_eq!(send(&mut *card, &cds), [0x69, 0x85]);
    data(&mut *card, "01 22 81 B6 04 91 02 2C 90");
    assert_eq!(send(&mut *card, &cds), [0x69, 0x82]);
}

#[test]
fn pso_hash_then_signature() {
    let mut card = app_card();
    let key = public_key(&read_cert(&mut *card, "E001"));
    data(&mut *card, VERIFY_1234);
    assert_eq!(send(&mut *card, "01 2A 90 A0 05 90 00 80 01 41"), [0x69, 0x85]);
    data(&mut *card, "01 22 81 B6 04 91 02 28 90");
    let msg = b"<SignedInfo/>";
    let mut apdu = vec![0x01, 0x2A, 0x90, 0xA0, (msg.len() + 4) as u8, 0x90, 0x00];
    apdu.extend_from_slice(&[0x80, msg.len() as u8]);
    apdu.extend_from_slice(msg);
    assert_eq!(card.transmit(&apdu), [0x90, 0x00]);
    let mut r = send(&mut *card, "01 2A 9E 9A 00");
    assert_eq!(r.split_off(256), [0x90, 0x00]);
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg), &r)
        .unwrap();
    assert_eq!(send(&mut *card, "01 2A 9E 9A 00"), [0x69, 0x85]);
    // PSS, case 2 without Le → 61 00.
    data(&mut *card, "01 22 81 B6 04 91 02 2C 90");
    assert_eq!(card.transmit(&apdu), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "01 2A 9E 9A"), [0x61, 0x00]);
    let mut r = send(&mut *card, "01 C0 00 00 00");
    assert_eq!(r.split_off(256), [0x90, 0x00]);
    verify_pss_sha256(&key, &Sha256::digest(msg), &r);
    assert_eq!(send(&mut *card, "01 2A 90 A0 02 80 00"), [0x6A, 0x80]);
    // PSO DECIPHER without its MSE 41 B8.
    assert_eq!(send(&mut *card, "01 2A 80 86 02 81 00"), [0x69, 0x85]);
}

#[test]
fn files_and_pkcs15_like_the_cps3() {
    let mut card = app_card();
    let found = walk::walk(&mut *card, 0x01);
    assert_eq!(found.odf_tags, [0xA0, 0xA4, 0xA7, 0xA8]);
    let aid = "E8 28 BD 08 0F 80 25 00 00 01 FF 00 10";
    let keys: Vec<_> = found
        .keys
        .iter()
        .map(|k| (k.label.as_str(), k.id.clone(), k.key_ref))
        .collect();
    assert_eq!(
        keys,
        [
            ("CPS_PRIV_SIG", h(&format!("{aid} 10")), 0x10),
            ("CPS_PRIV_AUT", h(&format!("{aid} 20")), 0x20),
        ]
    );
    let cert_ids: Vec<_> = found.certs.iter().map(|c| c.id.clone()).collect();
    assert_eq!(cert_ids, [h(&format!("{aid} 10")), h(&format!("{aid} 20"))]);
    assert_eq!(found.data.len(), 21);
    assert!(found
        .data
        .iter()
        .all(|d| d.content.is_none() == d.label.starts_with("CPS_ACTIVITY_")));
    let id_card = found.data[0].content.as_ref().unwrap();
    let id_fields = walk::fields(walk::one(id_card, 0xE1), &[0x80, 0x81, 0x82, 0x83, 0x84]);
    assert_eq!(id_fields[2], b"2600000042");
    // Situations after VERIFY.
    data(&mut *card, VERIFY_1234);
    let s = walk::read_path(&mut *card, 0x01, &h("3F00 0001 D120")).unwrap();
    assert_eq!(&s[s.len() - 4..], b"SA07");
    let unused = walk::read_path(&mut *card, 0x01, &h("3F00 0001 D121")).unwrap();
    assert_eq!(unused, [0; 64]);
    assert_eq!(
        walk::read_path(&mut *card, 0x01, &h("3F00 D010")).unwrap()[..2],
        [0xEC, 0x12]
    );
    // The certificates chain to the simulator CA and hold the CPS4 keys.
    let ca = Certificate::from_der(crate::pki::CA_CERT_DER).unwrap();
    for (c, key) in found.certs.iter().zip([
        crate::pki::cps4_signature_key(),
        crate::pki::cps4_authentication_key(),
    ]) {
        let cert = Certificate::from_der(&c.der).unwrap();
        use der::Encode;
        let tbs = cert.tbs_certificate.to_der().unwrap();
        public_key(&ca)
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(&tbs),
                cert.signature.raw_bytes(),
            )
            .unwrap();
        assert_eq!(public_key(&cert), key.to_public_key());
        assert_ne!(
            public_key(&cert),
            crate::pki::cps3_signature_key().to_public_key()
        );
        let subject = cert.tbs_certificate.subject.to_string();
        assert!(subject.contains("QUATRE"), "{subject}");
    }
    // The bundled file is the default card.
    let mut other = load("cps4").unwrap();
    assert_eq!(other.atr(), card.atr());
    assert_eq!(send(&mut *other, SELECT_APP), [0x90, 0x00]);
    assert_eq!(exchange(&mut *other, "01 A4 00 04 02 D0 03")[..2], [0x62, 0x0B]);
}

/// Random bytes, and random bodies behind every known header on both
/// channels: the card always answers at least SW1 SW2 and never panics.
#[test]
fn garbage_never_panics() {
    let mut card = app_card();
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
    let headers: [&[u8]; 16] = [
        &[0x01, 0xA4],
        &[0x01, 0xB0],
        &[0x01, 0x20],
        &[0x01, 0x24],
        &[0x01, 0x2C],
        &[0x01, 0xCB],
        &[0x01, 0x22, 0x81, 0xB6],
        &[0x01, 0x2A],
        &[0x01, 0x88],
        &[0x01, 0xC0],
        &[0x01, 0x2A, 0x90, 0xA0],
        &[0x01, 0x2A, 0x9E, 0x9A],
        &[0x00, 0xA4],
        &[0x00, 0xC0],
        &[0x11, 0x2A, 0x80, 0x86],
        &[0x01, 0x2A, 0x80, 0x86],
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
            assert!(card.transmit(&apdu).len() >= 2, "{apdu:02X?}");
            if round == 3 {
                send(&mut *card, SELECT_APP);
                send(&mut *card, "01 22 81 B6 04 91 02 2C 90");
                send(&mut *card, "01 22 41 B8 03 83 01 20");
                send(&mut *card, "01 A4 08 0C 04 00 01 D1 20");
            }
        }
    }
}

/// MSE 41 B8 {83 01 20} then PSO DECIPHER of a 256-byte block in two chained
/// commands (`11 2A 80 86 FF …`, `01 2A 80 86 01 …`): `61 00`, then the raw
/// RSA result.
fn decipher(card: &mut dyn SimCard, block: &[u8]) -> Vec<u8> {
    assert_eq!(send(card, "01 22 41 B8 03 83 01 20"), [0x90, 0x00]);
    let mut first = vec![0x11, 0x2A, 0x80, 0x86, 0xFF];
    first.extend_from_slice(&block[..255]);
    assert_eq!(card.transmit(&first), [0x90, 0x00]);
    let last = [&[0x01, 0x2A, 0x80, 0x86, 0x01][..], &block[255..]].concat();
    assert_eq!(card.transmit(&last), [0x61, 0x00]);
    let mut r = card.transmit(&h("01 C0 00 00 00"));
    assert_eq!(r.split_off(256), [0x90, 0x00]);
    r
}

/// The PKCS#1 v1.5 type 01 block of a DigestInfo for a 2048-bit key.
fn type01(digest_info: &[u8]) -> Vec<u8> {
    let mut block = vec![0x00, 0x01];
    block.resize(256 - digest_info.len() - 1, 0xFF);
    block.push(0x00);
    block.extend_from_slice(digest_info);
    block
}

#[test]
fn authentication_key_signs_pkcs1_by_pso_decipher_as_cryptolib_does() {
    let mut card = app_card();
    let auth_key = public_key(&read_cert(&mut *card, "E002"));
    let hash = Sha256::digest(b"tls");
    let di = [&Pkcs1v15Sign::new::<Sha256>().prefix[..], &hash].concat();
    let block = type01(&di);
    // No PIN yet: the last part says so.
    assert_eq!(send(&mut *card, "01 22 41 B8 03 83 01 20"), [0x90, 0x00]);
    let first = [&[0x11, 0x2A, 0x80, 0x86, 0xFF][..], &block[..255]].concat();
    let last = [&[0x01, 0x2A, 0x80, 0x86, 0x01][..], &block[255..]].concat();
    assert_eq!(card.transmit(&first), [0x90, 0x00]);
    assert_eq!(card.transmit(&last), [0x69, 0x82]);
    data(&mut *card, VERIFY_1234);
    let sig = decipher(&mut *card, &block);
    auth_key
        .verify(Pkcs1v15Sign::new::<Sha256>(), &hash, &sig)
        .unwrap();
    // The result is raw RSA: whatever the block, no padding check.
    let raw = decipher(&mut *card, &[0x00; 256]);
    assert_eq!(raw, [0x00; 256]);
    // The environment stays for another signature.
    assert_eq!(card.transmit(&first), [0x90, 0x00]);
    assert_eq!(card.transmit(&last), [0x61, 0x00]);
    // A chain broken by another command is forgotten: the last part alone
    // is one byte, not a cryptogram.
    assert_eq!(card.transmit(&first), [0x90, 0x00]);
    assert_eq!(send(&mut *card, PIN_STATUS), [0x90, 0x00]);
    assert_eq!(card.transmit(&last), [0x67, 0x00]);
    // Too long, not the modulus' length, not below the modulus.
    assert_eq!(card.transmit(&first), [0x90, 0x00]);
    assert_eq!(card.transmit(&first), [0x67, 0x00]);
    let whole = [&[0x01, 0x2A, 0x80, 0x86, 0xFF][..], &block[..255]].concat();
    assert_eq!(card.transmit(&whole), [0x67, 0x00]);
    let ff = [&[0x11, 0x2A, 0x80, 0x86, 0xFF][..], &[0xFF; 255][..]].concat();
    assert_eq!(card.transmit(&ff), [0x90, 0x00]);
    assert_eq!(card.transmit(&h("01 2A 80 86 01 FF")), [0x6A, 0x80]);
    // Only PSO DECIPHER takes chaining; only the authentication key deciphers.
    assert_eq!(send(&mut *card, "11 2A 9E 9A 02 01 02"), [0x68, 0x84]);
    assert_eq!(send(&mut *card, "11 B0 00 00 02"), [0x68, 0x84]);
    for bad in [
        "01 22 41 B8 03 83 01 10",
        "01 22 41 B8 03 83 01 A0",
        "01 22 41 B8 03 84 01 20",
    ] {
        assert_eq!(send(&mut *card, bad), [0x6A, 0x80], "{bad}");
    }
    assert_eq!(card.transmit(&first), [0x69, 0x85]);
    // A reset forgets the environment.
    card.reset();
    send(&mut *card, SELECT_APP);
    assert_eq!(card.transmit(&first), [0x69, 0x85]);
}

#[test]
fn refused_as_cryptolib_never_sends_it() {
    let mut card = app_card();
    data(&mut *card, VERIFY_1234);
    let hash = Sha256::digest(b"tls");
    let cds = format!("01 2A 9E 9A 20 {} 00", hex::encode(hash));
    // PSO CDS with the authentication key under PKCS#1 v1.5 (SHA-256 or
    // SHA-1): 69 85, with or without PSO HASH first, PIN verified or not.
    for mse in ["01 22 81 B6 04 91 02 28 A0", "01 22 81 B6 04 91 02 0A A0"] {
        assert_eq!(send(&mut *card, mse), [0x90, 0x00]);
        assert_eq!(send(&mut *card, &cds), [0x69, 0x85], "{mse}");
        assert_eq!(send(&mut *card, "01 2A 9E 9A 00"), [0x69, 0x85], "{mse}");
    }
    data(&mut *card, "01 22 81 B6 04 91 02 28 A0");
    assert_eq!(send(&mut *card, "01 2A 90 A0 05 90 00 80 01 41"), [0x90, 0x00]);
    assert_eq!(send(&mut *card, "01 2A 9E 9A 00"), [0x69, 0x85]);
    card.reset();
    send(&mut *card, SELECT_APP);
    data(&mut *card, "01 22 81 B6 04 91 02 28 A0");
    assert_eq!(send(&mut *card, &cds), [0x69, 0x85]);
    // P1 09 with a path from the MF: not found, whatever the file.
    assert_eq!(send(&mut *card, "01 A4 09 04 04 3F 00 D0 03"), [0x6A, 0x82]);
    assert_eq!(send(&mut *card, "01 A4 09 04 06 3F 00 00 01 E0 01"), [0x6A, 0x82]);
    // READ BINARY: up to 256 bytes at once (Le 00), the CPS3's 0xE7 limit
    // does not apply.
    assert_eq!(send(&mut *card, "01 A4 08 0C 04 00 01 E0 01"), [0x90, 0x00]);
    let r = send(&mut *card, "01 B0 00 00 00");
    assert_eq!((r.len(), &r[256..]), (258, &[0x90, 0x00][..]));
    assert_eq!(send(&mut *card, "01 B0 00 00 E8").len(), 0xE8 + 2);
}

#[test]
fn chipdoc_refused_until_the_isd_and_the_cps2ter_applet() {
    let mut card = from_toml_str("kind = \"cps4\"\n[chipdoc]\nreselect_required = true\n").unwrap();
    for round in 0..2 {
        assert_eq!(send(&mut *card, SELECT_APP), [0x69, 0x85], "round {round}");
        // The order matters: the CPS2ter applet first does not open it.
        assert_eq!(send(&mut *card, SELECT_CPS2TER), [0x90, 0x00]);
        assert_eq!(send(&mut *card, SELECT_APP), [0x69, 0x85]);
        assert_eq!(send(&mut *card, SELECT_ISD), [0x90, 0x00]);
        assert_eq!(send(&mut *card, SELECT_CPS2TER), [0x90, 0x00]);
        assert_eq!(send(&mut *card, SELECT_APP), [0x90, 0x00]);
        assert_eq!(send(&mut *card, "01 A4 00 0C 02 D0 03"), [0x90, 0x00]);
        // Open until the next reset.
        assert_eq!(send(&mut *card, SELECT_APP), [0x90, 0x00]);
        card.reset();
    }
    // The default card has no such lock; a CPS3 takes no [chipdoc].
    assert_eq!(send(&mut *default_cps4(), SELECT_APP), [0x90, 0x00]);
    let e = from_toml_str("kind = \"cps3\"\n[chipdoc]\nreselect_required = true\n").err();
    assert!(e.is_some());
}
