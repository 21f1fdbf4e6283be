//! lecteurd's figures at rest and under load, one line each with its target
//! (run by scripts/bench; docs/performance.md keeps the results):
//! - start to socket ready, median of several starts;
//! - cached `vitale.read` over 32 clients: APDUs sent, requests/s, p99;
//! - idle RSS, and RSS growth over 100 000 mixed requests.
//!
//! The load comes from `lecteur-load` (src/bin/lecteur-load), which starts
//! `lecteurd --no-pcsc --sim` itself. QUICK=1 runs fewer iterations.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// RSS growth over the mixed run beyond which it is called growth, not noise.
const RSS_NOISE_KIB: f64 = 1024.0;

/// A child process killed when dropped, also when the benchmark panics.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn load(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_lecteur-load"))
        .args(args)
        .arg("--json")
        .stderr(Stdio::inherit())
        .output()
        .expect("running lecteur-load");
    assert!(out.status.success(), "lecteur-load {args:?} failed");
    serde_json::from_slice(&out.stdout).expect("lecteur-load --json")
}

fn verdict(met: bool, target: &str) -> String {
    if met {
        format!("(target {target})")
    } else {
        format!("(target {target}: not met)")
    }
}

fn errors(r: &Value) -> String {
    match r["errors"].as_object() {
        Some(e) if !e.is_empty() => format!(", errors {}", Value::Object(e.clone())),
        _ => String::new(),
    }
}

/// Time from spawning lecteurd to its socket accepting a connection.
fn start_time(dir: &Path) -> Duration {
    let socket = dir.join("start.sock");
    let t = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_lecteurd"))
        .args(["--no-pcsc", "--sim", "--socket"])
        .arg(&socket)
        .env("LECTEUR_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting lecteurd");
    let _child = Killed(child);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "lecteurd never opened its socket"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    t.elapsed()
}

fn main() {
    let quick = std::env::var("QUICK").is_ok_and(|v| !v.is_empty());
    let dir = std::env::temp_dir().join(format!("lecteur-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let starts = if quick { 5 } else { 15 };
    let mut times: Vec<Duration> = (0..starts).map(|_| start_time(&dir)).collect();
    let _ = std::fs::remove_dir_all(&dir);
    times.sort();
    let median = times[times.len() / 2].as_secs_f64() * 1000.0;
    println!(
        "start to socket ready: {median:.1} ms median of {starts} (range {:.1}–{:.1}) {}",
        times[0].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0,
        verdict(median <= 100.0, "≤ 100 ms")
    );

    // Cached reads: the card stays in, every client reads it again and again.
    let duration = if quick { "3s" } else { "10s" };
    // lecteurd's per-connection limit (2 000 requests/s) off: 32 clients
    // would otherwise be capped at 64 000 requests/s by policy, not capacity.
    let r = load(&[
        "--clients",
        "32",
        "--duration",
        duration,
        "--mix",
        "vitale",
        "--max-rate",
        "0",
    ]);
    let apdus = r["apdus"].as_u64().unwrap_or(u64::MAX);
    println!(
        "cached vitale.read: {apdus} APDUs sent over {} reads {}",
        r["overall"]["requests"],
        verdict(apdus == 0, "0")
    );
    let rate = r["overall"]["per_second"].as_f64().unwrap_or(0.0);
    println!(
        "cached vitale.read, 32 clients: {rate:.0} requests/s{} {}",
        errors(&r),
        verdict(rate >= 20_000.0, "≥ 20 000 on 2 cores")
    );
    let p99 = r["overall"]["p99_ms"].as_f64().unwrap_or(f64::MAX);
    println!(
        "cached vitale.read, 32 clients: p99 {p99:.2} ms (p50 {:.2} ms) {}",
        r["overall"]["p50_ms"].as_f64().unwrap_or(0.0),
        verdict(p99 <= 5.0, "≤ 5 ms")
    );
    let idle = r["rss_kib"]["idle"].as_f64().unwrap_or(f64::MAX) / 1024.0;
    println!(
        "lecteurd idle RSS: {idle:.1} MiB {}",
        verdict(idle <= 10.0, "≤ 10 MiB")
    );

    // Growth: RSS after the warm-up (every connection open, every cache
    // filled) against RSS after 100 000 more requests; then a second 100 000
    // on the same lecteurd, to tell a leak (grows again) from a plateau.
    let requests = if quick { "20000" } else { "100000" };
    let dir = std::env::temp_dir().join(format!("lecteur-bench-rss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("lecteur.sock");
    let daemon = Command::new(env!("CARGO_BIN_EXE_lecteurd"))
        .args(["--no-pcsc", "--sim", "--socket"])
        .arg(&socket)
        .env("LECTEUR_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting lecteurd");
    let daemon = Killed(daemon);
    let t = Instant::now();
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "lecteurd never opened its socket"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let pid = daemon.0.id().to_string();
    let mut runs = Vec::new();
    for _ in 0..2 {
        runs.push(load(&[
            "--socket",
            socket.to_str().unwrap(),
            "--pid",
            &pid,
            "--clients",
            "32",
            "--requests",
            requests,
            "--mix",
            "list=4,vitale=4,info=2,sign=1",
        ]));
    }
    drop(daemon);
    let _ = std::fs::remove_dir_all(&dir);
    let kib = |r: &Value, k: &str| r["rss_kib"][k].as_f64().unwrap_or(0.0);
    let (first, second) = (&runs[0], &runs[1]);
    let growth = kib(first, "end") - kib(first, "after_warmup");
    println!(
        "lecteurd RSS growth over {} mixed requests: {:+.0} KiB ({:.1} → {:.1} MiB at {:.0} requests/s{}); over {} more: {:+.0} KiB {}",
        first["overall"]["requests"],
        growth,
        kib(first, "after_warmup") / 1024.0,
        kib(first, "end") / 1024.0,
        first["overall"]["per_second"].as_f64().unwrap_or(0.0),
        errors(first),
        second["overall"]["requests"],
        kib(second, "end") - kib(first, "end"),
        verdict(growth <= RSS_NOISE_KIB, "no growth beyond 1 MiB of noise")
    );
}
