//! The CPS4 security environment: MSE SET for signature (`22 81 B6 04 91 02
//! <alg> <key>`), PSO HASH and PSO COMPUTE DIGITAL SIGNATURE with PKCS#1 v1.5
//! (signature key) or RSA-PSS (either key: 90 signature, A0 authentication);
//! MSE SET for decipher (`22 41 B8 03 83 01 20`) and PSO DECIPHER (`2A 80
//! 86`, command chaining) with the authentication key: raw RSA, which is how
//! Cryptolib has the ChipDoc sign with that key under PKCS#1 v1.5, over a
//! block it pads itself (CL-EXT §2.2, `card-cps4.c`; public-sources §1.5.7).

use crate::card::apdu::{Apdu, Reply, Sw};
use crate::card::cps3::crypto::{pso_hash_digest, sign as sign_pkcs1};
use crate::card::cps3::hash::HashAlg;
use rand_chacha::ChaCha20Rng;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, Pss, RsaPrivateKey};

/// MSE key bytes: key id | 80.
pub const KEY_SIG: u8 = 0x90;
pub const KEY_AUTH: u8 = 0xA0;
/// Algorithm references (Cryptolib `card-cps4.c`).
pub const ALG_SHA1_PKCS1: u8 = 0x0A;
pub const ALG_SHA256_PKCS1: u8 = 0x28;
pub const ALG_SHA1_PSS: u8 = 0x15;
pub const ALG_SHA256_PSS: u8 = 0x2C;
/// MSE `41 B8 {83 01 <id>}`: the authentication key's id, without the 80 bit
/// (Cryptolib `CPS4_AUTH_PRIV_KEY_ID`).
pub const DECIPHER_KEY_AUTH: u8 = 0x20;
/// The keys' modulus size: the CPS4 has 2048-bit keys only (`card-cps4.c`).
const MODULUS_BYTES: usize = 256;

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
    /// The key MSE SET chose for decipher (confidentiality template).
    ct: Option<KeySlot>,
    /// The result of the last PSO HASH.
    digest: Option<(HashAlg, Vec<u8>)>,
    /// PSO DECIPHER data received in chained commands (CLA bit 10) so far.
    chain: Option<Vec<u8>>,
}

impl Cps4Env {
    pub fn dst(&self) -> Option<Dst> {
        self.dst
    }

    /// MSE SET `22 81 B6 04 91 02 <alg> <key>` (signature) or `22 41 B8 03
    /// 83 01 20` (decipher, the authentication key only: Cryptolib never
    /// names another, and deciphering with the non-repudiation key is not
    /// what it is for; a real card's answer there is not public).
    pub fn set(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        match (apdu.p1, apdu.p2) {
            (0x81, 0xB6) => self.set_dst(apdu),
            (0x41, 0xB8) => {
                self.ct = None;
                match apdu.data {
                    [0x83, 0x01, DECIPHER_KEY_AUTH] => {
                        self.ct = Some(KeySlot::Authentication);
                        Ok(Reply::Done)
                    }
                    _ => Err(Sw::WRONG_DATA),
                }
            }
            _ => Err(Sw::WRONG_P1P2),
        }
    }

    fn set_dst(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
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
    pub fn pso_hash(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
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
        apdu: &Apdu<'_>,
        verified: bool,
        key: impl Fn(KeySlot) -> &'static RsaPrivateKey,
        rng: &mut ChaCha20Rng,
    ) -> Result<Reply, Sw> {
        let dst = self.dst.ok_or(Sw::CONDITIONS_NOT_SATISFIED)?;
        // The authentication key signs PKCS#1 v1.5 by PSO DECIPHER only:
        // Cryptolib never sends this, and the ChipDoc's answer to it is not
        // public. Refused as a key whose usage does not allow the operation,
        // 69 85 (conditions of use not satisfied), before the PIN is looked
        // at; the data itself (a hash) is not wrong, so not 6A 80.
        if dst.key == KeySlot::Authentication && dst.padding == Padding::Pkcs1 {
            return Err(Sw::CONDITIONS_NOT_SATISFIED);
        }
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

impl Cps4Env {
    /// Whether a decipher chain is under way (any other command ends it).
    pub fn chaining(&self) -> bool {
        self.chain.is_some()
    }

    /// Forgets a chain that another command interrupted.
    pub fn end_chain(&mut self) {
        self.chain = None;
    }

    /// PSO DECIPHER `2A 80 86`: with CLA bit 10 (`more`), a part kept for the
    /// next command; without it, the last part. The whole input is the
    /// 256-byte cryptogram, no padding-indicator byte (Cryptolib sends none
    /// to a CPS4); the answer is the raw RSA result with the key MSE 41 B8
    /// chose, through `61 00` and GET RESPONSE.
    pub fn pso_decipher(
        &mut self,
        apdu: &Apdu<'_>,
        more: bool,
        verified: bool,
        key: impl Fn(KeySlot) -> &'static RsaPrivateKey,
    ) -> Result<Reply, Sw> {
        let mut input = self.chain.take().unwrap_or_default();
        let slot = self.ct.ok_or(Sw::CONDITIONS_NOT_SATISFIED)?;
        if apdu.data.is_empty() || input.len() + apdu.data.len() > MODULUS_BYTES {
            return Err(Sw::WRONG_LENGTH);
        }
        input.extend_from_slice(apdu.data);
        if more {
            self.chain = Some(input);
            return Ok(Reply::Done);
        }
        if input.len() != MODULUS_BYTES {
            return Err(Sw::WRONG_LENGTH);
        }
        if !verified {
            return Err(Sw::SECURITY_NOT_SATISFIED);
        }
        let key = key(slot);
        let c = BigUint::from_bytes_be(&input);
        if &c >= key.n() {
            return Err(Sw::WRONG_DATA);
        }
        // Raw RSA: c^d mod n (a simulator needs no blinding).
        let m = c.modpow(key.d(), key.n()).to_bytes_be();
        let mut out = vec![0u8; MODULUS_BYTES - m.len()];
        out.extend_from_slice(&m);
        Ok(Reply::Later(out))
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
