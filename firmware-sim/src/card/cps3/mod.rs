//! The CPS3 (IAS-ECC) professional card, contact interface: SELECT, READ
//! BINARY, the PIN commands and the two RSA-2048 keys (81 signature, 82
//! authentication). Card contents come from [`Cps3Config`].

pub mod crypto;
pub mod hash;
pub mod layout;
pub mod pin;

use super::apdu::{read_chunk, Apdu, Reply, Sw, T0};
use super::fs::{Cursor, FileSystem, MF_FID};
use super::SimCard;
use crate::pki::{self, CardCertificates, CpsHolder, PkiError};
use crypto::SecurityEnv;
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
}

/// Everything that makes one CPS3 card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cps3Config {
    pub atr: Vec<u8>,
    pub holder: CpsHolder,
    pub pin: PinConfig,
}

pub struct Cps3Card {
    atr: Vec<u8>,
    fs: FileSystem,
    cursor: Cursor,
    t0: T0,
    pins: PinState,
    env: SecurityEnv,
    certs: CardCertificates,
}

impl Cps3Card {
    /// Issues the card's certificates (two RSA signatures by the simulator CA)
    /// and lays out its files.
    pub fn new(config: Cps3Config) -> Result<Self, PkiError> {
        let certs = pki::issue_cps_certificates(&config.holder)?;
        let p = &config.pin;
        Ok(Cps3Card {
            atr: config.atr,
            fs: layout::build(&config.holder.card_serial, &certs),
            cursor: Cursor::default(),
            t0: T0::default(),
            pins: PinState::new(
                Secret::new(&p.value, p.tries_left, p.tries_max),
                Secret::new(&p.puk, p.puk_tries_left, p.puk_tries_max),
            ),
            env: SecurityEnv::default(),
            certs,
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
            0xA4 => self.select(apdu),
            0xB0 => self.read_binary(apdu),
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
                self.env
                    .internal_authenticate(apdu, self.pins.verified(), key)
            }
            _ => Err(Sw::INS_NOT_SUPPORTED),
        }
    }

    /// SELECT: P1 00 (FID, 3F00 = MF), 01 (child DF), 02 (child), 03 (parent),
    /// 04 (AID), 09 (path from MF, `3F00` first); P2 04 (FCP) or 0C (none).
    /// P2 00 → `6A 86`, as the real card answers the AID select with P2 00.
    fn select(&mut self, apdu: &Apdu) -> Result<Reply, Sw> {
        let with_fcp = match apdu.p2 {
            0x04 => true,
            0x0C => false,
            _ => return Err(Sw::WRONG_P1P2),
        };
        let fid = || match apdu.data {
            [hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
            _ => Err(Sw::WRONG_LENGTH),
        };
        let child = |fid: u16| self.fs.child(self.cursor.df, fid).ok_or(Sw::FILE_NOT_FOUND);
        let target = match apdu.p1 {
            0x00 => match fid()? {
                MF_FID => FileSystem::MF,
                f => child(f)?,
            },
            0x01 => Some(child(fid()?)?)
                .filter(|i| self.fs.is_df(*i))
                .ok_or(Sw::FILE_NOT_FOUND)?,
            0x02 => child(fid()?)?,
            0x03 if apdu.data.is_empty() => self
                .fs
                .node(self.cursor.df)
                .and_then(|n| n.parent)
                .ok_or(Sw::FILE_NOT_FOUND)?,
            0x04 if !apdu.data.is_empty() => self.fs.by_aid(apdu.data).ok_or(Sw::FILE_NOT_FOUND)?,
            0x09 => self.fs.by_path_from_mf(apdu.data)?,
            0x03 | 0x04 => return Err(Sw::WRONG_LENGTH),
            _ => return Err(Sw::WRONG_P1P2),
        };
        self.cursor.select(&self.fs, target);
        Ok(if with_fcp {
            Reply::Later(self.fs.fcp(target))
        } else {
            Reply::Done
        })
    }

    /// READ BINARY on the current EF (`00 B0 off_hi off_lo Le`), or by SFI
    /// (`00 B0 8x off Le`, which makes the EF current).
    fn read_binary(&mut self, apdu: &Apdu) -> Result<Reply, Sw> {
        let wanted = apdu.expected_len()?;
        let (ef, offset) = if apdu.p1 & 0x80 != 0 {
            if apdu.p1 & 0x60 != 0 {
                return Err(Sw::WRONG_P1P2);
            }
            let ef = self
                .fs
                .child_by_sfi(self.cursor.df, apdu.p1 & 0x1F)
                .ok_or(Sw::FILE_NOT_FOUND)?;
            self.cursor.select(&self.fs, ef);
            (ef, usize::from(apdu.p2))
        } else {
            let ef = self.cursor.ef.ok_or(Sw::NO_CURRENT_EF)?;
            (ef, usize::from(u16::from_be_bytes([apdu.p1, apdu.p2])))
        };
        let data = self.fs.ef_data(ef).ok_or(Sw::NO_CURRENT_EF)?;
        read_chunk(data, offset, wanted, MAX_READ).map(Reply::Data)
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
    }

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let mut t0 = std::mem::take(&mut self.t0);
        let response = t0.transmit(apdu, |a| self.dispatch(a));
        self.t0 = t0;
        response
    }
}

#[cfg(test)]
mod tests;
