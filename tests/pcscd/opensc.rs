//! The simulated CPS3 read by an IAS-ECC implementation nobody here wrote:
//! OpenSC's `iasecc` driver (pkcs15-tool, pkcs11-tool with opensc-pkcs11)
//! through the real pcscd, without lecteurd. It lists both keys and both
//! certificates, logs in, refuses a wrong PIN, and signs with the
//! authentication key; openssl verifies the signature against the
//! certificate OpenSC read. See docs/opensc.md.

use crate::common::vpcd::*;
use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const OPENSC_PKCS11: &str = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";
/// The CKA_ID (PKCS#15 iD) of the authentication key and its certificate.
const AUTH_ID: &str = "e828bd080f8025000001ff001002";
const SIG_ID: &str = "e828bd080f8025000001ff001001";
/// DigestInfo prefix of a SHA-256 hash (PKCS#1 v1.5).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    0x04, 0x20,
];

/// Whether OpenSC and openssl are installed; they are test dependencies
/// (scripts/install-deps.sh), required where the suite requires pcscd.
fn tools_ready() -> bool {
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
            .unwrap_or(false)
    };
    let missing: Vec<&str> = ["pkcs15-tool", "pkcs11-tool", "openssl"]
        .into_iter()
        .filter(|t| !on_path(t))
        .chain(Some(OPENSC_PKCS11).filter(|m| !Path::new(m).exists()))
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("LECTEUR_REQUIRE_PCSCD").as_deref() != Ok("1"),
        "{missing:?} missing: apt-get install opensc opensc-pkcs11 openssl (scripts/install-deps.sh does)"
    );
    eprintln!("SKIPPED: {missing:?} not installed");
    false
}

/// An OpenSC tool with its home (file cache, if configured) in the test's directory.
fn opensc(dir: &Path, tool: &str) -> Command {
    let mut c = Command::new(tool);
    c.env("HOME", dir).env_remove("OPENSC_DEBUG").stdin(Stdio::null());
    c
}

fn pkcs11_tool(dir: &Path) -> Command {
    let mut c = opensc(dir, "pkcs11-tool");
    c.args(["--module", OPENSC_PKCS11]);
    c
}

fn output(cmd: &mut Command) -> (Output, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

/// Runs a command that must succeed; its output.
fn run(cmd: &mut Command) -> String {
    let (out, text) = output(cmd);
    assert!(out.status.success(), "{cmd:?} failed: {text}");
    text
}

/// The lines of `text` that start (after indentation) with `prefix`.
fn lines<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with(prefix))
        .collect()
}

#[test]
fn opensc_lists_the_keys_and_certificates_of_the_simulated_cps3() {
    if !tools_ready() {
        return;
    }
    let Some(w) = cps3_alone() else { return };
    let dir = w.dir.path();

    let dump = run(opensc(dir, "pkcs15-tool").args(["--reader", "0", "--dump"]));
    assert_eq!(
        lines(&dump, "Private RSA Key ["),
        ["Private RSA Key [CPS_PRIV_SIG]", "Private RSA Key [CPS_PRIV_AUT]"],
        "{dump}"
    );
    assert_eq!(
        lines(&dump, "X.509 Certificate ["),
        [
            "X.509 Certificate [Certificat de Signature CPS]",
            "X.509 Certificate [Certificat d'Authentification CPS]"
        ],
        "{dump}"
    );
    // The driver gives each key the card's algorithms, from TokenInfo:
    // SHA1/SHA256-RSA for the signature key, RSA-PKCS for the other.
    assert_eq!(
        lines(&dump, "Algo_refs"),
        ["Algo_refs      : 3, 4", "Algo_refs      : 5"],
        "{dump}"
    );
    assert!(dump.contains("Reference      : 1 (0x01)"), "{dump}");

    let objects = run(pkcs11_tool(dir).arg("--list-objects"));
    assert_eq!(lines(&objects, "Certificate Object").len(), 2, "{objects}");
    assert_eq!(lines(&objects, "Public Key Object").len(), 2, "{objects}");
    // Private keys only after the login; free data objects read through the
    // IAS-ECC READ BINARY chunking.
    assert!(lines(&objects, "Private Key Object").is_empty(), "{objects}");
    for label in ["CPS_ID_CARD", "CPS_NAME_PS", "CPS_INFO_PS", "CPS_DATA"] {
        assert!(objects.contains(&format!("'{label}'")), "{label}: {objects}");
    }
    assert!(!objects.contains("CPS_ACTIVITY_01_PS"), "{objects}");

    // C_GenerateRandom: GET CHALLENGE, 8 bytes at a time (IAS-ECC).
    let random = dir.join("random");
    run(pkcs11_tool(dir)
        .args(["--generate-random", "20", "-o"])
        .arg(&random));
    assert_eq!(std::fs::read(&random).unwrap().len(), 20);
}

