//! The socket API of a real lecteurd on its built-in simulated reader
//! (`--no-pcsc --sim`): contract, PIN policy, bad requests.

use crate::common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

fn sim_daemon() -> Daemon {
    let d = Daemon::start(&["--no-pcsc", "--sim"]);
    d.wait_cards(2);
    d
}

#[test]
fn system_info_and_readers() {
    let d = sim_daemon();
    let mut c = d.client();
    let info = c.call_json("system.info", json!({})).unwrap();
    assert_eq!(info["transports"], json!(["sim"]));
    assert!(info["version"].is_string());
    let readers = c.call_json("readers.list", json!({})).unwrap();
    assert_eq!(reader_with(&readers, "cps3").as_deref(), Some("sim:0"));
    assert_eq!(reader_with(&readers, "vitale2").as_deref(), Some("sim:1"));
    assert_eq!(readers[0]["transport"], "sim");
    assert_eq!(readers[0]["card"]["atr"], "3BAC00402A001225006480000310009000");
}

#[test]
fn vitale_read_gives_every_beneficiary() {
    let d = sim_daemon();
    let mut c = d.client();
    let v = c.call_json("vitale.read", json!({})).unwrap();
    assert_eq!(v["card"]["kind"], "vitale2");
    let list = v["beneficiaries"].as_array().unwrap();
    assert!(list.len() >= 2, "{v}");
    for b in list {
        assert_eq!(b["nir"].as_str().unwrap().len(), 13);
        assert_eq!(b["nir_key"].as_str().unwrap().len(), 2);
        assert_eq!(b["nir_valid"], true, "{b}");
        assert!(!b["surname"].as_str().unwrap().is_empty());
        assert_eq!(b["birth_date"]["raw"].as_str().unwrap().len(), 8);
    }
    let lunar: Vec<&Value> = list.iter().filter(|b| b["birth_date"]["lunar"] == true).collect();
    assert!(!lunar.is_empty(), "the default card has a lunar birth date");
    assert!(lunar.iter().all(|b| b["birth_date"]["iso"].is_null()));
    assert!(list.iter().any(|b| b["birth_date"]["iso"].is_string()));

    // Naming the reader works; naming the wrong one is a typed error.
    assert_eq!(c.call_json("vitale.read", json!({"reader": "sim:1"})).unwrap(), v);
    let e = c
        .call_json("vitale.read", json!({"reader": "sim:0"}))
        .unwrap_err();
    assert_eq!(kind(&e), "wrong_card_type");
    let e = c.call_json("vitale.read", json!({"reader": "nope"})).unwrap_err();
    assert_eq!(kind(&e), "invalid_params");
}

#[test]
fn cps_info_and_certificates() {
    let d = sim_daemon();
    let mut c = d.client();
    let info = c.call_json("cps.info", json!({})).unwrap();
    assert_eq!(info["card"]["kind"], "cps3");
    assert!(!info["card"]["serial"].as_str().unwrap().is_empty());
    let id = info["holder"]["national_id"].as_str().unwrap();
    assert!(id.len() == 12 && id.starts_with('8'), "{info}");
    assert!(info["holder"]["surname"].is_string() && info["holder"]["given_name"].is_string());
    assert_eq!(info["pin"], json!({"tries_left": 3, "tries_max": 3}));

    let certs = c.call_json("cps.certificates", json!({})).unwrap();
    let certs = certs.as_array().unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[0]["usage"], "signature");
    assert_eq!(certs[1]["usage"], "authentication");
    for cert in certs {
        assert!(cert["subject"].as_str().unwrap().contains(id), "{cert}");
        assert!(cert["not_after"].as_str().unwrap().ends_with('Z'));
        assert!(unb64(&cert["der_b64"]).len() > 500);
    }
}

#[test]
fn signatures_verify_with_the_certificate() {
    let d = sim_daemon();
    let mut c = d.client();
    let data = b"ordonnance test";
    for key in ["signature", "authentication"] {
        let r = c
            .call_json(
                "cps.sign",
                json!({"pin": TEST_PIN, "key": key, "algorithm": "rsa-pkcs1-sha256", "data_b64": b64(data)}),
            )
            .unwrap();
        let (sig, cert) = (unb64(&r["signature_b64"]), unb64(&r["certificate_der_b64"]));
        assert_eq!(sig.len(), 256);
        assert!(verify_signature(&cert, data, &sig), "{key} signature must verify");
        assert!(!verify_signature(&cert, b"another document", &sig));
    }
    // A digest, on the same connection, without the PIN again.
    use sha2::Digest;
    let digest = sha2::Sha256::digest(data);
    let r = c
        .call_json(
            "cps.sign",
            json!({"key": "signature", "digest_b64": b64(&digest)}),
        )
        .unwrap();
    assert!(verify_signature(
        &unb64(&r["certificate_der_b64"]),
        data,
        &unb64(&r["signature_b64"])
    ));
}

