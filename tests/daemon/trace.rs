//! The APDU trace (`diag.trace`, `lecteur trace`, the bundle's trace.txt)
//! against the real `lecteurd --sim`: every exchange of other connections is
//! seen, PIN data and personal data never are, the ring is bounded, and a
//! slow follower loses records without holding card work up.

use crate::common::*;
use lecteur::service::trace::RING_SIZE;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The ring as `diag.trace` answers it.
fn recent(d: &Daemon) -> Vec<Value> {
    let answer = d.client().call_json("diag.trace", json!({})).unwrap();
    assert_eq!(answer["following"], false);
    answer["recent"].as_array().expect("recent").clone()
}

fn seq(rec: &Value) -> u64 {
    rec["seq"].as_u64().expect("seq")
}

/// The newest exchange's number (none yet: `None`).
fn last_seq(d: &Daemon) -> Option<u64> {
    recent(d).last().map(seq)
}

/// A `diag.trace {follow: true}` connection drained by a thread.
struct Follower {
    recent: Vec<Value>,
    notes: mpsc::Receiver<Value>,
}

fn follow(d: &Daemon) -> Follower {
    let mut c = d.client();
    let answer = c.call_json("diag.trace", json!({ "follow": true })).unwrap();
    assert_eq!(answer["following"], true);
    let (tx, notes) = mpsc::channel();
    std::thread::spawn(move || {
        while let Ok(note) = c.next_notification_json().map(|(_, params)| params) {
            if tx.send(note).is_err() {
                break;
            }
        }
    });
    Follower {
        recent: answer["recent"].as_array().unwrap().clone(),
        notes,
    }
}

impl Follower {
    /// The notifications up to the record numbered `last`.
    fn until(&self, last: u64) -> Vec<Value> {
        let mut got = Vec::new();
        loop {
            let note = self
                .notes
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("record {last} never came; got {}", got.len()));
            let done = note.get("seq").and_then(Value::as_u64) == Some(last);
            got.push(note);
            if done {
                return got;
            }
        }
    }
}

/// Fails when any record carries a test PIN, PUK, NIR or name (text, hex,
/// base64). Fields that are only clock or counter digits are left out: a
/// duration of 1234 µs is not the PIN.
fn assert_no_secrets(records: &[Value]) {
    let mut text = String::new();
    for r in records {
        let mut r = r.clone();
        if let Some(o) = r.as_object_mut() {
            for k in ["seq", "time_ms", "us"] {
                o.remove(k);
            }
        }
        text += &format!("- {r}\n");
    }
    let leaks = privacy::leaks(&text);
    assert!(leaks.is_empty(), "{leaks:?}");
    for name in ["TRAL", "ADEMIS", "LEGRAND", "AMRANI"] {
        assert!(!text.to_uppercase().contains(name), "{name} in the trace");
    }
}

/// The records of one reader.
fn on<'a>(records: &'a [Value], reader: &'a str) -> impl Iterator<Item = &'a Value> {
    records.iter().filter(move |r| r["reader"] == reader)
}

fn ins(rec: &Value) -> &str {
    &rec["header"].as_str().unwrap()[2..4]
}

#[test]
fn a_follower_sees_other_connections_apdus_masked() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    let readers = d.wait_cards(2);
    let vitale = reader_with(&readers, "vitale2").unwrap();
    let cps = reader_with(&readers, "cps3").unwrap();
    let f = follow(&d);
    let start = f.recent.last().map(seq);

    let mut c = d.client();
    c.call_json("vitale.read", json!({ "fresh": true })).unwrap();
    c.call_json("cps.verify_pin", json!({ "pin": TEST_PIN })).unwrap();
    let signed = c
        .call_json(
            "cps.sign",
            json!({ "key": "signature", "algorithm": "rsa-pkcs1-sha256", "data_b64": b64(b"ordonnance") }),
        )
        .unwrap();
    assert!(signed["signature_b64"].is_string());

    let last = last_seq(&d).unwrap();
    let live = f.until(last);
    // Every exchange after the snapshot, in order, none missing or twice.
    let seqs: Vec<u64> = live.iter().map(seq).collect();
    let first = start.map_or(0, |s| s + 1);
    assert_eq!(seqs, (first..=last).collect::<Vec<_>>());
    assert_no_secrets(&live);
    assert_no_secrets(&recent(&d));

    // The Vitale read: SELECTs with their file ids, READ BINARY with lengths only.
    let selects: Vec<&Value> = on(&live, &vitale).filter(|r| ins(r) == "A4").collect();
    assert!(!selects.is_empty(), "{live:#?}");
    assert!(selects
        .iter()
        .all(|r| r["body"] == "shown" && r["data"].is_string()));
    let reads: Vec<&Value> = on(&live, &vitale)
        .filter(|r| ins(r) == "B0" && r["resp_len"].as_u64() > Some(0))
        .collect();
    assert!(reads.len() >= 2, "{live:#?}");
    assert!(reads.iter().all(|r| r["data"].is_null() && r["sw"] == "9000"));
    let name = on(&live, &vitale).next().unwrap()["reader_name"]
        .as_str()
        .unwrap();
    assert!(!name.is_empty());

    // The VERIFY: sent, answered 90 00, its data hidden down to its length.
    let verify: Vec<&Value> = on(&live, &cps)
        .filter(|r| ins(r) == "20" && r["body"] == "secret")
        .collect();
    assert_eq!(verify.len(), 1, "one VERIFY with data: {live:#?}");
    assert_eq!(verify[0]["sw"], "9000");
    assert!(verify[0]["lc"].is_null() && verify[0]["data"].is_null());
    // The signature: MSE shown, the digest masked, the signature's length only.
    assert!(on(&live, &cps).any(|r| ins(r) == "22" && r["body"] == "shown"));
    let pso = on(&live, &cps)
        .find(|r| ins(r) == "2A")
        .unwrap_or_else(|| panic!("no PSO: {live:#?}"));
    assert_eq!(
        (pso["body"].as_str(), pso["lc"].as_u64()),
        (Some("masked"), Some(32))
    );
    // The PSO's answer and its GET RESPONSEs (T=0 cards answer 61xx).
    let signature_len: u64 = on(&live, &cps)
        .skip_while(|r| ins(r) != "2A")
        .enumerate()
        .take_while(|(i, r)| *i == 0 || ins(r) == "C0")
        .map(|(_, r)| r["resp_len"].as_u64().unwrap())
        .sum();
    assert_eq!(signature_len, 256, "{live:#?}");
    assert!(live
        .iter()
        .all(|r| r["us"].is_u64() && r["time_ms"].as_u64() > Some(1_600_000_000_000)));
}

