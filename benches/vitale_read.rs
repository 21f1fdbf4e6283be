//! `vitale.read` through lecteurd against the same read without it, on the
//! same vpcd card, in one run: a raw `pcsc` replay of the read's APDUs, and
//! lecteur's card code called directly on a raw PC/SC card; prints both
//! ratios (targets ≤ 1.05).
//!
//! Everything runs as in production: `lecteur-sim vpcd` (the cards) and
//! `lecteurd` are processes of their own, both talking to the system's pcscd;
//! this process is the client, raw and through the socket.
//!
//! Needs pcscd running with the vpcd driver (`scripts/bench` starts one) and
//! `lecteur-sim` built in release (`cargo build --release --workspace`).
//! Uses vpcd slots "Virtual PCD 00 00" (CPS3) and "Virtual PCD 00 01" (Vitale 2).
//!
//! The statistic that holds still on a shared 2-vCPU machine: each of
//! PLACEMENTS (default 5) starts the raw client's PC/SC context and lecteurd
//! anew (where the kernel puts their threads and pcscd's moves the ratio by
//! several per cent); each placement runs ROUNDS (default 20) rounds of CALLS
//! (default 40) reads each way, interleaved read by read in an order that
//! rotates; a round's ratio is of its medians, so load that comes and goes
//! touches both sides of it. The figure is the median of all rounds' ratios,
//! printed with its spread (10th–90th percentile of the rounds) and the
//! placements' medians.
//! Run: `cargo bench --bench vitale_read` (LECTEURD_BIN runs another lecteurd
//! binary, for an A/B comparison; LECTEURD_CPUS pins it to a CPU list, which
//! production does not do).

use lecteur::apdu::{Exchange, LinkError};
use lecteur_client::Client;
use serde_json::json;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const READER: &str = "Virtual PCD 00 01";

/// Sends to a raw PC/SC card (in a transaction) and records the commands.
struct Recorder<'a> {
    tx: &'a pcsc::Transaction<'a>,
    commands: Option<Vec<Vec<u8>>>,
}

impl Exchange for Recorder<'_> {
    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, LinkError> {
        if let Some(c) = &mut self.commands {
            c.push(apdu.to_vec());
        }
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
        self.tx
            .transmit(apdu, &mut buf)
            .map(<[u8]>::to_vec)
            .map_err(|e| LinkError::Protocol(e.to_string()))
    }
}

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

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// `lecteur-sim`, built beside this benchmark's `lecteurd`.
fn sim_bin() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_lecteurd")).with_file_name("lecteur-sim");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build --release --workspace` first",
        bin.display()
    );
    bin
}

fn spawn(cmd: &mut Command) -> Child {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"))
}

/// What one placement measured: per-round ratios, medians per read over
/// the whole placement, and the fixed costs.
struct Placement {
    /// lecteurd ÷ raw replay, one per round.
    vs_raw: Vec<f64>,
    /// lecteurd ÷ card code direct, one per round.
    vs_direct: Vec<f64>,
    raw: Duration,
    direct: Duration,
    daemon: Duration,
    list: Duration,
    logout: Duration,
    transaction: Duration,
    apdu: Duration,
}

/// The median and the 10th–90th percentile spread of `v`.
fn summary(v: &[f64]) -> (f64, f64, f64) {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (v[n / 2], v[n / 10], v[n - 1 - n / 10])
}

