//! `lecteur diag` against a real `lecteurd --sim`, and without lecteurd.
//! Independent of the machine's USB devices: sysfs is a fake tree.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Runs `lecteur diag --json` on `socket` with a fake sysfs and no
/// configuration file; returns the exit success and the report.
fn diag(socket: &Path, sysfs: &Path, extra: &[&str]) -> (bool, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_lecteur"))
        .args(["--socket", socket.to_str().unwrap(), "diag", "--json"])
        .args(extra)
        .env("LECTEUR_SYSFS", sysfs)
        .env("LECTEUR_CONFIG", sysfs.join("no-lecteur.toml"))
        .env("LECTEUR_DIAG_NO_PCSC", "1")
        .output()
        .expect("run lecteur diag");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {text} {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), v)
}

fn findings<'a>(v: &'a Value, topic: &str, severity: &str) -> Vec<&'a str> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["topic"] == topic && f["severity"] == severity)
        .map(|f| f["message"].as_str().unwrap())
        .collect()
}

fn empty_sysfs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("bus/usb/devices")).unwrap();
    dir
}

#[test]
fn reports_a_running_lecteurd_its_slots_and_the_cps() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let sys = empty_sysfs();
    let (ok, v) = diag(&d.socket, sys.path(), &[]);
    assert!(ok, "no error expected: {v:#}");
    assert_eq!(v["lecteurd"]["running"], true, "{v:#}");
    assert_eq!(v["lecteurd"]["transports"], serde_json::json!(["sim"]));
    assert_eq!(v["lecteurd"]["socket"], d.socket.to_str().unwrap());
    let readers = v["readers"].as_array().unwrap();
    assert_eq!(readers.len(), 2, "{v:#}");
    let kinds: Vec<(&str, &str)> = readers
        .iter()
        .map(|r| {
            (
                r["card"]["kind"].as_str().unwrap(),
                r["role"].as_str().unwrap_or("none"),
            )
        })
        .collect();
    assert!(kinds.contains(&("cps3", "cps")), "{kinds:?}");
    assert!(kinds.contains(&("vitale2", "vitale")), "{kinds:?}");
    let cps = &v["cps"][0];
    assert_eq!(cps["pin"]["tries_left"], 3, "{cps:#}");
    let certs = cps["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2, "{cps:#}");
    assert!(certs
        .iter()
        .all(|c| c["expired"] == false && c["days_left"].as_i64().unwrap() > 30));
    assert!(findings(&v, "cps", "ok")
        .iter()
        .any(|m| m.contains("3 PIN tries left")));
    // Figures per card slot, and no patient data in the report.
    assert_eq!(v["latency"].as_array().unwrap().len(), 3, "{v:#}");
    let text = v.to_string();
    for secret in ["2800575056123", "LEGRAND", "AMRANI", "TRAL", "ADEMIS"] {
        assert!(!text.contains(secret), "{secret} in the report");
    }
}

#[test]
fn without_lecteurd_says_so_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("nobody.sock");
    let sys = empty_sysfs();
    let (ok, v) = diag(&socket, sys.path(), &[]);
    assert!(!ok, "not running is an error");
    assert_eq!(v["lecteurd"]["running"], false);
    let errors: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["topic"] == "lecteurd" && f["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{v:#}");
    assert!(errors[0]["message"].as_str().unwrap().contains("not running"));
    assert!(errors[0]["remedy"]
        .as_str()
        .unwrap()
        .contains("systemctl start lecteurd.socket"));
    // The rest is still reported.
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["topic"] == "pcscd"));
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["topic"] == "permissions"));
}

#[test]
fn an_expired_certificate_is_an_error() {
    let d = Daemon::start(&["--no-pcsc", "--sim", "--sim-cards", "cps3-expired,vitale2"]);
    d.wait_cards(2);
    let sys = empty_sysfs();
    let (ok, v) = diag(&d.socket, sys.path(), &[]);
    assert!(!ok);
    let errors = findings(&v, "cps", "error");
    assert!(errors.iter().any(|m| m.contains("expired")), "{v:#}");
    assert_eq!(v["cps"][0]["certificates"][0]["expired"], true);
}

