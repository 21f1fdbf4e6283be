//! Signatures. The card builds the padding from a SHA-256 digest.
//! - CPS3 signature key: MSE `41 B6 {80 alg, 84 key}` then PSO CDS.
//! - CPS4, the signature key with PKCS#1 v1.5 or RSA-PSS, and the
//!   authentication key with RSA-PSS: MSE `81 B6 {91 02 alg key}` then PSO CDS.
//! - The authentication key with PKCS#1 v1.5: the command the profile names
//!   (`super::authenticate`): INTERNAL AUTHENTICATE on a CPS3, PSO DECIPHER of
//!   a host-built block on a CPS4.

use super::super::CardError;
use super::pso::{pso_cds, SignScheme};
use super::KeyUsage;
use crate::apdu::Exchange;
use crate::card::profile::CpsProfile;

/// Signs a SHA-256 digest. The PIN must have been verified (`PinRequired`
/// otherwise); the application must be selected.
pub fn sign(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    usage: KeyUsage,
    scheme: SignScheme,
    digest: &[u8],
) -> Result<Vec<u8>, CardError> {
    if digest.len() != 32 {
        return Err(CardError::Unsupported("a SHA-256 digest is 32 bytes".into()));
    }
    match (usage, scheme) {
        (KeyUsage::Authentication, SignScheme::Pkcs1Sha256) => {
            super::authenticate::pkcs1(ex, profile, &super::DigestAlg::Sha256.digest_info(digest))
        }
        _ => pso_cds(ex, profile, usage, scheme, digest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;
    use crate::card::profile::Profiles;

    const D: &str = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";

    fn sig() -> String {
        format!("{}9000", "AB".repeat(256))
    }

    #[test]
    fn cps3_signature_and_authentication() {
        let p = &Profiles::builtin().unwrap().cps3;
        let d = hex::decode(D).unwrap();
        let mut r = Replay::new([
            ("00224 1B606 800142 840181".replace(' ', ""), "9000".into()),
            (format!("002A9E9A20{D}"), "6100".into()),
            ("00C0000000".into(), sig()),
        ]);
        assert_eq!(
            sign(&mut r, p, KeyUsage::Signature, SignScheme::Pkcs1Sha256, &d)
                .unwrap()
                .len(),
            256
        );
        r.finish();
        let mut r = Replay::new([
            ("002241A406800102840182".to_string(), "9000".to_string()),
            (
                format!(
                    "0088000033{}{D}",
                    hex::encode_upper(crate::card::cps::DigestAlg::Sha256.prefix())
                ),
                "6982".into(),
            ),
        ]);
        let e = sign(&mut r, p, KeyUsage::Authentication, SignScheme::Pkcs1Sha256, &d);
        assert_eq!(e, Err(CardError::PinRequired));
        let mut r = Replay::new(Vec::<(String, String)>::new());
        let e = sign(&mut r, p, KeyUsage::Signature, SignScheme::PssSha256, &d);
        assert!(matches!(e, Err(CardError::Unsupported(_))));
    }

    #[test]
    fn cps4_pss_and_pkcs1_on_channel_1() {
        let p = &Profiles::builtin().unwrap().cps4;
        let d = hex::decode(D).unwrap();
        let mut r = Replay::new([
            ("01228 1B604 91022C90".replace(' ', ""), "9000".into()),
            (format!("012A9E9A20{D}"), "6100".into()),
            ("01C0000000".into(), sig()),
        ]);
        assert!(sign(&mut r, p, KeyUsage::Signature, SignScheme::PssSha256, &d).is_ok());
        r.finish();
        let mut r = Replay::new([
            ("012281B6049102 2CA0".replace(' ', ""), "9000".into()),
            (format!("012A9E9A20{D}"), "AB9000".into()),
        ]);
        let e = sign(&mut r, p, KeyUsage::Authentication, SignScheme::PssSha256, &d);
        assert!(matches!(e, Err(CardError::Malformed(_))));
        let e = sign(
            &mut r,
            p,
            KeyUsage::Authentication,
            SignScheme::Pkcs1Sha256,
            &d[..20],
        );
        assert!(matches!(e, Err(CardError::Unsupported(_))));
    }
}
