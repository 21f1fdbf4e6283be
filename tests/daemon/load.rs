//! `lecteur-load` end to end: against a lecteurd given by socket and pid (whose
//! trace-level log the privacy scan reads: the PINs it sends never show), and
//! against one it starts itself (counting APDUs). No timing is asserted.

use crate::common::*;
use serde_json::Value;
use std::process::Command;

fn load(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_lecteur-load"))
        .args(args)
        .arg("--json")
        .output()
        .expect("running lecteur-load");
    assert!(
        out.status.success(),
        "lecteur-load failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON report")
}

#[test]
fn a_mix_runs_without_errors_and_reports_each_method() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let pid = d.proc.0.id().to_string();
    let r = load(&[
        "--socket",
        d.socket.to_str().unwrap(),
        "--pid",
        &pid,
        "--clients",
        "4",
        "--requests",
        "200",
        "--mix",
        "list=1,vitale=1,info=1,sign=1",
    ]);
    assert_eq!(r["errors"], serde_json::json!({}), "{r}");
    assert_eq!(r["overall"]["requests"], 200, "{r}");
    for m in ["readers.list", "vitale.read", "cps.info", "cps.sign"] {
        assert_eq!(r["methods"][m]["requests"], 50, "{m}: {r}");
        assert!(r["methods"][m]["p99_ms"].as_f64().unwrap() >= r["methods"][m]["p50_ms"].as_f64().unwrap());
    }
    assert!(r["rss_kib"]["end"].as_u64().unwrap() > 0, "{r}");
    assert!(
        r["apdus"].is_null(),
        "APDUs are counted only for a lecteurd it started"
    );
}

#[test]
fn cached_reads_of_a_started_lecteurd_send_no_apdu() {
    // The per-connection rate limit off: on a fast machine two clients
    // reading a cached card exceed 2 000 requests/s each.
    let r = load(&[
        "--clients",
        "2",
        "--duration",
        "300ms",
        "--mix",
        "vitale",
        "--max-rate",
        "0",
    ]);
    assert_eq!(r["errors"], serde_json::json!({}), "{r}");
    assert!(r["overall"]["requests"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["apdus"], 0, "{r}");
    assert!(r["started_ms"].as_f64().is_some(), "{r}");
    assert!(r["rss_kib"]["idle"].as_u64().unwrap() > 0, "{r}");
}

#[test]
fn bad_arguments_are_refused() {
    for args in [
        &["--mix", "write=1"][..],
        &["--clients", "0"],
        &["--duration", "5h"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_lecteur-load"))
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
    }
}
