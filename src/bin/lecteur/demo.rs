//! `lecteur demo`: a daemon on the simulated reader, in this process, and the
//! steps a practice software takes through its socket.

use base64::Engine;
use lecteur_client::Client;
use lecteur::daemon;
use rsa::pkcs1v15::Pkcs1v15Sign;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const DEMO_PIN: &str = "1234";

pub fn run() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("lecteur-demo-{}", std::process::id()));
    let socket = dir.join("lecteur.sock");
    daemon::spawn(daemon::Config {
        socket: Some(socket.clone()),
        sim: true,
        ..Default::default()
    })?;
    println!(
        "1. lecteurd runs on the simulated reader, socket {}",
        socket.display()
    );

    let result = steps(&socket);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn steps(socket: &std::path::Path) -> Result<(), String> {
    let mut c = Client::connect(socket).map_err(|e| e.to_string())?;
    let mut call = |method: &str, params: Value| c.call_json(method, params).map_err(|e| format!("{method}: {e}"));

    // The transports announce their slots asynchronously: wait for both cards.
    let mut readers = Value::Null;
    for _ in 0..50 {
        readers = call("readers.list", json!({}))?;
        if readers
            .as_array()
            .is_some_and(|r| r.iter().filter(|r| !r["card"].is_null()).count() == 2)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    println!("2. readers.list:\n{}", indent(&crate::show::readers(&readers)));

    let vitale = call("vitale.read", json!({}))?;
    println!("3. vitale.read:\n{}", indent(&crate::show::vitale(&vitale)));

    let info = call("cps.info", json!({}))?;
    println!("4. cps.info:\n{}", indent(&crate::show::cps_info(&info)));

    let verified = call("cps.verify_pin", json!({ "pin": DEMO_PIN }))?;
    println!(
        "5. cps.verify_pin with the test PIN: {}",
        crate::show::verified(&verified)
    );

    let document = b"Ordonnance de demonstration lecteur";
    let signed = call(
        "cps.sign",
        json!({ "key": "signature", "algorithm": "rsa-pkcs1-sha256", "data_b64": B64.encode(document) }),
    )?;
    let signature = B64
        .decode(signed["signature_b64"].as_str().unwrap_or(""))
        .map_err(|e| e.to_string())?;
    let cert_der = B64
        .decode(signed["certificate_der_b64"].as_str().unwrap_or(""))
        .map_err(|e| e.to_string())?;
    println!(
        "6. cps.sign with the signature key: {} signature bytes",
        signature.len()
    );

    let cert = lecteur::card::cert::parse(&cert_der).map_err(|e| e.to_string())?;
    cert.public_key
        .verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(document),
            &signature,
        )
        .map_err(|e| format!("the signature does NOT verify: {e}"))?;
    println!(
        "7. the signature verifies against the certificate of {}",
        cert.subject
    );
    println!("demo done");
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("   {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