/// A raw PC/SC connection to the Vitale, in a context of its own (pcscd
/// serves each context on a thread of its own).
fn raw_card(name: &CString) -> (pcsc::Context, pcsc::Card) {
    let ctx = pcsc::Context::establish(pcsc::Scope::User).expect("PC/SC context");
    // pcscd polls vpcd slots every ~0.4 s, and may still be forgetting an
    // earlier card: give it a few seconds.
    let mut last = None;
    for _ in 0..200 {
        match ctx.connect(name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY) {
            Ok(card) => return (ctx, card),
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no card in {READER}: {last:?}")
}

fn main() {
    if !Path::new("/run/pcscd/pcscd.comm").exists() {
        println!("SKIPPED: pcscd is not running (start it with `pcscd -f &`)");
        return;
    }
    let (rounds, calls) = (env_or("ROUNDS", 20).max(1), env_or("CALLS", 40).max(1));
    let placements = env_or("PLACEMENTS", 5).max(1);
    let mut children = Children(Vec::new());

    // pcscd may still hold the card of an earlier run: wait until the slot is empty.
    let ctx = pcsc::Context::establish(pcsc::Scope::User).expect("PC/SC context");
    let name = CString::new(READER).unwrap();
    for _ in 0..100 {
        let mut states = [pcsc::ReaderState::new(name.clone(), pcsc::State::UNAWARE)];
        if ctx
            .get_status_change(Duration::from_millis(100), &mut states)
            .is_ok()
            && !states[0].event_state().contains(pcsc::State::PRESENT)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(ctx);

    // The cards: a simulated Vitale 2 in vpcd slot 1, a CPS3 in slot 0.
    let sim = sim_bin();
    for (port, card) in [(35964, "vitale2"), (35963, "cps3")] {
        let child = spawn(Command::new(&sim).args(["vpcd", "--port", &port.to_string(), "--card", card]));
        children.0.push(child);
    }

    // The APDUs of one Vitale read, as lecteur's card code sends them.
    let profile = lecteur::card::profile::Profiles::builtin()
        .expect("built-in profiles")
        .vitale2
        .clone();
    let (_ctx, mut card) = raw_card(&name);
    let tx = card.transaction().expect("transaction");
    let mut rec = Recorder {
        tx: &tx,
        commands: Some(Vec::new()),
    };
    let data = lecteur::card::vitale::read_card(&mut rec, lecteur::card::CardKind::Vitale2, &profile)
        .expect("a Vitale read");
    let commands = rec.commands.take().unwrap_or_default();
    drop(tx);
    drop(card);
    println!(
        "one vitale.read = {} APDUs, {} beneficiaries; {rounds} rounds of {calls} reads each way, interleaved, in each of {placements} placements",
        commands.len(),
        data.beneficiaries.len(),
    );

    // Where the kernel puts the threads of the raw client, of lecteurd and of
    // pcscd's threads serving them moves the ratio by several per cent from
    // one run to the next on a 2-vCPU VM: each placement starts them anew.
    let mut runs = Vec::new();
    for n in 1..=placements {
        let p = placement(&name, &commands, &profile, rounds, calls);
        println!(
            "placement {n}        : raw {:.1} µs, card code direct {:.1} µs, lecteurd {:.1} µs: ratios {:.3} (raw), {:.3} (direct), medians of {rounds} rounds",
            micros(p.raw),
            micros(p.direct),
            micros(p.daemon),
            summary(&p.vs_raw).0,
            summary(&p.vs_direct).0,
        );
        runs.push(p);
    }
    let all = |f: fn(&Placement) -> &Vec<f64>| {
        runs.iter()
            .flat_map(|p| f(p).iter().copied())
            .collect::<Vec<f64>>()
    };
    let (vs_raw, vs_direct) = (summary(&all(|p| &p.vs_raw)), summary(&all(|p| &p.vs_direct)));
    runs.sort_by(|a, b| summary(&a.vs_raw).0.total_cmp(&summary(&b.vs_raw).0));
    let p = &runs[runs.len() / 2];
    println!(
        "readers.list     : {:>8.1} µs per call (the socket round trip, no card I/O)",
        micros(p.list)
    );
    println!(
        "cps.logout       : {:>8.1} µs per call (round trip + slot worker + PC/SC transaction, no APDU)",
        micros(p.logout)
    );
    println!(
        "transaction      : {:>8.1} µs per begin + end (raw PC/SC, no APDU)",
        micros(p.transaction)
    );
    println!(
        "one APDU         : {:>8.1} µs (raw PC/SC, no transaction)",
        micros(p.apdu)
    );
    println!(
        "card code direct : {:>8.1} µs per read (lecteur's card code on the raw card, no daemon)",
        micros(p.direct)
    );
    println!("raw pcsc replay  : {:>8.1} µs per read (median)", micros(p.raw));
    println!(
        "lecteurd         : {:>8.1} µs per vitale.read (median)",
        micros(p.daemon)
    );
    let rounds_all = placements * rounds;
    println!(
        "vitale.read via lecteurd / card code direct: {:.3} (target ≤ 1.05; median of {rounds_all} rounds, spread {:.3}–{:.3})",
        vs_direct.0, vs_direct.1, vs_direct.2
    );
    println!(
        "vitale.read via lecteurd / raw pcsc replay: {:.3} (target ≤ 1.05; median of {rounds_all} rounds, spread {:.3}–{:.3})",
        vs_raw.0, vs_raw.1, vs_raw.2
    );
}

/// One placement: a raw client and a lecteurd started anew, `rounds` rounds
/// of `calls` interleaved reads each way.
fn placement(
    name: &CString,
    commands: &[Vec<u8>],
    profile: &lecteur::card::profile::VitaleProfile,
    rounds: usize,
    calls: usize,
) -> Placement {
    let (_ctx, mut card) = raw_card(name);
    let read = |card: &mut pcsc::Card| {
        let tx = card.transaction().expect("transaction");
        let mut rec = Recorder {
            tx: &tx,
            commands: None,
        };
        lecteur::card::vitale::read_card(&mut rec, lecteur::card::CardKind::Vitale2, profile)
            .expect("a Vitale read");
    };
    let mut children = Children(Vec::new());

    // lecteurd, the real binary, on PC/SC only.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("lecteur.sock");
    // As in production, the kernel places lecteurd's threads; LECTEURD_CPUS
    // pins them (taskset) for experiments.
    let bin = std::env::var("LECTEURD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_lecteurd").into());
    let mut cmd = match std::env::var("LECTEURD_CPUS") {
        Ok(cpus) => {
            let mut c = Command::new("taskset");
            c.args(["-c", &cpus]).arg(bin);
            c
        }
        Err(_) => Command::new(bin),
    };
    children
        .0
        .push(spawn(cmd.arg("--socket").arg(&socket).env("LECTEUR_LOG", "warn")));
    let mut client = None;
    for _ in 0..100 {
        if let Ok(c) = Client::connect(&socket) {
            client = Some(c);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut client = client.expect("lecteurd's socket");
    let mut reader_id = None;
    for _ in 0..100 {
        let readers = client.call_json("readers.list", json!({})).unwrap();
        reader_id = readers
            .as_array()
            .and_then(|a| a.iter().find(|r| r["name"] == READER && !r["card"].is_null()))
            .map(|r| r["id"].clone());
        if reader_id.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let params = json!({ "reader": reader_id.expect("lecteurd sees the card"), "fresh": true });
    client
        .call_json("vitale.read", params.clone())
        .expect("warm-up read");

    // A raw read, lecteur's card code on the raw card, and a lecteurd read,
    // in an order that rotates read by read, many times: all see the same
    // machine load, and medians ignore the odd preemption.
    let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
    let (mut vs_raw, mut vs_direct) = (Vec::new(), Vec::new());
    let (mut all_raw, mut all_direct, mut all_daemon) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let mut times: [Vec<Duration>; 3] = Default::default();
        for i in 0..calls {
            for way in (0..3).map(|k| (i + k) % 3) {
                let t = Instant::now();
                match way {
                    0 => {
                        // A careful PC/SC client holds the card for the whole
                        // read, as lecteurd does.
                        let tx = card.transaction().expect("transaction");
                        for c in commands {
                            tx.transmit(c, &mut buf).expect("raw transmit");
                        }
                        drop(tx);
                    }
                    1 => read(&mut card),
                    _ => {
                        client
                            .call_json("vitale.read", params.clone())
                            .expect("vitale.read");
                    }
                }
                times[way].push(t.elapsed());
            }
        }
        let [raw, direct, daemon] = times;
        let (raw_m, direct_m, daemon_m) = (
            median(raw.clone()),
            median(direct.clone()),
            median(daemon.clone()),
        );
        vs_raw.push(daemon_m.as_secs_f64() / raw_m.as_secs_f64());
        vs_direct.push(daemon_m.as_secs_f64() / direct_m.as_secs_f64());
        all_raw.extend(raw);
        all_direct.extend(direct);
        all_daemon.extend(daemon);
    }
    let per_call = |t: Instant| t.elapsed() / (calls * 5) as u32;
    let t = Instant::now();
    for _ in 0..calls * 5 {
        client.call_json("readers.list", json!({})).expect("readers.list");
    }
    let list = per_call(t);
    client.call_json("cps.logout", json!({})).expect("cps.logout");
    let t = Instant::now();
    for _ in 0..calls * 5 {
        client.call_json("cps.logout", json!({})).expect("cps.logout");
    }
    let logout = per_call(t);
    let t = Instant::now();
    for _ in 0..calls * 5 {
        drop(card.transaction().expect("transaction"));
    }
    let transaction = per_call(t);
    let t = Instant::now();
    for _ in 0..calls * 5 {
        card.transmit(&commands[0], &mut buf).expect("raw transmit");
    }
    let apdu = per_call(t);
    Placement {
        vs_raw,
        vs_direct,
        raw: median(all_raw),
        direct: median(all_direct),
        daemon: median(all_daemon),
        list,
        logout,
        transaction,
        apdu,
    }
}
