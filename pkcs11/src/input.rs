//! What a sign or verify operation gathers before it ends: the data of the
//! `SHA256_*` mechanisms hashed here as it comes (multi-part), the input of
//! the raw ones kept whole, bounded by the key's modulus.

use crate::error::Result;
use cryptoki_sys::*;
use sha2::{Digest, Sha256};

/// PKCS#1 v1.5 type 01 padding takes at least 11 bytes.
pub(crate) const PKCS1_OVERHEAD: usize = 11;

pub(crate) struct Input {
    /// The hash of the `SHA256_*` mechanisms.
    hasher: Option<Sha256>,
    /// The input of the raw mechanisms.
    raw: Vec<u8>,
    /// The most a raw input may hold (the modulus, in bytes).
    limit: usize,
}

/// An operation's input once it ends.
pub(crate) enum Gathered {
    /// The SHA-256 of the data (`SHA256_*` mechanisms).
    Hashed(Vec<u8>),
    /// The data as given (raw mechanisms).
    Raw(Vec<u8>),
}

impl Gathered {
    /// The bytes: the digest or the data.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        match self {
            Gathered::Hashed(b) | Gathered::Raw(b) => b,
        }
    }
}

impl Input {
    pub(crate) fn new(mechanism: CK_MECHANISM_TYPE, modulus_len: usize) -> Input {
        let hashed = matches!(mechanism, CKM_SHA256_RSA_PKCS | CKM_SHA256_RSA_PKCS_PSS);
        Input {
            hasher: hashed.then(Sha256::new),
            raw: Vec::new(),
            limit: modulus_len,
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) -> Result<()> {
        match &mut self.hasher {
            Some(h) => h.update(data),
            None => {
                self.raw.extend_from_slice(data);
                if self.raw.len() > self.limit {
                    return Err(CKR_DATA_LEN_RANGE);
                }
            }
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> Gathered {
        match self.hasher {
            Some(h) => Gathered::Hashed(h.finalize().to_vec()),
            None => Gathered::Raw(self.raw),
        }
    }
}
