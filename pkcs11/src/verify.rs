//! A verification with a public key object, in software (RustCrypto `rsa`):
//! applications that check a signature the token made, or test the token
//! (OpenSC's `pkcs11-tool --test`), do it on the token's public key. The
//! mechanisms are the token's signing ones, with the same inputs:
//! - `CKM_RSA_PKCS`: the data is what was signed (a DigestInfo), up to the
//!   modulus size less the 11 bytes of PKCS#1 v1.5 padding;
//! - `CKM_RSA_PKCS_PSS`: a SHA-256 digest; PSS parameters SHA-256,
//!   MGF1-SHA-256, salt 32, as for signing;
//! - `CKM_SHA256_RSA_PKCS(_PSS)`: the data, hashed here (multi-part).
//!
//! Results per PKCS#11: a signature of the wrong length is
//! `CKR_SIGNATURE_LEN_RANGE`, a wrong one `CKR_SIGNATURE_INVALID`.

use crate::error::Result;
use crate::input::{Input, PKCS1_OVERHEAD};
use crate::sign::pss_params;
use cryptoki_sys::*;
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::traits::PublicKeyParts;
use rsa::{Pss, RsaPublicKey};
use sha2::Sha256;

const SHA256_LEN: usize = 32;

pub(crate) struct VerifyOp {
    mechanism: CK_MECHANISM_TYPE,
    key: RsaPublicKey,
    input: Input,
}

impl VerifyOp {
    /// `m` was checked against the token's mechanism list.
    pub(crate) fn new(m: &CK_MECHANISM, key: RsaPublicKey) -> Result<VerifyOp> {
        match m.mechanism {
            CKM_RSA_PKCS_PSS | CKM_SHA256_RSA_PKCS_PSS => pss_params(m)?,
            CKM_RSA_PKCS | CKM_SHA256_RSA_PKCS if m.ulParameterLen != 0 => {
                return Err(CKR_MECHANISM_PARAM_INVALID)
            }
            CKM_RSA_PKCS | CKM_SHA256_RSA_PKCS => {}
            _ => return Err(CKR_MECHANISM_INVALID),
        }
        Ok(VerifyOp {
            mechanism: m.mechanism,
            input: Input::new(m.mechanism, key.size()),
            key,
        })
    }

    pub(crate) fn update(&mut self, data: &[u8]) -> Result<()> {
        self.input.update(data)
    }

    /// Checks `signature` over the input given so far; ends the operation.
    pub(crate) fn verify(self, signature: &[u8]) -> Result<()> {
        let k = self.key.size();
        let input = self.input.finish().into_bytes();
        let data_ok = match self.mechanism {
            CKM_RSA_PKCS => input.len() + PKCS1_OVERHEAD <= k,
            _ => input.len() == SHA256_LEN,
        };
        if !data_ok {
            return Err(CKR_DATA_LEN_RANGE);
        }
        if signature.len() != k {
            return Err(CKR_SIGNATURE_LEN_RANGE);
        }
        let checked = match self.mechanism {
            CKM_RSA_PKCS => self.key.verify(Pkcs1v15Sign::new_unprefixed(), &input, signature),
            CKM_SHA256_RSA_PKCS => self.key.verify(Pkcs1v15Sign::new::<Sha256>(), &input, signature),
            _ => self
                .key
                .verify(Pss::new_with_salt::<Sha256>(SHA256_LEN), &input, signature),
        };
        checked.map_err(|_| CKR_SIGNATURE_INVALID)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::RsaPrivateKey;
    use sha2::Digest;

    fn mechanism(mechanism: CK_MECHANISM_TYPE) -> CK_MECHANISM {
        CK_MECHANISM {
            mechanism,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        }
    }

    fn op(key: &RsaPrivateKey, m: CK_MECHANISM_TYPE, data: &[u8]) -> VerifyOp {
        let mut o = VerifyOp::new(&mechanism(m), key.to_public_key()).unwrap();
        o.update(data).unwrap();
        o
    }

    #[test]
    fn good_bad_and_short_signatures() {
        let key = lecteur_sim::pki::cps3_authentication_key();
        let digest = Sha256::digest(b"ordonnance");
        let sig = key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest).unwrap();
        assert_eq!(op(key, CKM_SHA256_RSA_PKCS, b"ordonnance").verify(&sig), Ok(()));
        let di = [&Pkcs1v15Sign::new::<Sha256>().prefix[..], &digest].concat();
        assert_eq!(op(key, CKM_RSA_PKCS, &di).verify(&sig), Ok(()));
        assert_eq!(
            op(key, CKM_SHA256_RSA_PKCS, b"ordonnancE").verify(&sig),
            Err(CKR_SIGNATURE_INVALID)
        );
        assert_eq!(
            op(key, CKM_RSA_PKCS, &digest).verify(&sig),
            Err(CKR_SIGNATURE_INVALID)
        );
        assert_eq!(
            op(key, CKM_SHA256_RSA_PKCS, b"ordonnance").verify(&sig[1..]),
            Err(CKR_SIGNATURE_LEN_RANGE)
        );
        assert_eq!(
            op(key, CKM_RSA_PKCS, &[0; 246]).verify(&sig),
            Err(CKR_DATA_LEN_RANGE)
        );
        let mut o = VerifyOp::new(&mechanism(CKM_RSA_PKCS), key.to_public_key()).unwrap();
        assert_eq!(o.update(&[0; 257]), Err(CKR_DATA_LEN_RANGE));
        assert!(VerifyOp::new(&mechanism(CKM_SHA1_RSA_PKCS), key.to_public_key()).is_err());
    }
}
