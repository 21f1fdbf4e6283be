//! Faults on the PC/SC side: the real lecteurd through the real pcscd, with
//! `lecteur-sim vpcd` cards whose faults are set through their control
//! sockets (`fault pull-after=N`, `pull-on=INS`, `delay=MS`, `disconnect`),
//! another PC/SC application holding the card, pcscd killed, clients dying.
//!
//! What must hold whatever the fault: a request returns exactly the card's
//! data or a typed error; the error comes within a bounded time; the next
//! request after recovery succeeds; a PIN reaches the card at most once per
//! request; a card swapped between two requests is never answered for with
//! the old card's data or PIN state; and lecteurd leaks no descriptor or
//! thread over many fault cycles.
//!
//! Tunables: `LECTEUR_PCSC_HOLD_SECS` (how long the other application holds
//! its transaction, default 8: the bound is what is proved, not the 60 s),
//! `LECTEUR_PCSC_FAULT_CYCLES` (fault cycles of the leak test, default 200,
//! about 40 s; see docs/reliability.md for a 1000-cycle run).

use crate::common::vpcd::*;
use crate::common::*;
use lecteur_client::{Client, ClientError};
use serde_json::{json, Value};
use std::ffi::CString;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// lecteurd's bound on waiting for a card another application holds.
const CARD_WAIT: Duration = lecteur::service::CARD_WAIT;
/// A failed request ends at most this long after its fault: PC/SC has no
/// answer timeout of lecteurd's own (pcscd reports a card or a connection
/// gone at once), so this is the 2 s margin.
const BOUND: Duration = Duration::from_secs(2);
/// The typed errors a fault may give.
const TYPED: &[&str] = &[
    "card_removed",
    "no_card",
    "transport",
    "reader_gone",
    "reader_busy",
];

fn fault(socket: &Path, spec: &str) {
    assert_eq!(control(socket, &format!("fault {spec}")), "ok", "fault {spec}");
}

/// Whether the simulator's slot is empty (the card was pulled).
fn pulled(socket: &Path) -> bool {
    control(socket, "status") == "0 empty"
}

/// The world, its two readers and a fault-free Vitale read.
struct Bench {
    w: World,
    vitale: String,
    cps: String,
    reference: Value,
}

impl Bench {
    fn start() -> Option<Bench> {
        let w = world()?;
        let readers = w.d.wait_cards(2);
        let vitale = reader_with(&readers, "vitale2").expect("a Vitale reader");
        let cps = reader_with(&readers, "cps3").expect("a CPS reader");
        let reference =
            w.d.client()
                .call_json("vitale.read", json!({ "reader": vitale, "fresh": true }))
                .unwrap_or_else(|e| panic!("fault-free read: {e}; log: {}", w.d.log()));
        Some(Bench {
            w,
            vitale,
            cps,
            reference,
        })
    }

    fn vitale_ctl(&self) -> &Path {
        &self.w.cards.vitale_control
    }

    fn cps_ctl(&self) -> &Path {
        &self.w.cards.cps_control
    }

    /// One fresh Vitale read, checked: the card's exact data or a typed error.
    fn read(&self, c: &mut Client) -> (Result<(), String>, Duration) {
        let t = Instant::now();
        let r = c.call_json("vitale.read", json!({ "reader": self.vitale, "fresh": true }));
        let elapsed = t.elapsed();
        (self.check(r), elapsed)
    }

    fn check(&self, r: Result<Value, ClientError>) -> Result<(), String> {
        match r {
            Ok(v) => {
                assert_eq!(
                    v, self.reference,
                    "a read under a fault differs from the card's data"
                );
                Ok(())
            }
            Err(e) => {
                let k = kind(&e).to_string();
                assert!(
                    TYPED.contains(&k.as_str()),
                    "untyped or unexpected error {e} ({k})"
                );
                Err(k)
            }
        }
    }

