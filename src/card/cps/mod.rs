//! The CPS (CPS3 = IAS-ECC, CPS4 = ChipDoc): serial, PKCS#15 discovery, data
//! objects, certificates, PIN, signatures and situations.
//!
//! Card facts that are not public (file ids, PIN reference and encoding, the
//! retry-counter read, tag maps) sit in the profile (`profiles/cps*.toml`),
//! not in the code paths. [`CpsCard`] is the entry point; the free functions
//! at the bottom are the CPS3-only API the service used before it, kept
//! with their behaviour until the service switches.

mod authenticate;
mod card;
mod cps2ter;
mod data_objects;
mod info;
mod layout;
mod objects;
mod pin;
mod pso;
mod select;
mod sign;
mod situations;
mod stamp;

pub use authenticate::{authenticate, max_input, parse_digest_info, DigestAlg};
pub use card::CpsCard;
pub use data_objects::read_data_objects;
pub use info::{read_info, read_info_at, CertificateInfo, CpsCardInfo, CpsHolder};
pub use layout::Layout;
pub use objects::RawObject;
pub use pin::PinStatus;
pub use pso::SignScheme;
pub use select::select_app;
pub use sign::sign;
pub use situations::{read_situations, Situation};
pub use stamp::{read_stamp, Actua, CardStamp};

use super::{files, CardError};
use crate::apdu::Exchange;
use crate::card::profile::{CpsProfile, Profiles};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// PKCS#15 application of the CPS3, contact interface.
pub const AID_CPS3: [u8; 13] = [
    0xE8, 0x28, 0xBD, 0x08, 0x0F, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x10,
];

/// Which private key: `Signature` is `CPS_PRIV_SIG` (non-repudiation),
/// `Authentication` `CPS_PRIV_AUT` (TLS client); the API's names.
pub use lecteur_proto::cps::KeyUsage;

fn cps3() -> Result<Arc<CpsProfile>, CardError> {
    Profiles::builtin()
        .map(|p| p.cps3.clone())
        .map_err(|e| CardError::Unsupported(format!("built-in CPS3 profile: {e}")))
}

/// Selects the CPS3 application.
pub fn select(ex: &mut dyn Exchange) -> Result<(), CardError> {
    files::select_aid(ex, &AID_CPS3, "SELECT CPS application")
}

/// The card serial: EF.SN.ICC's PAN without the ANS issuer prefix.
pub fn serial(ex: &mut dyn Exchange) -> Result<String, CardError> {
    let p = cps3()?;
    stamp::parse_serial(&layout::reader(&p).read(ex, &p.files.serial.0, "READ EF.SN.ICC")?)
}

/// The DER certificate of a key, at the profile's pinned file id.
pub fn certificate(ex: &mut dyn Exchange, usage: KeyUsage) -> Result<Vec<u8>, CardError> {
    let p = cps3()?;
    let l = layout::pinned_layout(&p);
    super::pkcs15::read_object(ex, &layout::reader(&p), l.certificate(usage), "READ certificate")
}

/// Tries left and tries max, read without using a try (GET DATA on the CHV
/// SDO in the current DF).
pub fn pin_status(ex: &mut dyn Exchange) -> Result<PinStatus, CardError> {
    pin::get_data(ex, &*cps3()?)
}

/// Checks a PIN's shape before it goes anywhere near the card.
pub fn check_pin_format(pin: &[u8]) -> Result<(), CardError> {
    pin::check_format(&*cps3()?, pin)
}

/// Presents the PIN once. Never retried here or anywhere.
pub fn verify_pin(ex: &mut dyn Exchange, pin: &[u8]) -> Result<(), CardError> {
    pin::verify(ex, &*cps3()?, pin)
}

/// Signs a SHA-256 digest with PKCS#1 v1.5. The card builds the padding.
pub fn sign_sha256(ex: &mut dyn Exchange, usage: KeyUsage, digest: &[u8]) -> Result<Vec<u8>, CardError> {
    sign::sign(ex, &*cps3()?, usage, SignScheme::Pkcs1Sha256, digest)
}

/// Hashes data on the host and signs the digest.
pub fn sign_data(ex: &mut dyn Exchange, usage: KeyUsage, data: &[u8]) -> Result<Vec<u8>, CardError> {
    sign_sha256(ex, usage, &Sha256::digest(data))
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
        assert_eq!(
            verify_pin(&mut r, b"1111"),
            Err(CardError::PinIncorrect { tries_left: 2 })
        );
        r.finish();
        let mut r = Replay::new([("0020000104 31313131", "6983")]);
        assert_eq!(verify_pin(&mut r, b"1111"), Err(CardError::PinBlocked));
        assert!(matches!(
            verify_pin(&mut r, b"12a4"),
            Err(CardError::PinFormat(_))
        ));
    }

    #[test]
    fn reads_the_pin_counter() {
        let mut r = Replay::new([
            ("00CB3FFF0A 4D087006BF810102A080", "610E"),
            ("00C000000E", "BF81010A A008 9A0103 9B0102 9D0101 9000"),
        ]);
        assert_eq!(
            pin_status(&mut r).unwrap(),
            PinStatus {
                tries_left: 2,
                tries_max: 3,
                ..Default::default()
            }
        );
    }
}