/// A fake USB device (and its interfaces) in a sysfs tree.
fn usb_device(sys: &Path, bus_id: &str, vid: &str, pid: &str, product: &str, classes: &[&str]) {
    let dev = sys.join("bus/usb/devices").join(bus_id);
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("idVendor"), format!("{vid}\n")).unwrap();
    std::fs::write(dev.join("idProduct"), format!("{pid}\n")).unwrap();
    std::fs::write(dev.join("product"), format!("{product}\n")).unwrap();
    std::fs::write(dev.join("manufacturer"), "maker\n").unwrap();
    for (i, class) in classes.iter().enumerate() {
        let intf = sys.join("bus/usb/devices").join(format!("{bus_id}:1.{i}"));
        std::fs::create_dir_all(&intf).unwrap();
        std::fs::write(intf.join("bInterfaceClass"), format!("{class}\n")).unwrap();
    }
}

#[test]
fn known_usb_readers_from_sysfs_and_the_ingenico_that_is_not_ccid() {
    let sys = empty_sysfs();
    usb_device(
        sys.path(),
        "1-1",
        "2947",
        "0105",
        "KAP-LINK2",
        &["0b", "0b", "03"],
    );
    usb_device(
        sys.path(),
        "1-2",
        "0b00",
        "0090",
        "Lecteur SESAM VITALE",
        &["02", "0a"],
    );
    usb_device(sys.path(), "1-3", "046d", "c31c", "Keyboard", &["03"]);
    std::fs::write(sys.path().join("bus/usb/devices/1-4"), "not a directory").unwrap();
    // Its HID interface as a hidraw node, and a keyboard's that is not listed.
    for (hidraw, id) in [
        ("hidraw97", "0003:00002947:00000105"),
        ("hidraw98", "0003:0000046D:0000C31C"),
    ] {
        let dev = sys.path().join("class/hidraw").join(hidraw).join("device");
        std::fs::create_dir_all(&dev).unwrap();
        std::fs::write(
            dev.join("uevent"),
            format!("DRIVER=hid-generic\nHID_ID={id}\nHID_NAME=x\n"),
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, v) = diag(&dir.path().join("none.sock"), sys.path(), &[]);
    let usb = v["usb"].as_array().unwrap();
    assert_eq!(usb.len(), 2, "the keyboard maker is not listed: {usb:#?}");
    let kap = usb.iter().find(|d| d["vid"] == "2947").unwrap();
    assert_eq!(kap["ccid_interfaces"], 2);
    assert_eq!(kap["hid_interfaces"], 1);
    assert!(findings(&v, "usb", "ok")
        .iter()
        .any(|m| m.contains("2947:0105") && m.contains("2 CCID")));
    let warnings = findings(&v, "usb", "warning");
    assert!(
        warnings
            .iter()
            .any(|m| m.contains("0B00:0090") && m.contains("not CCID")),
        "{warnings:?}"
    );
    assert!(!warnings.iter().any(|m| m.contains("2947")), "{warnings:?}");
    let hid = v["hid"].as_array().unwrap();
    assert_eq!(hid.len(), 1, "{hid:#?}");
    assert_eq!(hid[0]["hidraw"], "hidraw97");
    assert_eq!(hid[0]["maker"], "Kapelse");
    // A fake tree: sysfs is the source, not hidapi (which sees the machine).
    assert_eq!(v["hid_source"], "sysfs");
    assert_eq!(hid[0]["source"], "sysfs");
    assert_eq!(hid[0]["path"], "/dev/hidraw97");
    assert_eq!(hid[0]["vid"], "2947");
}

#[test]
fn hid_interfaces_through_hidapi_without_a_fake_sysfs() {
    // The machine's own HID devices, through hidapi: no reader is expected
    // here, but the listing must run, name its source, and list only the
    // known makers' interfaces; a hidapi failure is a finding, not a crash.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lecteur"))
        .args(["--socket", dir.path().join("none.sock").to_str().unwrap()])
        .args(["diag", "--json"])
        .env_remove("LECTEUR_SYSFS")
        .env("LECTEUR_CONFIG", dir.path().join("no-lecteur.toml"))
        .env("LECTEUR_DIAG_NO_PCSC", "1")
        .output()
        .expect("run lecteur diag");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let hidapi_failed = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["message"].as_str().unwrap().contains("through hidapi"));
    let expected = if hidapi_failed { "sysfs" } else { "hidapi" };
    assert_eq!(v["hid_source"], expected, "{:#}", v["findings"]);
    let known = [
        "Kapelse",
        "Ingenico/Xiring",
        "Xiring Teo",
        "Cherry",
        "Gemalto",
        "Ingenico",
    ];
    for h in v["hid"].as_array().unwrap() {
        assert_eq!(h["source"], expected, "{h:#}");
        assert!(h["path"].as_str().unwrap().starts_with("/dev/hidraw"), "{h:#}");
        assert!(known.contains(&h["maker"].as_str().unwrap_or("")), "{h:#}");
    }
}