    /// Reads until one succeeds (bounded): the first may meet a card
    /// handle made stale by the fault and say `card_removed`.
    fn recovers(&self, c: &mut Client) -> Duration {
        let t = Instant::now();
        let mut last = Err(String::new());
        for _ in 0..40 {
            last = self.read(c).0;
            if last.is_ok() {
                return t.elapsed();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "no successful read after the fault: {last:?}; simulators: {}; log: {}",
            self.sim_logs(),
            self.w.d.log()
        );
    }

    fn sim_logs(&self) -> String {
        ["sim-cps.log", "sim-vitale.log"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(self.w.dir.path().join(f)).unwrap_or_default();
                format!("--- {f}:\n{text}")
            })
            .collect()
    }

    /// Puts a card back in the simulator `socket` and waits for lecteurd to see it.
    fn reinsert(&self, socket: &Path, card: &str, events: &mut Client, reader: &str) {
        assert_eq!(control(socket, &format!("insert 0 {card}")), "ok");
        self.event(events, "card.inserted", reader);
    }

    /// Waits for the next event of `kind` on `reader` (10 s at most).
    fn event(&self, events: &mut Client, kind: &str, reader: &str) {
        events.set_timeout(Some(Duration::from_secs(10))).unwrap();
        for _ in 0..20 {
            match events.next_notification_json().map(|(_, params)| params) {
                Ok(ev) if ev["type"] == kind && ev["reader"] == reader => return,
                Ok(_) => {}
                Err(e) => panic!(
                    "no {kind} event for {reader} ({e}); simulators: {}; log: {}",
                    self.sim_logs(),
                    self.w.d.log()
                ),
            }
        }
        panic!("no {kind} event for {reader} in 20 events");
    }
}

fn events(d: &Daemon) -> Client {
    let mut events = d.client();
    events.call_json("events.subscribe", json!({})).unwrap();
    events
}

/// Runs `call` on a new connection in a thread: (result, time taken).
fn in_flight(
    d: &Daemon,
    method: &'static str,
    params: Value,
) -> std::thread::JoinHandle<(Result<Value, ClientError>, Duration)> {
    let socket = d.socket.clone();
    std::thread::spawn(move || {
        let mut c = Client::connect(&socket).unwrap();
        c.set_timeout(Some(Duration::from_secs(60))).unwrap();
        let t = Instant::now();
        let r = c.call_json(method, params);
        (r, t.elapsed())
    })
}

/// Another PC/SC application: begins a transaction on `reader` (its own
/// context, in its own thread) and holds it until `hold` has passed or it
/// is told to let go. Returns once the transaction is held.
/// (A hold shorter than `CARD_WAIT` is waited for: tests/pcscd/pcsc.rs,
/// `card_operations_hold_a_pcsc_transaction`.)
struct Holder {
    _release: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Holder {
    fn hold(reader: &str, hold: Duration) -> Holder {
        let name = CString::new(reader).unwrap();
        let (held_tx, held_rx) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap();
            let mut card = ctx
                .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
                .unwrap();
            let tx = card.transaction().unwrap();
            held_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(hold);
            drop(tx);
            let _ = card.disconnect(pcsc::Disposition::LeaveCard);
        });
        held_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the other application got its transaction");
        Holder {
            _release: release,
            thread,
        }
    }

    /// Waits until the holder lets go by itself.
    fn join(self) {
        self.thread.join().unwrap();
    }
}

/// Whether another application can begin a transaction on `reader` within
/// `within` (the thread trying is left behind, blocked, when it cannot).
fn transaction_free(reader: &str, within: Duration) -> bool {
    let name = CString::new(reader).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let ok = (|| {
            let ctx = pcsc::Context::establish(pcsc::Scope::User).ok()?;
            let mut card = ctx
                .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
                .ok()?;
            drop(card.transaction().ok()?);
            card.disconnect(pcsc::Disposition::LeaveCard).ok()
        })()
        .is_some();
        let _ = tx.send(ok);
    });
    rx.recv_timeout(within).unwrap_or(false)
}

