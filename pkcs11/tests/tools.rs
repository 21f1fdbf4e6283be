//! The module as independent clients load it: OpenSC's pkcs11-tool (slots,
//! objects, login, signatures with both keys checked by openssl against the
//! certificate read through the module, the public keys, its own `--test`),
//! NSS as a browser loads it (modutil, certutil, a CMS signature by cmsutil
//! that openssl verifies), and a mutual TLS 1.2 handshake where gnutls-cli
//! takes its client key through the module and `openssl s_server` demands a
//! certificate from the simulator's CA.

mod common;

use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Cryptolib's CKA_ID of the CPS3 keys: PKCS#15 AID ‖ key id.
const SIG_ID: &str = "e828bd080f8025000001ff001001";
const AUTH_ID: &str = "e828bd080f8025000001ff001002";
/// The CPS4's: key ids 10 and 20 (Cryptolib's).
const CPS4_SIG_ID: &str = "e828bd080f8025000001ff001010";
const CPS4_AUTH_ID: &str = "e828bd080f8025000001ff001020";

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
    // The public keys are public.
    assert_eq!(
        objects.matches("Public Key Object; RSA 2048 bits").count(),
        2,
        "{objects}"
    );
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

/// OpenSC's own PKCS#11 test (`pkcs11-tool --test`), which reports its
/// findings on stdout (its exit status does not count them). On this token
/// it signs with the authentication key by every mechanism both know, then
/// with the signature key, checking each signature with openssl; then signs
/// and verifies through the module (C_Verify on the public key object). The
/// one error it finds is the signature key's CKM_RSA_PKCS over a SHA-1
/// DigestInfo: lecteur signs with that key over SHA-256 only (the card builds
/// the DigestInfo). Anything else it reports is a failure here.
#[test]
fn opensc_pkcs11_test_finds_no_other_fault() {
    let d = Daemon::start(&["cps3", "vitale2"]);
    let out = run(pkcs11_tool(&d).args(["--test", "--login", "--pin", TEST_PIN]));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    let after = |heading: &str, n: usize| -> Vec<&str> {
        let at = lines
            .iter()
            .position(|l| l.starts_with(heading))
            .unwrap_or_else(|| panic!("no {heading:?}: {out}"));
        lines[at + 1..].iter().take(n).copied().collect()
    };
    assert_eq!(
        after("Signatures", 7),
        [
            "testing key 0 (CPS_PRIV_AUT)",
            "all 4 signature functions seem to work",
            "testing signature mechanisms:",
            "RSA-PKCS: OK",
            "SHA256-RSA-PKCS: OK",
            "testing key 1 (CPS_PRIV_SIG) with 1 mechanism",
            "SHA256-RSA-PKCS: OK",
        ],
        "{out}"
    );
    assert_eq!(
        after("Verify", 4),
        [
            "testing key 0 (CPS_PRIV_AUT)",
            "RSA-PKCS: OK",
            "testing key 1 (CPS_PRIV_SIG) with 1 mechanism",
            "RSA-PKCS:   ERR: C_Sign() returned CKR_DATA_INVALID (0x20)",
        ],
        "{out}"
    );
    let errors: Vec<&&str> = lines.iter().filter(|l| l.contains("ERR")).collect();
    assert_eq!(errors.len(), 1, "{out}");
    assert!(lines.contains(&"RNG not available"), "{out}");
    assert!(lines.contains(&"1 errors"), "{out}");
}

/// The public keys as pkcs11-tool reads them are the certificates' (openssl
/// reads both), and pkcs11-tool verifies through the module what the card
/// signed, without logging in. On a CPS3 and on a CPS4.
#[test]
fn public_keys_are_the_certificates_and_verify() {
    public_keys_on("cps3", [SIG_ID, AUTH_ID]);
    public_keys_on("cps4", [CPS4_SIG_ID, CPS4_AUTH_ID]);
}

