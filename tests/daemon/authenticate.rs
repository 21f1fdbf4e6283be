//! `cps.authenticate` (TLS client signatures with CPS_PRIV_AUT) and
//! `cps.data_objects`, against a real lecteurd on simulated cards. Every
//! signature is checked with the `rsa` crate against the certificate.

use crate::common::*;
use rsa::pkcs1v15::Pkcs1v15Sign;
use serde_json::{json, Value};
use sha2::Digest;

fn daemon(cards: &str) -> Daemon {
    let d = Daemon::start(&["--no-pcsc", "--sim-cards", cards]);
    d.wait_cards(2);
    d
}

fn public_key(cert_der: &[u8]) -> rsa::RsaPublicKey {
    use der::{Decode, Encode};
    use rsa::pkcs8::DecodePublicKey;
    let cert = x509_cert::Certificate::from_der(cert_der).expect("certificate parses");
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().unwrap();
    rsa::RsaPublicKey::from_public_key_der(&spki).expect("RSA key")
}

/// The authentication certificate, as cps.certificates gives it.
fn auth_certificate(c: &mut lecteur_client::Client) -> Vec<u8> {
    let certs = c.call_json("cps.certificates", json!({})).unwrap();
    let cert = certs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["usage"] == "authentication")
        .expect("an authentication certificate");
    unb64(&cert["der_b64"])
}

fn digest_info<D: Digest + rsa::pkcs8::AssociatedOid>(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let digest = D::digest(data).to_vec();
    let prefix = Pkcs1v15Sign::new::<D>().prefix;
    ([&prefix[..], &digest].concat(), digest)
}

#[test]
fn cps3_signs_data_and_digest_infos_of_every_tls_hash() {
    let d = daemon("cps3,vitale2");
    let mut c = d.client();
    let cert = auth_certificate(&mut c);
    let key = public_key(&cert);

    // data_b64: SHA-256, verified with the certificate that comes back.
    let r = c
        .call_json(
            "cps.authenticate",
            json!({"pin": TEST_PIN, "data_b64": b64(b"client hello")}),
        )
        .unwrap_or_else(|e| panic!("cps.authenticate: {e}; log: {}", d.log()));
    assert_eq!(unb64(&r["certificate_der_b64"]), cert);
    let sig = unb64(&r["signature_b64"]);
    assert!(verify_signature(&cert, b"client hello", &sig));

    // A DigestInfo of SHA-384 and of SHA-512, on the connection that verified.
    let (di, digest) = digest_info::<sha2::Sha384>(b"handshake");
    let r = c
        .call_json("cps.authenticate", json!({"digest_info_b64": b64(&di)}))
        .unwrap();
    let sig = unb64(&r["signature_b64"]);
    key.verify(Pkcs1v15Sign::new::<sha2::Sha384>(), &digest, &sig)
        .expect("SHA-384 signature verifies");
    assert!(key
        .verify(Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, &sig)
        .is_err());
    let (di, digest) = digest_info::<sha2::Sha512>(b"handshake");
    let r = c
        .call_json(
            "cps.authenticate",
            json!({"digest_info_b64": b64(&di), "algorithm": "rsa-pkcs1"}),
        )
        .unwrap();
    key.verify(
        Pkcs1v15Sign::new::<sha2::Sha512>(),
        &digest,
        &unb64(&r["signature_b64"]),
    )
    .expect("SHA-512 signature verifies");

    // The signature key signs nothing here: the authentication key's
    // signature does not verify against the signature certificate.
    let certs = c.call_json("cps.certificates", json!({})).unwrap();
    let sig_cert = unb64(&certs[0]["der_b64"]);
    assert_ne!(sig_cert, cert);
    assert!(public_key(&sig_cert)
        .verify(
            Pkcs1v15Sign::new::<sha2::Sha512>(),
            &digest,
            &unb64(&r["signature_b64"])
        )
        .is_err());

    // No PSS on a CPS3.
    let e = c
        .call_json(
            "cps.authenticate",
            json!({"data_b64": b64(b"x"), "algorithm": "rsa-pss-sha256"}),
        )
        .unwrap_err();
    assert_eq!(kind(&e), "unsupported_card", "{e}");
}