#[test]
fn a_bundle_is_redacted() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let sys = empty_sysfs();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("support.tar.gz");
    let (ok, v) = diag(&d.socket, sys.path(), &["--bundle", file.to_str().unwrap()]);
    assert!(ok, "{v:#}");
    let unpacked = out.path().join("x");
    std::fs::create_dir(&unpacked).unwrap();
    let st = Command::new("tar")
        .arg("-xzf")
        .arg(&file)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(st.success());
    let base = unpacked.join("lecteur-diag");
    let mut names: Vec<String> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "README.txt",
            "lecteurd.log",
            "report.json",
            "report.txt",
            "trace.txt"
        ]
    );
    let mut all = String::new();
    for n in &names {
        all += &std::fs::read_to_string(base.join(n)).unwrap();
    }
    assert!(
        all.contains("cps3") && all.contains("vitale2"),
        "the report is in: {all}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(base.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["lecteurd"]["running"], true);
    // Each line is scanned whole (the scanner skips a log line's first word).
    let lines: String = all.lines().map(|l| format!("- {l}\n")).collect();
    let leaks = privacy::leaks(&lines);
    assert!(leaks.is_empty(), "{leaks:?}");
    for name in ["TRAL", "ADEMIS", "LEGRAND", "AMRANI"] {
        assert!(!all.to_uppercase().contains(name), "{name} in the bundle");
    }
}

#[test]
fn a_serial_reader_is_probed_when_lecteurd_does_not_hold_it() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SerialSim::two_cards(dir.path());
    let sys = empty_sysfs();
    // No `:PROFILE`: the firmware names the model.
    let spec = sim.link.display().to_string();
    let missing = dir.path().join("ttyNONE");
    let (_, v) = diag(
        &dir.path().join("none.sock"),
        sys.path(),
        &["--serial", &spec, "--serial", missing.to_str().unwrap()],
    );
    let probed = v["serial"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["spec"] == spec.as_str())
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(probed["probe"]["answered"], true, "{v:#}");
    assert_eq!(probed["probe"]["slots"].as_array().unwrap().len(), 2, "{v:#}");
    let firmware = probed["probe"]["firmware"]
        .as_str()
        .unwrap_or_else(|| panic!("{v:#}"));
    assert!(firmware.contains("GemCore SIM Pro"), "{v:#}");
    assert_eq!(probed["probe"]["model"]["profile"], "GemCoreSIMPro", "{v:#}");
    assert!(
        findings(&v, "serial", "ok")
            .iter()
            .any(|m| m.contains("profile GemCoreSIMPro (named by the firmware)")),
        "{v:#}"
    );
    let errors = findings(&v, "serial", "error");
    assert!(
        errors
            .iter()
            .any(|m| m.contains("ttyNONE") && m.contains("no such device")),
        "{errors:?}"
    );
}

#[test]
fn a_port_lecteurd_holds_is_not_probed() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SerialSim::two_cards(dir.path());
    let spec = sim.spec.clone();
    let d = sim.daemon();
    d.wait_cards(2);
    let sys = empty_sysfs();
    let (_, v) = diag(&d.socket, sys.path(), &["--serial", &spec]);
    let entry = &v["serial"][0];
    assert_eq!(entry["spec"], spec.as_str(), "{v:#}");
    assert!(entry.get("probe").is_none(), "{v:#}");
    assert!(
        findings(&v, "serial", "ok")
            .iter()
            .any(|m| m.contains("lecteurd holds it") && m.contains("profile GemCoreSIMPro (configured")),
        "{v:#}"
    );
    assert_eq!(entry["model"]["chosen_by"], "configured", "{v:#}");
    // lecteurd still reads its cards: the port was not taken from it.
    assert_eq!(v["readers"].as_array().unwrap().len(), 2, "{v:#}");
    assert_eq!(
        cards(
            &d.client()
                .call_json("readers.list", serde_json::json!({}))
                .unwrap()
        ),
        2
    );
}

#[test]
fn cards_in_the_wrong_slots_are_a_warning() {
    let d = Daemon::start(&["--no-pcsc", "--sim", "--sim-cards", "vitale2,cps3"]);
    d.wait_cards(2);
    let sys = empty_sysfs();
    let (_, v) = diag(&d.socket, sys.path(), &[]);
    let warnings = findings(&v, "readers", "warning");
    assert!(
        warnings
            .iter()
            .any(|m| m.contains("a carte Vitale in the CPS slot")),
        "{v:#}"
    );
    assert!(
        warnings.iter().any(|m| m.contains("a CPS in the Vitale slot")),
        "{v:#}"
    );
}
