//! The CPS4 ("ChipDoc") professional card. Everything goes through the CPS4
//! application, selected on logical channel 1 (`01 A4 04 0C 08 80 25 00 00 01
//! FF 01 00`); then every command uses CLA `01`. Under the application the
//! file system is the CPS3 one ([`crate::card::cps3::layout`], without
//! EF.ATR). Keys: signature id 10 (MSE key byte 90), authentication id 20
//! (A0), PKCS#1 v1.5 or RSA-PSS.
//!
//! The basic channel (CLA `00`) only takes SELECT of `3F00` and of the
//! CPS2ter-compatible application; anything else there is `69 85`. On channel
//! 1, before the application is selected (after a reset, or after selecting
//! the Issuer Security Domain), SELECT answers `6A 82` and other commands
//! `69 85` (which makes Cryptolib run its reselect sequence). The PIN's
//! verified state belongs to the card, not to a channel (unverified).
//!
//! Stricter than a card that takes anything, where Cryptolib (public-sources
//! §1.5.7, §1.6) shows what the real card is sent: PSO CDS with the
//! authentication key under PKCS#1 v1.5 is refused (`69 85`; that key signs
//! PKCS#1 through MSE `41 B8` + PSO DECIPHER), P1 09 with a `3F00…` path is
//! `6A 82` (see [`PathRule::Iso`]), READ BINARY gives up to 256 bytes.
//! [`Cps4Card::reselect_required`] makes SELECT ChipDoc answer `69 85` after
//! each reset until the ISD then the CPS2ter applet have been selected, the
//! case Cryptolib's reselect sequence is for (`card-cps4.c`, §1.1.4; what
//! brings a real card there is not public).

pub mod crypto;

use super::apdu::{Apdu, Reply, Sw, T0};
use super::cps3::files::{self, PathRule};
use super::cps3::layout::{self, Generation, AID_IAS};
use super::cps3::pin::PinState;
use super::cps3::CpsConfig;
use super::fs::{Cursor, FileSystem};
use super::tlv::tlv;
use super::SimCard;
use crate::pki::{self, CardCertificates, PkiError};
use crypto::{Cps4Env, KeySlot};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

/// The CPS4 ChipDoc application (channel 1).
pub const AID_CPS4: [u8; 8] = AID_IAS;
/// The CPS2ter-compatible application (basic channel).
pub const AID_CPS2TER: [u8; 8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x02];
/// The Issuer Security Domain.
pub const AID_ISD: [u8; 7] = [0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00];
/// The class byte of logical channel 1.
pub const CLA_CHANNEL_1: u8 = 0x01;
/// Channel 1 with the command-chaining bit (ISO 7816-4 §5.3.3).
const CLA_CHANNEL_1_CHAINED: u8 = 0x11;
/// Largest READ BINARY answer: 256 (Le 00), as Cryptolib reads a CPS4
/// (`max_recv_size` = `SC_DEFAULT_MAX_RECV_SIZE`, public-sources §1.6.3).
pub const MAX_READ: usize = 256;

/// Where the reselect sequence stands when SELECT ChipDoc is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lock {
    /// SELECT ChipDoc works.
    Open,
    /// SELECT ChipDoc answers `69 85`.
    Locked,
    /// The ISD has been selected on channel 1; the CPS2ter applet is next.
    IsdSelected,
}

/// What logical channel 1 holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel1 {
    /// Nothing selected yet (after a reset).
    Closed,
    /// The Issuer Security Domain (no command modelled).
    Isd,
    /// The CPS4 application.
    App,
}

pub struct Cps4Card {
    atr: Vec<u8>,
    fs: FileSystem,
    /// The current DF/EF of channel 1.
    cursor: Cursor,
    channel1: Channel1,
    t0: T0,
    pins: PinState,
    env: Cps4Env,
    certs: CardCertificates,
    /// PSS salts.
    rng: ChaCha20Rng,
    /// Whether each reset locks SELECT ChipDoc (see the module docs).
    reselect_required: bool,
    lock: Lock,
}

fn key_of(slot: KeySlot) -> &'static rsa::RsaPrivateKey {
    match slot {
        KeySlot::Signature => pki::cps4_signature_key(),
        KeySlot::Authentication => pki::cps4_authentication_key(),
    }
}

/// `6F { 84 AID }`: the FCI of an application without files.
fn fci(aid: &[u8]) -> Vec<u8> {
    tlv(&[0x6F], &tlv(&[0x84], aid))
}

impl Cps4Card {
    /// Issues the card's certificates for the CPS4 keys and lays out its files.
    pub fn new(config: CpsConfig) -> Result<Self, PkiError> {
        let certs = pki::issue_cps4_certificates(&config.holder)?;
        let seed: [u8; 32] = Sha256::digest(config.holder.card_serial.as_bytes()).into();
        Ok(Cps4Card {
            atr: config.atr,
            fs: layout::build(Generation::Cps4, &config.holder, &config.data, &certs),
            cursor: Cursor::default(),
            channel1: Channel1::Closed,
            t0: T0::default(),
            pins: config.pin.state(),
            env: Cps4Env::default(),
            certs,
            rng: ChaCha20Rng::from_seed(seed),
            reselect_required: false,
            lock: Lock::Open,
        })
    }

    /// From now on and after every reset, SELECT ChipDoc answers `69 85`
    /// until the ISD (channel 1) then the CPS2ter applet (basic channel) have
    /// been selected (card spec `[chipdoc] reselect_required = true`).
    pub fn reselect_required(mut self) -> Self {
        self.reselect_required = true;
        self.lock = Lock::Locked;
        self
    }

