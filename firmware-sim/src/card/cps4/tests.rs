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
    assert_eq!(send(&mut *card, "01 A4 09 04 04 3F 00 D0 03")[0], 0x61);
    assert_eq!(send(&mut *card, "00 C0 00 00 0D"), [0x69, 0x85]);
    assert_eq!(send(&mut *card, "01 C0 00 00 0D"), [0x69, 0x85]);
    assert_eq!(send(&mut *card, "01 A4 09 04 04 3F 00 D0 03"), [0x61, 0x0D]);
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
    assert_eq!(send(&mut *card, "01 A4 09 0C 04 3F 00 D0 03"), [0x90, 0x00]);
    // A reset closes channel 1.
    card.reset();
    assert_eq!(send(&mut *card, "01 B0 00 00 0C"), [0x69, 0x85]);
}

#[test]
fn file_selection_as_iso_and_cryptolib_do_it() {
    let mut card = app_card();
    // No EF.ATR on the CPS4.
    assert_eq!(send(&mut *card, "01 A4 09 0C 04 3F 00 2F 01"), [0x6A, 0x82]);
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
    // P1 08: from the MF without 3F00; P1 09 with 3F00: from the MF.
    assert_eq!(send(&mut *card, "01 A4 08 0C 04 00 01 D1 01"), [0x90, 0x00]);
    assert_eq!(data(&mut *card, "01 B0 00 00 02"), h("E1 28"));
    assert_eq!(send(&mut *card, "01 A4 09 0C 06 3F 00 00 01 D1 02"), [0x90, 0x00]);
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
    // SHA-256 PSS and PKCS#1 with the authentication key.
    data(&mut *card, "01 22 81 B6 04 91 02 2C A0");
    verify_pss_sha256(&auth_key, &hash, &sign_hash(&mut *card, &hash));
    data(&mut *card, "01 22 81 B6 04 91 02 28 A0");
    auth_key
        .verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &hash,
            &sign_hash(&mut *card, &hash),
        )
        .unwrap();
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
        ("01 22 41 B8 03 83 01 20", [0x6A, 0x86]),
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
    assert_eq!(send(&mut *card, "01 2A 80 86 02 81 00"), [0x6A, 0x86]);
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
    assert_eq!(
        exchange(&mut *other, "01 A4 09 04 04 3F 00 D0 03")[..2],
        [0x62, 0x0B]
    );
}

/// Random bytes, and random bodies behind every known header on both
/// channels: the card always answers at least SW1 SW2 and never panics.
#[test]
fn garbage_never_panics() {
    let mut card = app_card();
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
    let headers: [&[u8]; 14] = [
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
                send(&mut *card, "01 A4 09 0C 06 3F 00 00 01 D1 20");
            }
        }
    }
}
