//! The CPS3 (IAS-ECC) professional card, contact interface: SELECT, READ
//! BINARY, the PIN commands, GET DATA of its security data objects, GET
//! CHALLENGE and the two RSA-2048 keys (81 signature, 82 authentication). Card contents come from [`CpsConfig`]; the file system
//! (shared with the CPS4) is in [`layout`], the IAS-ECC access rules its
//! FCPs and GET DATA show in [`acl`] and [`sdo`].

pub mod acl;
pub mod cps2ter;
pub mod crypto;
pub mod files;
pub mod hash;
pub mod layout;
pub mod pin;
pub mod sdo;

use super::apdu::{Apdu, Reply, Sw, T0};
use super::fs::{Cursor, FileSystem};
use super::SimCard;
use crate::pki::{self, CardCertificates, CpsHolder, PkiError};
use crypto::SecurityEnv;
use files::PathRule;
use layout::{CpsData, Generation};
use pin::{PinState, Secret};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

/// The largest READ BINARY chunk the card sends (Cryptolib's max_recv).
pub const MAX_READ: usize = 0xE7;

/// The PIN and PUK as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinConfig {
    pub value: String,
    pub tries_left: u8,
    pub tries_max: u8,
    pub puk: String,
    pub puk_tries_left: u8,
    pub puk_tries_max: u8,
    /// The PIN's usage counter as GET DATA shows it (`9D`); `None`: `FF`.
    pub usage_counter: Option<u8>,
}

impl PinConfig {
    pub fn state(&self) -> PinState {
        let mut state = PinState::new(
            Secret::new(&self.value, self.tries_left, self.tries_max),
            Secret::new(&self.puk, self.puk_tries_left, self.puk_tries_max),
        );
        state.pin_usage = self.usage_counter;
        state
    }
}

/// Everything that makes one CPS card (CPS3 or CPS4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpsConfig {
    pub atr: Vec<u8>,
    pub holder: CpsHolder,
    pub data: CpsData,
    pub pin: PinConfig,
    /// The CPS2ter volet's files (a CPS3 only).
    pub volet: cps2ter::VoletData,
}

/// The former name.
pub type Cps3Config = CpsConfig;

pub struct Cps3Card {
    atr: Vec<u8>,
    fs: FileSystem,
    cursor: Cursor,
    t0: T0,
    pins: PinState,
    env: SecurityEnv,
    certs: CardCertificates,
    /// GET CHALLENGE's numbers: seeded from the serial, so runs repeat (a
    /// simulator's challenges protect nothing).
    rng: ChaCha20Rng,
    volet: cps2ter::Volet,
}

/// The only challenge length an IAS-ECC card gives (OpenSC's driver asks for
/// 8 bytes for that reason).
const CHALLENGE_LEN: u8 = 8;

impl Cps3Card {
    /// Issues the card's certificates (two RSA signatures by the simulator CA)
    /// and lays out its files.
    pub fn new(config: CpsConfig) -> Result<Self, PkiError> {
        let certs = pki::issue_cps_certificates(&config.holder)?;
        let seed: [u8; 32] = Sha256::digest(config.holder.card_serial.as_bytes()).into();
        Ok(Cps3Card {
            atr: config.atr,
            fs: layout::build(Generation::Cps3, &config.holder, &config.data, &certs),
            cursor: Cursor::default(),
            t0: T0::default(),
            pins: config.pin.state(),
            env: SecurityEnv::default(),
            certs,
            rng: ChaCha20Rng::from_seed(seed),
            volet: cps2ter::Volet::new(config.volet),
        })
    }

    /// The DER certificates in `3F00/0001/E001` (signature) and `E002` (authentication).
    pub fn certificates(&self) -> &CardCertificates {
        &self.certs
    }

    fn dispatch(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        if apdu.cla != 0x00 {
            return Err(Sw::CLA_NOT_SUPPORTED);
        }
        match apdu.ins {
            0xA4 => files::select(&self.fs, &mut self.cursor, apdu, PathRule::Cps3),
            0xB0 => files::read_binary(&self.fs, &mut self.cursor, apdu, self.pins.verified()),
            0x20 => self.pins.verify(apdu),
            0x24 => self.pins.change(apdu),
            0x2C => self.pins.unblock(apdu),
            0xCB => sdo::get_data(apdu, &self.pins, key_sizes()),
            0x22 => self.env.set(apdu),
            0x2A => match (apdu.p1, apdu.p2) {
                (0x90, 0xA0) => self.env.pso_hash(apdu),
                (0x9E, 0x9A) => {
                    let key = pki::cps3_signature_key();
                    self.env.pso_cds(apdu, self.pins.verified(), key)
                }
                _ => Err(Sw::WRONG_P1P2),
            },
            0x84 => self.get_challenge(apdu),
            0x88 => {
                let key = pki::cps3_authentication_key();
                self.env.internal_authenticate(apdu, self.pins.verified(), key)
            }
            _ => Err(Sw::INS_NOT_SUPPORTED),
        }
    }

    /// GET CHALLENGE `00 84 00 00 08`: 8 random bytes.
    fn get_challenge(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        if (apdu.p1, apdu.p2) != (0, 0) {
            return Err(Sw::WRONG_P1P2);
        }
        if !apdu.data.is_empty() || apdu.le != Some(CHALLENGE_LEN) {
            return Err(Sw::WRONG_LENGTH);
        }
        let mut challenge = vec![0; usize::from(CHALLENGE_LEN)];
        self.rng.fill_bytes(&mut challenge);
        Ok(Reply::Data(challenge))
    }
}

/// The moduli sizes of the card's two keys, in bytes.
fn key_sizes() -> sdo::KeySizes {
    use rsa::traits::PublicKeyParts;
    sdo::KeySizes {
        signature: pki::cps3_signature_key().size(),
        authentication: pki::cps3_authentication_key().size(),
    }
}

impl SimCard for Cps3Card {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn reset(&mut self) {
        self.cursor = Cursor::default();
        self.t0.clear();
        self.pins.reset();
        self.env = SecurityEnv::default();
        self.volet.reset();
    }

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        // Class A0: the CPS2ter volet, with its own status words.
        if apdu.first() == Some(&cps2ter::CLA) {
            self.t0.clear();
            return self.volet.transmit(apdu, self.pins.verified());
        }
        let mut t0 = std::mem::take(&mut self.t0);
        let response = t0.transmit(apdu, |a| self.dispatch(a));
        self.t0 = t0;
        response
    }
}

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_iasecc;
#[cfg(test)]
pub(crate) mod walk;
