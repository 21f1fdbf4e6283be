//! PIN entry on the reader's keypad, end to end: lecteurd's serial transport
//! against `lecteur-sim serial --reader gempc-pinpad` on a real
//! pseudo-terminal, the holder's keys scripted through the simulator's
//! control socket. The PIN never crosses the host: the API call carries none.

use crate::common::*;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

/// A GemPC PinPad with a CPS3 (PIN 1234, 3 tries), and lecteurd on it.
fn start(dir: &Path) -> (SerialSim, Daemon) {
    let reader = SerialSim::start(dir, "gempc-pinpad", "cps3");
    let d = reader.daemon();
    (reader, d)
}

fn tries_left(c: &mut lecteur_client::Client) -> u64 {
    let info = c.call_json("cps.info", json!({})).unwrap();
    info["pin"]["tries_left"].as_u64().expect("tries_left")
}

#[test]
fn pinpad_verify_cancel_timeout_wrong_right_then_sign() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, d) = start(dir.path());
    let readers = d.wait_cards(1);
    let list = readers.as_array().unwrap();
    assert_eq!(list.len(), 1, "{readers}");
    assert_eq!(list[0]["transport"], "serial");
    assert_eq!(
        list[0]["pinpad"], true,
        "readers.list shows the keypad: {readers}"
    );
    let mut c = d.client();
    assert_eq!(tries_left(&mut c), 3);

    // The holder presses cancel: no try used.
    assert_eq!(control(&reader.control, "cancel"), "ok");
    let e = c
        .call_json("cps.verify_pin", json!({ "pinpad": true }))
        .unwrap_err();
    assert_eq!(kind(&e), "pin_cancelled", "{e}");
    // The holder walks away.
    assert_eq!(control(&reader.control, "timeout"), "ok");
    let e = c
        .call_json("cps.verify_pin", json!({ "pinpad": true }))
        .unwrap_err();
    assert_eq!(kind(&e), "pin_timeout", "{e}");
    assert_eq!(tries_left(&mut c), 3, "neither used a try");

    // A wrong PIN typed on the keypad.
    assert_eq!(control(&reader.control, "keys 0000"), "ok");
    let e = c
        .call_json("cps.verify_pin", json!({ "pinpad": true }))
        .unwrap_err();
    assert_eq!(kind(&e), "pin_incorrect", "{e}");
    assert_eq!(error_data(&e)["tries_left"], 2);

    // The right one.
    assert_eq!(control(&reader.control, "keys 1234"), "ok");
    let r = c
        .call_json("cps.verify_pin", json!({ "pinpad": true }))
        .unwrap_or_else(|e| panic!("cps.verify_pin: {e}; log: {}", d.log()));
    assert_eq!(r["tries_left"], 3, "{r}");

    // Signing on the same connection needs no PIN now.
    let data = b"ordonnance";
    let r = c
        .call_json(
            "cps.sign",
            json!({ "key": "signature", "algorithm": "rsa-pkcs1-sha256", "data_b64": b64(data) }),
        )
        .unwrap_or_else(|e| panic!("cps.sign: {e}; log: {}", d.log()));
    assert!(verify_signature(
        &unb64(&r["certificate_der_b64"]),
        data,
        &unb64(&r["signature_b64"])
    ));
    // The PIN never crossed the host; no APDU with it shows in the log.
    assert!(!d.log().contains("31323334"), "log: {}", d.log());
}

#[test]
fn pinpad_waits_for_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, d) = start(dir.path());
    d.wait_cards(1);
    let mut c = d.client();
    // Nothing queued: the reader waits (and keeps the line alive with
    // time-extension bytes) until the holder types, 4 s later.
    let control_socket = reader.control.clone();
    let typist = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(4));
        assert_eq!(control(&control_socket, "keypad"), "entering 0 queued");
        assert_eq!(control(&control_socket, "keys 1234"), "ok");
    });
    let t = Instant::now();
    let r = c
        .call_json("cps.verify_pin", json!({ "pinpad": true }))
        .unwrap_or_else(|e| panic!("cps.verify_pin: {e}; log: {}", d.log()));
    assert!(t.elapsed() >= Duration::from_secs(4));
    assert_eq!(r["tries_left"], 3, "{r}");
    typist.join().unwrap();
}
