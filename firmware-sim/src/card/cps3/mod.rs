//! The CPS3 (IAS-ECC) professional card, contact interface: SELECT, READ
//! BINARY, the PIN commands and the two RSA-2048 keys (81 signature, 82
//! authentication). Card contents come from [`CpsConfig`]; the file system
//! (shared with the CPS4) is in [`layout`].

pub mod cps2ter;
pub mod crypto;
pub mod files;
pub mod hash;
pub mod layout;
pub mod pin;

use super::apdu::{Apdu, Reply, Sw, T0};
use super::fs::{Cursor, FileSystem};
use super::SimCard;
use crate::pki::{self, CardCertificates, CpsHolder, PkiError};
use crypto::SecurityEnv;
use files::PathRule;
use layout::{CpsData, Generation};
use pin::{PinState, Secret};

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
    volet: cps2ter::Volet,
}

impl Cps3Card {
    /// Issues the card's certificates (two RSA signatures by the simulator CA)
    /// and lays out its files.
    pub fn new(config: CpsConfig) -> Result<Self, PkiError> {
        let certs = pki::issue_cps_certificates(&config.holder)?;
        Ok(Cps3Card {
            atr: config.atr,
            fs: layout::build(Generation::Cps3, &config.holder, &config.data, &certs),
            cursor: Cursor::default(),
            t0: T0::default(),
            pins: config.pin.state(),
            env: SecurityEnv::default(),
            certs,
            volet: cps2ter::Volet::new(config.volet),
        })
    }

    /// The DER certificates in `3F00/0001/E001` (signature) and `E002` (authentication).
    pub fn certificates(&self) -> &CardCertificates {
        &self.certs
    }

    fn dispatch(&mut self, apdu: &Apdu) -> Result<Reply, Sw> {
        if apdu.cla != 0x00 {
            return Err(Sw::CLA_NOT_SUPPORTED);
        }
        match apdu.ins {
            0xA4 => files::select(&self.fs, &mut self.cursor, apdu, PathRule::Cps3),
            0xB0 => files::read_binary(&self.fs, &mut self.cursor, apdu, self.pins.verified()),
            0x20 => self.pins.verify(apdu),
            0x24 => self.pins.change(apdu),
            0x2C => self.pins.unblock(apdu),
            0xCB => self.pins.get_data(apdu),
            0x22 => self.env.set(apdu),
            0x2A => match (apdu.p1, apdu.p2) {
                (0x90, 0xA0) => self.env.pso_hash(apdu),
                (0x9E, 0x9A) => {
                    let key = pki::cps3_signature_key();
                    self.env.pso_cds(apdu, self.pins.verified(), key)
                }
                _ => Err(Sw::WRONG_P1P2),
            },
            0x88 => {
                let key = pki::cps3_authentication_key();
                self.env.internal_authenticate(apdu, self.pins.verified(), key)
            }
            _ => Err(Sw::INS_NOT_SUPPORTED),
        }
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
pub(crate) mod walk;