#[test]
fn the_ring_keeps_the_newest_exchanges_only() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    let f = follow(&d);
    let mut c = d.client();
    let mut reads = 0;
    while last_seq(&d).unwrap_or(0) < RING_SIZE as u64 + 100 {
        c.call_json("vitale.read", json!({ "fresh": true })).unwrap();
        reads += 1;
        assert!(reads < 500, "a Vitale read sends APDUs");
    }
    let ring = recent(&d);
    assert_eq!(ring.len(), RING_SIZE);
    let last = seq(ring.last().unwrap());
    let seqs: Vec<u64> = ring.iter().map(seq).collect();
    assert_eq!(seqs, (last + 1 - RING_SIZE as u64..=last).collect::<Vec<_>>());
    // The same records a follower saw live, newest kept.
    let mut all = f.recent.clone();
    all.extend(f.until(last));
    assert_eq!(ring[..], all[all.len() - RING_SIZE..]);
}

#[test]
fn a_slow_follower_loses_records_and_is_told() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    // Follows, then reads nothing while lecteurd works.
    let mut slow = d.client();
    slow.call_json("diag.trace", json!({ "follow": true })).unwrap();
    let first = last_seq(&d).map_or(0, |s| s + 1);
    let mut c = d.client();
    while last_seq(&d).unwrap_or(0) < first + 5000 {
        for _ in 0..20 {
            c.call_json("vitale.read", json!({ "fresh": true })).unwrap();
        }
    }
    // Card work was not held up, and the follower was not cut off: it now
    // reads what it was sent, then the count of what it lost, then new records.
    let (tx, notes) = mpsc::channel();
    std::thread::spawn(move || {
        while let Ok(note) = slow.next_notification_json().map(|(_, params)| params) {
            if tx.send(note).is_err() {
                break;
            }
        }
    });
    let (mut got, mut lost) = (0u64, 0u64);
    for _ in 0..50 {
        c.call_json("vitale.read", json!({ "fresh": true })).unwrap();
        let last = last_seq(&d).unwrap();
        while let Ok(note) = notes.recv_timeout(Duration::from_millis(300)) {
            if let Some(n) = note.get("lost").and_then(Value::as_u64) {
                lost += n;
                continue;
            }
            got += 1;
            if seq(&note) == last {
                assert!(lost > 0, "5000 exchanges fit no follower's backlog");
                assert_eq!(
                    got + lost,
                    last + 1 - first,
                    "every exchange is sent or counted lost"
                );
                return;
            }
        }
    }
    panic!("the follower never caught up: {got} records, {lost} lost");
}

/// A line of `lecteur trace` without its clock and duration (digits that are
/// not data).
fn data_part(line: &str) -> String {
    let no_clock = line.split_once(' ').map_or(line, |(_, rest)| rest);
    let no_us = no_clock.rsplitn(3, ' ').nth(2).unwrap_or(no_clock);
    format!("- {no_us}\n")
}