#[test]
fn bad_inputs_are_refused_before_the_card() {
    let d = daemon("cps3,vitale2");
    let mut c = d.client();
    let digest = sha2::Sha256::digest(b"x");
    for params in [
        json!({"pin": TEST_PIN, "digest_info_b64": b64(&digest)}), // a bare digest
        json!({"pin": TEST_PIN, "digest_info_b64": "not base64!"}),
        json!({"pin": TEST_PIN}),
        json!({"pin": TEST_PIN, "data_b64": b64(b"x"), "digest_info_b64": b64(&digest)}),
        json!({"pin": TEST_PIN, "data_b64": b64(b"x"), "algorithm": "rsa-md5"}),
    ] {
        let e = c.call_json("cps.authenticate", params.clone()).unwrap_err();
        assert_eq!(kind(&e), "invalid_params", "{params}: {e}");
    }
    // Nothing was presented: all tries are left.
    let info = c.call_json("cps.info", json!({})).unwrap();
    assert_eq!(info["pin"]["tries_left"], 3);
}

#[test]
fn pin_policy_is_the_one_of_cps_sign() {
    let d = daemon("cps3,vitale2");
    let mut a = d.client();
    let mut b = d.client();
    let data = json!({"data_b64": b64(b"x")});

    // Nobody verified: pin_required, and nothing sent.
    let e = a.call_json("cps.authenticate", data.clone()).unwrap_err();
    assert_eq!(kind(&e), "pin_required", "{e}");

    // A wrong PIN: one VERIFY, the tries left in the error.
    let e = a
        .call_json("cps.authenticate", json!({"pin": "9999", "data_b64": b64(b"x")}))
        .unwrap_err();
    assert_eq!(kind(&e), "pin_incorrect", "{e}");
    assert_eq!(error_data(&e)["tries_left"], 2);

    // A verifies; B, another connection, is not verified for it.
    a.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    a.call_json("cps.authenticate", data.clone()).unwrap();
    let e = b.call_json("cps.authenticate", data.clone()).unwrap_err();
    assert_eq!(kind(&e), "pin_required", "{e}");
    // B's operation closed A's verification (the card was reset).
    let e = a.call_json("cps.authenticate", data.clone()).unwrap_err();
    assert_eq!(kind(&e), "pin_required", "{e}");
}

#[test]
fn last_try_needs_allow_last_try() {
    let d = daemon("cps3-last-try,vitale2");
    let mut c = d.client();
    let e = c
        .call_json(
            "cps.authenticate",
            json!({"pin": TEST_PIN, "data_b64": b64(b"x")}),
        )
        .unwrap_err();
    assert_eq!(kind(&e), "pin_last_try", "{e}");
    let r = c
        .call_json(
            "cps.authenticate",
            json!({"pin": TEST_PIN, "data_b64": b64(b"x"), "allow_last_try": true}),
        )
        .unwrap();
    assert!(verify_signature(
        &unb64(&r["certificate_der_b64"]),
        b"x",
        &unb64(&r["signature_b64"])
    ));
}