#[test]
fn wrong_pins_count_down_to_blocked_one_verify_each() {
    let d = sim_daemon();
    let mut c = d.client();
    for expected in [2, 1] {
        let e = c.call_json("cps.verify_pin", json!({"pin": "0000"})).unwrap_err();
        assert_eq!(kind(&e), "pin_incorrect");
        assert_eq!(error_data(&e)["tries_left"], expected);
        // The counter went down by exactly one: one VERIFY per request.
        let info = c.call_json("cps.info", json!({})).unwrap();
        assert_eq!(info["pin"]["tries_left"], expected);
    }
    // One try left: refused unless the request allows it; no try is used.
    let e = c.call_json("cps.verify_pin", json!({"pin": "0000"})).unwrap_err();
    assert_eq!(kind(&e), "pin_last_try");
    assert_eq!(
        c.call_json("cps.info", json!({})).unwrap()["pin"]["tries_left"],
        1
    );
    let e = c
        .call_json("cps.verify_pin", json!({"pin": "0000", "allow_last_try": true}))
        .unwrap_err();
    assert_eq!(kind(&e), "pin_blocked");
    // Blocked: even the right PIN is refused, and no try is counted.
    let e = c
        .call_json("cps.verify_pin", json!({"pin": TEST_PIN}))
        .unwrap_err();
    assert_eq!(kind(&e), "pin_blocked");
    let e = c
        .call_json(
            "cps.sign",
            json!({"pin": TEST_PIN, "key": "signature", "data_b64": b64(b"x")}),
        )
        .unwrap_err();
    assert_eq!(kind(&e), "pin_blocked");
    assert_eq!(
        c.call_json("cps.info", json!({})).unwrap()["pin"]["tries_left"],
        0
    );
}

#[test]
fn a_right_pin_restores_the_tries() {
    let d = sim_daemon();
    let mut c = d.client();
    assert!(c.call_json("cps.verify_pin", json!({"pin": "9999"})).is_err());
    let ok = c.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    assert_eq!(ok["tries_left"], 3);
    let e = c.call_json("cps.verify_pin", json!({"pin": "12"})).unwrap_err();
    assert_eq!(
        kind(&e),
        "invalid_params",
        "a malformed PIN never reaches the card"
    );
    assert_eq!(
        c.call_json("cps.info", json!({})).unwrap()["pin"]["tries_left"],
        3
    );
}

#[test]
fn a_verification_belongs_to_its_connection() {
    let d = sim_daemon();
    let (mut a, mut b) = (d.client(), d.client());
    let sign = json!({"key": "signature", "data_b64": b64(b"doc")});
    assert_eq!(
        kind(&a.call_json("cps.sign", sign.clone()).unwrap_err()),
        "pin_required"
    );
    a.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    assert!(a.call_json("cps.sign", sign.clone()).is_ok());
    assert_eq!(
        kind(&b.call_json("cps.sign", sign.clone()).unwrap_err()),
        "pin_required"
    );
    b.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    assert!(b.call_json("cps.sign", sign.clone()).is_ok());
    // B's verification reset the card: A's is gone.
    assert_eq!(
        kind(&a.call_json("cps.sign", sign.clone()).unwrap_err()),
        "pin_required"
    );
    // When B leaves, nobody inherits its verification.
    drop(b);
    let mut c = d.client();
    assert_eq!(kind(&c.call_json("cps.sign", sign).unwrap_err()), "pin_required");
}

fn raw_call(s: &mut UnixStream, r: &mut BufReader<UnixStream>, line: &str) -> Value {
    s.write_all(line.as_bytes()).unwrap();
    s.write_all(b"\n").unwrap();
    let mut answer = String::new();
    r.read_line(&mut answer).unwrap();
    serde_json::from_str(&answer).unwrap()
}

