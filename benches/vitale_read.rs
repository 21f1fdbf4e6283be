//! `vitale.read` through lecteurd against a raw `pcsc` replay of the same APDUs
//! on the same vpcd card, in one run; prints the ratio (target ≤ 1.10).
//!
//! Needs pcscd running with the vpcd driver (scripts/test.sh starts one, or
//! `pcscd -f &`). Uses vpcd slot "Virtual PCD 00 01" (port 35964).
//! Run: `cargo bench --bench vitale_read` (ROUNDS and CALLS tune it).

use lecteur::apdu::Exchange;
use lecteur::client::Client;
use lecteur::transport::TransportError;
use serde_json::json;
use std::ffi::CString;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

const READER: &str = "Virtual PCD 00 01";
static STOP: AtomicBool = AtomicBool::new(false);

/// Sends to a raw PC/SC card and records the commands.
struct Recorder<'a> {
    card: &'a pcsc::Card,
    commands: Vec<Vec<u8>>,
}

impl Exchange for Recorder<'_> {
    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.commands.push(apdu.to_vec());
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
        self.card
            .transmit(apdu, &mut buf)
            .map(<[u8]>::to_vec)
            .map_err(|e| TransportError::Protocol(e.to_string()))
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

fn main() {
    if !std::path::Path::new("/run/pcscd/pcscd.comm").exists() {
        println!("SKIPPED: pcscd is not running (start it with `pcscd -f &`)");
        return;
    }
    let (rounds, calls) = (env_or("ROUNDS", 20), env_or("CALLS", 40));

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

    // The card: a simulated Vitale 2 in vpcd slot 1.
    let reader = lecteur_sim::SimReader::new(1);
    reader
        .insert(0, lecteur_sim::card::load("vitale2").expect("default card"))
        .unwrap();
    std::thread::spawn(move || lecteur_sim::vpcd::run(reader, "127.0.0.1:35964".parse().unwrap(), &STOP));

    let cps = lecteur_sim::SimReader::new(1);
    cps.insert(0, lecteur_sim::card::load("cps3").expect("default card"))
        .unwrap();
    std::thread::spawn(move || lecteur_sim::vpcd::run(cps, "127.0.0.1:35963".parse().unwrap(), &STOP));
    // pcscd polls vpcd slots every ~0.4 s, and may still be forgetting an
    // earlier card: give it a few seconds.
    let mut last = None;
    let mut card = None;
    for _ in 0..200 {
        std::thread::sleep(Duration::from_millis(50));
        match ctx.connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY) {
            Ok(c) => {
                card = Some(c);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let mut card = card.unwrap_or_else(|| panic!("no card in {READER}: {last:?}"));

    // The APDUs of one Vitale read, as lecteur's card code sends them.
    let mut rec = Recorder {
        card: &card,
        commands: Vec::new(),
    };
    let data = lecteur::card::vitale::read(&mut rec).expect("a Vitale read");
    let commands = rec.commands;
    println!(
        "one vitale.read = {} APDUs, {} beneficiaries; {} reads each way, interleaved",
        commands.len(),
        data.beneficiaries.len(),
        rounds * calls
    );

    // lecteurd, in this process, on PC/SC only.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("lecteur.sock");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = lecteur::daemon::Config {
        socket: Some(socket.clone()),
        pcsc: true,
        ..Default::default()
    };
    let ready = runtime
        .block_on(async { lecteur::daemon::start(&config) })
        .expect("daemon");
    runtime.spawn(lecteur::api::serve(ready.listener, ready.api));
    let mut client = Client::connect(&socket).expect("socket");
    let mut reader_id = None;
    for _ in 0..100 {
        let readers = client.call("readers.list", json!({})).unwrap();
        reader_id = readers
            .as_array()
            .and_then(|a| a.iter().find(|r| r["name"] == READER && !r["card"].is_null()))
            .map(|r| r["id"].clone());
        if reader_id.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let params = json!({ "reader": reader_id.expect("lecteurd sees the card") });
    client.call("vitale.read", params.clone()).expect("warm-up read");

    // One raw read, then one lecteurd read, many times: both see the same
    // machine load, and medians ignore the odd preemption.
    let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
    let (mut raw, mut daemon) = (Vec::new(), Vec::new());
    for _ in 0..rounds * calls {
        let t = Instant::now();
        // A careful PC/SC client holds the card for the whole read, as lecteurd does.
        let tx = card.transaction().expect("transaction");
        for c in &commands {
            tx.transmit(c, &mut buf).expect("raw transmit");
        }
        drop(tx);
        raw.push(t.elapsed());
        let t = Instant::now();
        client.call("vitale.read", params.clone()).expect("vitale.read");
        daemon.push(t.elapsed());
    }
    let t = Instant::now();
    for _ in 0..calls * 5 {
        client.call("readers.list", json!({})).expect("readers.list");
    }
    let floor = t.elapsed() / (calls * 5) as u32;
    println!(
        "readers.list    : {:>8.1} µs per call (the socket round trip, no card I/O)",
        floor.as_secs_f64() * 1e6
    );
    std::thread::sleep(Duration::from_secs(2));
    client.call("cps.logout", json!({})).expect("cps.logout");
    let t = Instant::now();
    for _ in 0..calls * 5 {
        client.call("cps.logout", json!({})).expect("cps.logout");
    }
    let hop = t.elapsed() / (calls * 5) as u32;
    println!(
        "cps.logout      : {:>8.1} µs per call (round trip + slot worker, no APDU)",
        hop.as_secs_f64() * 1e6
    );
    let (raw, daemon) = (median(raw), median(daemon));
    println!(
        "raw pcsc replay : {:>8.1} µs per read (median)",
        raw.as_secs_f64() * 1e6
    );
    println!(
        "lecteurd        : {:>8.1} µs per vitale.read",
        daemon.as_secs_f64() * 1e6
    );
    println!(
        "ratio           : {:.3} (target ≤ 1.10)",
        daemon.as_secs_f64() / raw.as_secs_f64()
    );
    STOP.store(true, std::sync::atomic::Ordering::SeqCst);
}