/// `--card-wait` (or `card_wait` in lecteur.toml) sets the bound.
#[test]
fn the_card_wait_is_lecteurd_s_option() {
    let Some(w) = world_with(&["--card-wait", "2"]) else {
        return;
    };
    let readers = w.d.wait_cards(2);
    let vitale = reader_with(&readers, "vitale2").expect("a Vitale reader");
    let mut c = w.d.client();
    let holder = Holder::hold(VPCD_READERS[1], Duration::from_secs(4));
    let t = Instant::now();
    let e = c
        .call_json("vitale.read", json!({ "reader": vitale, "fresh": true }))
        .unwrap_err();
    let waited = t.elapsed();
    assert_eq!(e.kind(), Some(lecteur_proto::ErrorKind::ReaderBusy), "{e}");
    assert!(
        waited >= Duration::from_millis(1800) && waited <= Duration::from_secs(2) + BOUND,
        "reader_busy after {waited:?}"
    );
    holder.join();
    // Refused at once until the slot's thread has the card back.
    assert!(wait_until(Duration::from_secs(5), || c
        .call_json("vitale.read", json!({ "reader": vitale, "fresh": true }))
        .is_ok()));
}

#[test]
fn another_application_holds_the_card() {
    let Some(b) = Bench::start() else { return };
    let d = &b.w.d;
    let hold = Duration::from_secs(env_count("LECTEUR_PCSC_HOLD_SECS", 8) as u64);
    assert!(
        hold >= CARD_WAIT + Duration::from_secs(2),
        "hold at least CARD_WAIT + 2 s"
    );
    let mut c = d.client();
    let held_at = Instant::now();
    let holder = Holder::hold(VPCD_READERS[1], hold);

    // lecteurd waits for the card at most CARD_WAIT, then says who has it.
    let (r, waited) = b.read(&mut c);
    assert_eq!(r, Err("reader_busy".to_string()), "log: {}", d.log());
    assert!(
        waited >= CARD_WAIT - Duration::from_millis(200) && waited <= CARD_WAIT + BOUND,
        "reader_busy after {waited:?}"
    );
    let e = c
        .call_json("vitale.read", json!({ "reader": b.vitale, "fresh": true }))
        .unwrap_err();
    assert!(e.to_string().contains("another application"), "{e}");

    // Meanwhile: the slot refuses at once instead of piling requests up,
    // the reader list and the other slot answer.
    let t = Instant::now();
    let (r, _) = b.read(&mut c);
    assert_eq!(r, Err("reader_busy".to_string()));
    let fast = t.elapsed();
    let t = Instant::now();
    let readers = c.call_json("readers.list", json!({})).unwrap();
    let list = t.elapsed();
    assert_eq!(cards(&readers), 2);
    let t = Instant::now();
    c.call_json("cps.info", json!({ "reader": b.cps })).unwrap();
    let other = t.elapsed();
    assert!(
        fast < Duration::from_secs(1),
        "second request refused after {fast:?}"
    );
    assert!(list < Duration::from_secs(1), "readers.list took {list:?}");
    assert!(other < Duration::from_secs(3), "the other slot took {other:?}");
    eprintln!(
        "held elsewhere: reader_busy after {waited:?}, the next after {fast:?}; readers.list {list:?}; the CPS slot {other:?}"
    );

    // Still held later on: still refused at once.
    std::thread::sleep(hold.saturating_sub(held_at.elapsed() + Duration::from_secs(1)));
    let t = Instant::now();
    assert_eq!(b.read(&mut c).0, Err("reader_busy".to_string()));
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());

    // No APDU reaches the card from an abandoned request once it is released.
    let apdus = counter(b.vitale_ctl(), "apdus");
    holder.join();
    let released = held_at.elapsed();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        counter(b.vitale_ctl(), "apdus"),
        apdus,
        "an abandoned request ran late"
    );
    let (r, took) = b.read(&mut c);
    assert_eq!(r, Ok(()), "read after the release; log: {}", d.log());
    eprintln!("released after {released:?}; the next read took {took:?}");
}