#[test]
fn bad_requests_get_errors_and_the_daemon_keeps_serving() {
    let d = sim_daemon();
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());

    let a = raw_call(&mut s, &mut r, "{not json");
    assert_eq!(a["error"]["code"], -32700);
    let a = raw_call(&mut s, &mut r, r#"{"jsonrpc":"2.0","id":1,"method":"no.such"}"#);
    assert_eq!(
        (a["id"].clone(), a["error"]["code"].clone()),
        (json!(1), json!(-32601))
    );
    let a = raw_call(
        &mut s,
        &mut r,
        r#"{"jsonrpc":"2.0","id":2,"method":"cps.sign","params":{"key":"x","data_b64":"AA=="}}"#,
    );
    assert_eq!(a["error"]["code"], -32602);
    assert_eq!(a["error"]["data"]["kind"], "invalid_params");
    let a = raw_call(
        &mut s,
        &mut r,
        r#"{"jsonrpc":"2.0","id":3,"method":"readers.list","params":{"bogus":1}}"#,
    );
    assert_eq!(a["error"]["code"], -32602);
    let a = raw_call(&mut s, &mut r, r#"{"id":4,"method":"readers.list"}"#);
    assert_eq!(a["error"]["code"], -32600);
    let a = raw_call(
        &mut s,
        &mut r,
        r#"{"jsonrpc":"2.0","id":5,"method":"cps.sign","params":{"key":"signature","data_b64":"@@"}}"#,
    );
    assert_eq!(a["error"]["data"]["kind"], "invalid_params");

    // A 10 MB line is refused without taking the connection down.
    let big = "x".repeat(10 * 1024 * 1024);
    let a = raw_call(&mut s, &mut r, &big);
    assert_eq!(a["error"]["code"], -32600);
    s.write_all(&[0xFF, 0xFE, b'{', b'\n']).unwrap();
    let mut answer = String::new();
    r.read_line(&mut answer).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&answer).unwrap()["error"]["code"],
        -32600
    );
    let a = raw_call(
        &mut s,
        &mut r,
        r#"{"jsonrpc":"2.0","id":6,"method":"readers.list"}"#,
    );
    assert_eq!(a["id"], 6);
    assert!(a["result"].is_array());

    // A client that vanishes mid-request does not hurt the others.
    for _ in 0..5 {
        let mut gone = UnixStream::connect(&d.socket).unwrap();
        gone.write_all(br#"{"jsonrpc":"2.0","id":1,"method":"cps.sign","params":{"pin":"1234","key":"signature","data_b64":"AA=="}}"#).unwrap();
        gone.write_all(b"\n").unwrap();
        drop(gone);
    }
    let mut c = d.client();
    assert!(c.call_json("vitale.read", json!({})).is_ok());
    assert_eq!(
        c.call_json("cps.info", json!({})).unwrap()["pin"]["tries_left"],
        3
    );
}

/// `echo '{…}' | socat - UNIX-CONNECT:…` (the README's example) writes its
/// requests and closes its side at once: every request is still answered,
/// card operations included, before lecteurd closes the connection.
#[test]
fn a_client_that_closes_its_side_gets_its_answers() {
    let d = sim_daemon();
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let requests = concat!(
        r#"{"jsonrpc":"2.0","id":1,"method":"vitale.read","params":{"fresh":true}}"#,
        "\n",
        r#"{"jsonrpc":"2.0","id":2,"method":"cps.info"}"#,
        "\n",
        r#"{"jsonrpc":"2.0","id":3,"method":"readers.list"}"#,
        "\n",
    );
    s.write_all(requests.as_bytes()).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answers: Vec<Value> = BufReader::new(s)
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    answers.sort_by_key(|a| a["id"].as_u64());
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert_eq!(answers[0]["result"]["card"]["kind"], "vitale2", "{}", answers[0]);
    assert!(answers[1]["result"]["holder"].is_object(), "{}", answers[1]);
    assert!(answers[2]["result"].is_array(), "{}", answers[2]);
}

