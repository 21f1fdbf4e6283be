//! `lecteur demo`: a daemon on the simulated reader, in this process, and the
//! steps a practice software takes through its socket.

use crate::error::CliError;
use lecteur::daemon;
use lecteur_client::Client;
use lecteur_proto::cps::{KeyUsage, SignAlgorithm, SignParams, VerifyPinParams};
use lecteur_proto::method::{CpsInfo, CpsSign, CpsVerifyPin, ReadersList, VitaleRead};
use lecteur_proto::system::NoParams;
use lecteur_proto::Method;
use rsa::pkcs1v15::Pkcs1v15Sign;
use sha2::{Digest, Sha256};
const DEMO_PIN: &str = "1234";

pub(crate) fn run() -> Result<(), CliError> {
    let dir = std::env::temp_dir().join(format!("lecteur-demo-{}", std::process::id()));
    let socket = lecteur_proto::socket::private(&dir, &format!("demo-{}", std::process::id()));
    daemon::spawn(daemon::Config {
        socket: Some(socket.clone()),
        sim: true,
        ..Default::default()
    })
    .map_err(CliError::Daemon)?;
    println!(
        "1. lecteurd runs on the simulated reader, socket {}",
        socket.display()
    );

    let result = steps(&socket);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Calls `M`, naming the step when it fails.
fn call<M: Method>(c: &mut Client, params: &M::Params) -> Result<M::Result, CliError> {
    c.call::<M>(params).map_err(|source| CliError::Step {
        method: M::NAME,
        source,
    })
}

fn steps(socket: &std::path::Path) -> Result<(), CliError> {
    let mut c = Client::connect(socket)?;

    // The transports announce their slots asynchronously: wait for both cards.
    let mut readers = Vec::new();
    for _ in 0..50 {
        readers = call::<ReadersList>(&mut c, &NoParams {})?;
        if readers.iter().filter(|r| r.card.is_some()).count() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    println!("2. readers.list:\n{}", indent(&crate::show::readers(&readers)));

    let vitale = call::<VitaleRead>(&mut c, &Default::default())?;
    println!("3. vitale.read:\n{}", indent(&crate::show::vitale(&vitale)));

    let info = call::<CpsInfo>(&mut c, &Default::default())?;
    println!("4. cps.info:\n{}", indent(&crate::show::cps_info(&info)));

    let pin = VerifyPinParams {
        pin: Some(DEMO_PIN.to_string().into()),
        ..Default::default()
    };
    let verified = call::<CpsVerifyPin>(&mut c, &pin)?;
    println!(
        "5. cps.verify_pin with the test PIN: {}",
        crate::show::verified(&verified)
    );

    let document = b"Ordonnance de demonstration lecteur";
    let sign = SignParams {
        reader: None,
        pin: None,
        pinpad: false,
        allow_last_try: false,
        key: KeyUsage::Signature,
        algorithm: SignAlgorithm::RsaPkcs1Sha256,
        data: Some(document.to_vec()),
        digest: None,
    };
    let signed = call::<CpsSign>(&mut c, &sign)?;
    println!(
        "6. cps.sign with the signature key: {} signature bytes",
        signed.signature.len()
    );

    let cert = lecteur::card::cert::parse(&signed.certificate_der)?;
    cert.public_key
        .verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(document),
            &signed.signature,
        )
        .map_err(CliError::BadSignature)?;
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
