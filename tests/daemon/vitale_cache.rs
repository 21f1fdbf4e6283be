//! `vitale.read` answers from the slot's cache while the card stays in (0
//! APDUs), reads the card again after a card movement, and always with
//! `fresh: true`. APDUs are counted from lecteurd's trace of command headers.

use crate::common::*;
use serde_json::json;

#[test]
fn a_card_that_stays_in_is_read_once() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let mut c = d.client();
    let before = d.apdus_sent();
    let first = c.call_json("vitale.read", json!({})).unwrap();
    let after_first = d.apdus_sent();
    assert!(after_first > before + 3, "the first read talks to the card");
    // Another connection too gets the cached read.
    let mut other = d.client();
    for _ in 0..3 {
        assert_eq!(c.call_json("vitale.read", json!({})).unwrap(), first);
        assert_eq!(
            other
                .call_json("vitale.read", json!({"reader": "sim:1"}))
                .unwrap(),
            first
        );
    }
    assert_eq!(d.apdus_sent(), after_first, "0 APDUs for a cached read");

    let fresh = c.call_json("vitale.read", json!({"fresh": true})).unwrap();
    assert_eq!(fresh, first);
    let after_fresh = d.apdus_sent();
    assert_eq!(
        after_fresh - after_first,
        after_first - before,
        "fresh: a whole read"
    );
    c.call_json("vitale.read", json!({"fresh": false})).unwrap();
    assert_eq!(d.apdus_sent(), after_fresh);

    let e = c.call_json("vitale.read", json!({"fresh": "yes"})).unwrap_err();
    assert_eq!(kind(&e), "invalid_params", "{e}");
}

#[test]
fn a_card_put_back_or_swapped_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SerialSim::two_cards(dir.path());
    let control_socket = sim.control.clone();
    let d = sim.daemon();
    let readers = d.wait_cards(2);
    let reader = reader_with(&readers, "vitale2").expect("a Vitale reader");
    let mut events = d.client();
    events.call_json("events.subscribe", json!({})).unwrap();
    let mut c = d.client();
    let params = json!({ "reader": reader });

    let first = c.call_json("vitale.read", params.clone()).unwrap();
    let read_once = d.apdus_sent();
    c.call_json("vitale.read", params.clone()).unwrap();
    assert_eq!(d.apdus_sent(), read_once, "cached");

    // The same card pulled and put back: read again.
    assert_eq!(control(&control_socket, "remove 1"), "ok");
    expect_event(&mut events, "card.removed", &reader);
    assert_eq!(control(&control_socket, "insert 1 vitale2"), "ok");
    expect_event(&mut events, "card.inserted", &reader);
    assert_eq!(c.call_json("vitale.read", params.clone()).unwrap(), first);
    let read_twice = d.apdus_sent();
    assert!(read_twice > read_once + 3, "a card put back is read again");

    // Another card in its place: its own data, not the cached one.
    assert_eq!(control(&control_socket, "insert 1 vitale2-6-beneficiaries"), "ok");
    expect_event(&mut events, "card.inserted", &reader);
    let other = c.call_json("vitale.read", params.clone()).unwrap();
    assert_eq!(
        other["beneficiaries"].as_array().map(Vec::len),
        Some(6),
        "{other}"
    );
    assert_ne!(other, first);
    assert!(d.apdus_sent() > read_twice);
}
