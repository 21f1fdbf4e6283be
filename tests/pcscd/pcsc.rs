//! lecteurd through the real pcscd: `lecteur-sim vpcd` cards in pcscd's vpcd
//! readers ("Virtual PCD 00 00" on 35963, "00 01" on 35964).

use crate::common::vpcd::*;
use crate::common::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn pcsc_reads_vitale_and_signs() {
    let Some(w) = world() else { return };
    let d = &w.d;
    read_and_sign(d);
}

#[test]
fn pcsc_card_movements_give_events() {
    let Some(w) = world() else { return };
    let (d, cards) = (&w.d, &w.cards);
    card_movement(d, &cards.vitale_control, 0, "vitale2");
    card_movement(d, &cards.cps_control, 0, "cps3");
}

/// A CPS4 through pcscd: its authentication key signs by MSE 41 B8 and PSO
/// DECIPHER in two chained commands (CLA 11 then 01), as Cryptolib drives it.
#[test]
fn pcsc_cps4_authenticates_by_chained_pso_decipher() {
    let Some(w) = world() else { return };
    let (d, cards) = (&w.d, &w.cards);
    let mut events = d.client();
    events.call_json("events.subscribe", json!({})).unwrap();
    let reader = reader_with(&d.wait_cards(2), "cps3").expect("the CPS3 reader");
    assert_eq!(control(&cards.cps_control, "remove 0"), "ok");
    expect_event(&mut events, "card.removed", &reader);
    assert_eq!(control(&cards.cps_control, "insert 0 cps4"), "ok");
    let ev = expect_event(&mut events, "card.inserted", &reader);
    assert_eq!(ev["card"]["kind"], "cps4");
    let mut c = d.client();
    let r = c
        .call_json(
            "cps.authenticate",
            json!({"reader": reader, "pin": TEST_PIN, "data_b64": b64(b"through pcscd")}),
        )
        .unwrap_or_else(|e| panic!("cps.authenticate: {e}; log: {}", d.log()));
    assert!(verify_signature(
        &unb64(&r["certificate_der_b64"]),
        b"through pcscd",
        &unb64(&r["signature_b64"])
    ));
    let trace = c.call_json("diag.trace", json!({})).unwrap();
    let headers: Vec<&str> = trace["recent"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["reader"] == reader.as_str())
        .filter_map(|r| r["header"].as_str())
        .collect();
    for h in ["012241B8", "112A8086", "012A8086"] {
        assert!(headers.contains(&h), "{h} not in {headers:?}");
    }
}

#[test]
fn pcscd_restart_is_survived() {
    if !owns_pcscd() {
        return;
    }
    let Some(w) = world() else { return };
    let d = &w.d;
    d.wait_cards(2);
    let mut c = d.client();
    if let Err(e) = c.call_json("vitale.read", json!({})) {
        panic!("vitale.read before the restart: {e}; log: {}", d.log());
    }

    restart_pcscd();

    // The simulated cards reconnect, lecteurd re-establishes its contexts.
    d.wait_cards(2);
    let mut ok = false;
    for _ in 0..40 {
        if c.call_json("vitale.read", json!({ "fresh": true })).is_ok() {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        ok,
        "vitale.read never succeeded after the restart; log: {}",
        d.log()
    );
    read_and_sign(d);
}

#[test]
fn card_operations_hold_a_pcsc_transaction() {
    let Some(w) = world() else { return };
    let d = &w.d;
    d.wait_cards(2);
    assert!(d.client().call_json("cps.info", json!({})).is_ok());

    // Another application holds the CPS in a transaction: lecteurd's next
    // operation waits for it instead of slipping its APDUs in between.
    let ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap();
    let reader = std::ffi::CString::new(VPCD_READERS[0]).unwrap();
    let mut other = ctx
        .connect(&reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
        .unwrap();
    let held = other.transaction().unwrap();
    let mut c = d.client();
    let start = std::time::Instant::now();
    let verify = std::thread::spawn(move || c.call_json("cps.verify_pin", json!({"pin": TEST_PIN})));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !verify.is_finished(),
        "lecteurd did not wait for the other application"
    );
    drop(held);
    let answer = verify.join().unwrap();
    assert!(answer.is_ok(), "{answer:?}");
    assert!(start.elapsed() >= Duration::from_millis(1500));
}

#[test]
fn pcsc_cps2ter_objects_after_the_pin() {
    // The CPS2ter volet (class A0, 9F xx) through pcscd and vpcd.
    let Some(w) = world() else { return };
    let d = &w.d;
    let readers = d.wait_cards(2);
    let reader = reader_with(&readers, "cps3").expect("a CPS3 reader");
    let mut c = d.client();
    let labels = |c: &mut lecteur_client::Client| -> Vec<String> {
        let o = c
            .call_json("cps.data_objects", json!({ "reader": reader }))
            .unwrap();
        o["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["label"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!labels(&mut c).contains(&"CPS_SIT_FACT".to_string()));
    c.call_json("cps.verify_pin", json!({ "reader": reader, "pin": TEST_PIN }))
        .unwrap();
    let after = labels(&mut c);
    for l in ["CPS2TER_ACTIVITY_01_PS", "CPS_SIT_FACT"] {
        assert!(after.iter().any(|x| x == l), "{l} missing: {after:?}");
    }
}
