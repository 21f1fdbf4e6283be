//! Client authentication (TLS) with the authentication key, over the
//! DigestInfo a TLS client hands over. PKCS#1 v1.5 goes through the command
//! the profile names (`[authentication] pkcs1`):
//! - `internal_authenticate` (CPS3): MSE `41 A4` then INTERNAL AUTHENTICATE
//!   over the DigestInfo as it is; the card adds the PKCS#1 type 01 padding,
//!   so any hash fits, up to the IAS-ECC input limit (40 % of the modulus).
//! - `decipher` (CPS4, Cryptolib `card-cps4.c`: the ChipDoc has no INTERNAL
//!   AUTHENTICATE): MSE `41 B8 {83 01 key}` then PSO DECIPHER `2A 80 86`,
//!   chained, over the PKCS#1 type 01 block the host builds around the
//!   DigestInfo; the card's raw RSA result is the signature. Any hash fits.
//! - `pso_cds`: MSE for signature then PSO CDS over a SHA-256 digest.
//!
//! RSA-PSS (CPS4): PSO CDS over a SHA-256 digest, so only SHA-256 fits.

use super::super::CardError;
use super::pso::{self, signature_of, SignScheme};
use super::KeyUsage;
use crate::apdu::{transmit, transmit_chained, Command, Exchange};
use crate::card::profile::{AuthPkcs1, CpsProfile};

// What a DigestInfo is belongs to the API contract (`digest_info_b64`):
// the PKCS#11 module parses it too.
pub use lecteur_proto::{parse_digest_info, DigestAlg};

/// The longest INTERNAL AUTHENTICATE input a key of `modulus_bits` takes.
pub fn max_input(modulus_bits: usize) -> usize {
    modulus_bits / 8 * 40 / 100
}

/// Signs a DigestInfo with the authentication key. The PIN must have been
/// verified (`PinRequired` otherwise); the application must be selected.
pub fn authenticate(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    scheme: SignScheme,
    digest_info: &[u8],
) -> Result<Vec<u8>, CardError> {
    let Some((alg, digest)) = parse_digest_info(digest_info) else {
        return Err(CardError::Unsupported("not a PKCS#1 DigestInfo".into()));
    };
    match scheme {
        SignScheme::Pkcs1Sha256 => pkcs1(ex, profile, digest_info),
        SignScheme::PssSha256 if alg == DigestAlg::Sha256 => {
            pso::pso_cds(ex, profile, KeyUsage::Authentication, scheme, digest)
        }
        SignScheme::PssSha256 => Err(CardError::Unsupported(
            "RSA-PSS on the card signs SHA-256 digests only".into(),
        )),
    }
}

/// A PKCS#1 v1.5 signature of a DigestInfo with the authentication key,
/// through the command the profile names.
pub(super) fn pkcs1(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    digest_info: &[u8],
) -> Result<Vec<u8>, CardError> {
    let key = profile.keys.authentication;
    let cla = profile.application.cla;
    match profile.authentication_pkcs1() {
        AuthPkcs1::InternalAuthenticate => {
            if digest_info.len() > max_input(key.modulus_bits) {
                return Err(CardError::Unsupported(format!(
                    "a DigestInfo of {} bytes is beyond the key's limit of {}",
                    digest_info.len(),
                    max_input(key.modulus_bits)
                )));
            }
            let mech = profile
                .algorithms
                .authentication_pkcs1
                .ok_or_else(|| CardError::Unsupported("no authentication algorithm in the profile".into()))?;
            pso::set_env(
                ex,
                cla,
                0x41,
                0xA4,
                &[0x80, 0x01, mech, 0x84, 0x01, key.reference],
            )?;
            let cmd = Command::new(cla, 0x88, 0x00, 0x00).data(digest_info).le(256);
            signature_of(transmit(ex, &cmd)?, key.modulus_bits / 8)
        }
        AuthPkcs1::PsoCds => match parse_digest_info(digest_info) {
            Some((DigestAlg::Sha256, digest)) => pso::pso_cds(
                ex,
                profile,
                KeyUsage::Authentication,
                SignScheme::Pkcs1Sha256,
                digest,
            ),
            _ => Err(CardError::Unsupported(
                "PSO CDS builds the DigestInfo itself: SHA-256 only".into(),
            )),
        },
        AuthPkcs1::Decipher => {
            let id = profile
                .authentication
                .and_then(|a| a.decipher_key)
                .ok_or_else(|| CardError::Unsupported("no decipher key id in the profile".into()))?;
            let block = type01_block(digest_info, key.modulus_bits / 8)?;
            pso::set_env(ex, cla, 0x41, 0xB8, &[0x83, 0x01, id])?;
            let cmd = Command::new(cla, 0x2A, 0x80, 0x86).data(block).le(256);
            signature_of(transmit_chained(ex, &cmd)?, key.modulus_bits / 8)
        }
    }
}