#[test]
fn a_signature_given_up_never_sends_its_pin() {
    // The CPS held elsewhere: cps.sign with a PIN gets reader_busy, and the
    // PIN never reaches the card, not even once the card is free.
    let Some(b) = Bench::start() else { return };
    let d = &b.w.d;
    let mut c = d.client();
    let data = b64(b"prescription");
    let sign =
        json!({ "pin": TEST_PIN, "key": "signature", "algorithm": "rsa-pkcs1-sha256", "data_b64": data });
    c.call_json("cps.info", json!({})).unwrap();
    let before = counter(b.cps_ctl(), "verify");
    let holder = Holder::hold(VPCD_READERS[0], CARD_WAIT + Duration::from_millis(1500));
    let t = Instant::now();
    let e = c
        .call_json("cps.sign", sign.clone())
        .expect_err("the CPS is held elsewhere");
    assert_eq!(kind(&e), "reader_busy", "{e}");
    assert!(t.elapsed() <= CARD_WAIT + BOUND, "{:?}", t.elapsed());
    holder.join();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        counter(b.cps_ctl(), "verify"),
        before,
        "the abandoned request's PIN was sent"
    );
    // Free again: the next signature sends its PIN once.
    let r = c
        .call_json("cps.sign", sign)
        .unwrap_or_else(|e| panic!("cps.sign after the release: {e}; log: {}", d.log()));
    assert!(r["signature_b64"].is_string());
    assert_eq!(counter(b.cps_ctl(), "verify"), before + 1);
}

#[test]
fn card_pulled_mid_read() {
    let Some(b) = Bench::start() else { return };
    let d = &b.w.d;
    let mut c = d.client();
    let mut ev = events(d);
    let mut failed = 0;
    for k in [0u32, 2, 5, 9, 14] {
        fault(b.vitale_ctl(), &format!("pull-after={k}"));
        let (r, elapsed) = b.read(&mut c);
        if pulled(b.vitale_ctl()) {
            let k = r.expect_err("a read whose card was pulled cannot succeed");
            assert!(
                matches!(k.as_str(), "card_removed" | "no_card" | "transport"),
                "{k}"
            );
            assert!(elapsed <= BOUND, "the typed error took {elapsed:?}");
            eprintln!("card pulled: {k} after {elapsed:?}");
            failed += 1;
            b.event(&mut ev, "card.removed", &b.vitale);
            b.reinsert(b.vitale_ctl(), "vitale2", &mut ev, &b.vitale);
        } else {
            assert_eq!(r, Ok(()), "the read needed fewer than {k} APDUs");
        }
        fault(b.vitale_ctl(), "none");
        let took = b.recovers(&mut c);
        eprintln!("pull-after={k}: recovered in {took:?}");
    }
    assert!(failed >= 3, "the pulls did not land inside reads");
}

