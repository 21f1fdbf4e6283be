//! The example clients in `examples/` (Python, Node.js), run against a real
//! lecteurd on its simulated reader: what a practice-software developer copies
//! first must work.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Runs an example with `interpreter` and returns its JSON summary (last line).
fn run_example(interpreter: &str, script: &str) -> Value {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    let out = Command::new(interpreter)
        .arg(&script)
        .arg(TEST_PIN)
        .env("LECTEUR_SOCKET", &d.socket)
        .output()
        .unwrap_or_else(|e| panic!("{interpreter} is needed to run {} ({e})", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{} failed: {}\n{stdout}\nlecteurd log: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr),
        d.log()
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("summary line {last:?}: {e}"))
}

fn check(summary: &Value) {
    assert_eq!(summary["beneficiaries"], 3, "{summary}");
    let data = unb64(&summary["signed_b64"]);
    let cert = unb64(&summary["certificate_der_b64"]);
    assert!(
        verify_signature(&cert, &data, &unb64(&summary["signature_b64"])),
        "the example's signature does not verify"
    );
    let vihf = summary["vihf"].as_str().expect("a VIHF assertion");
    lecteur::dmp::xmldsig::verify(vihf).unwrap_or_else(|e| panic!("the example's VIHF does not verify: {e}"));
}

#[test]
fn python_example_reads_signs_and_builds_a_vihf() {
    check(&run_example("python3", "examples/python/lecteur_demo.py"));
}

#[test]
fn node_example_reads_signs_and_builds_a_vihf() {
    check(&run_example("node", "examples/node/lecteur_demo.js"));
}
