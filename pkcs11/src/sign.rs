//! A signing operation: the mechanism's input gathered in the module
//! (hashing included), then one call to lecteurd at the end:
//! - authentication key: `cps.authenticate` over a DigestInfo (CKM_RSA_PKCS
//!   passes the caller's DigestInfo through, whatever its hash);
//! - signature key: `cps.sign` over a SHA-256 digest (a CKM_RSA_PKCS input
//!   must then be a SHA-256 DigestInfo: the card builds the DigestInfo).

use crate::error::{Fail, Result};
use crate::input::{Gathered, Input, PKCS1_OVERHEAD};
use crate::objects::{KeyRef, Usage};
use cryptoki_sys::*;
use lecteur_proto::cps::{AuthAlgorithm, AuthenticateParams, KeyUsage, SignAlgorithm, SignParams, Signature};
use lecteur_proto::{parse_digest_info, DigestAlg, ErrorKind};

/// The call that ends a signing operation.
#[derive(Debug)]
pub(crate) enum SignRequest {
    /// `cps.authenticate`.
    Authenticate(AuthenticateParams),
    /// `cps.sign`.
    Sign(SignParams),
}

pub(crate) struct SignOp {
    pub mechanism: CK_MECHANISM_TYPE,
    pub key: KeyRef,
    input: Input,
}

