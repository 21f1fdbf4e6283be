//! The CPS3 security environment and private-key commands: MSE SET, PSO HASH,
//! PSO COMPUTE DIGITAL SIGNATURE (key 81) and INTERNAL AUTHENTICATE (key 82).
//! The card builds the DigestInfo (signature) and the PKCS#1 v1.5 type-01
//! padding (both) itself.

use super::hash::HashAlg;
use crate::card::apdu::{Apdu, Reply, Sw};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};

pub const KEY_SIG: u8 = 0x81;
pub const KEY_AUTH: u8 = 0x82;
/// Algorithm references (Cryptolib `pkcs15-sec.c`).
const ALG_SHA1_RSA: u8 = 0x12;
const ALG_SHA256_RSA: u8 = 0x42;
const ALG_RSA_PKCS1: u8 = 0x02;
const ALG_SHA1: u8 = 0x10;
const ALG_SHA256: u8 = 0x40;
/// IAS-ECC: INTERNAL AUTHENTICATE input ≤ 40 % of a 2048-bit modulus.
pub const MAX_AUTH_INPUT: usize = 102;

/// What the last MSE SET commands selected, and a hash waiting for PSO CDS.
#[derive(Debug, Clone, Default)]
pub struct SecurityEnv {
    /// DST (B6): the signature key 81 with this hash.
    signature: Option<HashAlg>,
    /// AT (A4): the authentication key 82.
    authentication: bool,
    /// HT (AA): the hash for PSO HASH.
    hash: Option<HashAlg>,
    /// The result of the last PSO HASH.
    digest: Option<(HashAlg, Vec<u8>)>,
}

/// The digest a PSO HASH body `90 <L> [state || bit counter] 80 <m> <last
/// block>` describes (shared with the CPS4).
pub fn pso_hash_digest(alg: HashAlg, data: &[u8]) -> Result<Vec<u8>, Sw> {
    let (intermediate, last) = match simple_tlvs(data)?.as_slice() {
        [(0x90, intermediate), (0x80, last)] => (*intermediate, *last),
        _ => return Err(Sw::WRONG_DATA),
    };
    let (state, bytes_done) = if intermediate.is_empty() {
        (alg.initial_state(), 0)
    } else if intermediate.len() == alg.digest_len() + 8 {
        let (state, counter) = intermediate.split_at(alg.digest_len());
        let mut bits = [0u8; 8];
        bits.copy_from_slice(counter);
        let bits = u64::from_be_bytes(bits);
        if bits % 512 != 0 {
            return Err(Sw::WRONG_DATA);
        }
        (state.to_vec(), bits / 8)
    } else {
        return Err(Sw::WRONG_DATA);
    };
    alg.finish(&state, bytes_done, last).ok_or(Sw::WRONG_DATA)
}

/// Reads `80 01 <alg> [84 01 <key>]` style one-byte-length TLVs.
fn simple_tlvs(mut data: &[u8]) -> Result<Vec<(u8, &[u8])>, Sw> {
    let mut out = Vec::new();
    while let [tag, len, rest @ ..] = data {
        let len = usize::from(*len);
        if rest.len() < len {
            return Err(Sw::WRONG_DATA);
        }
        let (value, next) = rest.split_at(len);
        out.push((*tag, value));
        data = next;
    }
    if data.is_empty() {
        Ok(out)
    } else {
        Err(Sw::WRONG_DATA)
    }
}

