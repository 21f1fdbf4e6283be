//! lecteurd's serial transport against `lecteur-sim serial`: a two-slot
//! GemCore SIM Pro on a real pseudo-terminal.

mod common;

use common::*;

struct SerialReader {
    _proc: Proc,
    link: std::path::PathBuf,
    control: std::path::PathBuf,
}

fn serial_reader(dir: &std::path::Path) -> SerialReader {
    let link = dir.join("ttySIM");
    let control = dir.join("serial.ctl");
    let proc = start_sim(
        dir,
        "sim-serial.log",
        &[
            "serial",
            "--link",
            link.to_str().unwrap(),
            "--slots",
            "cps3,vitale2",
            "--control",
            control.to_str().unwrap(),
        ],
    );
    wait_for_path(&link);
    wait_for_path(&control);
    SerialReader {
        _proc: proc,
        link,
        control,
    }
}

#[test]
fn serial_reads_vitale_and_signs() {
    let dir = tempfile::tempdir().unwrap();
    let reader = serial_reader(dir.path());
    let spec = format!("{}:GemCoreSIMPro", reader.link.display());
    let d = Daemon::start(&["--no-pcsc", "--serial", &spec]);
    read_and_sign(&d);
}

#[test]
fn serial_card_movements_give_events() {
    let dir = tempfile::tempdir().unwrap();
    let reader = serial_reader(dir.path());
    let spec = format!("{}:GemCoreSIMPro", reader.link.display());
    let d = Daemon::start(&["--no-pcsc", "--serial", &spec]);
    card_movement(&d, &reader.control, 1, "vitale2");
    card_movement(&d, &reader.control, 0, "cps3");
}
