//! What the cards hold, through the real daemon on simulated card variants
//! (`lecteurd --sim-cards ...`): CPS data and situations, CPS4, caching, PIN
//! change and unblock, Vitale extras and dates, Vitale 1.

use crate::common::*;
use serde_json::{json, Value};

fn daemon_with(cards: &str, expected: usize) -> Daemon {
    let d = Daemon::start(&["--no-pcsc", "--sim-cards", cards]);
    d.wait_cards(expected);
    d
}

#[test]
fn cps_info_decodes_the_card_and_situations_need_the_pin() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let mut c = d.client();
    let info = c.call_json("cps.info", json!({})).unwrap();
    assert_eq!(info["card"]["kind"], "cps3");
    assert_eq!(info["card"]["card_type"]["code"], "00");
    assert_eq!(info["holder"]["id_type"]["code"], "8");
    assert_eq!(info["holder"]["id_number"], "99900038839");
    assert_eq!(info["profession"], json!({"code": "10", "label": "Médecin"}));
    assert_eq!(info["specialty"]["code"], "SM26");
    assert!(info["specialty"]["label"].as_str().unwrap().contains("decine"));
    let certs = info["certificates"].as_array().unwrap();
    assert!(certs
        .iter()
        .all(|c| c["expired"] == false && c["key_bits"] == 2048));
    assert_eq!(info["situations"], Value::Null, "situations need the PIN");

    c.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    let info = c.call_json("cps.info", json!({})).unwrap();
    let situations = info["situations"].as_array().expect("situations after the PIN");
    assert_eq!(situations.len(), 2);
    assert_eq!(situations[0]["sector"]["code"], "SA07");
    assert_eq!(situations[0]["structure_id"], "499900063480001");
    // Another connection sees no situations (and closes the verification).
    let other = d.client().call_json("cps.info", json!({})).unwrap();
    assert_eq!(other["situations"], Value::Null);
}

#[test]
fn asking_again_sends_no_apdu() {
    let d = Daemon::start_env(&["--no-pcsc", "--sim"], "lecteur=trace");
    d.wait_cards(2);
    let mut c = d.client();
    let first = c.call_json("cps.info", json!({})).unwrap();
    let certs = c.call_json("cps.certificates", json!({})).unwrap();
    let before = d.apdus_sent();
    assert!(before > 5, "the first read talks to the card");
    for _ in 0..3 {
        assert_eq!(c.call_json("cps.info", json!({})).unwrap(), first);
        assert_eq!(c.call_json("cps.certificates", json!({})).unwrap(), certs);
    }
    assert_eq!(d.apdus_sent(), before, "an unchanged card is not read again");
}

