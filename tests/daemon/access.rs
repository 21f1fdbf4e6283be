//! Who may use lecteurd's socket and how hard: socket group, uid allow-list,
//! peer credentials in the log, per-connection request rate.

use crate::common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

fn my_uid() -> u32 {
    // The owner of a file this process creates is its effective uid.
    let f = tempfile::NamedTempFile::new().unwrap();
    f.as_file().metadata().unwrap().uid()
}

#[test]
fn a_uid_outside_the_allow_list_is_refused_with_a_clear_error() {
    let other = my_uid().wrapping_add(4242);
    let d = Daemon::start(&["--no-pcsc", "--sim", "--allow-uid", &other.to_string()]);
    let s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut line = String::new();
    BufReader::new(&s).read_line(&mut line).unwrap();
    let answer: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(answer["error"]["data"]["kind"], "not_allowed", "{answer}");
    assert_eq!(answer["error"]["code"], -32016);
    // ...and the connection is closed.
    let mut rest = String::new();
    assert_eq!(BufReader::new(&s).read_line(&mut rest).unwrap(), 0);
    assert!(d.log().contains("uid not in the allow-list"), "{}", d.log());
}

#[test]
fn an_allowed_uid_is_served_and_logged_with_its_credentials() {
    let me = my_uid();
    let d = Daemon::start(&[
        "--no-pcsc",
        "--sim",
        "--allow-uid",
        "4242",
        "--allow-uid",
        &me.to_string(),
    ]);
    d.wait_cards(2);
    let log = d.log();
    assert!(log.contains("client connected"), "{log}");
    assert!(log.contains(&format!("uid=Some({me})")), "{log}");
    assert!(
        log.contains(&format!("pid=Some({})", std::process::id())),
        "{log}"
    );
}

#[test]
fn the_socket_belongs_to_the_group_given() {
    // As root any group can be given; otherwise one's own.
    let me = my_uid();
    let gid = if me == 0 {
        1
    } else {
        tempfile::NamedTempFile::new()
            .unwrap()
            .as_file()
            .metadata()
            .unwrap()
            .gid()
    };
    let d = Daemon::start(&["--no-pcsc", "--sim", "--socket-group", &gid.to_string()]);
    let meta = std::fs::metadata(&d.socket).unwrap();
    assert_eq!(meta.gid(), gid);
    assert_eq!(meta.mode() & 0o777, 0o660);

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_lecteurd"))
        .args([
            "--no-pcsc",
            "--sim",
            "--socket-group",
            "no-such-group-here",
            "--socket",
        ])
        .arg(d.dir.path().join("other.sock"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no group named"));
}

#[test]
fn requests_over_the_rate_are_answered_rate_limited_and_none_is_lost() {
    let d = Daemon::start(&["--no-pcsc", "--sim", "--max-rate", "5"]);
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    // 20 requests at once: a burst of 5 is served; beyond, each refusal holds
    // the connection until its next token (backpressure), then serves again.
    let mut batch = String::new();
    for id in 0..20 {
        batch.push_str(&json!({"jsonrpc": "2.0", "id": id, "method": "system.info"}).to_string());
        batch.push('\n');
    }
    let start = std::time::Instant::now();
    s.write_all(batch.as_bytes()).unwrap();
    let (mut served, mut limited, mut ids) = (0, 0, Vec::new());
    for _ in 0..20 {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let answer: Value = serde_json::from_str(&line).unwrap();
        ids.push(answer["id"].as_i64().unwrap());
        if answer.get("result").is_some() {
            served += 1;
        } else {
            assert_eq!(answer["error"]["data"]["kind"], "rate_limited", "{answer}");
            assert_eq!(answer["error"]["code"], -32017);
            limited += 1;
        }
    }
    let took = start.elapsed();
    ids.sort();
    assert_eq!(ids, (0..20).collect::<Vec<_>>(), "every request answered once");
    assert!(served >= 5 && limited >= 5, "served {served}, limited {limited}");
    // 15 requests past the burst at 5 a second: held back, not answered in a rush.
    assert!(
        took >= Duration::from_secs(1),
        "the flood was answered in {took:?}"
    );
    // Another connection has its own budget, and is served at once meanwhile.
    assert!(d.client().call_json("system.info", json!({})).is_ok());
}