/// Signs `digest_info` with the authentication key (CKM_RSA_PKCS, the card
/// pads), in a session of its own; the signature file.
fn sign_rsa_pkcs(dir: &Path, digest_info: &Path, n: usize) -> PathBuf {
    let sig = dir.join(format!("sig{n}"));
    run(pkcs11_tool(dir)
        .args([
            "--login", "--pin", "1234", "--sign", "-m", "RSA-PKCS", "--id", AUTH_ID,
        ])
        .arg("-i")
        .arg(digest_info)
        .arg("-o")
        .arg(&sig));
    sig
}

#[test]
fn opensc_logs_in_and_signs_with_the_authentication_key() {
    if !tools_ready() {
        return;
    }
    let Some(w) = cps3_alone() else { return };
    let dir = w.dir.path();

    // A wrong PIN is refused, and costs a try (VERIFY reaches the card).
    let (out, text) = output(pkcs11_tool(dir).args(["--login", "--pin", "9999", "--list-objects"]));
    assert!(!out.status.success(), "a wrong PIN was accepted: {text}");
    assert!(text.contains("CKR_PIN_INCORRECT"), "{text}");
    assert_eq!(counter(&w.cards.cps_control, "verify"), 1);

    let objects = run(pkcs11_tool(dir).args(["--login", "--pin", "1234", "--list-objects"]));
    assert_eq!(lines(&objects, "Private Key Object").len(), 2, "{objects}");
    // The protected situations are readable once logged in.
    assert!(objects.contains("'CPS_ACTIVITY_01_PS'"), "{objects}");

    let cert = dir.join("auth.der");
    run(pkcs11_tool(dir)
        .args(["--read-object", "--type", "cert", "--id", AUTH_ID, "-o"])
        .arg(&cert));
    let cert_der = std::fs::read(&cert).unwrap();

    // The caller's DigestInfo; the card adds the PKCS#1 padding. Twice, as
    // an application signing repeatedly would.
    let message = b"issue 12: OpenSC signs on the simulated CPS3";
    let data = dir.join("message");
    std::fs::write(&data, message).unwrap();
    let mut digest_info = SHA256_DIGEST_INFO.to_vec();
    digest_info.extend(sha2_digest(message));
    let di = dir.join("digest-info");
    std::fs::write(&di, &digest_info).unwrap();
    for n in 0..2 {
        let sig = sign_rsa_pkcs(dir, &di, n);
        let signature = std::fs::read(&sig).unwrap();
        assert_eq!(signature.len(), 256);
        assert!(
            openssl_verifies(dir, &cert, &data, &sig),
            "openssl refused signature {n}"
        );
        assert!(verify_signature(&cert_der, message, &signature));
        assert!(!verify_signature(&cert_der, b"another message", &signature));
    }

    // OpenSC 0.23 built with OpenSSL 3 cannot hash-and-sign on a CPx,
    // whatever the card answers (docs/opensc.md): if a later build can,
    // its signature must verify.
    let sig = dir.join("sig-sha256");
    let (out, text) = output(
        pkcs11_tool(dir)
            .args([
                "--login",
                "--pin",
                "1234",
                "--sign",
                "-m",
                "SHA256-RSA-PKCS",
                "--id",
                SIG_ID,
            ])
            .arg("-i")
            .arg(&data)
            .arg("-o")
            .arg(&sig),
    );
    if out.status.success() {
        let sig_cert = dir.join("sig.der");
        run(pkcs11_tool(dir)
            .args(["--read-object", "--type", "cert", "--id", SIG_ID, "-o"])
            .arg(&sig_cert));
        assert!(openssl_verifies(dir, &sig_cert, &data, &sig), "{text}");
    } else {
        assert!(text.contains("CKR_FUNCTION_NOT_SUPPORTED"), "{text}");
    }
}

fn sha2_digest(data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(data).to_vec()
}

/// `openssl dgst -sha256 -verify` with the public key of a DER certificate.
fn openssl_verifies(dir: &Path, cert: &Path, data: &Path, sig: &Path) -> bool {
    let pem = run(Command::new("openssl")
        .args(["x509", "-inform", "der", "-pubkey", "-noout", "-in"])
        .arg(cert));
    let pubkey = dir.join("key.pub");
    std::fs::write(&pubkey, pem).unwrap();
    let (out, text) = output(
        Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(&pubkey)
            .arg("-signature")
            .arg(sig)
            .arg(data),
    );
    out.status.success() && text.contains("Verified OK")
}
