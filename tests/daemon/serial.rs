//! lecteurd's serial transport against `lecteur-sim serial`: a two-slot
//! GemCore SIM Pro on a real pseudo-terminal.

use crate::common::*;

#[test]
fn serial_reads_vitale_and_signs() {
    let dir = tempfile::tempdir().unwrap();
    let reader = SerialSim::two_cards(dir.path());
    let d = reader.daemon();
    read_and_sign(&d);
}

#[test]
fn serial_card_movements_give_events() {
    let dir = tempfile::tempdir().unwrap();
    let reader = SerialSim::two_cards(dir.path());
    let d = reader.daemon();
    card_movement(&d, &reader.control, 1, "vitale2");
    card_movement(&d, &reader.control, 0, "cps3");
}

/// The profile of each serial reader as readers.list shows it, once per reader.
fn models(readers: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut seen: Vec<serde_json::Value> = readers
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["transport"] == "serial")
        .map(|r| r["model"].clone())
        .collect();
    seen.dedup();
    seen
}

/// Without `:PROFILE`, the reader's firmware names its model: the GemCore
/// SIM Pro gets its two slots and no echo is expected of it.
#[test]
fn the_firmware_names_the_serial_reader_model() {
    let dir = tempfile::tempdir().unwrap();
    let reader = SerialSim::two_cards(dir.path());
    let d = Daemon::start(&["--no-pcsc", "--serial", reader.link.to_str().unwrap()]);
    let readers = d.wait_cards(2);
    let m = models(&readers);
    assert_eq!(m.len(), 1, "{readers:#}");
    assert_eq!(m[0]["profile"], "GemCoreSIMPro", "{readers:#}");
    assert_eq!(m[0]["chosen_by"], "firmware", "{readers:#}");
    assert!(
        m[0]["firmware"].as_str().unwrap().contains("GemCore SIM Pro"),
        "{readers:#}"
    );
    read_and_sign(&d);
    let log = d.log();
    assert!(!log.contains("is the profile right?"), "{log}");
    assert!(!log.contains("names no known model"), "{log}");

    let twin_dir = tempfile::tempdir().unwrap();
    let twin = SerialSim::start(twin_dir.path(), "gempc-twin", "vitale2");
    let d = Daemon::start(&["--no-pcsc", "--serial", twin.link.to_str().unwrap()]);
    let readers = d.wait_cards(1);
    let m = models(&readers);
    assert_eq!(
        (m.len(), &m[0]["profile"], &m[0]["chosen_by"]),
        (1, &"GemPCTwin".into(), &"firmware".into())
    );
    assert_eq!(readers.as_array().unwrap().len(), 1, "{readers:#}");
    assert!(!d.log().contains("is the profile right?"), "{}", d.log());
}

/// An explicit `:PROFILE` wins over the firmware, with a warning naming both.
#[test]
fn a_configured_serial_profile_wins_over_the_firmware() {
    let dir = tempfile::tempdir().unwrap();
    let reader = SerialSim::two_cards(dir.path());
    let spec = format!("{}:GemPCTwin", reader.link.display());
    let d = Daemon::start(&["--no-pcsc", "--serial", &spec]);
    let readers = d.wait_cards(1);
    assert_eq!(readers.as_array().unwrap().len(), 1, "{readers:#}");
    let m = models(&readers);
    assert_eq!(
        (&m[0]["profile"], &m[0]["chosen_by"]),
        (&"GemPCTwin".into(), &"configured".into())
    );
    assert!(
        wait_until(std::time::Duration::from_secs(5), || d.log().contains(
            "the reader's firmware names another model than the configured profile"
        )),
        "{}",
        d.log()
    );
}