impl SecurityEnv {
    /// MSE SET `00 22 41 B6|A4|AA Lc …`.
    pub fn set(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        if apdu.p1 != 0x41 {
            return Err(Sw::WRONG_P1P2);
        }
        let mut alg = None;
        let mut key = None;
        for (tag, value) in simple_tlvs(apdu.data)? {
            match (tag, value) {
                (0x80, [a]) => alg = Some(*a),
                (0x84, [k]) => key = Some(*k),
                _ => return Err(Sw::WRONG_DATA),
            }
        }
        match apdu.p2 {
            0xB6 => {
                self.signature = None;
                self.signature = Some(match (alg, key) {
                    (Some(ALG_SHA256_RSA), Some(KEY_SIG)) => HashAlg::Sha256,
                    (Some(ALG_SHA1_RSA), Some(KEY_SIG)) => HashAlg::Sha1,
                    _ => return Err(Sw::WRONG_DATA),
                });
            }
            0xA4 => {
                self.authentication = false;
                if (alg, key) != (Some(ALG_RSA_PKCS1), Some(KEY_AUTH)) {
                    return Err(Sw::WRONG_DATA);
                }
                self.authentication = true;
            }
            0xAA => {
                self.hash = None;
                self.hash = Some(match (alg, key) {
                    (Some(ALG_SHA256), None) => HashAlg::Sha256,
                    (Some(ALG_SHA1), None) => HashAlg::Sha1,
                    _ => return Err(Sw::WRONG_DATA),
                });
            }
            _ => return Err(Sw::WRONG_P1P2),
        }
        Ok(Reply::Done)
    }

    /// PSO HASH `00 2A 90 A0 Lc 90 <L> [state || bit counter] 80 <m> <last block>`.
    pub fn pso_hash(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        let alg = self.hash.or(self.signature).ok_or(Sw::CONDITIONS_NOT_SATISFIED)?;
        self.digest = None;
        let digest = pso_hash_digest(alg, apdu.data)?;
        self.digest = Some((alg, digest));
        Ok(Reply::Done)
    }

    /// PSO COMPUTE DIGITAL SIGNATURE `00 2A 9E 9A …`: with the hash as data
    /// (case 4 → `61 00`), or without data after PSO HASH (case 2, Le = 00 →
    /// the 256 bytes at once).
    pub fn pso_cds(&mut self, apdu: &Apdu<'_>, verified: bool, key: &RsaPrivateKey) -> Result<Reply, Sw> {
        let alg = self.signature.ok_or(Sw::CONDITIONS_NOT_SATISFIED)?;
        if apdu.data.is_empty() {
            let digest = match &self.digest {
                Some((a, d)) if *a == alg => d.clone(),
                _ => return Err(Sw::CONDITIONS_NOT_SATISFIED),
            };
            if !verified {
                return Err(Sw::SECURITY_NOT_SATISFIED);
            }
            let signature = sign(key, alg, &digest)?;
            let reply = Reply::signature(apdu.le, signature);
            if reply.is_ok() {
                self.digest = None; // the hash is used once
            }
            return reply;
        }
        if apdu.data.len() != alg.digest_len() {
            return Err(Sw::WRONG_LENGTH);
        }
        if !verified {
            return Err(Sw::SECURITY_NOT_SATISFIED);
        }
        Ok(Reply::Later(sign(key, alg, apdu.data)?))
    }

    /// INTERNAL AUTHENTICATE `00 88 00 00 Lc <data> [00]`: type-01 padding of
    /// the raw data with key 82.
    pub fn internal_authenticate(
        &mut self,
        apdu: &Apdu<'_>,
        verified: bool,
        key: &RsaPrivateKey,
    ) -> Result<Reply, Sw> {
        if (apdu.p1, apdu.p2) != (0, 0) {
            return Err(Sw::WRONG_P1P2);
        }
        if apdu.data.is_empty() || apdu.data.len() > MAX_AUTH_INPUT {
            return Err(Sw::WRONG_LENGTH);
        }
        if !self.authentication {
            return Err(Sw::CONDITIONS_NOT_SATISFIED);
        }
        if !verified {
            return Err(Sw::SECURITY_NOT_SATISFIED);
        }
        let signature = key
            .sign(Pkcs1v15Sign::new_unprefixed(), apdu.data)
            .map_err(|_| Sw::WRONG_DATA)?;
        Ok(Reply::Later(signature))
    }
}

/// DigestInfo + PKCS#1 v1.5 type-01 signature of a hash.
pub fn sign(key: &RsaPrivateKey, alg: HashAlg, digest: &[u8]) -> Result<Vec<u8>, Sw> {
    let mut info = alg.digest_info_prefix().to_vec();
    info.extend_from_slice(digest);
    key.sign(Pkcs1v15Sign::new_unprefixed(), &info)
        .map_err(|_| Sw::WRONG_DATA)
}
