//! The module as independent clients load it: OpenSC's pkcs11-tool (slots,
//! objects, login, signatures with both keys checked by openssl against the
//! certificate read through the module) and a mutual TLS 1.2 handshake where
//! gnutls-cli takes its client key through the module and `openssl s_server`
//! demands a certificate from the simulator's CA.

mod common;

use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Cryptolib's CKA_ID of the CPS3 keys: PKCS#15 AID ‖ key id.
const SIG_ID: &str = "e828bd080f8025000001ff001001";
const AUTH_ID: &str = "e828bd080f8025000001ff001002";

fn pkcs11_tool(d: &Daemon) -> Command {
    let mut c = tool("pkcs11-tool", "opensc");
    c.env("LECTEUR_SOCKET", &d.socket)
        .arg("--module")
        .arg(module_path());
    c
}

fn openssl() -> Command {
    tool("openssl", "openssl")
}

/// Reads a certificate through the module and checks it is the card's.
fn read_cert(d: &Daemon, label: &str, usage: &str, out: &Path) {
    run(pkcs11_tool(d)
        .args(["--read-object", "--type", "cert", "--label", label, "-o"])
        .arg(out));
    assert_eq!(std::fs::read(out).unwrap(), d.certificate(usage), "{label}");
}

/// `openssl dgst -verify` with the public key of a DER certificate.
fn openssl_verify(dir: &Path, cert: &Path, hash: &str, data: &Path, sig: &Path) -> bool {
    let pubkey = dir.join("key.pub");
    let pem = run(openssl()
        .args(["x509", "-inform", "der", "-pubkey", "-noout", "-in"])
        .arg(cert));
    std::fs::write(&pubkey, pem).unwrap();
    Command::new("openssl")
        .args(["dgst", hash, "-verify"])
        .arg(&pubkey)
        .arg("-signature")
        .arg(sig)
        .arg(data)
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("Verified OK"))
        .unwrap_or(false)
}