/// A client that sends and never reads is not buffered without limit: once
/// 4 MiB of answers wait for it, lecteurd closes its connection; the others
/// are served as before.
#[test]
fn a_client_that_never_reads_is_cut_off() {
    let d = Daemon::start(&["--no-pcsc", "--sim", "--max-rate", "0"]);
    d.wait_cards(2);
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.set_write_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let request = concat!(r#"{"jsonrpc":"2.0","id":1,"method":"readers.list"}"#, "\n");
    // About 700 bytes of answer each: 4 MiB after some 6 000 requests.
    let cut = (0..50_000).position(|_| s.write_all(request.as_bytes()).is_err());
    assert!(cut.is_some_and(|n| n > 5_000), "cut off after {cut:?} requests");
    let mut c = d.client();
    assert!(c.call_json("readers.list", json!({})).is_ok());
    assert!(d.log().contains("client does not read its answers"));
}

#[test]
fn many_clients_at_once() {
    let d = sim_daemon();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let mut c = d.client();
            std::thread::spawn(move || {
                for _ in 0..3 {
                    if i % 2 == 0 {
                        assert!(c.call_json("vitale.read", json!({})).is_ok());
                    } else {
                        let r = c.call_json(
                            "cps.sign",
                            json!({"pin": TEST_PIN, "key": "signature", "data_b64": b64(b"m")}),
                        );
                        assert!(r.is_ok(), "{r:?}");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn the_last_try_needs_consent() {
    let d = sim_daemon();
    let mut c = d.client();
    for _ in 0..2 {
        assert_eq!(
            kind(&c.call_json("cps.verify_pin", json!({"pin": "0000"})).unwrap_err()),
            "pin_incorrect"
        );
    }
    let sign = json!({"pin": TEST_PIN, "key": "signature", "data_b64": b64(b"doc")});
    assert_eq!(
        kind(&c.call_json("cps.sign", sign.clone()).unwrap_err()),
        "pin_last_try"
    );
    assert_eq!(
        kind(
            &c.call_json("cps.verify_pin", json!({"pin": TEST_PIN}))
                .unwrap_err()
        ),
        "pin_last_try"
    );
    assert_eq!(
        c.call_json("cps.info", json!({})).unwrap()["pin"]["tries_left"],
        1
    );
    let mut sign = sign;
    sign["allow_last_try"] = json!(true);
    assert!(c.call_json("cps.sign", sign).is_ok());
    assert_eq!(
        c.call_json("cps.info", json!({})).unwrap()["pin"]["tries_left"],
        3
    );
}

#[test]
fn logout_and_other_connections_close_the_verification() {
    let d = sim_daemon();
    let (mut a, mut b) = (d.client(), d.client());
    let sign = json!({"key": "signature", "data_b64": b64(b"doc")});
    a.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    assert_eq!(
        a.call_json("cps.logout", json!({})).unwrap(),
        json!({"logged_out": true})
    );
    assert_eq!(
        kind(&a.call_json("cps.sign", sign.clone()).unwrap_err()),
        "pin_required"
    );
    assert_eq!(
        a.call_json("cps.logout", json!({})).unwrap(),
        json!({"logged_out": false})
    );

    // Another connection using the card closes A's verification first.
    a.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    assert!(a.call_json("cps.sign", sign.clone()).is_ok());
    b.call_json("cps.info", json!({})).unwrap();
    assert_eq!(kind(&a.call_json("cps.sign", sign).unwrap_err()), "pin_required");
}

#[test]
fn an_idle_verification_expires() {
    let d = Daemon::start(&["--no-pcsc", "--sim", "--pin-idle-timeout", "1"]);
    d.wait_cards(2);
    let mut c = d.client();
    let sign = json!({"key": "signature", "data_b64": b64(b"doc")});
    c.call_json("cps.verify_pin", json!({"pin": TEST_PIN})).unwrap();
    assert!(c.call_json("cps.sign", sign.clone()).is_ok());
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(kind(&c.call_json("cps.sign", sign).unwrap_err()), "pin_required");
}

#[test]
fn the_socket_is_claimed_once_and_stale_ones_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let d = sim_daemon();
    let mode = std::fs::metadata(&d.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    // A second daemon on the same socket refuses to start.
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_lecteurd"))
        .args(["--no-pcsc", "--sim", "--socket"])
        .arg(&d.socket)
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("another lecteurd"));
    assert!(
        d.client().call_json("readers.list", json!({})).is_ok(),
        "the first one still serves"
    );

    // Killed hard, the daemon leaves a stale socket: the next one replaces it.
    let Daemon {
        scan,
        dir,
        socket,
        mut proc,
    } = d;
    drop(scan); // the first daemon's log, before the second one writes there
    proc.0.kill().unwrap();
    proc.0.wait().unwrap();
    assert!(socket.exists());
    let d = Daemon::start_in(dir, &["--no-pcsc", "--sim"]);
    d.wait_cards(2);
}
