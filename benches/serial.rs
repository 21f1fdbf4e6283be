//! The serial transport's figures, one line each with its target (run by
//! scripts/bench; docs/performance.md keeps the results):
//! - card insertion to `card.inserted` (and removal to `card.removed`) at a
//!   subscriber: `lecteur-sim serial` on a pty, `lecteurd --serial`, cards
//!   moved through the simulator's control socket, timed from the `insert`
//!   (`remove`) command to the event;
//! - a full Vitale read on a line timed as 115 200 baud (the simulator paces
//!   each byte, `--baud`), against the wire-time lower bound: the bytes that
//!   crossed the line both ways × 11 bits (8N2) / 115 200.
//!
//! Needs `cargo build --release --workspace` (for `lecteur-sim`). QUICK=1
//! runs fewer iterations.

use lecteur_client::Client;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

const BAUD: u32 = 115_200;

/// Child processes, killed when the benchmark ends however it ends.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(15), "{what} never came");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn lecteurd(children: &mut Children, dir: &Path, link: &Path) -> Client {
    let socket = dir.join("lecteur.sock");
    children.0.push(
        Command::new(env!("CARGO_BIN_EXE_lecteurd"))
            .args(["--no-pcsc", "--socket"])
            .arg(&socket)
            .arg("--serial")
            .arg(format!("{}:GemCoreSIMPro", link.display()))
            .env("LECTEUR_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting lecteurd"),
    );
    wait_for("lecteurd's socket", || UnixStream::connect(&socket).is_ok());
    let mut c = Client::connect(&socket).expect("connect");
    c.set_timeout(Some(Duration::from_secs(30))).unwrap();
    wait_for("both cards", || {
        c.call_json("readers.list", json!({})).ok().and_then(|r| {
            r.as_array()
                .map(|a| a.iter().filter(|s| !s["card"].is_null()).count())
        }) == Some(2)
    });
    c
}

fn control(socket: &Path, line: &str) {
    let mut s = UnixStream::connect(socket).expect("control socket");
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer).unwrap();
    assert_eq!(answer.trim(), "ok", "{line}");
}

fn next_event(c: &mut Client, kind: &str) {
    for _ in 0..50 {
        let ev = c
            .next_notification_json()
            .map(|(_, params)| params)
            .expect("an event");
        if ev["type"] == kind && ev["reader"] == "serial:0.1" {
            return;
        }
    }
    panic!("no {kind} event");
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

fn insertion_to_event(rounds: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (link, ctl) = (dir.path().join("ttySIM"), dir.path().join("sim.ctl"));
    let sim = Path::new(env!("CARGO_BIN_EXE_lecteurd")).with_file_name("lecteur-sim");
    let mut children = Children(Vec::new());
    children.0.push(
        Command::new(&sim)
            .args(["serial", "--slots", "cps3,vitale2", "--link"])
            .arg(&link)
            .arg("--control")
            .arg(&ctl)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting lecteur-sim: cargo build --release --workspace first"),
    );
    wait_for("the simulator", || link.exists() && ctl.exists());
    let _reads = lecteurd(&mut children, dir.path(), &link);
    let socket: PathBuf = dir.path().join("lecteur.sock");
    let mut events = Client::connect(&socket).unwrap();
    events.set_timeout(Some(Duration::from_secs(30))).unwrap();
    events.call_json("events.subscribe", json!({})).unwrap();
    let (mut took, mut removals) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        // Move cards at varying moments of the pollers' cycles.
        std::thread::sleep(Duration::from_millis((i as u64 * 53) % 250));
        let t = Instant::now();
        control(&ctl, "remove 1");
        next_event(&mut events, "card.removed");
        removals.push(t.elapsed());
        std::thread::sleep(Duration::from_millis((i as u64 * 37) % 250));
        let t = Instant::now();
        control(&ctl, "insert 1 vitale2");
        next_event(&mut events, "card.inserted");
        took.push(t.elapsed());
    }
    for (what, event, mut times) in [
        ("insertion", "card.inserted", took),
        ("removal", "card.removed", removals),
    ] {
        times.sort();
        let p99 = percentile(&times, 0.99);
        println!(
            "serial: card {what} to {event}: p99 {p99:.1} ms, median {:.1} ms over {rounds} (target p99 ≤ 20 ms{})",
            percentile(&times, 0.5),
            if p99 <= 20.0 { "" } else { ": not met" }
        );
    }
}

static STOP: AtomicBool = AtomicBool::new(false);

fn wire_time(reads: usize) {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttySIM");
    // The simulator in this process, to read its line counters.
    let reader = lecteur_sim::reader_with(&["cps3", "vitale2"]).expect("simulated cards");
    let mut device =
        lecteur_sim::serial::Reader::open(&link, lecteur_sim::serial::Profile::GemCoreSimPro, reader)
            .expect("the serial simulator");
    device.set_baud(Some(BAUD));
    let counts = device.line_counts();
    let sim = std::thread::spawn(move || device.run(&STOP));
    let mut children = Children(Vec::new());
    let mut c = lecteurd(&mut children, dir.path(), &link);
    let params = json!({ "reader": "serial:0.1", "fresh": true });
    c.call_json("vitale.read", params.clone()).expect("warm-up read");
    let mut ratios = Vec::new();
    let mut last = (0, Duration::ZERO);
    for _ in 0..reads {
        let before = counts.total();
        let t = Instant::now();
        c.call_json("vitale.read", params.clone()).expect("vitale.read");
        let took = t.elapsed();
        let bytes = counts.total() - before;
        let bound = bytes as f64 * f64::from(lecteur_sim::serial::pace::BITS_PER_BYTE) / f64::from(BAUD);
        ratios.push(took.as_secs_f64() / bound);
        last = (bytes, took);
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    let (bytes, took) = last;
    println!(
        "serial at 115 200 baud: a Vitale read {:.1} ms for {bytes} bytes both ways; / wire-time bound ({bytes} × 11 bits (8N2) / 115 200 = {:.1} ms): {median:.3} median of {reads} (range {:.3}–{:.3}) (target ≤ 1.15{})",
        took.as_secs_f64() * 1000.0,
        bytes as f64 * 11.0 / f64::from(BAUD) * 1000.0,
        ratios[0],
        ratios[ratios.len() - 1],
        if median <= 1.15 { "" } else { ": not met" }
    );
    drop(children);
    STOP.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = sim.join();
}

fn main() {
    let quick = std::env::var("QUICK").is_ok_and(|v| !v.is_empty());
    insertion_to_event(if quick { 15 } else { 60 });
    wire_time(if quick { 3 } else { 10 });
}