#[test]
fn card_pulled_mid_signature() {
    let Some(b) = Bench::start() else { return };
    let d = &b.w.d;
    let mut c = d.client();
    let mut ev = events(d);
    let data = b"prescription";
    let sign = json!({ "pin": TEST_PIN, "key": "signature", "algorithm": "rsa-pkcs1-sha256", "data_b64": b64(data) });
    // Pulled at the PSO (after the VERIFY), then at the VERIFY itself.
    for (ins, pin_reached) in [("2A", 1), ("20", 0)] {
        let before = counter(b.cps_ctl(), "verify");
        fault(b.cps_ctl(), &format!("pull-on={ins}"));
        let t = Instant::now();
        let e = c
            .call_json("cps.sign", sign.clone())
            .expect_err("no signature from a pulled card");
        let elapsed = t.elapsed();
        assert!(
            matches!(kind(&e), "card_removed" | "no_card" | "transport"),
            "{e}"
        );
        assert!(elapsed <= BOUND, "the typed error took {elapsed:?}");
        assert!(pulled(b.cps_ctl()), "the pull at INS {ins} did not happen");
        let sent = counter(b.cps_ctl(), "verify") - before;
        assert_eq!(
            sent, pin_reached,
            "pulled at INS {ins}: the PIN reached the card {sent} times"
        );
        eprintln!(
            "card pulled at INS {ins}: {} after {elapsed:?}, PIN sent {sent}",
            kind(&e)
        );
        b.event(&mut ev, "card.removed", &b.cps);
        b.reinsert(b.cps_ctl(), "cps3", &mut ev, &b.cps);

        // The next signature succeeds, its PIN sent exactly once.
        let before = counter(b.cps_ctl(), "verify");
        let mut r = c.call_json("cps.sign", sign.clone());
        if let Err(e) = &r {
            // A card handle made stale by the pull: refused before any PIN.
            assert_eq!(kind(e), "card_removed", "{e}");
            assert_eq!(counter(b.cps_ctl(), "verify"), before);
            r = c.call_json("cps.sign", sign.clone());
        }
        let r = r.unwrap_or_else(|e| panic!("cps.sign after reinsertion: {e}; log: {}", d.log()));
        assert_eq!(counter(b.cps_ctl(), "verify") - before, 1);
        assert!(verify_signature(
            &unb64(&r["certificate_der_b64"]),
            data,
            &unb64(&r["signature_b64"])
        ));
    }
}

#[test]
fn card_swapped_between_requests() {
    let Some(b) = Bench::start() else { return };
    let d = &b.w.d;
    let mut c = d.client();
    let mut ev = events(d);

    // Vitale A read (and cached), Vitale B put in its place.
    let a = c.call_json("vitale.read", json!({ "reader": b.vitale })).unwrap();
    assert_eq!(control(b.vitale_ctl(), "insert 0 vitale2-lunar"), "ok");
    b.event(&mut ev, "card.inserted", &b.vitale);
    let mut swapped = None;
    for _ in 0..3 {
        match c.call_json("vitale.read", json!({ "reader": b.vitale })) {
            Ok(v) => {
                swapped = Some(v);
                break;
            }
            Err(e) => assert_eq!(kind(&e), "card_removed", "{e}"),
        }
    }
    let swapped = swapped.expect("the new card is read");
    assert_ne!(
        swapped["beneficiaries"], a["beneficiaries"],
        "the old card's patients"
    );

    // CPS A verified on this connection, CPS B put in its place: B is read
    // anew, and A's verification does not carry over.
    let info_a = c.call_json("cps.info", json!({})).unwrap();
    c.call_json("cps.verify_pin", json!({ "pin": TEST_PIN })).unwrap();
    assert_eq!(control(b.cps_ctl(), "insert 0 cps3-adeli"), "ok");
    b.event(&mut ev, "card.inserted", &b.cps);
    let data = b64(b"prescription");
    let before = counter(b.cps_ctl(), "verify");
    for _ in 0..2 {
        let e = c
            .call_json(
                "cps.sign",
                json!({ "key": "signature", "algorithm": "rsa-pkcs1-sha256", "data_b64": data }),
            )
            .expect_err("no signature without the new card's PIN");
        if kind(&e) == "pin_required" {
            break;
        }
        assert_eq!(kind(&e), "card_removed", "{e}");
    }
    assert_eq!(counter(b.cps_ctl(), "verify"), before, "no PIN was sent");
    let info_b = c.call_json("cps.info", json!({})).unwrap();
    assert_ne!(info_a, info_b, "the old CPS's data");
}

