//! C_Sign through lecteur's PKCS#11 module against C_Sign through OpenSC's
//! `opensc-pkcs11.so`, on the same simulated CPS3 in the same process: the
//! ratio is the cost of lecteur's whole path (module → socket → lecteurd →
//! pcscd) over OpenSC's (module → pcscd), the card's own work being the same.
//!
//! Both sign with the authentication key, `CKM_RSA_PKCS` over a SHA-256
//! DigestInfo: the mechanism both can do on a CPx (OpenSC 0.23 built with
//! OpenSSL 3 cannot do `CKM_SHA256_RSA_PKCS` there, docs/opensc.md). PKCS#1
//! v1.5 signatures are deterministic, so the two modules' signatures must be
//! the same bytes: the benchmark checks it, which proves they used one key.
//!
//! Set-up, as in production: `lecteur-sim vpcd --card cps3` in pcscd's vpcd
//! slot "Virtual PCD 00 00" and `lecteurd` on PC/SC, processes of their own.
//! Needs pcscd with the vpcd driver (`scripts/bench` starts one), OpenSC, and
//! the release build (`cargo build --release --workspace`).
//! ROUNDS (default 15) rounds of SIGNS (default 10) signatures per module,
//! the modules' order alternating from round to round; each round's ratio
//! is of the two medians; the last line is the median round's ratio and the
//! spread of the rounds.

use cryptoki_sys::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::ptr::null_mut;
use std::time::{Duration, Instant};

const OPENSC: &str = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";
const PIN: &[u8] = b"1234";
const KEY_LABEL: &[u8] = b"CPS_PRIV_AUT";

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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The release directory this benchmark was built into (target/release).
fn release_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/release/deps/..")
        .to_path_buf()
}

fn check(what: &str, rv: CK_RV) {
    assert_eq!(rv, CKR_OK as CK_RV, "{what}: CKR 0x{rv:X}");
}

/// One module, initialised, with a logged-in session on the CPS token.
struct Module {
    name: &'static str,
    lib: Pkcs11,
    session: CK_SESSION_HANDLE,
    key: CK_OBJECT_HANDLE,
}

