//! The `lecteur` command line as a person runs it.

use crate::common::*;

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

#[test]
fn packaging_assets_come_from_the_command_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("assets");
    let (ok, _, err) = lecteur(&["generate-assets", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let lecteurd8 = read("man/lecteurd.8");
    assert!(lecteurd8.contains(".TH lecteurd 8"), "{lecteurd8}");
    for opt in ["socket", "config", "serial", "allow\\-uid"] {
        assert!(
            lecteurd8.contains(&format!("\\-\\-{opt}")),
            "lecteurd.8 lacks --{opt}"
        );
    }
    let lecteur1 = read("man/lecteur.1");
    assert!(
        lecteur1.contains(".TH lecteur 1") && lecteur1.contains("vitale"),
        "{lecteur1}"
    );
    for name in ["lecteur", "lecteurd"] {
        let bash = read(&format!("completions/bash/{name}"));
        let zsh = read(&format!("completions/zsh/_{name}"));
        let fish = read(&format!("completions/fish/{name}.fish"));
        for script in [&bash, &zsh, &fish] {
            assert!(script.contains("socket"), "{name}: {script}");
            // The packaging word is outside clap: no page or shell offers it.
            assert!(!script.contains("generate-assets"), "{name}: {script}");
        }
    }
    assert!(!lecteur1.contains("generate"));
    // Without its directory it is not the packaging command but a clap error.
    let (ok, _, err) = lecteur(&["generate-assets"]);
    assert!(!ok && err.contains("unrecognized subcommand"), "{err}");
}
