//! The CPS3 (IAS-ECC) application: serial, certificates, PIN and signatures.
//!
//! Card facts not public (file ids, PIN reference and encoding, the retry
//! counter read) sit in [`Profile`], not in the code paths.

use super::{expect_ok, files, CardError};
use crate::apdu::{transmit, Command, Exchange, StatusWord};
use sha2::{Digest, Sha256};

/// PKCS#15 application of the CPS3, contact interface.
pub const AID_CPS3: [u8; 13] = [
    0xE8, 0x28, 0xBD, 0x08, 0x0F, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x10,
];

/// The ANS issuer prefix of the card serial number (PAN) in EF.SN.ICC.
const PAN_PREFIX: &str = "8025000001";

/// DigestInfo prefix of SHA-256 (PKCS#1 v1.5).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
    0x05, 0x00, 0x04, 0x20,
];

/// Where things are on a given card generation.
pub struct Profile {
    pub sn_path: &'static [u8],
    pub sig_cert_path: &'static [u8],
    pub auth_cert_path: &'static [u8],
    pub pin_ref: u8,
    pub pin_min: usize,
    pub pin_max: usize,
    /// Largest READ BINARY the card accepts.
    pub read_chunk: usize,
}

/// CPS3 contact. The certificate file ids are the simulator's until PKCS#15
/// discovery replaces them (issue 3).
pub const CPS3: Profile = Profile {
    sn_path: &[0x3F, 0x00, 0xD0, 0x03],
    sig_cert_path: &[0x3F, 0x00, 0x00, 0x01, 0xE0, 0x01],
    auth_cert_path: &[0x3F, 0x00, 0x00, 0x01, 0xE0, 0x02],
    pin_ref: 0x01,
    pin_min: 4,
    pin_max: 8,
    read_chunk: 0xE7,
};

/// Which private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsage {
    /// `CPS_PRIV_SIG`, key ref 81, non-repudiation.
    Signature,
    /// `CPS_PRIV_AUT`, key ref 82, TLS client authentication.
    Authentication,
}

impl KeyUsage {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::Signature => "signature",
            KeyUsage::Authentication => "authentication",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PinStatus {
    pub tries_left: u8,
    pub tries_max: u8,
}

/// Selects the CPS application.
pub fn select(ex: &mut dyn Exchange) -> Result<(), CardError> {
    files::select_aid(ex, &AID_CPS3, "SELECT CPS application")
}

fn read_path(ex: &mut dyn Exchange, path: &[u8], what: &'static str) -> Result<Vec<u8>, CardError> {
    let size = files::select_ef(ex, 0x09, path, what)?;
    files::read_binary(ex, size, CPS3.read_chunk, what)
}

/// The card serial: EF.SN.ICC's PAN without the ANS issuer prefix.
pub fn serial(ex: &mut dyn Exchange) -> Result<String, CardError> {
    let raw = read_path(ex, CPS3.sn_path, "READ EF.SN.ICC")?;
    match raw.as_slice() {
        [0x5A, len, pan @ ..] if *len as usize == pan.len() && !pan.is_empty() => {
            let digits: String = hex::encode_upper(pan).trim_end_matches('F').to_string();
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CardError::Malformed("EF.SN.ICC is not BCD".into()));
            }
            Ok(digits.strip_prefix(PAN_PREFIX).unwrap_or(&digits).to_string())
        }
        _ => Err(CardError::Malformed("EF.SN.ICC is not a 5A object".into())),
    }
}

/// The DER certificate of a key.
pub fn certificate(ex: &mut dyn Exchange, usage: KeyUsage) -> Result<Vec<u8>, CardError> {
    let path = match usage {
        KeyUsage::Signature => CPS3.sig_cert_path,
        KeyUsage::Authentication => CPS3.auth_cert_path,
    };
    read_path(ex, path, "READ certificate")
}

/// Tries left and tries max, read without using a try (GET DATA on the CHV SDO).
pub fn pin_status(ex: &mut dyn Exchange) -> Result<PinStatus, CardError> {
    let query = [0x4D, 0x08, 0x70, 0x06, 0xBF, 0x81, CPS3.pin_ref, 0x02, 0xA0, 0x80];
    let resp = transmit(ex, &Command::new(0x00, 0xCB, 0x3F, 0xFF).data(query).le(256))?;
    let data = expect_ok(resp, "GET DATA PIN counter")?;
    let find = |tag: u8| {
        data.windows(3)
            .find(|w| w[0] == tag && w[1] == 0x01)
            .map(|w| w[2])
    };
    match (find(0x9A), find(0x9B)) {
        (Some(max), Some(left)) if left <= max => Ok(PinStatus {
            tries_left: left,
            tries_max: max,
        }),
        _ => Err(CardError::Malformed("PIN counter template lacks 9A/9B".into())),
    }
}