/// The public key checks on a card; `ids`: the signature and authentication
/// keys'.
fn public_keys_on(card: &str, ids: [&str; 2]) {
    let d = Daemon::start(&[card, "vitale2"]);
    let dir = d.dir.path();
    let data = dir.join("ordonnance.txt");
    std::fs::write(&data, b"ordonnance du jour").unwrap();
    for (id, usage) in ids.into_iter().zip(["signature", "authentication"]) {
        let key = dir.join(format!("{usage}.pub.der"));
        run(pkcs11_tool(&d)
            .args(["--read-object", "--type", "pubkey", "--id", id, "-o"])
            .arg(&key));
        // openssl parses it and writes it back the same.
        let again = dir.join("again.der");
        run(openssl()
            .args(["pkey", "-pubin", "-inform", "DER", "-outform", "DER", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&again));
        let cert = dir.join(format!("{usage}.der"));
        std::fs::write(&cert, d.certificate(usage)).unwrap();
        let from_cert = run(openssl()
            .args(["x509", "-inform", "der", "-pubkey", "-noout", "-in"])
            .arg(&cert));
        let pem = dir.join("cert.pub.pem");
        std::fs::write(&pem, from_cert).unwrap();
        let cert_key = dir.join("cert.pub.der");
        run(openssl()
            .args(["pkey", "-pubin", "-outform", "DER", "-in"])
            .arg(&pem)
            .arg("-out")
            .arg(&cert_key));
        let read = std::fs::read(&key).unwrap();
        assert_eq!(read, std::fs::read(&again).unwrap(), "{usage}");
        assert_eq!(read, std::fs::read(&cert_key).unwrap(), "{usage}");

        let sig = dir.join(format!("{usage}.sig"));
        run(pkcs11_tool(&d)
            .args(["--login", "--pin", TEST_PIN, "--sign", "-m", "SHA256-RSA-PKCS"])
            .args(["--id", id, "-i"])
            .arg(&data)
            .arg("-o")
            .arg(&sig));
        let verify = |file: &Path| {
            run(pkcs11_tool(&d)
                .args(["--verify", "-m", "SHA256-RSA-PKCS", "--id", id, "-i"])
                .arg(file)
                .arg("--signature-file")
                .arg(&sig))
        };
        let out = verify(&data);
        assert!(out.contains("Signature is valid"), "{card} {usage}: {out}");
        let other = dir.join("other.txt");
        std::fs::write(&other, b"ordonnance du jouR").unwrap();
        let out = verify(&other);
        assert!(out.contains("Invalid signature"), "{card} {usage}: {out}");
    }
}

/// NSS as a browser loads the module: modutil adds it to a throwaway
/// database, certutil lists the CPS certificates and, with the PIN, the
/// keys; cmsutil signs with each key, and openssl verifies the CMS
/// signatures up to the simulator's CA. On a CPS3 and on a CPS4.
#[test]
fn nss_lists_certificates_and_keys_and_signs() {
    nss_on("cps3", [AUTH_ID, SIG_ID]);
    nss_on("cps4", [CPS4_AUTH_ID, CPS4_SIG_ID]);
}

/// The NSS checks on a card; `ids`: the authentication and signature keys'.
fn nss_on(card: &str, ids: [&str; 2]) {
    let d = Daemon::start(&[card, "vitale2"]);
    let dir = d.dir.path();
    let db = format!("sql:{}", dir.join("nssdb").display());
    std::fs::create_dir(dir.join("nssdb")).unwrap();
    let pw = dir.join("pin.txt");
    std::fs::write(&pw, format!("{TEST_PIN}\n")).unwrap();
    let nss = |name: &str| {
        let mut c = tool(name, "libnss3-tools");
        c.env("LECTEUR_SOCKET", &d.socket);
        c
    };
    run(nss("certutil").args(["-N", "-d", &db, "--empty-password"]));
    run(nss("modutil")
        .args(["-dbdir", &db, "-add", "lecteur", "-force", "-libfile"])
        .arg(module_path()));
    let modules = run(nss("modutil").args(["-dbdir", &db, "-list", "lecteur"]));
    let token = modules
        .lines()
        .find_map(|l| l.trim().strip_prefix("Token Name:"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no token: {modules}"))
        .to_string();
    assert!(token.starts_with("CPS "), "{modules}");
    assert!(
        modules.contains(&format!("Token Model: {}", card.to_uppercase())),
        "{modules}"
    );

    let certs = run(nss("certutil")
        .args(["-L", "-d", &db, "-h", "all", "-f"])
        .arg(&pw));
    for label in ["Certificat d'Authentification CPS", "Certificat de Signature CPS"] {
        assert!(certs.contains(&format!("{token}:{label}")), "{label}: {certs}");
    }
    let keys = run(nss("certutil")
        .args(["-K", "-d", &db, "-h", &token, "-f"])
        .arg(&pw));
    for (id, label) in ids.into_iter().zip(["CPS_PRIV_AUT", "CPS_PRIV_SIG"]) {
        assert!(
            keys.lines()
                .any(|l| l.contains("rsa") && l.contains(id) && l.contains(label)),
            "{label}: {keys}"
        );
    }

    let data = dir.join("ordonnance.txt");
    std::fs::write(&data, b"ordonnance du jour\n").unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, lecteur_sim::pki::CA_CERT_PEM).unwrap();
    let other = dir.join("other.txt");
    std::fs::write(&other, b"ordonnance du jouR\n").unwrap();
    // Each key through NSS: the signature certificate as an e-mail signer
    // (cmsutil's default usage), the authentication one as a TLS client
    // (usage 0) as a browser takes it; NSS signs a DigestInfo it builds
    // with CKM_RSA_PKCS.
    for (label, usage, nss_usage) in [
        ("Certificat de Signature CPS", "signature", "4"),
        ("Certificat d'Authentification CPS", "authentication", "0"),
    ] {
        let cms = dir.join(format!("{usage}.p7s"));
        run(nss("cmsutil")
            .args(["-S", "-d", &db, "-T", "-Y", "NONE", "-u", nss_usage, "-N"])
            .arg(format!("{token}:{label}"))
            .arg("-f")
            .arg(&pw)
            .arg("-i")
            .arg(&data)
            .arg("-o")
            .arg(&cms));
        let signer = dir.join("signer.pem");
        let cms_verify = |content: &Path| {
            openssl()
                .args(["cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any"])
                .arg("-in")
                .arg(&cms)
                .arg("-content")
                .arg(content)
                .arg("-CAfile")
                .arg(&ca)
                .arg("-signer")
                .arg(&signer)
                .args(["-out", "/dev/null"])
                .stdin(Stdio::null())
                .output()
                .expect("openssl cms")
        };
        let out = cms_verify(&data);
        assert!(
            out.status.success(),
            "{card} {usage}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Signed with that certificate's key.
        let signer_der = dir.join("signer.der");
        run(openssl()
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&signer)
            .arg("-out")
            .arg(&signer_der));
        assert_eq!(std::fs::read(&signer_der).unwrap(), d.certificate(usage));
        assert!(!cms_verify(&other).status.success(), "a changed text verifies");
    }
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