#[test]
fn lecteur_trace_prints_recent_then_live_lines() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    d.client()
        .call_json("vitale.read", json!({ "fresh": true }))
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lecteur"))
        .args(["--socket", d.socket.to_str().unwrap(), "trace", "--recent-only"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), recent(&d).len());
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" 00 A4 ") && l.contains(" Lc=") && l.contains("→ 90 00")),
        "{text}"
    );
    assert!(lines.iter().all(|l| l.ends_with(" µs")), "{text}");

    // Following: a VERIFY made now shows as a line, its PIN hidden.
    let mut child = Proc(
        Command::new(env!("CARGO_BIN_EXE_lecteur"))
            .args(["--socket", d.socket.to_str().unwrap(), "trace"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    while seen.len() < recent(&d).len() {
        seen.push(
            lines
                .recv_timeout(Duration::from_secs(20))
                .expect("the recent lines"),
        );
    }
    d.client()
        .call_json("cps.verify_pin", json!({ "pin": TEST_PIN }))
        .unwrap();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no VERIFY line: {seen:#?}"));
        let verify = line.contains(" 00 20 00 ") && line.contains("[PIN data hidden]");
        seen.push(line);
        if verify {
            break;
        }
    }
    drop(child);
    let scanned: String = seen.iter().map(|l| data_part(l)).collect();
    let leaks = privacy::leaks(&scanned);
    assert!(leaks.is_empty(), "{leaks:?}");
}

#[test]
fn the_bundle_holds_the_trace() {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    d.client()
        .call_json("cps.verify_pin", json!({ "pin": TEST_PIN }))
        .unwrap();
    let sys = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(sys.path().join("bus/usb/devices")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("support.tar.gz");
    let run = Command::new(env!("CARGO_BIN_EXE_lecteur"))
        .args([
            "--socket",
            d.socket.to_str().unwrap(),
            "diag",
            "--json",
            "--bundle",
        ])
        .arg(&file)
        .env("LECTEUR_SYSFS", sys.path())
        .env("LECTEUR_CONFIG", sys.path().join("no-lecteur.toml"))
        .env("LECTEUR_DIAG_NO_PCSC", "1")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let st = Command::new("tar")
        .arg("-xzf")
        .arg(&file)
        .arg("-C")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(st.success());
    let trace = std::fs::read_to_string(out.path().join("lecteur-diag/trace.txt")).unwrap();
    let lines: Vec<&str> = trace.lines().skip(1).collect();
    assert_eq!(lines.len(), recent(&d).len().min(RING_SIZE), "{trace}");
    assert!(
        trace.lines().next().unwrap().starts_with("# lecteurd's last"),
        "{trace}"
    );
    // The VERIFY made before, and the Vitale reads of diag's latency check.
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" 00 20 00 ") && l.contains("[PIN data hidden]")),
        "{trace}"
    );
    assert!(lines.iter().any(|l| l.contains(" 00 B0 ")), "{trace}");
    let scanned: String = lines.iter().map(|l| data_part(l)).collect();
    let leaks = privacy::leaks(&scanned);
    assert!(leaks.is_empty(), "{leaks:?}");
}

#[test]
fn a_serial_pinpad_verification_is_traced_without_its_pin() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyPINPAD");
    let control_socket = dir.path().join("pinpad.ctl");
    let _sim = start_sim(
        dir.path(),
        "sim-pinpad.log",
        &[
            "serial",
            "--reader",
            "gempc-pinpad",
            "--link",
            link.to_str().unwrap(),
            "--slots",
            "cps3",
            "--control",
            control_socket.to_str().unwrap(),
        ],
    );
    wait_for_path(&link);
    wait_for_path(&control_socket);
    let d = Daemon::start(&[
        "--no-pcsc",
        "--serial",
        &format!("{}:GemPCPinPad", link.display()),
    ]);
    let readers = d.wait_cards(1);
    let reader = reader_with(&readers, "cps3").unwrap();
    let f = follow(&d);

    let mut c = d.client();
    assert_eq!(control(&control_socket, "keys 0000"), "ok");
    let e = c
        .call_json("cps.verify_pin", json!({ "pinpad": true }))
        .unwrap_err();
    assert_eq!(kind(&e), "pin_incorrect", "{e}");
    assert_eq!(control(&control_socket, "keys 1234"), "ok");
    c.call_json("cps.verify_pin", json!({ "pinpad": true })).unwrap();

    let live = f.until(last_seq(&d).unwrap());
    assert_no_secrets(&live);
    assert!(live.iter().all(|r| r["reader"] == reader.as_str()));
    // The serial transport's exchanges are traced like any other.
    assert!(
        live.iter().any(|r| ins(r) == "A4" && r["body"] == "shown"),
        "{live:#?}"
    );
    let pinpad: Vec<(&str, &str)> = live
        .iter()
        .filter(|r| r["kind"] == "pinpad_verify")
        .map(|r| (r["body"].as_str().unwrap(), r["sw"].as_str().unwrap()))
        .collect();
    assert_eq!(pinpad.len(), 2, "{live:#?}");
    assert!(pinpad.iter().all(|(body, _)| *body == "secret"));
    assert!(pinpad[0].1.starts_with("63C"), "the wrong PIN: {pinpad:?}");
    assert_eq!(pinpad[1].1, "9000");
}
