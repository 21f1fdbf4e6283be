//! What the public sources say the cards do, through the real daemon (issue
//! 12 E, reference public-sources.md): a spent CPS3 PIN usage counter, an
//! interrupted update (bad EF_ACTUA), the CPS2ter volet's objects after the
//! PIN, the Vitale's card-verifiable certificate and PAN.

use crate::common::*;
use serde_json::{json, Value};

/// The commands with instruction `ins` lecteurd logged (`apdu cla=… ins=…`).
fn sent(d: &Daemon, ins: u8) -> usize {
    let needle = format!("ins={ins} ");
    d.log()
        .lines()
        .filter(|l| l.contains(" apdu") && l.contains(&needle))
        .count()
}

#[test]
fn a_spent_usage_counter_means_no_tries_and_no_verify() {
    // A real reader line (GemCore SIM Pro on a pty) so that the simulator's
    // own VERIFY counter can be read on its control socket.
    let dir = tempfile::tempdir().unwrap();
    let sim = SerialSim::start(dir.path(), "gemcore-sim-pro", "cps3-usage-spent,cps3-actua-empty");
    let d = sim.daemon();
    let mut c = d.client();
    // The first slot holds the card with the spent counter.
    let readers = d.wait_cards(2);
    let reader = readers
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .find(|id| id.ends_with(".0"))
        .expect("slot 0");
    let info = c.call_json("cps.info", json!({"reader": reader})).unwrap();
    assert_eq!(info["pin"]["tries_left"], 0, "9D = 0 counts as 0 tries");
    for (method, params) in [
        (
            "cps.verify_pin",
            json!({"reader": reader, "pin": TEST_PIN, "allow_last_try": true}),
        ),
        (
            "cps.sign",
            json!({"reader": reader, "pin": TEST_PIN, "key": "signature",
                   "algorithm": "rsa-pkcs1-sha256", "data_b64": b64(b"x")}),
        ),
    ] {
        let e = c.call_json(method, params).unwrap_err();
        assert_eq!(kind(&e), "pin_blocked", "{method}: {e}");
        let data = error_data(&e);
        assert_eq!(
            (data["reason"].as_str(), data["tries_left"].as_u64()),
            (Some("usage_counter"), Some(0))
        );
        assert!(e.to_string().contains("PUK"), "a remedy: {e}");
    }
    assert_eq!(counter(&sim.control, "verify"), 0, "no VERIFY reached the card");
    assert!(counter(&sim.control, "apdus") > 0);
}

#[test]
fn an_interrupted_update_is_a_typed_error_and_nothing_is_signed() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SerialSim::start(dir.path(), "gemcore-sim-pro", "cps3-actua-empty,vitale2");
    let d = sim.daemon();
    d.wait_cards(2);
    let mut c = d.client();
    let e = c.call_json("cps.info", json!({})).unwrap_err();
    assert_eq!(kind(&e), "card_being_updated", "{e}");
    assert_eq!(error_code(&e), -32018);
    assert!(
        e.to_string().contains("EF_ACTUA is empty") && e.to_string().contains("ANS"),
        "{e}"
    );
    for key in ["signature", "authentication"] {
        let e = c
            .call_json(
                "cps.sign",
                json!({"pin": TEST_PIN, "key": key, "algorithm": "rsa-pkcs1-sha256", "data_b64": b64(b"x")}),
            )
            .unwrap_err();
        assert_eq!(kind(&e), "card_being_updated", "{e}");
    }
    let e = c
        .call_json(
            "cps.authenticate",
            json!({"pin": TEST_PIN, "data_b64": b64(b"x")}),
        )
        .unwrap_err();
    assert_eq!(kind(&e), "card_being_updated", "{e}");
    assert_eq!(counter(&sim.control, "verify"), 0, "no PIN went to that card");
    assert!(sent(&d, 0xA4) > 0, "the log shows the commands sent");
    assert_eq!(
        sent(&d, 0x2A) + sent(&d, 0x88),
        0,
        "no PSO or INTERNAL AUTHENTICATE"
    );
    // The Vitale beside it reads as usual.
    assert!(c.call_json("vitale.read", json!({})).is_ok());
}