#[test]
fn expired_certificates_and_adeli_holders() {
    let d = daemon_with("cps3-expired,cps3-adeli", 2);
    let mut c = d.client();
    let expired = c.call_json("cps.info", json!({"reader": "sim:0"})).unwrap();
    assert!(expired["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["expired"] == true));
    let adeli = c.call_json("cps.info", json!({"reader": "sim:1"})).unwrap();
    assert_eq!(adeli["holder"]["id_type"]["code"], "0");
    assert_eq!(adeli["profession"]["code"], "21");
}

#[test]
fn cps4_signs_with_pkcs1_and_pss() {
    let d = daemon_with("cps4,vitale2", 2);
    let mut c = d.client();
    let info = c.call_json("cps.info", json!({})).unwrap();
    assert_eq!(info["card"]["kind"], "cps4");
    assert_eq!(info["pin"]["tries_left"], 3);
    let data = b"e-prescription";
    for key in ["signature", "authentication"] {
        let r = c
            .call_json(
                "cps.sign",
                json!({"pin": TEST_PIN, "key": key, "data_b64": b64(data)}),
            )
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert!(verify_signature(
            &unb64(&r["certificate_der_b64"]),
            data,
            &unb64(&r["signature_b64"])
        ));
        let r = c
            .call_json(
                "cps.sign",
                json!({"key": key, "algorithm": "rsa-pss-sha256", "data_b64": b64(data)}),
            )
            .unwrap();
        assert!(verify_pss(
            &unb64(&r["certificate_der_b64"]),
            data,
            &unb64(&r["signature_b64"])
        ));
    }
    let e = c.call_json("cps.verify_pin", json!({"pin": "0000"})).unwrap_err();
    assert_eq!(kind(&e), "pin_incorrect");
}

#[test]
fn pss_is_refused_on_a_cps3() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let e = d
        .client()
        .call_json("cps.sign", json!({"pin": TEST_PIN, "key": "signature", "algorithm": "rsa-pss-sha256", "data_b64": b64(b"x")}))
        .unwrap_err();
    assert_eq!(kind(&e), "unsupported_card");
}

#[test]
fn change_and_unblock_the_pin() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let mut c = d.client();
    assert_eq!(
        c.call_json("cps.change_pin", json!({"old": TEST_PIN, "new": "5678"}))
            .unwrap()["tries_left"],
        3
    );
    assert_eq!(
        kind(
            &c.call_json("cps.verify_pin", json!({"pin": TEST_PIN}))
                .unwrap_err()
        ),
        "pin_incorrect"
    );
    c.call_json("cps.verify_pin", json!({"pin": "5678"})).unwrap();
    let e = c
        .call_json("cps.change_pin", json!({"old": "0000", "new": "1111"}))
        .unwrap_err();
    assert_eq!(kind(&e), "pin_incorrect");

    // Block it, then unblock with the PUK.
    for _ in 0..3 {
        let e = c
            .call_json("cps.verify_pin", json!({"pin": "0000", "allow_last_try": true}))
            .unwrap_err();
        if kind(&e) == "pin_blocked" {
            break;
        }
    }
    assert_eq!(
        c.call_json("cps.info", json!({})).unwrap()["pin"]["tries_left"],
        0
    );
    let e = c
        .call_json("cps.unblock_pin", json!({"puk": "00000000", "new": "2468"}))
        .unwrap_err();
    assert_eq!(kind(&e), "puk_incorrect");
    let r = c
        .call_json("cps.unblock_pin", json!({"puk": "12345678", "new": "2468"}))
        .unwrap();
    assert_eq!(r["tries_left"], 3);
    c.call_json("cps.verify_pin", json!({"pin": "2468"})).unwrap();
    let e = c
        .call_json("cps.unblock_pin", json!({"puk": "123", "new": "2468"}))
        .unwrap_err();
    assert_eq!(kind(&e), "invalid_params");
}

#[test]
fn blocked_and_last_try_cards() {
    let d = daemon_with("cps3-blocked,cps3-last-try", 2);
    let mut c = d.client();
    let e = c
        .call_json("cps.verify_pin", json!({"reader": "sim:0", "pin": TEST_PIN}))
        .unwrap_err();
    assert_eq!(kind(&e), "pin_blocked");
    let e = c
        .call_json("cps.verify_pin", json!({"reader": "sim:1", "pin": TEST_PIN}))
        .unwrap_err();
    assert_eq!(kind(&e), "pin_last_try");
    let ok = c.call_json(
        "cps.verify_pin",
        json!({"reader": "sim:1", "pin": TEST_PIN, "allow_last_try": true}),
    );
    assert_eq!(ok.unwrap()["tries_left"], 3);
}