#[test]
fn pkcs11_tool_lists_logs_in_and_signs_with_both_keys() {
    let d = Daemon::start(&["cps3", "vitale2"]);
    let dir = d.dir.path();

    let slots = run(pkcs11_tool(&d).arg("--list-slots"));
    assert!(slots.contains("token model        : CPS3"), "{slots}");
    assert!(slots.contains("serial num         : 2500577253"), "{slots}");
    assert!(slots.contains("login required"), "{slots}");
    let mechs = run(pkcs11_tool(&d).arg("--list-mechanisms"));
    assert!(mechs.contains("SHA256-RSA-PKCS"), "{mechs}");
    assert!(!mechs.contains("PSS"), "a CPS3 has no RSA-PSS: {mechs}");

    // Before login: certificates and free data objects; no key, no situation.
    let objects = run(pkcs11_tool(&d).arg("--list-objects"));
    for label in [
        "Certificat d'Authentification CPS",
        "Certificat de Signature CPS",
        "CPS_ID_CARD",
        "CPS_NAME_PS",
        "CPS_INFO_PS",
    ] {
        assert!(objects.contains(label), "{label} missing: {objects}");
    }
    for label in [
        "CPS_PRIV_AUT",
        "CPS_PRIV_SIG",
        "CPS_ACTIVITY_01_PS",
        "CPS_SIT_FACT",
        "CPS2TER_ACTIVITY_01_PS",
    ] {
        assert!(!objects.contains(label), "{label} before login: {objects}");
    }
    let logged = run(pkcs11_tool(&d).args(["--login", "--pin", TEST_PIN, "--list-objects"]));
    for label in [
        "CPS_PRIV_AUT",
        "CPS_PRIV_SIG",
        "CPS_ACTIVITY_01_PS",
        "CPS_SIT_FACT",
        "CPS2TER_ACTIVITY_01_PS",
    ] {
        assert!(logged.contains(label), "{label} missing after login: {logged}");
    }

    let data = dir.join("ordonnance.txt");
    std::fs::write(&data, b"ordonnance du jour").unwrap();
    for (id, label, usage) in [
        (SIG_ID, "Certificat de Signature CPS", "signature"),
        (AUTH_ID, "Certificat d'Authentification CPS", "authentication"),
    ] {
        let cert = dir.join(format!("{usage}.der"));
        read_cert(&d, label, usage, &cert);
        let sig = dir.join(format!("{usage}.sig"));
        run(pkcs11_tool(&d)
            .args(["--login", "--pin", TEST_PIN, "--sign", "-m", "SHA256-RSA-PKCS"])
            .args(["--id", id, "-i"])
            .arg(&data)
            .arg("-o")
            .arg(&sig));
        assert!(
            openssl_verify(dir, &cert, "-sha256", &data, &sig),
            "the {usage} signature does not verify"
        );
        // The other key's certificate does not verify it.
        let other = if usage == "signature" {
            "authentication"
        } else {
            "signature"
        };
        let other_cert = dir.join("other.der");
        std::fs::write(&other_cert, d.certificate(other)).unwrap();
        assert!(!openssl_verify(dir, &other_cert, "-sha256", &data, &sig));
    }

    // CKM_RSA_PKCS over a SHA-384 DigestInfo, as a TLS client signs it, with
    // the authentication key.
    let digest = run(openssl().args(["dgst", "-sha384", "-hex", "-r"]).arg(&data));
    let hex_digest = digest.split_whitespace().next().unwrap();
    let prefix = "3041300d060960864801650304020205000430";
    let di = dir.join("digest-info");
    std::fs::write(&di, hex::decode(format!("{prefix}{hex_digest}")).unwrap()).unwrap();
    let sig = dir.join("sha384.sig");
    run(pkcs11_tool(&d)
        .args([
            "--login", "--pin", TEST_PIN, "--sign", "-m", "RSA-PKCS", "--id", AUTH_ID, "-i",
        ])
        .arg(&di)
        .arg("-o")
        .arg(&sig));
    assert!(openssl_verify(
        dir,
        &dir.join("authentication.der"),
        "-sha384",
        &data,
        &sig
    ));

    // A wrong PIN is refused as such.
    let out = pkcs11_tool(&d)
        .args(["--login", "--pin", "9999", "--list-objects"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("CKR_PIN_INCORRECT"), "{text}");
}

/// A server certificate and key made with the openssl CLI, and the
/// simulator's CA, in `dir`: (server cert, server key, CA).
fn tls_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, lecteur_sim::pki::CA_CERT_PEM).unwrap();
    let (key, cert) = (dir.join("server.key"), dir.join("server.crt"));
    run(openssl()
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-days",
            "1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    (cert, key, ca)
}