    /// The DER certificates in `3F00/0001/E001` (signature) and `E002` (authentication).
    pub fn certificates(&self) -> &CardCertificates {
        &self.certs
    }

    fn dispatch(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        let decipher = apdu.ins == 0x2A && (apdu.p1, apdu.p2) == (0x80, 0x86);
        // A chain goes on with PSO DECIPHER on channel 1 only.
        if self.env.chaining() && !(decipher && apdu.cla & 0xEF == CLA_CHANNEL_1) {
            self.env.end_chain();
        }
        match apdu.cla {
            0x00 => self.basic_channel(apdu),
            CLA_CHANNEL_1 => self.channel_one(apdu),
            CLA_CHANNEL_1_CHAINED if self.channel1 != Channel1::App => Err(Sw::CONDITIONS_NOT_SATISFIED),
            CLA_CHANNEL_1_CHAINED if decipher => {
                self.env.pso_decipher(apdu, true, self.pins.verified(), key_of)
            }
            // Only PSO DECIPHER takes command chaining.
            CLA_CHANNEL_1_CHAINED => Err(Sw::CHAINING_NOT_SUPPORTED),
            0x02 | 0x03 => Err(Sw::CHANNEL_NOT_SUPPORTED),
            _ => Err(Sw::CLA_NOT_SUPPORTED),
        }
    }

    /// CLA 00: SELECT `3F00` (P1 00) or the CPS2ter application (P1 04); the
    /// rest is `69 85`.
    fn basic_channel(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        if apdu.ins != 0xA4 {
            return Err(Sw::CONDITIONS_NOT_SATISFIED);
        }
        let fci = match (apdu.p1, apdu.data) {
            (0x00, [0x3F, 0x00]) => self.fs.fcp(FileSystem::MF),
            (0x04, aid) if aid == AID_CPS2TER => {
                if self.lock == Lock::IsdSelected {
                    self.lock = Lock::Open;
                }
                fci(&AID_CPS2TER)
            }
            _ => return Err(Sw::CONDITIONS_NOT_SATISFIED),
        };
        match apdu.p2 {
            0x0C => Ok(Reply::Done),
            0x00 | 0x04 => Ok(Reply::Later(fci)),
            _ => Err(Sw::WRONG_P1P2),
        }
    }

    /// CLA 01: the CPS4 application.
    fn channel_one(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        if apdu.ins == 0xA4 {
            return self.select(apdu);
        }
        if self.channel1 != Channel1::App {
            return Err(Sw::CONDITIONS_NOT_SATISFIED);
        }
        match apdu.ins {
            0xB0 => {
                files::read_binary_up_to(&self.fs, &mut self.cursor, apdu, self.pins.verified(), MAX_READ)
            }
            0x20 => self.pins.verify(apdu),
            0x24 if apdu.p1 == 0x01 => self.pins.change_new_only(apdu),
            0x24 => self.pins.change(apdu),
            0x2C => self.pins.unblock(apdu),
            // The CPS3's GET DATA counter read does not exist here.
            0xCB => Err(Sw::REF_NOT_FOUND),
            0x22 => self.env.set(apdu),
            0x2A => match (apdu.p1, apdu.p2) {
                (0x90, 0xA0) => self.env.pso_hash(apdu),
                (0x9E, 0x9A) => self
                    .env
                    .pso_cds(apdu, self.pins.verified(), key_of, &mut self.rng),
                (0x80, 0x86) => self.env.pso_decipher(apdu, false, self.pins.verified(), key_of),
                _ => Err(Sw::WRONG_P1P2),
            },
            // No INTERNAL AUTHENTICATE on the CPS4.
            _ => Err(Sw::INS_NOT_SUPPORTED),
        }
    }

    /// SELECT on channel 1: the CPS4 application or the ISD by AID at any
    /// time; files (and the PKCS#15 DF by AID) once the application is selected.
    fn select(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        if apdu.p1 == 0x04 && (apdu.data == AID_CPS4 || apdu.data == AID_ISD) {
            let with_fci = match apdu.p2 {
                0x0C => false,
                0x04 => true,
                _ => return Err(Sw::WRONG_P1P2),
            };
            if apdu.data == AID_CPS4 && self.lock != Lock::Open {
                self.lock = Lock::Locked;
                return Err(Sw::CONDITIONS_NOT_SATISFIED);
            }
            let reply = if apdu.data == AID_CPS4 {
                self.channel1 = Channel1::App;
                self.cursor = Cursor::default();
                self.fs.fcp(FileSystem::MF)
            } else {
                self.channel1 = Channel1::Isd;
                if self.lock == Lock::Locked {
                    self.lock = Lock::IsdSelected;
                }
                fci(&AID_ISD)
            };
            return Ok(if with_fci {
                Reply::Later(reply)
            } else {
                Reply::Done
            });
        }
        if self.channel1 != Channel1::App {
            return Err(Sw::FILE_NOT_FOUND);
        }
        files::select(&self.fs, &mut self.cursor, apdu, PathRule::Iso)
    }
}

impl SimCard for Cps4Card {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn reset(&mut self) {
        self.cursor = Cursor::default();
        self.channel1 = Channel1::Closed;
        self.t0.clear();
        self.pins.reset();
        self.env = Cps4Env::default();
        if self.reselect_required {
            self.lock = Lock::Locked;
        }
    }

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let mut t0 = std::mem::take(&mut self.t0);
        let response = t0.transmit_on(apdu, &[0x00, CLA_CHANNEL_1], |a| self.dispatch(a));
        self.t0 = t0;
        response
    }
}

#[cfg(test)]
mod tests;
