//! The e-prescription example (examples/eprescription, docs/e-prescription.md)
//! end to end: the prescription signed by the CPS signature key and a VIHF
//! through lecteurd's socket, posted over mutual TLS 1.2 whose client key is the
//! CPS authentication key reached through lecteur's PKCS#11 module (curl with
//! OpenSSL's pkcs11 engine), to the example's local test service, which checks
//! everything with openssl and xmlsec1.

use crate::common::*;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The PKCS#11 module, built with the workspace beside this test binary.
fn module_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let so = exe.with_file_name("liblecteur_pkcs11.so");
    assert!(
        so.exists(),
        "{} missing: run `cargo build --workspace` first",
        so.display()
    );
    so
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed: {text}");
    text
}

#[test]
fn a_prescription_reaches_the_test_service_over_mutual_tls() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let dir = d.dir.path();
    let (key, cert) = (dir.join("server.key"), dir.join("server.pem"));
    run(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert));

    let mut server = Command::new("python3")
        .arg(root().join("examples/eprescription/test_server.py"))
        .arg("--ca")
        .arg(root().join("firmware-sim/fixtures/ca.cert.pem"))
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs the test service");
    let mut port = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let server = Proc(server);
    let port: u16 = port
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the service's port: {port:?}"));

    let answer = run(Command::new("python3")
        .arg(root().join("examples/eprescription/send_prescription.py"))
        .arg("--url")
        .arg(format!("https://127.0.0.1:{port}/prescriptions"))
        .arg("--server-ca")
        .arg(&cert)
        .arg("--module")
        .arg(module_path())
        .arg(TEST_PIN)
        .env("LECTEUR_SOCKET", &d.socket));
    let last = answer.lines().last().unwrap_or_default();
    let v: serde_json::Value =
        serde_json::from_str(last).unwrap_or_else(|e| panic!("the service's answer {answer:?}: {e}"));
    assert_eq!(v["accepted"], true, "{answer}");
    assert!(
        v["signer"].as_str().unwrap_or_default().contains("899900038839"),
        "{v}"
    );
    drop(server);
}