#[test]
fn cps4_authenticates_with_pkcs1_and_pss() {
    let d = daemon("cps4,vitale2");
    let mut c = d.client();
    let cert = auth_certificate(&mut c);
    let (di, _) = digest_info::<sha2::Sha256>(b"tls 1.3");
    let r = c
        .call_json(
            "cps.authenticate",
            json!({"pin": TEST_PIN, "digest_info_b64": b64(&di), "algorithm": "rsa-pss-sha256"}),
        )
        .unwrap_or_else(|e| panic!("{e}; log: {}", d.log()));
    assert!(verify_pss(&cert, b"tls 1.3", &unb64(&r["signature_b64"])));
    let r = c
        .call_json("cps.authenticate", json!({"data_b64": b64(b"tls 1.2")}))
        .unwrap();
    assert!(verify_signature(&cert, b"tls 1.2", &unb64(&r["signature_b64"])));
    // PKCS#1 v1.5 is a host-built block deciphered by the card: any hash.
    let (di, digest) = digest_info::<sha2::Sha384>(b"x");
    let r = c
        .call_json("cps.authenticate", json!({"digest_info_b64": b64(&di)}))
        .unwrap_or_else(|e| panic!("{e}; log: {}", d.log()));
    public_key(&cert)
        .verify(
            Pkcs1v15Sign::new::<sha2::Sha384>(),
            &digest,
            &unb64(&r["signature_b64"]),
        )
        .expect("SHA-384 PKCS#1 signature");
    // RSA-PSS is PSO CDS, which hashes SHA-256 only.
    let e = c
        .call_json(
            "cps.authenticate",
            json!({"digest_info_b64": b64(&di), "algorithm": "rsa-pss-sha256"}),
        )
        .unwrap_err();
    assert_eq!(kind(&e), "unsupported_card", "{e}");
}

/// The `diag.trace` records of `reader` after record `after`.
fn trace_after(c: &mut lecteur_client::Client, reader: &str, after: Option<u64>) -> Vec<Value> {
    let t = c.call_json("diag.trace", json!({})).unwrap();
    t["recent"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["reader"] == reader && after.is_none_or(|a| r["seq"].as_u64().unwrap() > a))
        .cloned()
        .collect()
}

fn last_seq(c: &mut lecteur_client::Client) -> Option<u64> {
    let t = c.call_json("diag.trace", json!({})).unwrap();
    t["recent"]
        .as_array()
        .unwrap()
        .last()
        .map(|r| r["seq"].as_u64().unwrap())
}

/// Header (CLA INS P1 P2) and shown data of a trace record.
fn apdu(r: &Value) -> (&str, &str) {
    (r["header"].as_str().unwrap(), r["data"].as_str().unwrap_or(""))
}

/// Fails on anything Cryptolib never sends a CPS4: P1 09 with a path from
/// the MF, or MSE/PSO CDS with the authentication key under PKCS#1.
fn assert_cryptolib_shape(records: &[Value]) {
    for r in records {
        let (header, data) = apdu(r);
        let ins_p1 = &header[2..6];
        assert!(!(ins_p1 == "A409" && data.starts_with("3F00")), "{r}");
        assert!(!(header.ends_with("2281B6") && data == "910228A0"), "{r}");
    }
}

/// `openssl dgst -verify` with the certificate's public key: a check by a
/// program lecteur did not write.
fn openssl_verifies(cert_der: &[u8], data: &[u8], signature: &[u8]) -> bool {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("cert.der"), cert_der).unwrap();
    std::fs::write(p("data"), data).unwrap();
    std::fs::write(p("sig"), signature).unwrap();
    let key = Command::new("openssl")
        .args(["x509", "-inform", "DER", "-noout", "-pubkey", "-in"])
        .arg(p("cert.der"))
        .output()
        .expect("openssl runs");
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    std::fs::write(p("key.pem"), &key.stdout).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(p("key.pem"))
        .arg("-signature")
        .arg(p("sig"))
        .arg(p("data"))
        .output()
        .expect("openssl runs");
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK")
}

