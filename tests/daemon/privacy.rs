//! The privacy scan every test's lecteurd log goes through
//! (`common::privacy`) finds what it must, and only that; and a daemon driven
//! through every method at trace level logs no PIN, NIR or name.

use crate::common::privacy::leaks;
use crate::common::*;
use serde_json::json;

#[test]
fn the_scan_finds_each_encoding() {
    use base64::Engine;
    assert!(leaks("2026 pin=1234 ok").len() == 1);
    assert!(
        leaks("2026 tries=12345 at 1234567").is_empty(),
        "digits inside longer numbers"
    );
    assert!(
        !leaks("2026 data=0020008108313233343132FFFF").is_empty(),
        "hex in an APDU"
    );
    assert!(!leaks("2026 name=\"LEGRAND\"").is_empty());
    let b64 = base64::engine::general_purpose::STANDARD;
    for prefix in ["", "x", "xy"] {
        let line = format!("2026 blob={}", b64.encode(format!("{prefix}AMRANI and more")));
        assert!(!leaks(&line).is_empty(), "base64 after {prefix:?}: {line}");
    }
    assert!(leaks("2026 lecteurd ready socket=/tmp/x transports=[\"sim\"]").is_empty());
}

#[test]
fn every_method_at_trace_level_logs_no_secret() {
    let d = Daemon::start_env(&["--no-pcsc", "--sim"], "trace");
    d.wait_cards(2);
    let mut c = d.client();
    c.call_json("vitale.read", json!({})).unwrap();
    c.call_json("cps.info", json!({})).unwrap();
    assert_eq!(
        kind(&c.call_json("cps.verify_pin", json!({"pin": "5678"})).unwrap_err()),
        "pin_incorrect"
    );
    c.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    c.call_json("cps.info", json!({})).unwrap();
    c.call_json(
        "cps.sign",
        json!({"key": "signature", "data_b64": b64(b"ordonnance")}),
    )
    .unwrap();
    c.call_json("cps.change_pin", json!({"old": TEST_PIN, "new": "2468"}))
        .unwrap();
    c.call_json("cps.change_pin", json!({"old": "2468", "new": TEST_PIN}))
        .unwrap();
    c.call_json("cps.logout", json!({})).unwrap();
    let log = d.log();
    assert!(log.contains("TRACE"), "the daemon logged at trace level");
    let hits = leaks(&log);
    assert!(hits.is_empty(), "{hits:?}");
}
