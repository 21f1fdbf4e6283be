//! Test harness: lecteurd's own parts (simulated reader, service, socket API)
//! serving on a real Unix socket in a temporary directory, assembled in the
//! test process so the test holds the simulated reader and can pull cards;
//! everything else (the module in pkcs11-tool or gnutls-cli, openssl) runs as
//! separate processes talking to that socket, as in real use.
#![allow(dead_code)]

use lecteur::api::{self, Api};
use lecteur::service::{Options, Service};
use lecteur_client::Client;
use lecteur_proto::cps::KeyUsage;
use lecteur_proto::method::{CpsCertificates, ReadersList};
use lecteur_proto::system::{NoParams, ReaderParams, ReaderView};
use lecteur_sim::SimReader;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) const TEST_PIN: &str = "1234";

pub(crate) struct Daemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub reader: SimReader,
    /// The keypad of a simulated PIN pad reader ([`Daemon::start_pinpad`]).
    pub keypad: Option<lecteur_sim::serial::Keypad>,
    /// Stops the simulated serial reader's thread.
    stop: Arc<AtomicBool>,
    runtime: tokio::runtime::Runtime,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Daemon {
    /// A daemon on the simulated reader with `cards` (names as for
    /// `lecteurd --sim-cards`), waiting until the CPS is seen.
    pub(crate) fn start(cards: &[&str]) -> Daemon {
        Self::assemble(cards, false)
    }

    /// A GemPC PinPad with a CPS3, on a real pseudo-terminal: the simulated
    /// reader firmware in a thread, lecteurd's serial transport on the other
    /// end; the holder's keys go through [`Daemon::keypad`].
    pub(crate) fn start_pinpad() -> Daemon {
        Self::assemble(&["cps3"], true)
    }

    fn assemble(cards: &[&str], pinpad: bool) -> Daemon {
        let dir = tempfile::tempdir().expect("temp dir");
        // A file in `dir` on Unix, a pipe name of this test's own on Windows.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tag = format!("pkcs11-test-{}-{n}", std::process::id());
        let socket = lecteur_proto::socket::private(dir.path(), &tag);
        let reader = lecteur_sim::reader_with(cards).expect("simulated cards");
        let stop = Arc::new(AtomicBool::new(false));
        let mut keypad = None;
        let mut serial_link = None;
        if pinpad {
            use lecteur_sim::serial::{Profile, Reader};
            let link = dir.path().join("ttyPINPAD");
            let mut serial = Reader::open(&link, Profile::GemPcPinpad, reader.clone()).expect("pty reader");
            keypad = serial.keypad();
            let stop = stop.clone();
            std::thread::spawn(move || serial.run(&stop));
            serial_link = Some(link);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let listener = runtime.block_on(async {
            let (sink, events) = tokio::sync::mpsc::unbounded_channel();
            match &serial_link {
                Some(link) => {
                    let spec = format!("{}:GemPCPinPad", link.display());
                    lecteur::transport::serial::start(0, &spec, sink).expect("serial transport");
                }
                None => lecteur::transport::sim::start(reader.clone(), sink),
            }
            let service = Service::start(events, Options::default()).expect("service");
            let listener = api::listen::bind(&socket, &Default::default()).expect("socket");
            (listener, service)
        });
        let (listener, service) = listener;
        runtime.spawn(api::serve(
            listener,
            Api {
                service,
                transports: vec!["sim"],
                access: Default::default(),
            },
        ));
        let d = Daemon {
            dir,
            socket,
            reader,
            keypad,
            stop,
            runtime,
        };
        let cps = cards.iter().filter(|c| c.starts_with("cps")).count();
        d.wait_cps(cps);
        d
    }

    pub(crate) fn client(&self) -> Client {
        let c = Client::connect(&self.socket).expect("connect to the daemon");
        c.set_timeout(Some(Duration::from_secs(30))).unwrap();
        c
    }

    /// Waits until `n` slots hold a CPS.
    pub(crate) fn wait_cps(&self, n: usize) {
        let mut c = self.client();
        let mut last = Vec::new();
        let ok = wait_until(Duration::from_secs(15), || {
            last = c.call::<ReadersList>(&NoParams {}).unwrap_or_default();
            let cps = |r: &&ReaderView| r.card.as_ref().is_some_and(|c| c.kind.starts_with("cps"));
            last.iter().filter(cps).count() == n
        });
        assert!(ok, "expected {n} CPS, readers.list = {last:?}");
    }

    /// The DER certificate of `usage` (`signature`, `authentication`),
    /// straight from the daemon.
    pub(crate) fn certificate(&self, usage: &str) -> Vec<u8> {
        let usage: KeyUsage = serde_json::from_value(json!(usage)).expect("a key usage");
        let certs = self
            .client()
            .call::<CpsCertificates>(&ReaderParams::default())
            .unwrap();
        certs
            .into_iter()
            .find(|c| c.usage == usage)
            .expect("certificate")
            .der
    }
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

pub(crate) fn unb64(v: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("base64 string"))
        .expect("valid base64")
}

/// liblecteur_pkcs11.so as built with this test: cargo puts the cdylib of
/// the library the tests link beside the test binaries (target/<profile>/deps/;
/// `cargo build` also copies it one level up, possibly from an older build).
pub(crate) fn module_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("test binary directory");
    let so = deps.join("liblecteur_pkcs11.so");
    assert!(
        so.exists(),
        "{} missing: `cargo test -p lecteur-pkcs11` builds it",
        so.display()
    );
    so
}

/// A command from PATH; its absence fails the test (never a silent skip).
pub(crate) fn tool(name: &str, package: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{name} is not installed: apt-get install {package} (scripts/install-deps.sh does)"
    );
    Command::new(name)
}

/// Runs a command to its end (bounded), failing the test with its output
/// when it fails.
pub(crate) fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed: {text}");
    text
}

/// A child process killed on drop, its stdout gathered by a thread.
pub(crate) struct Proc {
    pub child: Child,
    pub out: Arc<Mutex<String>>,
}

impl Proc {
    pub(crate) fn spawn(cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let out = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let out = out.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = out.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        Proc { child, out }
    }

    pub(crate) fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    pub(crate) fn wait_for(&self, text: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.output().contains(text))
    }

    /// Waits for the exit (bounded); `None` when it had to be killed.
    pub(crate) fn wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.child.kill();
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