#[test]
fn cps4_authentication_is_pso_decipher_in_the_trace_and_openssl_verifies_it() {
    let d = daemon("cps4,vitale2");
    let mut c = d.client();
    let readers = c.call_json("readers.list", json!({})).unwrap();
    let reader = reader_with(&readers, "cps4").expect("a CPS4 slot");
    let cert = auth_certificate(&mut c);
    let start = last_seq(&mut c);
    let data = b"TLS 1.2 client CertificateVerify";
    let r = c
        .call_json(
            "cps.authenticate",
            json!({"pin": TEST_PIN, "data_b64": b64(data)}),
        )
        .unwrap_or_else(|e| panic!("cps.authenticate: {e}; log: {}", d.log()));
    let sig = unb64(&r["signature_b64"]);
    assert!(openssl_verifies(&cert, data, &sig));
    assert!(!openssl_verifies(&cert, b"another message", &sig));

    let records = trace_after(&mut c, &reader, start);
    let has = |header: &str, data: &str| records.iter().any(|r| apdu(r) == (header, data));
    // MSE 41 B8 {83 01 20}, then PSO DECIPHER chained: 255 bytes with CLA
    // 11, the last byte with CLA 01 (data masked: lengths only).
    assert!(has("012241B8", "830120"), "{records:#?}");
    let pso = |cla: &str| {
        records
            .iter()
            .find(|r| apdu(r).0 == format!("{cla}2A8086"))
            .map(|r| r["lc"].as_u64())
    };
    assert_eq!(pso("11"), Some(Some(255)), "{records:#?}");
    assert_eq!(pso("01"), Some(Some(1)), "{records:#?}");
    // No PSO CDS at all for this key, no MSE 81 B6 naming it.
    assert!(
        !records.iter().any(|r| apdu(r).0.ends_with("2A9E9A")),
        "{records:#?}"
    );
    assert!(
        !records.iter().any(|r| apdu(r).0.ends_with("2281B6")),
        "{records:#?}"
    );
    assert_cryptolib_shape(&records);
    // `lecteur trace` shows the same.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lecteur"))
        .args(["--socket", d.socket.to_str().unwrap(), "trace", "--recent-only"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(" 01 22 41 B8 Lc=3 83 01 20 "), "{text}");
    assert!(text.contains(" 11 2A 80 86 Lc=255 [data masked]"), "{text}");
    assert!(text.contains(" 01 2A 80 86 Lc=1 [data masked]"), "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.contains(" A4 09 ") && l.contains(" 3F 00")),
        "{text}"
    );

    // Everything else lecteur sent this CPS4 since it came (cps.info, the
    // certificates, the data objects, the situations, both signatures) keeps
    // the shape: no P1 09 with 3F00, files by their last file id, reads of
    // up to 256.
    c.call_json("cps.info", json!({})).unwrap();
    c.call_json("cps.certificates", json!({})).unwrap();
    c.call_json("cps.data_objects", json!({})).unwrap();
    for (key, algorithm) in [
        ("signature", "rsa-pkcs1-sha256"),
        ("authentication", "rsa-pss-sha256"),
    ] {
        c.call_json(
            "cps.sign",
            json!({"key": key, "algorithm": algorithm, "data_b64": b64(b"x")}),
        )
        .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    let records = trace_after(&mut c, &reader, None);
    assert_cryptolib_shape(&records);
    // EF.SN.ICC, one file id after the MF: P1 00.
    assert!(
        records.iter().any(|r| apdu(r) == ("01A40004", "D003")),
        "{records:#?}"
    );
    assert!(
        records
            .iter()
            .any(|r| apdu(r).0 == "01A40904" && apdu(r).1.len() == 4),
        "{records:#?}"
    );
    assert!(records
        .iter()
        .any(|r| apdu(r).0.starts_with("01B0") && r["le"] == 256 && r["resp_len"] == 256));
}

#[test]
fn a_cps4_that_refuses_chipdoc_is_reselected_through_the_isd_and_cps2ter() {
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("cps4-reselect.toml");
    std::fs::write(&card, "kind = \"cps4\"\n[chipdoc]\nreselect_required = true\n").unwrap();
    let d = daemon(&format!("{},vitale2", card.display()));
    let mut c = d.client();
    let readers = c.call_json("readers.list", json!({})).unwrap();
    let reader = reader_with(&readers, "cps4").expect("a CPS4 slot");
    let start = last_seq(&mut c);
    let info = c
        .call_json("cps.info", json!({}))
        .unwrap_or_else(|e| panic!("cps.info: {e}; log: {}", d.log()));
    assert_eq!(info["card"]["serial"], "2600000042");
    let cert = auth_certificate(&mut c);
    let r = c
        .call_json(
            "cps.authenticate",
            json!({"pin": TEST_PIN, "data_b64": b64(b"hello")}),
        )
        .unwrap_or_else(|e| panic!("cps.authenticate: {e}; log: {}", d.log()));
    assert!(openssl_verifies(&cert, b"hello", &unb64(&r["signature_b64"])));
    let records = trace_after(&mut c, &reader, start);
    // SELECT ChipDoc 69 85 → ISD on channel 1 → CPS2ter on the basic
    // channel → ChipDoc 90 00, in that order.
    let steps: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| (apdu(r).0, apdu(r).1, r["sw"].as_str().unwrap_or("")))
        .collect();
    let chipdoc = ("01A4040C", "8025000001FF0100");
    let at = steps
        .iter()
        .position(|s| (s.0, s.1, s.2) == (chipdoc.0, chipdoc.1, "6985"))
        .unwrap_or_else(|| panic!("no refused SELECT ChipDoc in {steps:#?}"));
    assert_eq!(
        steps[at + 1..at + 4],
        [
            ("01A4040C", "A0000001510000", "9000"),
            ("00A4040C", "8025000001FF0002", "9000"),
            (chipdoc.0, chipdoc.1, "9000"),
        ],
        "{steps:#?}"
    );
    assert_cryptolib_shape(&records);
}

#[test]
fn data_objects_raw_and_situations_after_the_pin() {
    let d = daemon("cps3,vitale2");
    let mut c = d.client();
    let free = c.call_json("cps.data_objects", json!({})).unwrap();
    let names = labels(&free);
    for l in [
        "CPS_ID_CARD",
        "CPS_NAME_PS",
        "CPS_LANG_PS",
        "CPS_INFO_PS",
        "CPS_DATA",
    ] {
        assert!(names.iter().any(|n| n == l), "{l} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("CPS_ACTIVITY_")), "{names:?}");
    for o in free["objects"].as_array().unwrap() {
        assert_eq!(o["private"], false, "{o}");
    }
    // CPS_NAME_PS holds the national id that cps.info shows.
    let info = c.call_json("cps.info", json!({})).unwrap();
    let id = info["holder"]["national_id"].as_str().unwrap();
    let name = free["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["label"] == "CPS_NAME_PS")
        .unwrap();
    let raw = unb64(&name["value_b64"]);
    assert!(raw.windows(id.len()).any(|w| w == id.as_bytes()));

    // Another connection's verification does not open them to this one.
    let mut other = d.client();
    other
        .call_json("cps.verify_pin", json!({"pin": TEST_PIN}))
        .unwrap();
    let names = labels(&c.call_json("cps.data_objects", json!({})).unwrap());
    assert!(!names.iter().any(|n| n.starts_with("CPS_ACTIVITY_")));

    c.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    let all = c.call_json("cps.data_objects", json!({})).unwrap();
    let situations: Vec<&Value> = all["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["label"].as_str().unwrap().starts_with("CPS_ACTIVITY_"))
        .collect();
    assert!(!situations.is_empty(), "{all}");
    assert!(situations.iter().all(|o| o["private"] == true));
    // The first situation's structure id is the one cps.info decodes.
    let info = c.call_json("cps.info", json!({})).unwrap();
    let structure = info["situations"][0]["structure_id"].as_str().unwrap();
    let first = situations
        .iter()
        .find(|o| o["label"] == "CPS_ACTIVITY_01_PS")
        .unwrap();
    let raw = unb64(&first["value_b64"]);
    assert!(raw.windows(structure.len()).any(|w| w == structure.as_bytes()));
}
