//! lecteurd through the real pcscd with two `lecteur-sim vpcd` cards in
//! pcscd's vpcd readers ("Virtual PCD 00 00" on 35963, "00 01" on 35964),
//! shared by `tests/pcscd/pcsc.rs` and `tests/pcscd/faults_pcsc.rs`.

use super::*;
use std::sync::Mutex;

/// The vpcd ports are one per machine: the tests of a binary take turns
/// (cargo runs test binaries one after the other).
static VPCD: Mutex<()> = Mutex::new(());

pub(crate) const PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";

/// The vpcd readers pcscd shows, empty or not: the CPS's, then the Vitale's.
pub(crate) const VPCD_READERS: [&str; 2] = ["Virtual PCD 00 00", "Virtual PCD 00 01"];

/// Whether pcscd runs; the test suite (scripts/test.sh) requires it.
pub(crate) fn pcscd_ready() -> bool {
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

/// Whether this pcscd is the test suite's own, which a test may kill.
pub(crate) fn owns_pcscd() -> bool {
    if std::env::var("LECTEUR_TEST_OWNS_PCSCD").as_deref() == Ok("1") {
        return true;
    }
    eprintln!("SKIPPED: this pcscd is not the test suite's own; not restarting it");
    false
}

pub(crate) struct Cards {
    pub procs: Vec<Proc>,
    pub cps_control: PathBuf,
    pub vitale_control: PathBuf,
}

impl Drop for Cards {
    /// Pulls the cards and waits until pcscd has seen them go, so that the
    /// next test does not meet this test's cards.
    fn drop(&mut self) {
        self.procs.clear();
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

/// `lecteur-sim vpcd` with `card` in the vpcd reader of `port`, its control
/// socket `dir/<name>.ctl` ready.
fn card_in_vpcd(dir: &Path, name: &str, port: u16, card: &str) -> (Proc, PathBuf) {
    let control = dir.join(format!("{name}.ctl"));
    let proc = start_sim(
        dir,
        &format!("sim-{name}.log"),
        &[
            "vpcd",
            "--port",
            &port.to_string(),
            "--card",
            card,
            "--control",
            control.to_str().unwrap(),
        ],
    );
    wait_for_path(&control);
    (proc, control)
}

pub(crate) fn vpcd_cards(dir: &Path) -> Cards {
    let (cps, cps_control) = card_in_vpcd(dir, "cps", 35963, "cps3");
    let (vitale, vitale_control) = card_in_vpcd(dir, "vitale", 35964, "vitale2");
    Cards {
        procs: vec![cps, vitale],
        cps_control,
        vitale_control,
    }
}

/// A test's world: lecteurd on PC/SC with the two vpcd cards. Fields drop in
/// order: the daemon, then the cards (waiting for pcscd to see them go), and
/// only then the next test may take its turn.
pub(crate) struct World {
    pub d: Daemon,
    pub cards: Cards,
    pub dir: tempfile::TempDir,
    _turn: std::sync::MutexGuard<'static, ()>,
}

/// `None` (the test is skipped) when pcscd does not run and is not required.
pub(crate) fn world() -> Option<World> {
    world_with(&[])
}

/// `world()` with these lecteurd options.
pub(crate) fn world_with(args: &[&str]) -> Option<World> {
    let turn = VPCD.lock().unwrap_or_else(|e| e.into_inner());
    if !pcscd_ready() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let cards = vpcd_cards(dir.path());
    Some(World {
        d: Daemon::start(args),
        cards,
        dir,
        _turn: turn,
    })
}

/// The pcscd that an earlier `restart_pcscd` of this test binary started: a
/// child of this process, so it is reaped here (killed, it would otherwise stay
/// a zombie with its /proc entry).
static RESTARTED: Mutex<Option<std::process::Child>> = Mutex::new(None);

/// Kills the suite's pcscd by its pid file (a pkill would also hit the
/// pcscds that other scripts run in their own mount namespaces) and starts
/// another, detached: it outlives the test, and scripts/test.sh stops it.
pub(crate) fn restart_pcscd() {
    let mut restarted = RESTARTED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(mut ours) = restarted.take() {
        let _ = ours.kill();
        ours.wait().expect("reap the pcscd this binary started");
    } else {
        let pid = std::fs::read_to_string("/run/pcscd/pcscd.pid").expect("pcscd pid file");
        let pid = pid
            .trim_matches(|c: char| c.is_whitespace() || c == '\0')
            .to_string();
        let killed = std::process::Command::new("kill").arg(&pid).status().unwrap();
        assert!(killed.success());
        let proc_dir = format!("/proc/{pid}");
        assert!(wait_until(Duration::from_secs(10), || !Path::new(&proc_dir).exists()));
    }
    let _ = std::fs::remove_file(PCSCD_SOCKET);
    let pcscd = std::process::Command::new("pcscd")
        .arg("-f")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start pcscd");
    *restarted = Some(pcscd);
    assert!(wait_until(Duration::from_secs(10), || Path::new(PCSCD_SOCKET).exists()));
}

/// A simulated CPS3 alone in "Virtual PCD 00 00", for programs other than
/// lecteurd (OpenSC). Fields drop in order: the card (waiting for pcscd to
/// see it go), its directory, then this binary's turn on the vpcd ports.
pub(crate) struct Cps3Alone {
    pub cards: Cards,
    pub dir: tempfile::TempDir,
    _turn: std::sync::MutexGuard<'static, ()>,
}

/// `None` (the test is skipped) when pcscd does not run and is not required.
pub(crate) fn cps3_alone() -> Option<Cps3Alone> {
    let turn = VPCD.lock().unwrap_or_else(|e| e.into_inner());
    if !pcscd_ready() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let (sim, cps_control) = card_in_vpcd(dir.path(), "cps", 35963, "cps3");
    let cards = Cards {
        procs: vec![sim],
        cps_control,
        vitale_control: dir.path().join("none.ctl"),
    };
    let present = wait_until(Duration::from_secs(10), || {
        let Ok(ctx) = pcsc::Context::establish(pcsc::Scope::User) else {
            return false;
        };
        let name = std::ffi::CString::new(VPCD_READERS[0]).unwrap();
        let mut states = [pcsc::ReaderState::new(name, pcsc::State::UNAWARE)];
        ctx.get_status_change(Duration::from_millis(100), &mut states)
            .is_ok()
            && states[0].event_state().contains(pcsc::State::PRESENT)
    });
    assert!(
        present,
        "pcscd never saw the simulated CPS3 in {}",
        VPCD_READERS[0]
    );
    Some(Cps3Alone {
        cards,
        dir,
        _turn: turn,
    })
}
