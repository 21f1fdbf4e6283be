//! Test harness: real processes (lecteurd, lecteur-sim) talking over real
//! sockets, killed when the test ends.
#![allow(dead_code)]

pub(crate) mod privacy;
mod serial;
pub(crate) mod vpcd;

// Each test binary uses part of the harness (as `dead_code` above).
#[allow(unused_imports)]
pub(crate) use serial::SerialSim;

use lecteur_client::{Client, ClientError};
use lecteur_proto::cps::{KeyUsage, SignAlgorithm, SignParams};
use lecteur_proto::method::{CpsSign, VitaleRead};
use lecteur_proto::vitale::VitaleParams;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace's root (this package's directory).
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `lecteur` command line: (success, stdout, stderr).
pub(crate) fn lecteur(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lecteur"))
        .args(args)
        .output()
        .expect("run lecteur");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A child process killed on drop.
pub(crate) struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `lecteur-sim`, built by `cargo build --workspace` beside the test binaries.
pub(crate) fn sim_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("lecteur-sim");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build --workspace` first",
        bin.display()
    );
    bin
}

pub(crate) fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    f()
}

/// Logs of a child go to a file in the test's directory (shown on failure by path).
fn log_file(dir: &Path, name: &str) -> Stdio {
    Stdio::from(std::fs::File::create(dir.join(name)).expect("log file"))
}

pub(crate) struct Daemon {
    /// First, so that it runs before the directory goes: scans the log.
    pub scan: privacy::LogScan,
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub proc: Proc,
}

impl Daemon {
    /// Starts lecteurd with `args` (plus `--socket`) and waits for its socket.
    pub(crate) fn start(args: &[&str]) -> Daemon {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir, args)
    }

    pub(crate) fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Daemon {
        Self::spawn(dir, args, "trace")
    }

    /// With a log filter of its own (`LECTEUR_LOG`).
    pub(crate) fn start_env(args: &[&str], log: &str) -> Daemon {
        Self::spawn(tempfile::tempdir().expect("temp dir"), args, log)
    }

    fn spawn(dir: tempfile::TempDir, args: &[&str], log: &str) -> Daemon {
        let socket = dir.path().join("lecteur.sock");
        let child = Command::new(env!("CARGO_BIN_EXE_lecteurd"))
            .arg("--socket")
            .arg(&socket)
            // Never the machine's /etc/lecteur/lecteur.toml.
            .args(["--config", "/dev/null"])
            .args(args)
            .env("LECTEUR_LOG", log)
            .stdout(Stdio::null())
            .stderr(log_file(dir.path(), "lecteurd.log"))
            .spawn()
            .expect("start lecteurd");
        let d = Daemon {
            scan: privacy::LogScan(dir.path().join("lecteurd.log")),
            dir,
            socket,
            proc: Proc(child),
        };
        assert!(
            wait_until(Duration::from_secs(10), || UnixStream::connect(&d.socket).is_ok()),
            "lecteurd did not open its socket; log: {}",
            d.log()
        );
        d
    }

    pub(crate) fn client(&self) -> Client {
        let c = Client::connect(&self.socket).expect("connect to lecteurd");
        c.set_timeout(Some(Duration::from_secs(30))).unwrap();
        c
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("lecteurd.log")).unwrap_or_default()
    }

    /// APDUs sent so far (lecteurd logs each command header at trace level).
    pub(crate) fn apdus_sent(&self) -> usize {
        self.log().lines().filter(|l| l.contains(" apdu")).count()
    }

    /// Waits until readers.list shows `n` cards.
    pub(crate) fn wait_cards(&self, n: usize) -> Value {
        let mut c = self.client();
        let mut last = Value::Null;
        let ok = wait_until(Duration::from_secs(15), || {
            last = c.call_json("readers.list", json!({})).unwrap_or(Value::Null);
            cards(&last) == n
        });
        assert!(
            ok,
            "expected {n} cards, readers.list = {last}; log: {}",
            self.log()
        );
        last
    }
}

pub(crate) fn cards(readers: &Value) -> usize {
    readers
        .as_array()
        .map(|a| a.iter().filter(|r| !r["card"].is_null()).count())
        .unwrap_or(0)
}

/// The id of the reader holding a card of `kind`.
pub(crate) fn reader_with(readers: &Value, kind: &str) -> Option<String> {
    readers
        .as_array()?
        .iter()
        .find(|r| r["card"]["kind"] == kind)
        .and_then(|r| r["id"].as_str().map(String::from))
}

/// Starts `lecteur-sim` with `args`; stderr goes to `dir/<log>`.
pub(crate) fn start_sim(dir: &Path, log: &str, args: &[&str]) -> Proc {
    let child = Command::new(sim_bin())
        .args(args)
        .stdout(Stdio::null())
        .stderr(log_file(dir, log))
        .spawn()
        .expect("start lecteur-sim");
    Proc(child)
}

/// Sends one line to a simulator control socket and returns its answer.
pub(crate) fn control(socket: &Path, line: &str) -> String {
    let mut s = UnixStream::connect(socket).expect("control socket");
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer).unwrap();
    answer.trim().to_string()
}

/// A value of the simulator's `counters` answer (`apdus N`, `verify N`).
pub(crate) fn counter(socket: &Path, name: &str) -> u64 {
    use std::io::{BufRead, BufReader, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).expect("control socket");
    s.write_all(b"counters\n").unwrap();
    let mut lines = BufReader::new(s).lines();
    for _ in 0..8 {
        let line = lines.next().expect("an answer line").unwrap();
        if let Some(v) = line.strip_prefix(&format!("{name} ")) {
            return v.parse().expect("a number");
        }
        assert_ne!(line, "ok", "no counter {name}");
    }
    panic!("no counter {name}");
}

/// A process's open descriptors and threads, for leak checks.
pub(crate) struct Resources {
    pid: u32,
    fds: usize,
    tasks: usize,
}

impl Resources {
    pub(crate) fn of(pid: u32) -> Resources {
        let count = |what| {
            std::fs::read_dir(format!("/proc/{pid}/{what}"))
                .map(|d| d.count())
                .unwrap_or(0)
        };
        Resources {
            pid,
            fds: count("fd"),
            tasks: count("task"),
        }
    }

    /// Whether the process is back to at most these counts within 10 s,
    /// and the counts before and after, for the message.
    pub(crate) fn settled(&self) -> (bool, String) {
        let back = || {
            let now = Resources::of(self.pid);
            now.fds <= self.fds && now.tasks <= self.tasks
        };
        let ok = wait_until(Duration::from_secs(10), back);
        let now = Resources::of(self.pid);
        let counts = format!(
            "fds {} -> {}, threads {} -> {}",
            self.fds, now.fds, self.tasks, now.tasks
        );
        (ok, counts)
    }
}

/// A count from the environment (how many fault cycles, say), or `default`.
pub(crate) fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn wait_for_path(p: &Path) {
    assert!(
        wait_until(Duration::from_secs(10), || p.exists()),
        "{} never appeared",
        p.display()
    );
}

pub(crate) fn kind(e: &ClientError) -> &str {
    e.kind().map_or("?", lecteur_proto::ErrorKind::as_str)
}

/// An API error's `data`, as it went on the wire.
pub(crate) fn error_data(e: &ClientError) -> Value {
    match e.rpc() {
        Some(rpc) => serde_json::to_value(&rpc.data).expect("error data"),
        None => panic!("not an API error: {e}"),
    }
}

/// The default simulated cards' facts the tests check (firmware-sim/cards/*.toml).
pub(crate) const TEST_PIN: &str = "1234";

/// Verifies a PKCS#1 v1.5 SHA-256 signature against a DER certificate's key,
/// with the `rsa` crate (independent of the simulator's keys).
pub(crate) fn verify_signature(cert_der: &[u8], data: &[u8], signature: &[u8]) -> bool {
    use der::{Decode, Encode};
    use rsa::pkcs8::DecodePublicKey;
    use sha2::Digest;
    let cert = x509_cert::Certificate::from_der(cert_der).expect("certificate parses");
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().unwrap();
    let key = rsa::RsaPublicKey::from_public_key_der(&spki).expect("RSA key");
    key.verify(
        rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha256>(),
        &sha2::Sha256::digest(data),
        signature,
    )
    .is_ok()
}

/// Verifies an RSA-PSS SHA-256 signature (salt 32) against a DER certificate's key.
pub(crate) fn verify_pss(cert_der: &[u8], data: &[u8], signature: &[u8]) -> bool {
    use der::{Decode, Encode};
    use rsa::pkcs8::DecodePublicKey;
    use sha2::Digest;
    let cert = x509_cert::Certificate::from_der(cert_der).expect("certificate parses");
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().unwrap();
    let key = rsa::RsaPublicKey::from_public_key_der(&spki).expect("RSA key");
    key.verify(
        rsa::Pss::new::<sha2::Sha256>(),
        &sha2::Sha256::digest(data),
        signature,
    )
    .is_ok()
}

pub(crate) fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The labels of a `cps.data_objects` answer.
pub(crate) fn labels(objects: &Value) -> Vec<String> {
    objects["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["label"].as_str().unwrap().to_string())
        .collect()
}

pub(crate) fn unb64(v: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("base64 string"))
        .expect("valid base64")
}

/// Reads the Vitale card and signs with the CPS, checking the signature.
pub(crate) fn read_and_sign(d: &Daemon) {
    let readers = d.wait_cards(2);
    let mut c = d.client();
    let vitale_reader = reader_with(&readers, "vitale2").expect("a Vitale reader");
    let read = VitaleParams {
        reader: Some(vitale_reader),
        fresh: false,
    };
    let v = c.call::<VitaleRead>(&read).unwrap();
    assert!(v.beneficiaries.len() >= 2, "{v:?}");
    assert!(v.beneficiaries.iter().all(|b| b.nir_valid));
    let data = b"prescription";
    let sign = SignParams {
        reader: None,
        pin: Some(TEST_PIN.to_string().into()),
        pinpad: false,
        allow_last_try: false,
        key: KeyUsage::Signature,
        algorithm: SignAlgorithm::RsaPkcs1Sha256,
        data: Some(data.to_vec()),
        digest: None,
    };
    let r = c
        .call::<CpsSign>(&sign)
        .unwrap_or_else(|e| panic!("cps.sign: {e}; log: {}", d.log()));
    assert!(verify_signature(&r.certificate_der, data, &r.signature));
}

/// Waits for the next event of `kind` on `reader`.
pub(crate) fn expect_event(c: &mut Client, kind: &str, reader: &str) -> Value {
    for _ in 0..20 {
        let ev = c
            .next_notification_json()
            .map(|(_, params)| params)
            .expect("an event");
        if ev["type"] == kind && ev["reader"] == reader {
            return ev;
        }
    }
    panic!("no {kind} event for {reader}");
}

/// Pulls the card at `slot` of a simulator (through its control socket) and
/// puts it back: events, `no_card` meanwhile, and a good read after.
pub(crate) fn card_movement(d: &Daemon, control_socket: &Path, slot: usize, card: &str) {
    let readers = d.wait_cards(2);
    let reader = reader_with(&readers, card).expect("reader with the card");
    let mut events = d.client();
    events.call_json("events.subscribe", json!({})).unwrap();
    let mut c = d.client();
    let method = if card == "vitale2" {
        "vitale.read"
    } else {
        "cps.info"
    };

    assert_eq!(control(control_socket, &format!("remove {slot}")), "ok");
    expect_event(&mut events, "card.removed", &reader);
    let e = c.call_json(method, json!({ "reader": reader })).unwrap_err();
    assert!(matches!(kind(&e), "no_card" | "card_removed"), "{e}");
    let e = c.call_json(method, json!({})).unwrap_err();
    assert_eq!(kind(&e), "no_card", "{e}");

    assert_eq!(control(control_socket, &format!("insert {slot} {card}")), "ok");
    let ev = expect_event(&mut events, "card.inserted", &reader);
    assert_eq!(ev["card"]["kind"], card);
    assert!(c.call_json(method, json!({ "reader": reader })).is_ok());
}