#[test]
fn vitale_dates_nir_parts_and_extras() {
    let d = daemon_with("vitale2,vitale2-missing-century", 2);
    let mut c = d.client();
    let v = c.call_json("vitale.read", json!({"reader": "sim:0"})).unwrap();
    let list = v["beneficiaries"].as_array().unwrap();
    let lunar = list.iter().find(|b| b["birth_date"]["lunar"] == true).unwrap();
    assert_eq!(lunar["birth_date"]["computation_date"], "1983-01-01");
    assert!(list
        .iter()
        .all(|b| b["nir_parts"]["sex"].is_string() || b["nir_parts"]["sex"].is_number()));
    let extra = list
        .iter()
        .flat_map(|b| b["extra"].as_array().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(extra.len(), 1, "the unknown tag comes back: {v}");
    assert_eq!(extra[0]["tag"], "A5");
    assert!(
        !v["extra_files"].as_array().unwrap().is_empty(),
        "the extra EF comes back"
    );

    let m = c.call_json("vitale.read", json!({"reader": "sim:1"})).unwrap();
    let list = m["beneficiaries"].as_array().unwrap();
    assert!(list.iter().all(|b| b["birth_date"]["year_only"] == true), "{m}");
}

#[test]
fn six_beneficiaries_with_corsican_nirs() {
    let d = daemon_with("vitale2-6-beneficiaries", 1);
    let v = d.client().call_json("vitale.read", json!({})).unwrap();
    let list = v["beneficiaries"].as_array().unwrap();
    assert_eq!(list.len(), 6);
    assert!(list.iter().all(|b| b["nir_valid"] == true));
    assert!(list.iter().any(|b| b["nir"].as_str().unwrap().contains("2A")));
}

#[test]
fn a_vitale1_is_identified_and_refused() {
    let d = daemon_with("vitale1", 1);
    let mut c = d.client();
    let readers = c.call_json("readers.list", json!({})).unwrap();
    assert_eq!(readers[0]["card"]["kind"], "vitale1");
    let e = c.call_json("vitale.read", json!({})).unwrap_err();
    assert_eq!(kind(&e), "unsupported_card");
    assert!(e.to_string().contains("not public"));
}

#[test]
fn a_broken_profile_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let builtin =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/cps3.toml")).unwrap();
    let broken = builtin.replacen("chunk = 0xE7", "chunk = \"lots\"", 1);
    let line = broken.lines().position(|l| l.contains("\"lots\"")).unwrap() + 1;
    std::fs::write(dir.path().join("cps3.toml"), broken).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lecteurd"))
        .args(["--no-pcsc", "--sim", "--socket"])
        .arg(dir.path().join("s.sock"))
        .arg("--profiles")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cps3.toml:{line}")), "{err}");

    // A valid override is used: pinned file ids instead of PKCS#15 discovery.
    let pinned = builtin.replacen("pkcs15 = true", "pkcs15 = false", 1);
    std::fs::write(dir.path().join("cps3.toml"), pinned).unwrap();
    let d = Daemon::start(&["--no-pcsc", "--sim", "--profiles", dir.path().to_str().unwrap()]);
    d.wait_cards(2);
    let info = d.client().call_json("cps.info", serde_json::json!({})).unwrap();
    assert_eq!(info["holder"]["national_id"], "899900038839");
}

#[test]
fn sixteen_situations() {
    let d = daemon_with("cps3-16-situations", 1);
    let mut c = d.client();
    c.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    let info = c.call_json("cps.info", json!({})).unwrap();
    let situations = info["situations"].as_array().unwrap();
    assert_eq!(situations.len(), 16);
    let indexes: Vec<u64> = situations.iter().map(|s| s["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, (1..=16).collect::<Vec<u64>>());
    assert!(situations
        .iter()
        .all(|s| s["sector"]["code"].as_str().unwrap().starts_with("SA")));
}

#[test]
fn every_lunar_form_is_kept_raw() {
    let d = daemon_with("vitale2-lunar", 1);
    let v = d.client().call_json("vitale.read", json!({})).unwrap();
    let list = v["beneficiaries"].as_array().unwrap();
    assert!(list.len() >= 4, "{v}");
    for b in list {
        let date = &b["birth_date"];
        assert_eq!(date["lunar"], true, "{b}");
        assert_eq!(date["iso"], Value::Null);
        let raw = date["raw"].as_str().unwrap();
        let year = &raw[..4];
        assert_eq!(date["computation_date"], format!("{year}-01-01"));
    }
}

#[test]
fn the_reader_profile_names_each_slot_purpose() {
    let d = daemon_with("cps3,cps3", 2);
    let mut c = d.client();
    let readers = c.call_json("readers.list", json!({})).unwrap();
    assert_eq!(readers[0]["role"], "cps");
    assert_eq!(readers[1]["role"], "vitale");
    // Two CPS: the one in the slot meant for the CPS is used.
    let info = c.call_json("cps.info", json!({})).unwrap();
    assert_eq!(info["card"]["kind"], "cps3");

    // Without the rules, the same request is ambiguous.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("readers.toml"), "# no rules\n").unwrap();
    let d = Daemon::start(&[
        "--no-pcsc",
        "--sim-cards",
        "cps3,cps3",
        "--profiles",
        dir.path().to_str().unwrap(),
    ]);
    d.wait_cards(2);
    let mut c = d.client();
    assert_eq!(
        c.call_json("readers.list", json!({})).unwrap()[0]["role"],
        Value::Null
    );
    let e = c.call_json("cps.info", json!({})).unwrap_err();
    assert_eq!(kind(&e), "invalid_params");
}
