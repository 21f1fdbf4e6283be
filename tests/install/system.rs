//! lecteurd as a system service: its configuration file, systemd socket
//! activation and readiness notification, and the hardening of its unit.

use crate::common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

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
    // The file's rate (3 a second): a burst of 3 served, then refusals.
    let kinds = burst(&socket, 5);
    assert!(kinds.iter().filter(|k| k.is_none()).count() >= 3, "{kinds:?}");
    assert!(kinds.iter().flatten().count() >= 1, "{kinds:?}");
    assert!(kinds.iter().flatten().all(|k| k == "rate_limited"), "{kinds:?}");
    // A card read logs its APDU headers at trace level.
    let mut c = lecteur_client::Client::connect(&socket).unwrap();
    c.set_timeout(Some(Duration::from_secs(10))).unwrap();
    c.call_json("vitale.read", serde_json::json!({})).unwrap();
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
    let mut c = lecteur_client::Client::connect(&socket).unwrap();
    c.set_timeout(Some(Duration::from_secs(10))).unwrap();
    let info = c.call_json("system.info", serde_json::json!({})).unwrap();
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

/// One rule of a udev rules file: its `(key, operator, value)` parts.
fn udev_rule(line: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut parts = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let op_at = rest
            .find(['=', '!', '+', '-', ':'])
            .ok_or_else(|| format!("no operator in {rest:?}"))?;
        let key = rest[..op_at].trim().to_string();
        let after = &rest[op_at..];
        let op = ["==", "!=", "+=", "-=", ":=", "="]
            .into_iter()
            .find(|op| after.starts_with(op))
            .ok_or_else(|| format!("bad operator in {after:?}"))?;
        let value_part = after[op.len()..].trim_start();
        let value_part = value_part
            .strip_prefix('"')
            .ok_or_else(|| format!("unquoted value after {key}"))?;
        let end = value_part
            .find('"')
            .ok_or_else(|| format!("unterminated value of {key}"))?;
        let known = [
            "SUBSYSTEM",
            "ATTRS{",
            "ENV{",
            "GROUP",
            "MODE",
            "SYMLINK",
            "KERNEL",
            "TAG",
        ];
        if !known.iter().any(|k| key.starts_with(k)) {
            return Err(format!("unexpected key {key}"));
        }
        parts.push((key, op.to_string(), value_part[..end].to_string()));
        rest = value_part[end + 1..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Ok(parts)
}

#[test]
fn the_udev_rules_give_readers_to_the_group_and_keep_modemmanager_away() {
    let path = root().join("udev/60-lecteur.rules");
    let text = std::fs::read_to_string(&path).unwrap();
    let rules: Vec<_> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| udev_rule(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(rules.len() >= 4, "{rules:?}");
    let get = |r: &Vec<(String, String, String)>, k: &str| {
        r.iter()
            .find(|(key, _, _)| key == k)
            .map(|(_, op, v)| (op.clone(), v.clone()))
    };
    for r in &rules {
        assert_eq!(get(r, "GROUP"), Some(("=".into(), "lecteur".into())), "{r:?}");
        assert_eq!(get(r, "MODE"), Some(("=".into(), "0660".into())), "{r:?}");
        let vendor = get(r, "ATTRS{idVendor}").expect("matched by vendor id").1;
        assert!(
            vendor.len() == 4
                && vendor
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        match get(r, "SUBSYSTEM").expect("a subsystem").1.as_str() {
            "tty" => {
                assert_eq!(
                    get(r, "ENV{ID_MM_DEVICE_IGNORE}"),
                    Some(("=".into(), "1".into())),
                    "{r:?}"
                );
                assert!(
                    get(r, "SYMLINK").is_some_and(|(op, v)| op == "+=" && v.starts_with("lecteur-serial-"))
                );
            }
            "hidraw" => assert_ne!(vendor, "046a", "a keyboard maker's hidraw"),
            other => panic!("unexpected subsystem {other}"),
        }
    }
    // Where udev's own checker exists (systemd ≥ 253), it must agree.
    if let Ok(out) = Command::new("udevadm")
        .args(["verify", "--no-summary"])
        .arg(&path)
        .output()
    {
        let help = String::from_utf8_lossy(&out.stderr);
        if !help.contains("Unknown command") && !help.contains("unknown command") {
            assert!(out.status.success(), "udevadm verify: {help}");
        }
    }
}

/// What `udevadm test` (systemd 252's udev, which has no `verify`) says of
/// `rules` installed as /etc/udev/rules.d/60-lecteur.rules, in a private
/// mount namespace so that the system's rules directory is left alone: the
/// complaints about that file, or `None` where it cannot run (not root, no
/// udevadm, no unshare). The group `lecteur` is the package's (its postinst
/// makes it): where the package was never installed, the namespace sees an
/// /etc/group that has it, so the check holds on any machine.
fn udevadm_complaints(rules: &str) -> Option<Vec<String>> {
    let is_root = Command::new("id").arg("-u").output().ok()?.stdout == b"0\n";
    if !is_root || Command::new("udevadm").arg("--version").output().is_err() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let rules_dir = dir.path().join("rules.d");
    std::fs::create_dir(&rules_dir).unwrap();
    std::fs::write(rules_dir.join("60-lecteur.rules"), rules).unwrap();
    let group = dir.path().join("group");
    std::fs::write(
        &group,
        group_file_with_lecteur(&std::fs::read_to_string("/etc/group").ok()?),
    )
    .unwrap();
    let script = format!(
        "mount --bind {} /etc/udev/rules.d && mount --bind {} /etc/group && udevadm test --action=add /sys/class/tty/tty0",
        rules_dir.display(),
        group.display()
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    let file = "/etc/udev/rules.d/60-lecteur.rules";
    if !text.contains(&format!("Reading rules file: {file}")) {
        eprintln!("SKIPPED: udevadm test did not read the rules: {text}");
        return None;
    }
    Some(
        text.lines()
            .filter(|l| l.starts_with(&format!("{file}:")))
            .map(str::to_string)
            .collect(),
    )
}

/// `/etc/group`'s text with a group `lecteur` (a gid no other group has)
/// when it has none.
fn group_file_with_lecteur(etc_group: &str) -> String {
    let entries: Vec<Vec<&str>> = etc_group.lines().map(|l| l.split(':').collect()).collect();
    if entries.iter().any(|e| e[0] == "lecteur") {
        return etc_group.to_string();
    }
    let used = |gid: u32| {
        entries
            .iter()
            .any(|e| e.get(2) == Some(&gid.to_string().as_str()))
    };
    let gid = (60_000..65_000).find(|&g| !used(g)).unwrap();
    let mut text = etc_group.trim_end().to_string();
    text.push_str(&format!("\nlecteur:x:{gid}:\n"));
    text
}

#[test]
fn a_scratch_group_file_gets_lecteur_once() {
    let with = group_file_with_lecteur("root:x:0:\nusers:x:60000:\n");
    assert!(with.ends_with("lecteur:x:60001:\n"), "{with}");
    assert_eq!(group_file_with_lecteur(&with), with);
}

/// udev itself reads the rules without a complaint, and does complain about a
/// broken copy (so that the check can fail). scripts/install-deps.sh installs
/// udev; CI runs as root.
#[test]
fn udevadm_reads_the_rules_without_complaint() {
    let text = std::fs::read_to_string(root().join("udev/60-lecteur.rules")).unwrap();
    let Some(complaints) = udevadm_complaints(&text) else {
        eprintln!("SKIPPED: udevadm test cannot run here (root, udevadm and unshare needed)");
        return;
    };
    assert!(complaints.is_empty(), "{complaints:?}");
    let broken = text.replacen("GROUP=\"lecteur\"", "GROUP=lecteur", 1) + "SUBSYSTEM==\"tty\", FOO=\"1\"\n";
    let complaints = udevadm_complaints(&broken).expect("udevadm ran once already");
    assert_eq!(complaints.len(), 2, "{complaints:?}");
}

#[test]
fn the_rule_checker_refuses_broken_rules() {
    assert!(udev_rule(r#"SUBSYSTEM=="tty", GROUP="lecteur""#).is_ok());
    assert!(udev_rule(r#"SUBSYSTEM=="tty", GROUP=lecteur"#).is_err());
    assert!(udev_rule(r#"SUBSYSTEM=="tty", GROUP="lecteur"#).is_err());
    assert!(udev_rule(r#"SUBSYSTEM=="tty", RUN+="/bin/sh""#).is_err());
}