/// Checks a PIN's shape before it goes anywhere near the card.
pub fn check_pin_format(pin: &[u8]) -> Result<(), CardError> {
    if pin.len() < CPS3.pin_min || pin.len() > CPS3.pin_max {
        return Err(CardError::PinFormat("the PIN must have 4 to 8 digits"));
    }
    if !pin.iter().all(u8::is_ascii_digit) {
        return Err(CardError::PinFormat("the PIN must be digits only"));
    }
    Ok(())
}

/// Presents the PIN once. Never retried here or anywhere.
pub fn verify_pin(ex: &mut dyn Exchange, pin: &[u8]) -> Result<(), CardError> {
    check_pin_format(pin)?;
    let mut cmd = Command::new(0x00, 0x20, 0x00, CPS3.pin_ref).data(pin);
    let resp = transmit(ex, &cmd);
    zeroize::Zeroize::zeroize(&mut cmd.data);
    match resp?.sw {
        StatusWord::Ok => Ok(()),
        StatusWord::VerifyFailed(0) | StatusWord::Blocked | StatusWord::RefDataNotUsable => {
            Err(CardError::PinBlocked)
        }
        StatusWord::VerifyFailed(n) => Err(CardError::PinIncorrect { tries_left: n }),
        sw => Err(CardError::Status { what: "VERIFY", sw }),
    }
}

/// Signs a SHA-256 digest with PKCS#1 v1.5. The card builds the padding.
pub fn sign_sha256(ex: &mut dyn Exchange, usage: KeyUsage, digest: &[u8]) -> Result<Vec<u8>, CardError> {
    if digest.len() != 32 {
        return Err(CardError::Unsupported("a SHA-256 digest is 32 bytes".into()));
    }
    let resp = match usage {
        KeyUsage::Signature => {
            let mse = [0x80, 0x01, 0x42, 0x84, 0x01, 0x81];
            set_env(ex, 0xB6, &mse)?;
            transmit(ex, &Command::new(0x00, 0x2A, 0x9E, 0x9A).data(digest).le(256))?
        }
        KeyUsage::Authentication => {
            set_env(ex, 0xA4, &[0x80, 0x01, 0x02, 0x84, 0x01, 0x82])?;
            let mut di = SHA256_DIGEST_INFO.to_vec();
            di.extend_from_slice(digest);
            transmit(ex, &Command::new(0x00, 0x88, 0x00, 0x00).data(di).le(256))?
        }
    };
    match resp.sw {
        StatusWord::Ok if resp.data.len() == 256 => Ok(resp.data),
        StatusWord::Ok => Err(CardError::Malformed(format!(
            "signature of {} bytes",
            resp.data.len()
        ))),
        StatusWord::SecurityNotSatisfied => Err(CardError::PinRequired),
        sw => Err(CardError::Status { what: "signature", sw }),
    }
}

/// Hashes data on the host and signs the digest.
pub fn sign_data(ex: &mut dyn Exchange, usage: KeyUsage, data: &[u8]) -> Result<Vec<u8>, CardError> {
    sign_sha256(ex, usage, &Sha256::digest(data))
}

fn set_env(ex: &mut dyn Exchange, crt: u8, body: &[u8]) -> Result<(), CardError> {
    let resp = transmit(ex, &Command::new(0x00, 0x22, 0x41, crt).data(body))?;
    expect_ok(resp, "MSE SET").map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;

    #[test]
    fn reads_the_serial() {
        let mut r = Replay::new([
            ("00A4090404 3F00D003", "610A"),
            ("00C000000A", "6208 80020010 8302D003 9000"),
            ("00B0000010", "5A0A 8025000001 2500577253 9000"),
        ]);
        // FCI says 16 bytes, the card gives 12: the read must fail, not truncate.
        assert!(serial(&mut r).is_err());
        let mut r = Replay::new([
            ("00A4090404 3F00D003", "610A"),
            ("00C000000A", "6208 8002000C 8302D003 9000"),
            ("00B000000C", "5A0A 8025000001 2500577253 9000"),
        ]);
        assert_eq!(serial(&mut r).unwrap(), "2500577253");
    }

    #[test]
    fn wrong_pin_reports_tries_and_sends_once() {
        let mut r = Replay::new([("0020000104 31313131", "63C2")]);
        assert_eq!(verify_pin(&mut r, b"1111"), Err(CardError::PinIncorrect { tries_left: 2 }));
        r.finish();
        let mut r = Replay::new([("0020000104 31313131", "6983")]);
        assert_eq!(verify_pin(&mut r, b"1111"), Err(CardError::PinBlocked));
        assert!(matches!(verify_pin(&mut r, b"12a4"), Err(CardError::PinFormat(_))));
    }

    #[test]
    fn reads_the_pin_counter() {
        let mut r = Replay::new([
            ("00CB3FFF0A 4D087006BF810102A080", "610E"),
            ("00C000000E", "BF81010A A008 9A0103 9B0102 9D0101 9000"),
        ]);
        assert_eq!(pin_status(&mut r).unwrap(), PinStatus { tries_left: 2, tries_max: 3 });
    }
}
