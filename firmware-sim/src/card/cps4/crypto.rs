//! The CPS4 security environment: MSE SET for signature (`22 81 B6 04 91 02
//! <alg> <key>`), PSO HASH and PSO COMPUTE DIGITAL SIGNATURE with PKCS#1 v1.5
//! or RSA-PSS, with either key (90 signature, A0 authentication).

use crate::card::apdu::{Apdu, Reply, Sw};
use crate::card::cps3::crypto::{pso_hash_digest, sign as sign_pkcs1};
use crate::card::cps3::hash::HashAlg;
use rand_chacha::ChaCha20Rng;
use rsa::{Pss, RsaPrivateKey};

/// MSE key bytes: key id | 80.
pub const KEY_SIG: u8 = 0x90;
pub const KEY_AUTH: u8 = 0xA0;
/// Algorithm references (Cryptolib `card-cps4.c`).
pub const ALG_SHA1_PKCS1: u8 = 0x0A;
pub const ALG_SHA256_PKCS1: u8 = 0x28;
pub const ALG_SHA1_PSS: u8 = 0x15;
pub const ALG_SHA256_PSS: u8 = 0x2C;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    Pkcs1,
    /// RSA-PSS, MGF1 with the same hash, salt as long as the hash (32 / 20).
    Pss,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySlot {
    Signature,
    Authentication,
}

/// What MSE SET selected for signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dst {
    pub hash: HashAlg,
    pub padding: Padding,
    pub key: KeySlot,
}

#[derive(Debug, Clone, Default)]
pub struct Cps4Env {
    dst: Option<Dst>,
    /// The result of the last PSO HASH.
    digest: Option<(HashAlg, Vec<u8>)>,
}

impl Cps4Env {
    pub fn dst(&self) -> Option<Dst> {
        self.dst
    }

    /// MSE SET `22 81 B6 04 91 02 <alg> <key>`.
    pub fn set(&mut self, apdu: &Apdu) -> Result<Reply, Sw> {
        if (apdu.p1, apdu.p2) != (0x81, 0xB6) {
            return Err(Sw::WRONG_P1P2);
        }
        self.dst = None;
        let [0x91, 0x02, alg, key] = apdu.data else {
            return Err(Sw::WRONG_DATA);
        };
        let (hash, padding) = match *alg {
            ALG_SHA1_PKCS1 => (HashAlg::Sha1, Padding::Pkcs1),
            ALG_SHA256_PKCS1 => (HashAlg::Sha256, Padding::Pkcs1),
            ALG_SHA1_PSS => (HashAlg::Sha1, Padding::Pss),
            ALG_SHA256_PSS => (HashAlg::Sha256, Padding::Pss),
            _ => return Err(Sw::WRONG_DATA),
        };
        let key = match *key {
            KEY_SIG => KeySlot::Signature,
            KEY_AUTH => KeySlot::Authentication,
            _ => return Err(Sw::WRONG_DATA),
        };
        self.dst = Some(Dst { hash, padding, key });
        Ok(Reply::Done)
    }

    /// PSO HASH `2A 90 A0 Lc 90 <L> [state || bit counter] 80 <m> <last block>`,
    /// with the hash of the signature algorithm.
    pub fn pso_hash(&mut self, apdu: &Apdu) -> Result<Reply, Sw> {
        let dst = self.dst.ok_or(Sw::CONDITIONS_NOT_SATISFIED)?;
        self.digest = None;
        let digest = pso_hash_digest(dst.hash, apdu.data)?;
        self.digest = Some((dst.hash, digest));
        Ok(Reply::Done)
    }

    /// PSO COMPUTE DIGITAL SIGNATURE `2A 9E 9A Lc <hash> [Le]` (→ `61 00`), or
    /// without data after PSO HASH (Le = 00 → the 256 bytes at once, no Le →
    /// `61 00`). `key` gives the private key of a slot.
    pub fn pso_cds(
        &mut self,
        apdu: &Apdu,
        verified: bool,
        key: impl Fn(KeySlot) -> &'static RsaPrivateKey,
        rng: &mut ChaCha20Rng,
    ) -> Result<Reply, Sw> {
        let dst = self.dst.ok_or(Sw::CONDITIONS_NOT_SATISFIED)?;
        if apdu.data.is_empty() {
            let digest = match &self.digest {
                Some((a, d)) if *a == dst.hash => d.clone(),
                _ => return Err(Sw::CONDITIONS_NOT_SATISFIED),
            };
            if !verified {
                return Err(Sw::SECURITY_NOT_SATISFIED);
            }
            let signature = sign(key(dst.key), dst, &digest, rng)?;
            let reply = Reply::signature(apdu.le, signature);
            if reply.is_ok() {
                self.digest = None; // the hash is used once
            }
            return reply;
        }
        if apdu.data.len() != dst.hash.digest_len() {
            return Err(Sw::WRONG_LENGTH);
        }
        if !verified {
            return Err(Sw::SECURITY_NOT_SATISFIED);
        }
        Ok(Reply::Later(sign(key(dst.key), dst, apdu.data, rng)?))
    }
}

fn sign(key: &RsaPrivateKey, dst: Dst, digest: &[u8], rng: &mut ChaCha20Rng) -> Result<Vec<u8>, Sw> {
    match dst.padding {
        Padding::Pkcs1 => sign_pkcs1(key, dst.hash, digest),
        Padding::Pss => {
            let scheme = match dst.hash {
                HashAlg::Sha1 => Pss::new_with_salt::<sha1::Sha1>(20),
                HashAlg::Sha256 => Pss::new_with_salt::<sha2::Sha256>(32),
            };
            key.sign_with_rng(rng, scheme, digest).map_err(|_| Sw::WRONG_DATA)
        }
    }
}