#[test]
fn a_garbled_actua_is_refused_an_absent_one_is_fine() {
    let d = Daemon::start(&["--no-pcsc", "--sim-cards", "cps3-actua-garbled,cps3"]);
    d.wait_cards(2);
    let mut c = d.client();
    let e = c.call_json("cps.info", json!({"reader": "sim:0"})).unwrap_err();
    assert_eq!(kind(&e), "card_being_updated");
    assert!(e.to_string().contains("does not parse"), "{e}");
    let ok = c.call_json("cps.info", json!({"reader": "sim:1"})).unwrap();
    assert_eq!(ok["card"]["actua"]["start"], "2024-01-15T09:30:00");
}

#[test]
fn the_cps2ter_objects_come_after_the_pin() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let mut c = d.client();
    let before = c.call_json("cps.data_objects", json!({})).unwrap();
    assert!(!labels(&before)
        .iter()
        .any(|l| l.starts_with("CPS2TER") || l == "CPS_SIT_FACT"));
    let info = c.call_json("cps.info", json!({})).unwrap();
    assert_eq!(info["cps2ter_objects"], Value::Null);

    c.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    let after = c.call_json("cps.data_objects", json!({})).unwrap();
    let l = labels(&after);
    let tail: Vec<&str> = l
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with("CPS2TER") || *l == "CPS_SIT_FACT")
        .collect();
    // One activity object per situation the card holds (2), then the billing situation.
    assert_eq!(
        tail,
        ["CPS2TER_ACTIVITY_01_PS", "CPS2TER_ACTIVITY_02_PS", "CPS_SIT_FACT"],
        "{l:?}"
    );
    let find = |label: &str| {
        after["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["label"] == label)
            .cloned()
            .unwrap()
    };
    let fact = find("CPS_SIT_FACT");
    assert_eq!(fact["private"], true);
    // The card file's content (firmware-sim/cards/cps3.toml), byte for byte.
    assert_eq!(
        hex::encode_upper(unb64(&fact["value_b64"])),
        "0109313233343536373839020453413037"
    );
    let info = c.call_json("cps.info", json!({})).unwrap();
    let volet = info["cps2ter_objects"].as_array().expect("after the PIN");
    assert_eq!(volet.len(), 3);
    assert_eq!(volet[2], fact);
    // Another connection sees none of it.
    let other = d.client().call_json("cps.info", json!({})).unwrap();
    assert_eq!(other["cps2ter_objects"], Value::Null);
}

fn error_code(e: &lecteur_client::ClientError) -> i64 {
    match e {
        lecteur_client::ClientError::Rpc(e) => e.code,
        other => panic!("not an API error: {other}"),
    }
}

#[test]
fn the_cps2ter_volet_through_a_serial_reader() {
    // Class A0 and 9F xx through lecteurd's CCID serial transport and the
    // simulated GemCore SIM Pro's firmware, on a real pty.
    let dir = tempfile::tempdir().unwrap();
    let sim = SerialSim::two_cards(dir.path());
    let d = sim.daemon();
    d.wait_cards(2);
    let mut c = d.client();
    c.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    let info = c.call_json("cps.info", json!({})).unwrap();
    let volet: Vec<&str> = info["cps2ter_objects"]
        .as_array()
        .expect("after the PIN")
        .iter()
        .map(|o| o["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        volet,
        ["CPS2TER_ACTIVITY_01_PS", "CPS2TER_ACTIVITY_02_PS", "CPS_SIT_FACT"]
    );
    assert_eq!(counter(&sim.control, "verify"), 1);
}

#[test]
fn the_vitale_certificate_objects_are_named_and_the_pan_read() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let v = d.client().call_json("vitale.read", json!({})).unwrap();
    // firmware-sim/cards/vitale2.toml: D003 = 7F21 { 5F37 …, 5F38 … }.
    assert_eq!(
        v["certificates"],
        json!([{
            "file": "D003",
            "certificate": "5F37080102030405060708 5F38020A0B".replace(' ', ""),
            "ca_signature": "0102030405060708",
            "public_key_remainder": "0A0B"
        }])
    );
    // EF 2F02 of MF_VITALE, not named in POINTERS: 5A <len> <serial BCD>.
    assert_eq!(v["pan"], "5A054200000001");
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
}