/// Checks the PSS parameters: the card does SHA-256, MGF1-SHA-256, salt 32.
pub(crate) fn pss_params(m: &CK_MECHANISM) -> Result<()> {
    if m.pParameter.is_null() || m.ulParameterLen as usize != std::mem::size_of::<CK_RSA_PKCS_PSS_PARAMS>() {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    // SAFETY: non-null, and the caller says it is a CK_RSA_PKCS_PSS_PARAMS of
    // that size; read unaligned in case the caller's buffer is not aligned.
    let p = unsafe { std::ptr::read_unaligned(m.pParameter as *const CK_RSA_PKCS_PSS_PARAMS) };
    if p.hashAlg == CKM_SHA256 && p.mgf == CKG_MGF1_SHA256 && p.sLen == 32 {
        Ok(())
    } else {
        Err(CKR_MECHANISM_PARAM_INVALID)
    }
}

impl SignOp {
    /// `m` was checked against the token's mechanism list.
    pub(crate) fn new(m: &CK_MECHANISM, key: KeyRef) -> Result<SignOp> {
        match m.mechanism {
            CKM_RSA_PKCS_PSS | CKM_SHA256_RSA_PKCS_PSS => pss_params(m)?,
            _ if m.ulParameterLen != 0 => return Err(CKR_MECHANISM_PARAM_INVALID),
            _ => {}
        }
        Ok(SignOp {
            mechanism: m.mechanism,
            input: Input::new(m.mechanism, key.modulus_len),
            key,
        })
    }

    pub(crate) fn update(&mut self, data: &[u8]) -> Result<()> {
        self.input.update(data)
    }

    /// The request to lecteurd for this operation's input.
    pub(crate) fn request(self, reader: &str) -> Result<SignRequest> {
        let pss = matches!(self.mechanism, CKM_RSA_PKCS_PSS | CKM_SHA256_RSA_PKCS_PSS);
        // What to sign, as a DigestInfo and, when it is SHA-256, the digest.
        let (digest_info, sha256) = match (self.input.finish(), self.mechanism) {
            (Gathered::Hashed(d), _) => (DigestAlg::Sha256.digest_info(&d), Some(d)),
            (Gathered::Raw(d), CKM_RSA_PKCS_PSS) => {
                if d.len() != 32 {
                    return Err(CKR_DATA_LEN_RANGE);
                }
                (DigestAlg::Sha256.digest_info(&d), Some(d))
            }
            (Gathered::Raw(input), _) => {
                if input.len() + PKCS1_OVERHEAD > self.key.modulus_len {
                    return Err(CKR_DATA_LEN_RANGE);
                }
                let sha256 = match parse_digest_info(&input) {
                    Some((DigestAlg::Sha256, d)) => Some(d.to_vec()),
                    Some(_) => None,
                    None => return Err(CKR_DATA_INVALID),
                };
                (input, sha256)
            }
        };
        Ok(match self.key.usage {
            Usage::Authentication => SignRequest::Authenticate(AuthenticateParams {
                reader: Some(reader.to_string()),
                algorithm: if pss {
                    AuthAlgorithm::RsaPssSha256
                } else {
                    AuthAlgorithm::RsaPkcs1Sha256
                },
                digest_info: Some(digest_info),
                ..Default::default()
            }),
            Usage::Signature => {
                // The card hashes SHA-256 only and builds the DigestInfo itself.
                let digest = sha256.ok_or(CKR_DATA_INVALID)?;
                SignRequest::Sign(SignParams {
                    reader: Some(reader.to_string()),
                    pin: None,
                    pinpad: false,
                    allow_last_try: false,
                    key: KeyUsage::Signature,
                    algorithm: if pss {
                        SignAlgorithm::RsaPssSha256
                    } else {
                        SignAlgorithm::RsaPkcs1Sha256
                    },
                    data: None,
                    digest: Some(digest),
                })
            }
        })
    }
}

/// The signature in lecteurd's answer, of the key's size.
pub(crate) fn signature(answer: std::result::Result<Signature, Fail>, len: usize) -> Result<Vec<u8>> {
    let sig = answer
        .map_err(|f| match f.kind() {
            Some(ErrorKind::InvalidParams) => CKR_DATA_INVALID,
            Some(ErrorKind::UnsupportedCard) => CKR_FUNCTION_FAILED,
            _ => f.rv(),
        })?
        .signature;
    if sig.len() == len {
        Ok(sig)
    } else {
        Err(CKR_DEVICE_ERROR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(mechanism: CK_MECHANISM_TYPE, usage: Usage) -> SignOp {
        let m = CK_MECHANISM {
            mechanism,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        let key = KeyRef {
            usage,
            modulus_len: 256,
        };
        SignOp::new(&m, key).unwrap()
    }

    fn digest_info(alg: DigestAlg, len: usize) -> Vec<u8> {
        alg.digest_info(&vec![7; len])
    }

    #[test]
    fn the_authentication_key_takes_the_digest_info_as_it_is() {
        let di = digest_info(DigestAlg::Sha384, 48);
        let mut o = op(CKM_RSA_PKCS, Usage::Authentication);
        o.update(&di).unwrap();
        let SignRequest::Authenticate(params) = o.request("sim:0").unwrap() else {
            panic!("not cps.authenticate")
        };
        assert_eq!(params.digest_info, Some(di));
        assert_eq!(params.reader.as_deref(), Some("sim:0"));
    }

    #[test]
    fn the_signature_key_takes_a_sha256_digest_info_only() {
        let mut o = op(CKM_RSA_PKCS, Usage::Signature);
        o.update(&digest_info(DigestAlg::Sha256, 32)).unwrap();
        let SignRequest::Sign(params) = o.request("r").unwrap() else {
            panic!("not cps.sign")
        };
        assert_eq!(params.digest, Some(vec![7; 32]));
        let mut o = op(CKM_RSA_PKCS, Usage::Signature);
        o.update(&digest_info(DigestAlg::Sha384, 48)).unwrap();
        assert_eq!(o.request("r").err(), Some(CKR_DATA_INVALID));
        let mut o = op(CKM_RSA_PKCS, Usage::Authentication);
        o.update(b"raw TLS 1.0 MD5+SHA-1 is not a DigestInfo").unwrap();
        assert_eq!(o.request("r").err(), Some(CKR_DATA_INVALID));
    }

    #[test]
    fn lengths_are_checked() {
        let mut o = op(CKM_RSA_PKCS, Usage::Authentication);
        assert_eq!(o.update(&[0; 257]), Err(CKR_DATA_LEN_RANGE));
        let mut o = op(CKM_RSA_PKCS, Usage::Authentication);
        o.update(&[0; 250]).unwrap();
        assert_eq!(o.request("r").err(), Some(CKR_DATA_LEN_RANGE));
    }

    #[test]
    fn pss_needs_the_cards_parameters() {
        let key = KeyRef {
            usage: Usage::Signature,
            modulus_len: 256,
        };
        let mut p = CK_RSA_PKCS_PSS_PARAMS {
            hashAlg: CKM_SHA256,
            mgf: CKG_MGF1_SHA256,
            sLen: 32,
        };
        let mut m = CK_MECHANISM {
            mechanism: CKM_RSA_PKCS_PSS,
            pParameter: (&mut p as *mut CK_RSA_PKCS_PSS_PARAMS).cast(),
            ulParameterLen: std::mem::size_of::<CK_RSA_PKCS_PSS_PARAMS>() as CK_ULONG,
        };
        let mut o = SignOp::new(&m, key).unwrap();
        o.update(&[1; 31]).unwrap();
        assert_eq!(o.request("r").err(), Some(CKR_DATA_LEN_RANGE));
        p.hashAlg = CKM_SHA_1;
        m.pParameter = (&mut p as *mut CK_RSA_PKCS_PSS_PARAMS).cast();
        assert_eq!(SignOp::new(&m, key).err(), Some(CKR_MECHANISM_PARAM_INVALID));
        m.ulParameterLen = 3;
        assert_eq!(SignOp::new(&m, key).err(), Some(CKR_MECHANISM_PARAM_INVALID));
    }
}