#[test]
fn vpcd_card_disconnects() {
    let Some(b) = Bench::start() else { return };
    let d = &b.w.d;
    let mut c = d.client();
    let mut ev = events(d);

    // Idle: pcscd sees the card go and come back.
    fault(b.vitale_ctl(), "disconnect");
    b.event(&mut ev, "card.removed", &b.vitale);
    b.event(&mut ev, "card.inserted", &b.vitale);
    let took = b.recovers(&mut c);
    eprintln!("disconnected while idle: read again after {took:?}");

    // During a read: no answer for the APDU in flight.
    fault(b.vitale_ctl(), "delay=30");
    let read = in_flight(d, "vitale.read", json!({ "reader": b.vitale, "fresh": true }));
    std::thread::sleep(Duration::from_millis(200));
    fault(b.vitale_ctl(), "disconnect");
    let cut = Instant::now();
    let (r, _) = read.join().unwrap();
    let after = cut.elapsed();
    match b.check(r) {
        Ok(()) => eprintln!("the read ended before the disconnection"),
        Err(k) => {
            assert!(after <= BOUND, "{k} {after:?} after the disconnection");
            eprintln!("disconnected during a read: {k} {after:?} after");
        }
    }
    b.event(&mut ev, "card.inserted", &b.vitale);
    let took = b.recovers(&mut c);
    eprintln!("recovered in {took:?}");
}

#[test]
fn pcscd_killed_during_a_read() {
    if !owns_pcscd() {
        return;
    }
    let Some(b) = Bench::start() else { return };
    let d = &b.w.d;
    let mut c = d.client();
    fault(b.vitale_ctl(), "delay=40");
    let read = in_flight(d, "vitale.read", json!({ "reader": b.vitale, "fresh": true }));
    std::thread::sleep(Duration::from_millis(250));
    let killed = Instant::now();
    restart_pcscd();
    let (r, _) = read.join().unwrap();
    let after = killed.elapsed();
    let k = b.check(r).expect_err("the read in flight when pcscd died");
    assert!(
        after <= BOUND + Duration::from_secs(1),
        "{k} {after:?} after the kill"
    );
    eprintln!("pcscd killed during a read: {k} {after:?} after (pcscd restart included)");
    fault(b.vitale_ctl(), "none");
    d.wait_cards(2);
    let took = b.recovers(&mut c);
    eprintln!("read again {took:?} after the cards were back");
    read_and_sign(d);
}

/// Sends `line` on a raw connection and closes it `after` later, unanswered.
fn dying_client(d: &Daemon, line: &Value, after: Duration) {
    use std::io::Write;
    let mut s = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    std::thread::sleep(after);
    drop(s);
}

#[test]
fn client_dies_while_its_operation_runs() {
    let Some(b) = Bench::start() else { return };
    let d = &b.w.d;
    let mut c = d.client();

    // A read: done or dropped whole, the card released.
    fault(b.vitale_ctl(), "delay=30");
    let request = json!({ "jsonrpc": "2.0", "id": 1, "method": "vitale.read", "params": { "reader": b.vitale, "fresh": true } });
    dying_client(d, &request, Duration::from_millis(150));
    fault(b.vitale_ctl(), "none");
    assert!(
        transaction_free(VPCD_READERS[1], Duration::from_secs(3)),
        "the Vitale is still held in a transaction"
    );
    assert_eq!(b.read(&mut c).0, Ok(()));

    // A signature with its PIN: the verification dies with the connection.
    fault(b.cps_ctl(), "delay=30");
    let before = counter(b.cps_ctl(), "verify");
    let request = json!({ "jsonrpc": "2.0", "id": 1, "method": "cps.sign", "params": { "pin": TEST_PIN, "key": "signature", "algorithm": "rsa-pkcs1-sha256", "data_b64": b64(b"x") } });
    dying_client(d, &request, Duration::from_millis(150));
    fault(b.cps_ctl(), "none");
    assert!(
        transaction_free(VPCD_READERS[0], Duration::from_secs(3)),
        "the CPS is still held in a transaction"
    );
    assert!(
        counter(b.cps_ctl(), "verify") - before <= 1,
        "the PIN was sent twice"
    );
    let e = c
        .call_json(
            "cps.sign",
            json!({ "key": "signature", "algorithm": "rsa-pkcs1-sha256", "data_b64": b64(b"x") }),
        )
        .expect_err("the dead client's verification is not another's");
    assert_eq!(kind(&e), "pin_required", "{e}");
    // lecteurd is healthy: the next client signs.
    read_and_sign(d);
}

