//! lecteurd through the real pcscd: `lecteur-sim vpcd` cards in pcscd's vpcd
//! readers ("Virtual PCD 00 00" on 35963, "00 01" on 35964).

mod common;

use common::*;
use serde_json::json;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// The vpcd ports are one per machine: these tests take turns.
static VPCD: Mutex<()> = Mutex::new(());

const PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";

/// Whether pcscd runs; the test suite (scripts/test.sh) requires it.
fn pcscd_ready() -> bool {
    if Path::new(PCSCD_SOCKET).exists() {
        return true;
    }
    assert!(
        std::env::var("LECTEUR_REQUIRE_PCSCD").as_deref() != Ok("1"),
        "pcscd is not running"
    );
    eprintln!("SKIPPED: pcscd is not running (scripts/test.sh starts it)");
    false
}

struct Cards {
    _procs: Vec<Proc>,
    cps_control: std::path::PathBuf,
    vitale_control: std::path::PathBuf,
}

/// The vpcd readers pcscd shows, empty or not.
const VPCD_READERS: [&str; 2] = ["Virtual PCD 00 00", "Virtual PCD 00 01"];

impl Drop for Cards {
    /// Pulls the cards and waits until pcscd has seen them go, so that the
    /// next test does not meet this test's cards.
    fn drop(&mut self) {
        self._procs.clear();
        let Ok(ctx) = pcsc::Context::establish(pcsc::Scope::User) else {
            return;
        };
        let names: Vec<std::ffi::CString> = VPCD_READERS
            .iter()
            .map(|n| std::ffi::CString::new(*n).unwrap())
            .collect();
        wait_until(Duration::from_secs(10), || {
            let mut states: Vec<pcsc::ReaderState> = names
                .iter()
                .map(|n| pcsc::ReaderState::new(n.clone(), pcsc::State::UNAWARE))
                .collect();
            ctx.get_status_change(Duration::from_millis(100), &mut states)
                .is_ok()
                && states
                    .iter()
                    .all(|s| !s.event_state().contains(pcsc::State::PRESENT))
        });
    }
}

fn vpcd_cards(dir: &Path) -> Cards {
    let cps_control = dir.join("cps.ctl");
    let vitale_control = dir.join("vitale.ctl");
    let procs = vec![
        start_sim(
            dir,
            "sim-cps.log",
            &[
                "vpcd",
                "--port",
                "35963",
                "--card",
                "cps3",
                "--control",
                cps_control.to_str().unwrap(),
            ],
        ),
        start_sim(
            dir,
            "sim-vitale.log",
            &[
                "vpcd",
                "--port",
                "35964",
                "--card",
                "vitale2",
                "--control",
                vitale_control.to_str().unwrap(),
            ],
        ),
    ];
    wait_for_path(&cps_control);
    wait_for_path(&vitale_control);
    Cards {
        _procs: procs,
        cps_control,
        vitale_control,
    }
}

/// A test's world: lecteurd on PC/SC with the two vpcd cards. Fields drop in
/// order: the daemon, then the cards (waiting for pcscd to see them go), and
/// only then the next test may take its turn.
struct World {
    d: Daemon,
    cards: Cards,
    _dir: tempfile::TempDir,
    _turn: std::sync::MutexGuard<'static, ()>,
}

/// `None` (the test is skipped) when pcscd does not run and is not required.
fn world() -> Option<World> {
    let turn = VPCD.lock().unwrap_or_else(|e| e.into_inner());
    if !pcscd_ready() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let cards = vpcd_cards(dir.path());
    Some(World {
        d: Daemon::start(&[]),
        cards,
        _dir: dir,
        _turn: turn,
    })
}

#[test]
fn pcsc_reads_vitale_and_signs() {
    let Some(w) = world() else { return };
    let d = &w.d;
    read_and_sign(d);
}

#[test]
fn pcsc_card_movements_give_events() {
    let Some(w) = world() else { return };
    let (d, cards) = (&w.d, &w.cards);
    card_movement(d, &cards.vitale_control, 0, "vitale2");
    card_movement(d, &cards.cps_control, 0, "cps3");
}

#[test]
fn pcscd_restart_is_survived() {
    if std::env::var("LECTEUR_TEST_OWNS_PCSCD").as_deref() != Ok("1") {
        eprintln!("SKIPPED: this pcscd is not the test suite's own; not restarting it");
        return;
    }
    let Some(w) = world() else { return };
    let d = &w.d;
    d.wait_cards(2);
    let mut c = d.client();
    if let Err(e) = c.call("vitale.read", json!({})) {
        panic!("vitale.read before the restart: {e}; log: {}", d.log());
    }

    // Kill this pcscd by its pid file: a pkill would also hit the pcscds
    // that other scripts run in their own mount namespaces.
    let pid = std::fs::read_to_string("/run/pcscd/pcscd.pid").expect("pcscd pid file");
    let pid = pid
        .trim_matches(|c: char| c.is_whitespace() || c == '\0')
        .to_string();
    let killed = std::process::Command::new("kill").arg(&pid).status().unwrap();
    assert!(killed.success());
    let proc_dir = format!("/proc/{pid}");
    assert!(wait_until(Duration::from_secs(10), || !Path::new(&proc_dir).exists()));
    let _ = std::fs::remove_file(PCSCD_SOCKET);
    // Started detached: it outlives this test, and scripts/test.sh stops it.
    let pcscd = std::process::Command::new("pcscd")
        .arg("-f")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start pcscd");
    std::mem::forget(pcscd);
    assert!(wait_until(Duration::from_secs(10), || Path::new(PCSCD_SOCKET).exists()));

    // The simulated cards reconnect, lecteurd re-establishes its contexts.
    d.wait_cards(2);
    let mut ok = false;
    for _ in 0..40 {
        if c.call("vitale.read", json!({ "fresh": true })).is_ok() {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        ok,
        "vitale.read never succeeded after the restart; log: {}",
        d.log()
    );
    read_and_sign(d);
}

#[test]
fn card_operations_hold_a_pcsc_transaction() {
    let Some(w) = world() else { return };
    let d = &w.d;
    d.wait_cards(2);
    assert!(d.client().call("cps.info", json!({})).is_ok());

    // Another application holds the CPS in a transaction: lecteurd's next
    // operation waits for it instead of slipping its APDUs in between.
    let ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap();
    let reader = std::ffi::CString::new(VPCD_READERS[0]).unwrap();
    let mut other = ctx
        .connect(&reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
        .unwrap();
    let held = other.transaction().unwrap();
    let mut c = d.client();
    let start = std::time::Instant::now();
    let verify = std::thread::spawn(move || c.call("cps.verify_pin", json!({"pin": TEST_PIN})));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !verify.is_finished(),
        "lecteurd did not wait for the other application"
    );
    drop(held);
    let answer = verify.join().unwrap();
    assert!(answer.is_ok(), "{answer:?}");
    assert!(start.elapsed() >= Duration::from_millis(1500));
}
