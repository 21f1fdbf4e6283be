//! The `lecteur` command line as a person runs it.

mod common;

use common::*;
use std::process::Command;

fn lecteur(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lecteur"))
        .args(args)
        .output()
        .expect("run lecteur");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn atr_needs_no_reader() {
    let (ok, out, _) = lecteur(&[
        "atr",
        "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00",
        "--json",
    ]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["kind"], "cps3");
    assert_eq!(v["protocols"], serde_json::json!(["T=0"]));
    let (ok, out, _) = lecteur(&["atr", "3F:65:25:00:2C:09:69:90:00"]);
    assert!(ok && out.contains("vitale1"), "{out}");
    let (ok, out, _) = lecteur(&["atr", "3B75130000440 9EB9000", "--json"]);
    assert!(ok && out.contains("\"unknown\""), "a near miss is unknown: {out}");
    let (ok, _, err) = lecteur(&["atr", "zz"]);
    assert!(!ok && !err.is_empty());
}

#[test]
fn a_user_reads_and_signs_from_the_command_line() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let socket = d.socket.to_str().unwrap();
    let (ok, out, _) = lecteur(&["--socket", socket, "readers"]);
    assert!(ok && out.contains("cps3") && out.contains("vitale2"), "{out}");
    let (ok, out, _) = lecteur(&["--socket", socket, "vitale"]);
    assert!(ok && out.contains("lunar"), "{out}");
    let (ok, out, _) = lecteur(&["--socket", socket, "cps", "info"]);
    assert!(ok && out.contains("Médecin"), "{out}");

    let data = d.dir.path().join("doc.txt");
    std::fs::write(&data, b"ordonnance").unwrap();
    let sig = d.dir.path().join("sig.bin");
    let cert = d.dir.path().join("sig.der");
    let (ok, _, err) = lecteur(&[
        "--socket",
        socket,
        "cps",
        "sign",
        "--pin",
        TEST_PIN,
        "--key",
        "signature",
        "--data-file",
        data.to_str().unwrap(),
        "--out",
        sig.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = lecteur(&[
        "--socket",
        socket,
        "cps",
        "certs",
        "--usage",
        "signature",
        "--out",
        cert.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(verify_signature(
        &std::fs::read(&cert).unwrap(),
        b"ordonnance",
        &std::fs::read(&sig).unwrap()
    ));

    let (ok, _, err) = lecteur(&["--socket", socket, "cps", "verify", "--pin", "0000"]);
    assert!(!ok && err.contains("pin_incorrect"), "{err}");
}