/// Whether readers.list shows a card in `reader`.
fn has_card(c: &mut Client, reader: &str) -> bool {
    let readers = c.call_json("readers.list", json!({})).unwrap();
    readers
        .as_array()
        .and_then(|a| a.iter().find(|r| r["id"] == reader))
        .is_some_and(|r| !r["card"].is_null())
}

#[test]
fn no_leak_after_fault_cycles() {
    let Some(b) = Bench::start() else { return };
    let d = &b.w.d;
    let cycles = env_count("LECTEUR_PCSC_FAULT_CYCLES", 200);
    let pid = d.proc.0.id();
    let mut c = d.client();
    // The kinds of cycle; a warm-up cycle of each first.
    let run = |i: usize, c: &mut Client| -> bool {
        match i % 10 {
            // The card pulled in the middle of the read, put back (pcscd
            // must see it go and come back: slow).
            0 => {
                fault(b.vitale_ctl(), &format!("pull-after={}", 1 + i % 7));
                let (r, _) = b.read(c);
                fault(b.vitale_ctl(), "none");
                if pulled(b.vitale_ctl()) {
                    // The reset cycles' events may still be on their way:
                    // the slot's state, not the event stream, says when.
                    assert!(
                        wait_until(Duration::from_secs(5), || !has_card(c, &b.vitale)),
                        "the pull was never seen"
                    );
                    assert_eq!(control(b.vitale_ctl(), "insert 0 vitale2"), "ok");
                    b.recovers(c);
                }
                r.is_err()
            }
            // Another application resets the card between two reads.
            1 | 3 | 7 | 9 => {
                let ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap();
                let name = CString::new(VPCD_READERS[1]).unwrap();
                if let Ok(card) = ctx.connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY) {
                    let _ = card.disconnect(pcsc::Disposition::ResetCard);
                }
                b.read(c).0.is_err()
            }
            // A client dying while its read runs.
            2 | 4 | 6 | 8 => {
                let request = json!({ "jsonrpc": "2.0", "id": 1, "method": "vitale.read", "params": { "reader": b.vitale, "fresh": true } });
                dying_client(d, &request, Duration::from_millis(2 + (i % 5) as u64 * 5));
                false
            }
            // The CPS's vpcd connection closes and comes back.
            _ => {
                let mut ev = events(d);
                fault(b.cps_ctl(), "disconnect");
                b.event(&mut ev, "card.removed", &b.cps);
                b.event(&mut ev, "card.inserted", &b.cps);
                let mut r = c.call_json("cps.info", json!({ "reader": b.cps }));
                if r.is_err() {
                    r = c.call_json("cps.info", json!({ "reader": b.cps }));
                }
                r.is_err()
            }
        }
    };
    for i in [0, 1, 2, 5] {
        run(i, &mut c);
    }
    b.recovers(&mut c);
    let before = Resources::of(pid);
    let started = Instant::now();
    let mut failures = 0;
    for i in 0..cycles {
        failures += usize::from(run(i, &mut c));
    }
    b.recovers(&mut c);
    let (ok, counts) = before.settled();
    eprintln!(
        "{cycles} PC/SC fault cycles in {:?} ({failures} failed requests): {counts}",
        started.elapsed()
    );
    assert!(ok, "leak: {counts}");
}