/// `openssl s_server` on a free loopback port demanding a client certificate
/// from the simulator's CA, TLS 1.2 with RSA PKCS#1 signatures (a CPS3
/// authentication key has no RSA-PSS), for one connection.
fn tls_server(dir: &Path, extra: &[&str]) -> (Proc, String) {
    let (cert, key, ca) = tls_files(dir);
    let port = free_port().to_string();
    let mut cmd = openssl();
    cmd.args(["s_server", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .args(["-Verify", "1", "-verify_return_error", "-CAfile"])
        .arg(&ca)
        .args([
            "-tls1_2",
            "-sigalgs",
            "RSA+SHA256",
            "-client_sigalgs",
            "RSA+SHA256",
        ])
        .args(["-naccept", "1"])
        .args(extra)
        .stdin(Stdio::piped()); // kept open: s_server stops at its end
    let server = Proc::spawn(&mut cmd);
    assert!(
        server.wait_for("ACCEPT", Duration::from_secs(10)),
        "s_server did not start: {}",
        server.output()
    );
    (server, port)
}

/// A free TCP port on the loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The PEM certificate s_server prints after "Client certificate", as DER.
fn client_cert_of(server_output: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let after = server_output.split("Client certificate").nth(1)?;
    let body = after
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)?
        .split("-----END CERTIFICATE-----")
        .next()?;
    let b64: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

#[test]
fn mutual_tls_1_2_with_the_authentication_key() {
    let d = Daemon::start(&["cps3", "vitale2"]);
    let dir = d.dir.path();
    let (mut server, port) = tls_server(dir, &[]);
    let cert = dir.join("server.crt");

    let module = module_path();
    let mut client_cmd = tool("gnutls-cli", "gnutls-bin");
    client_cmd
        .env("LECTEUR_SOCKET", &d.socket)
        .env("GNUTLS_PIN", TEST_PIN)
        .arg(format!("--provider={}", module.display()))
        .args(["--x509keyfile", "pkcs11:object=CPS_PRIV_AUT;type=private"])
        .args([
            "--x509certfile",
            "pkcs11:object=Certificat%20d%27Authentification%20CPS;type=cert",
        ])
        .args(["--x509cafile"])
        .arg(&cert)
        .args(["--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2"])
        .args(["-p", &port, "localhost"])
        .stdin(Stdio::piped());
    let mut client = Proc::spawn(&mut client_cmd);
    let mut stdin = client.child.stdin.take().unwrap();
    assert!(
        client.wait_for("Handshake was completed", Duration::from_secs(30)),
        "no handshake: client: {}\nserver: {}",
        client.output(),
        server.output()
    );
    stdin.write_all(b"bonjour-cps\n").unwrap();
    assert!(
        server.wait_for("bonjour-cps", Duration::from_secs(10)),
        "the server did not get the data: {}",
        server.output()
    );
    drop(stdin);
    assert!(
        client.wait(Duration::from_secs(10)).is_some_and(|s| s.success()),
        "{}",
        client.output()
    );
    drop(server.child.stdin.take());
    server.wait(Duration::from_secs(10));

    // The server verified the CPS authentication certificate.
    let out = server.output();
    assert_eq!(
        client_cert_of(&out).as_deref(),
        Some(d.certificate("authentication").as_slice()),
        "{out}"
    );
    assert!(out.contains("CN = 899900038839"), "{out}");
}

#[test]
fn curl_through_the_openssl_pkcs11_engine() {
    let d = Daemon::start(&["cps3", "vitale2"]);
    let dir = d.dir.path();
    let (_server, port) = tls_server(dir, &["-www"]);
    // libengine-pkcs11-openssl, told to load this module.
    let conf = dir.join("openssl.cnf");
    let module = module_path();
    std::fs::write(
        &conf,
        format!(
            "openssl_conf = openssl_init\n[openssl_init]\nengines = engines\n\
             [engines]\npkcs11 = pkcs11\n[pkcs11]\nengine_id = pkcs11\n\
             MODULE_PATH = {}\ninit = 0\n",
            module.display()
        ),
    )
    .unwrap();
    let key = format!("pkcs11:object=CPS_PRIV_AUT;type=private;pin-value={TEST_PIN}");
    let page = run(tool("curl", "curl")
        .env("LECTEUR_SOCKET", &d.socket)
        .env("OPENSSL_CONF", &conf)
        .args([
            "-sS",
            "--engine",
            "pkcs11",
            "--cert-type",
            "ENG",
            "--key-type",
            "ENG",
        ])
        .args([
            "--cert",
            "pkcs11:object=Certificat%20d%27Authentification%20CPS;type=cert",
        ])
        .args(["--key", &key])
        .args(["--tlsv1.2", "--tls-max", "1.2", "-k"])
        .arg(format!("https://127.0.0.1:{port}/")));
    // s_server -www answers with what it saw, the client certificate included.
    assert!(page.contains("Client certificate"), "{page}");
    assert!(page.contains("CN=899900038839"), "{page}");
}
