//! lecteurd as a system service: its configuration file, systemd socket
//! activation and readiness notification, and the hardening of its unit.

mod common;

use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn lecteurd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lecteurd"))
}

/// `n` requests written at once on one connection; the answers' error kinds
/// (`None` for a result), in order.
fn burst(socket: &Path, n: usize) -> Vec<Option<String>> {
    let mut s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut batch = String::new();
    for id in 0..n {
        batch.push_str(&format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"system.info\"}}\n"
        ));
    }
    s.write_all(batch.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    (0..n)
        .map(|_| {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let v: Value = serde_json::from_str(&line).unwrap();
            v["error"]["data"]["kind"].as_str().map(String::from)
        })
        .collect()
}

#[test]
fn the_configuration_file_sets_the_daemon_and_options_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("from-config.sock");
    let conf = dir.path().join("lecteur.toml");
    std::fs::write(
        &conf,
        format!(
            "# lecteur test configuration\nsocket = {:?}\nmax_rate = 3\npin_idle_timeout = 60\nlog = \"trace\"\npcsc = false\n",
            socket.display().to_string()
        ),
    )
    .unwrap();
    let log = dir.path().join("lecteurd.log");
    let child = lecteurd()
        .arg("--config")
        .arg(&conf)
        .arg("--sim")
        .env_remove("LECTEUR_LOG")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let _d = Proc(child);
    assert!(
        wait_until(Duration::from_secs(10), || UnixStream::connect(&socket).is_ok()),
        "no socket where the file says"
    );
    let kinds = burst(&socket, 5);
    assert_eq!(kinds.iter().filter(|k| k.is_none()).count(), 3, "{kinds:?}");
    assert!(kinds.iter().flatten().all(|k| k == "rate_limited"), "{kinds:?}");
    // A card read logs its APDU headers at trace level.
    let mut c = lecteur::client::Client::connect(&socket).unwrap();
    c.set_timeout(Some(Duration::from_secs(10))).unwrap();
    c.call("vitale.read", serde_json::json!({})).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("TRACE"), "the file's log level: {text}");
    assert!(text.contains("transports=[\"sim\"]"), "pcsc = false: {text}");

    // The command line wins over the file.
    let other = dir.path().join("from-option.sock");
    let child = lecteurd()
        .arg("--config")
        .arg(&conf)
        .args(["--sim", "--max-rate", "0", "--socket"])
        .arg(&other)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _d = Proc(child);
    assert!(wait_until(Duration::from_secs(10), || UnixStream::connect(
        &other
    )
    .is_ok()));
    assert!(burst(&other, 20).iter().all(Option::is_none));
}

#[test]
fn an_invalid_configuration_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("lecteur.toml");
    for (text, line) in [
        ("max_rate = 3\n\nsocket_grup = \"lecteur\"\n", "line 3"),
        ("[[serial]]\nport = \"/dev/ttyS0\"\nprofile = 7\n", "line 3"),
        ("pin_idle_timeout = -1\n", "line 1"),
    ] {
        std::fs::write(&conf, text).unwrap();
        let out = lecteurd()
            .arg("--config")
            .arg(&conf)
            .args(["--sim", "--socket"])
            .arg(dir.path().join("never.sock"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{text:?} was accepted");
        assert!(
            err.contains(&conf.display().to_string()) && err.contains(line),
            "{text:?}: {err}"
        );
        assert!(!dir.path().join("never.sock").exists());
    }
    let out = lecteurd()
        .args(["--config", "/nonexistent/lecteur.toml", "--sim"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn systemd_socket_activation_and_readiness() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("lecteur.sock");
    let notify_path = dir.path().join("notify");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let log = dir.path().join("lecteurd.log");
    // systemd's own tool: listens, then starts lecteurd with the socket as fd 3.
    let child = Command::new("systemd-socket-activate")
        .arg("-l")
        .arg(&socket)
        .arg("-E")
        .arg(format!("NOTIFY_SOCKET={}", notify_path.display()))
        .args(["-E", "LECTEUR_LOG=info"])
        .arg(env!("CARGO_BIN_EXE_lecteurd"))
        .args(["--config", "/dev/null", "--no-pcsc", "--sim"])
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("systemd-socket-activate (package systemd)");
    let d = Proc(child);
    assert!(wait_until(Duration::from_secs(10), || socket.exists()));
    // The first connection starts the daemon, which serves it.
    let mut c = lecteur::client::Client::connect(&socket).unwrap();
    c.set_timeout(Some(Duration::from_secs(10))).unwrap();
    let info = c.call("system.info", serde_json::json!({})).unwrap();
    assert_eq!(info["transports"], serde_json::json!(["sim"]));
    let mut buf = [0u8; 64];
    let n = notify.recv(&mut buf).expect("READY=1 from lecteurd");
    assert_eq!(&buf[..n], b"READY=1");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("activated=true"), "{text}");
    drop(d);
    assert!(socket.exists(), "the socket is systemd's: lecteurd leaves it");
}

#[test]
fn the_service_unit_is_hardened() {
    let unit = root().join("udev/lecteurd.service");
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze (package systemd)");
    let text = String::from_utf8_lossy(&out.stdout);
    let level: f64 = text
        .lines()
        .find_map(|l| l.split("Overall exposure level for lecteurd.service:").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no exposure level in: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(level <= 2.0, "exposure {level} > 2.0:\n{text}");
    // The socket unit the service needs exists and is the one the service names.
    let socket_unit = std::fs::read_to_string(root().join("udev/lecteurd.socket")).unwrap();
    assert!(socket_unit.contains("ListenStream=/run/lecteur/lecteur.sock"));
    assert!(socket_unit.contains("SocketMode=0660") && socket_unit.contains("SocketGroup=lecteur"));
}
