//! lecteurd's serial transport against `lecteur-sim serial`: a two-slot
//! GemCore SIM Pro on a real pseudo-terminal.

mod common;

use common::*;

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