impl Module {
    fn open(name: &'static str, path: &Path) -> Module {
        // SAFETY: loading a PKCS#11 module and calling it as the standard
        // says; every pointer passed lives across the call.
        unsafe {
            let lib = Pkcs11::new(path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
            check("C_Initialize", (lib.C_Initialize.as_ref().unwrap())(null_mut()));
            let mut slots = [0 as CK_SLOT_ID; 16];
            // The token may take a moment to appear (pcscd polls vpcd).
            let deadline = Instant::now() + Duration::from_secs(15);
            let n = loop {
                let mut n = slots.len() as CK_ULONG;
                check(
                    "C_GetSlotList",
                    (lib.C_GetSlotList.as_ref().unwrap())(CK_TRUE, slots.as_mut_ptr(), &mut n),
                );
                if n > 0 || Instant::now() > deadline {
                    break n;
                }
                std::thread::sleep(Duration::from_millis(200));
            };
            assert!(n > 0, "{name}: no token");
            let mut session = 0;
            check(
                "C_OpenSession",
                (lib.C_OpenSession.as_ref().unwrap())(
                    slots[0],
                    (CKF_SERIAL_SESSION | CKF_RW_SESSION) as CK_FLAGS,
                    null_mut(),
                    None,
                    &mut session,
                ),
            );
            check(
                "C_Login",
                (lib.C_Login.as_ref().unwrap())(
                    session,
                    CKU_USER as CK_USER_TYPE,
                    PIN.as_ptr() as *mut _,
                    PIN.len() as CK_ULONG,
                ),
            );
            let mut class: CK_OBJECT_CLASS = CKO_PRIVATE_KEY as CK_OBJECT_CLASS;
            let mut template = [
                CK_ATTRIBUTE {
                    type_: CKA_CLASS as CK_ATTRIBUTE_TYPE,
                    pValue: &mut class as *mut _ as *mut _,
                    ulValueLen: std::mem::size_of::<CK_OBJECT_CLASS>() as CK_ULONG,
                },
                CK_ATTRIBUTE {
                    type_: CKA_LABEL as CK_ATTRIBUTE_TYPE,
                    pValue: KEY_LABEL.as_ptr() as *mut _,
                    ulValueLen: KEY_LABEL.len() as CK_ULONG,
                },
            ];
            check(
                "C_FindObjectsInit",
                (lib.C_FindObjectsInit.as_ref().unwrap())(session, template.as_mut_ptr(), 2),
            );
            let mut key = 0;
            let mut found = 0;
            check(
                "C_FindObjects",
                (lib.C_FindObjects.as_ref().unwrap())(session, &mut key, 1, &mut found),
            );
            check(
                "C_FindObjectsFinal",
                (lib.C_FindObjectsFinal.as_ref().unwrap())(session),
            );
            assert_eq!(found, 1, "{name}: no private key labelled CPS_PRIV_AUT");
            Module {
                name,
                lib,
                session,
                key,
            }
        }
    }

    /// One C_SignInit + C_Sign over `data`: the signature.
    fn sign(&self, data: &[u8]) -> Vec<u8> {
        let mut mechanism = CK_MECHANISM {
            mechanism: CKM_RSA_PKCS as CK_MECHANISM_TYPE,
            pParameter: null_mut(),
            ulParameterLen: 0,
        };
        let mut out = vec![0u8; 512];
        let mut len = out.len() as CK_ULONG;
        // SAFETY: as in `open`; `out` holds `len` bytes.
        unsafe {
            check(
                "C_SignInit",
                (self.lib.C_SignInit.as_ref().unwrap())(self.session, &mut mechanism, self.key),
            );
            check(
                "C_Sign",
                (self.lib.C_Sign.as_ref().unwrap())(
                    self.session,
                    data.as_ptr() as *mut _,
                    data.len() as CK_ULONG,
                    out.as_mut_ptr(),
                    &mut len,
                ),
            );
        }
        out.truncate(len as usize);
        out
    }

    /// Microseconds per signature, the median of `n`.
    fn time(&self, data: &[u8], n: usize) -> f64 {
        let mut t: Vec<f64> = (0..n)
            .map(|_| {
                let start = Instant::now();
                self.sign(data);
                start.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        median(&mut t)
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        // SAFETY: as in `open`.
        unsafe {
            (self.lib.C_Logout.as_ref().unwrap())(self.session);
            (self.lib.C_CloseSession.as_ref().unwrap())(self.session);
            (self.lib.C_Finalize.as_ref().unwrap())(null_mut());
        }
    }
}

fn main() {
    if !Path::new("/run/pcscd/pcscd.comm").exists() {
        println!("SKIPPED: pcscd is not running (start it with `pcscd -f &`)");
        return;
    }
    let opensc = PathBuf::from(std::env::var("OPENSC_PKCS11").unwrap_or_else(|_| OPENSC.into()));
    if !opensc.exists() {
        println!("SKIPPED: {} missing (apt-get install opensc)", opensc.display());
        return;
    }
    let release = release_dir();
    let ours = release.join("liblecteur_pkcs11.so");
    for bin in [&ours, &release.join("lecteurd"), &release.join("lecteur-sim")] {
        assert!(
            bin.exists(),
            "{} missing: run `cargo build --release --workspace` first",
            bin.display()
        );
    }
    let (rounds, signs) = (env_or("ROUNDS", 15).max(1), env_or("SIGNS", 10).max(1));

    let mut children = Children(Vec::new());
    let quiet = |c: &mut Command| {
        c.stdout(Stdio::null()).stderr(Stdio::null());
    };
    let mut sim = Command::new(release.join("lecteur-sim"));
    sim.args(["vpcd", "--port", "35963", "--card", "cps3"]);
    quiet(&mut sim);
    children.0.push(sim.spawn().expect("lecteur-sim vpcd"));
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("lecteur.sock");
    let mut daemon = Command::new(release.join("lecteurd"));
    daemon.arg("--socket").arg(&socket).env("LECTEUR_LOG", "warn");
    quiet(&mut daemon);
    children.0.push(daemon.spawn().expect("lecteurd"));
    for _ in 0..100 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // lecteur's module finds lecteurd here (read at C_Initialize).
    std::env::set_var("LECTEUR_SOCKET", &socket);

    let digest_info = {
        let mut d = hex::decode("3031300d060960864801650304020105000420").unwrap();
        d.extend_from_slice(&Sha256::digest(b"lecteur C_Sign benchmark"));
        d
    };
    let modules = [Module::open("lecteur", &ours), Module::open("opensc", &opensc)];
    let signatures: Vec<Vec<u8>> = modules.iter().map(|m| m.sign(&digest_info)).collect();
    assert_eq!(signatures[0].len(), 256, "a 2048-bit signature");
    assert_eq!(
        signatures[0], signatures[1],
        "the two modules' PKCS#1 v1.5 signatures differ: not the same key?"
    );
    println!(
        "C_Sign CKM_RSA_PKCS, authentication key of the simulated CPS3 through pcscd: {rounds} rounds of {signs} signatures per module"
    );

    let mut ratios = Vec::new();
    let (mut ours_us, mut theirs_us) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which module goes first: neither always meets a warm cache.
        let (a, b) = if round % 2 == 0 { (0, 1) } else { (1, 0) };
        let ta = modules[a].time(&digest_info, signs);
        let tb = modules[b].time(&digest_info, signs);
        let (l, o) = if a == 0 { (ta, tb) } else { (tb, ta) };
        ours_us.push(l);
        theirs_us.push(o);
        ratios.push(l / o);
    }
    let (lo, hi) = {
        let mut r = ratios.clone();
        r.sort_by(f64::total_cmp);
        (r[r.len() / 10], r[r.len() - 1 - r.len() / 10])
    };
    println!(
        "C_Sign via {}   : {:>8.1} µs (median of round medians)",
        modules[0].name,
        median(&mut ours_us)
    );
    println!(
        "C_Sign via {}    : {:>8.1} µs (median of round medians)",
        modules[1].name,
        median(&mut theirs_us)
    );
    println!(
        "C_Sign liblecteur_pkcs11 / opensc-pkcs11: {:.3} (target ≤ 1.10; median of {rounds} rounds, spread {lo:.3}–{hi:.3})",
        median(&mut ratios)
    );
    drop(modules);
}