/// The PKCS#1 v1.5 type 01 block of a `k`-byte modulus (RFC 8017 §9.2):
/// `00 01 FF…FF 00 ‖ DigestInfo`, at least 8 bytes of `FF`.
pub(super) fn type01_block(digest_info: &[u8], k: usize) -> Result<Vec<u8>, CardError> {
    let Some(ps) = k.checked_sub(digest_info.len() + 3).filter(|n| *n >= 8) else {
        return Err(CardError::Unsupported(format!(
            "a DigestInfo of {} bytes does not fit a {k}-byte key",
            digest_info.len()
        )));
    };
    let mut block = Vec::with_capacity(k);
    block.extend_from_slice(&[0x00, 0x01]);
    block.resize(2 + ps, 0xFF);
    block.push(0x00);
    block.extend_from_slice(digest_info);
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;
    use crate::card::profile::Profiles;
    use sha2::Digest;

    #[test]
    fn the_contract_digest_infos_are_the_rsa_crate_ones() {
        use rsa::pkcs1v15::Pkcs1v15Sign;
        let table = [
            (DigestAlg::Sha1, Pkcs1v15Sign::new::<sha1::Sha1>()),
            (DigestAlg::Sha224, Pkcs1v15Sign::new::<sha2::Sha224>()),
            (DigestAlg::Sha256, Pkcs1v15Sign::new::<sha2::Sha256>()),
            (DigestAlg::Sha384, Pkcs1v15Sign::new::<sha2::Sha384>()),
            (DigestAlg::Sha512, Pkcs1v15Sign::new::<sha2::Sha512>()),
        ];
        for (alg, rsa) in table {
            assert_eq!(alg.prefix(), &rsa.prefix[..], "{alg:?}");
            assert_eq!(Some(alg.hash_len()), rsa.hash_len, "{alg:?}");
        }
    }

    #[test]
    fn the_builtin_pin_lengths_are_the_contract_ones() {
        let p = Profiles::builtin().unwrap();
        for pin in [&p.cps3.pin, &p.cps4.pin] {
            let range = pin.min_length..=pin.max_length;
            assert_eq!(range, lecteur_proto::cps::PIN_LENGTH);
        }
    }

    #[test]
    fn digest_infos_of_every_tls_hash() {
        let d = sha2::Sha384::digest(b"x");
        let di = DigestAlg::Sha384.digest_info(&d);
        assert_eq!(di.len(), 19 + 48);
        assert_eq!(parse_digest_info(&di), Some((DigestAlg::Sha384, &d[..])));
        let d = sha2::Sha256::digest(b"x");
        let di = DigestAlg::Sha256.digest_info(&d);
        // A digest of the wrong length, a bare digest, garbage: refused.
        assert_eq!(parse_digest_info(&di[..50]), None);
        assert_eq!(parse_digest_info(&d), None);
        assert_eq!(parse_digest_info(&[]), None);
        assert_eq!(max_input(2048), 102);
    }

    #[test]
    fn cps3_sends_the_digest_info_as_it_is() {
        let p = &Profiles::builtin().unwrap().cps3;
        let di = DigestAlg::Sha512.digest_info(&sha2::Sha512::digest(b"x"));
        let mut r = Replay::new([
            ("002241A406800102840182".to_string(), "9000".to_string()),
            (
                format!("0088000053{}", hex::encode_upper(&di)),
                format!("{}9000", "AB".repeat(256)),
            ),
        ]);
        assert_eq!(
            authenticate(&mut r, p, SignScheme::Pkcs1Sha256, &di)
                .unwrap()
                .len(),
            256
        );
        r.finish();
        let mut r = Replay::new(Vec::<(String, String)>::new());
        let e = authenticate(&mut r, p, SignScheme::PssSha256, &di);
        assert!(matches!(e, Err(CardError::Unsupported(_))));
    }

    #[test]
    fn cps4_pss_is_pso_cds_over_sha256() {
        let p = &Profiles::builtin().unwrap().cps4;
        let d = sha2::Sha256::digest(b"x");
        let mut r = Replay::new([
            ("012281B60491022CA0".to_string(), "9000".to_string()),
            (
                format!("012A9E9A20{}", hex::encode_upper(d)),
                format!("{}9000", "AB".repeat(256)),
            ),
        ]);
        let di = DigestAlg::Sha256.digest_info(&d);
        assert!(authenticate(&mut r, p, SignScheme::PssSha256, &di).is_ok());
        r.finish();
        let di = DigestAlg::Sha384.digest_info(&sha2::Sha384::digest(b"x"));
        let mut r = Replay::new(Vec::<(String, String)>::new());
        let e = authenticate(&mut r, p, SignScheme::PssSha256, &di);
        assert!(matches!(e, Err(CardError::Unsupported(_))));
    }

    #[test]
    fn cps4_pkcs1_is_pso_decipher_of_a_host_built_block() {
        let p = &Profiles::builtin().unwrap().cps4;
        let di = DigestAlg::Sha384.digest_info(&sha2::Sha384::digest(b"x"));
        let block = type01_block(&di, 256).unwrap();
        assert_eq!(block.len(), 256);
        assert_eq!(&block[..3], [0x00, 0x01, 0xFF]);
        assert_eq!(block[256 - di.len() - 1], 0x00);
        assert!(block[2..256 - di.len() - 1].iter().all(|b| *b == 0xFF));
        let mut r = Replay::new([
            ("01224 1B803 830120".replace(' ', ""), "9000".to_string()),
            (
                format!("112A8086FF{}", hex::encode_upper(&block[..255])),
                "9000".into(),
            ),
            (
                format!("012A808601{}", hex::encode_upper(&block[255..])),
                "6100".into(),
            ),
            ("01C0000000".into(), format!("{}9000", "AB".repeat(256))),
        ]);
        let sig = authenticate(&mut r, p, SignScheme::Pkcs1Sha256, &di).unwrap();
        assert_eq!(sig, vec![0xAB; 256]);
        r.finish();
        // Without the PIN: the card's 69 82 on the last chunk.
        let mut r = Replay::new([
            ("012241B803830120".to_string(), "9000".to_string()),
            (
                format!("112A8086FF{}", hex::encode_upper(&block[..255])),
                "9000".into(),
            ),
            (
                format!("012A808601{}", hex::encode_upper(&block[255..])),
                "6982".into(),
            ),
        ]);
        let e = authenticate(&mut r, p, SignScheme::Pkcs1Sha256, &di);
        assert_eq!(e, Err(CardError::PinRequired));
        // A DigestInfo that leaves no room for the padding.
        assert!(type01_block(&[0; 246], 256).is_err());
        assert_eq!(type01_block(&[0; 245], 256).unwrap().len(), 256);
    }
}
