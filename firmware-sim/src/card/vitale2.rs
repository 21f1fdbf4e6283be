//! The carte Vitale 2: two applications selected by AID, VITALE (EF 2001
//! POINTERS) and MF_VITALE (EF 2F00 DIR, 2F02 PAN, D001 identity, and any
//! extra EFs of the card description, all listed in POINTERS), readable
//! without any PIN.

use super::apdu::{read_chunk, Apdu, Reply, Sw, T0};
use super::fs::{Cursor, FileSystem, MF_FID};
use super::tlv::{constructed, tlv};
use super::SimCard;

pub const AID_VITALE: [u8; 11] = [0xD2, 0x50, 0x00, 0x00, 0x02, 0x56, 0x49, 0x54, 0x41, 0x4C, 0x45];
pub const AID_MF_VITALE: [u8; 14] = [
    0xD2, 0x50, 0x00, 0x00, 0x02, 0x4D, 0x46, 0x5F, 0x56, 0x49, 0x54, 0x41, 0x4C, 0x45,
];
pub const FID_POINTERS: u16 = 0x2001;
pub const FID_DIR: u16 = 0x2F00;
pub const FID_PAN: u16 = 0x2F02;
pub const FID_IDENTITY: u16 = 0xD001;
/// Entry numbers used in POINTERS to tie named EFs to an application.
const ENTRY_MF_VITALE: [u8; 2] = [0x00, 0x01];
const ENTRY_VITALE: [u8; 2] = [0x00, 0x02];

/// READ BINARY sends up to 256 bytes (Le = 00).
const MAX_READ: usize = 256;

/// One person on the card; every field is stored exactly as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beneficiary {
    pub surname: String,
    pub first_name: String,
    /// Raw `AAAAMMJJ` (or `AAMMJJ` without the century), possibly lunar (month 00, day 32…).
    pub birth_date: String,
    pub nationality: String,
    /// 13 digits + 2-digit key.
    pub nir: String,
    /// More objects inside the `65` template, after the known tags:
    /// (tag bytes, value bytes), written as given.
    pub extra: Vec<(Vec<u8>, Vec<u8>)>,
}

/// An EF of MF_VITALE beyond the known ones, listed in POINTERS under `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraFile {
    pub fid: u16,
    /// Up to 8 characters (space-padded in POINTERS).
    pub name: String,
    pub content: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vitale2Config {
    pub atr: Vec<u8>,
    pub serial: String,
    /// Raw `AAAAMMJJ`.
    pub validity_start: String,
    pub beneficiaries: Vec<Beneficiary>,
    pub extra_files: Vec<ExtraFile>,
}

/// EF D001: `65 {80 nom, 81 prénom, 82 naissance, 90 nationalité, 93 NIR,
/// extra…}` per beneficiary, then `66 {80 début de validité}`.
pub fn identity_file(config: &Vitale2Config) -> Vec<u8> {
    let mut out: Vec<u8> = config
        .beneficiaries
        .iter()
        .flat_map(|b| {
            let mut fields = vec![
                tlv(&[0x80], b.surname.as_bytes()),
                tlv(&[0x81], b.first_name.as_bytes()),
                tlv(&[0x82], b.birth_date.as_bytes()),
                tlv(&[0x90], b.nationality.as_bytes()),
                tlv(&[0x93], b.nir.as_bytes()),
            ];
            fields.extend(b.extra.iter().map(|(tag, value)| tlv(tag, value)));
            constructed(&[0x65], &fields)
        })
        .collect();
    out.extend(tlv(&[0x66], &tlv(&[0x80], config.validity_start.as_bytes())));
    out
}

/// EF 2001: `E0 { A0 { 82 <entry(2) 00 00 AID> … }, 80 <name(8) entry(2) FID(2)> … }`
/// (the layout cardpeek walks; the two bytes before the AID are unknown, 00 00 here).
pub fn pointers_file(extra_files: &[ExtraFile]) -> Vec<u8> {
    let app = |entry: [u8; 2], aid: &[u8]| tlv(&[0x82], &[&entry[..], &[0, 0], aid].concat());
    let file = |name: &str, entry: [u8; 2], fid: u16| {
        let mut name: Vec<u8> = name.bytes().take(8).collect();
        name.resize(8, b' ');
        tlv(&[0x80], &[&name[..], &entry, &fid.to_be_bytes()].concat())
    };
    let mut parts = vec![
        constructed(
            &[0xA0],
            &[
                app(ENTRY_MF_VITALE, &AID_MF_VITALE),
                app(ENTRY_VITALE, &AID_VITALE),
            ],
        ),
        file("IDENTITE", ENTRY_MF_VITALE, FID_IDENTITY),
    ];
    parts.extend(extra_files.iter().map(|f| file(&f.name, ENTRY_MF_VITALE, f.fid)));
    constructed(&[0xE0], &parts)
}

fn dir_file() -> Vec<u8> {
    [
        constructed(&[0x61], &[tlv(&[0x4F], &AID_VITALE), tlv(&[0x50], b"VITALE")]),
        constructed(
            &[0x61],
            &[tlv(&[0x4F], &AID_MF_VITALE), tlv(&[0x50], b"MF_VITALE")],
        ),
    ]
    .concat()
}

/// `5A <len> <serial as BCD, F-padded>` (the real PAN layout is not public).
fn pan_file(serial: &str) -> Vec<u8> {
    let digits: Vec<u8> = serial.bytes().map(|b| b.wrapping_sub(b'0') & 0x0F).collect();
    let bcd: Vec<u8> = digits
        .chunks(2)
        .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0x0F))
        .collect();
    tlv(&[0x5A], &bcd)
}

pub struct Vitale2Card {
    atr: Vec<u8>,
    fs: FileSystem,
    cursor: Cursor,
    t0: T0,
}

impl Vitale2Card {
    pub fn new(config: Vitale2Config) -> Self {
        let mut fs = FileSystem::new();
        let vitale = fs.add_df(FileSystem::MF, None, Some(&AID_VITALE));
        fs.add_ef(vitale, FID_POINTERS, pointers_file(&config.extra_files));
        let mf_vitale = fs.add_df(FileSystem::MF, None, Some(&AID_MF_VITALE));
        fs.add_ef(mf_vitale, FID_DIR, dir_file());
        fs.add_ef(mf_vitale, FID_PAN, pan_file(&config.serial));
        fs.add_ef(mf_vitale, FID_IDENTITY, identity_file(&config));
        for f in &config.extra_files {
            fs.add_ef(mf_vitale, f.fid, f.content.clone());
        }
        Vitale2Card {
            atr: config.atr,
            fs,
            cursor: Cursor::default(),
            t0: T0::default(),
        }
    }

    fn dispatch(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        if apdu.cla != 0x00 {
            return Err(Sw::CLA_NOT_SUPPORTED);
        }
        match apdu.ins {
            0xA4 => self.select(apdu),
            0xB0 => self.read_binary(apdu),
            _ => Err(Sw::INS_NOT_SUPPORTED),
        }
    }

    /// SELECT by AID (P1 04) or FID (P1 00/02, child of the current DF; 3F00 =
    /// MF); P2 00/04 → FCP through `61 xx`, 0C → no data.
    fn select(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        let with_fcp = match apdu.p2 {
            0x00 | 0x04 => true,
            0x0C => false,
            _ => return Err(Sw::WRONG_P1P2),
        };
        let target = match (apdu.p1, apdu.data) {
            (0x04, aid) if !aid.is_empty() => self.fs.by_aid(aid).ok_or(Sw::FILE_NOT_FOUND)?,
            (0x00 | 0x02, [hi, lo]) => match u16::from_be_bytes([*hi, *lo]) {
                MF_FID if apdu.p1 == 0x00 => FileSystem::MF,
                fid => self.fs.child(self.cursor.df, fid).ok_or(Sw::FILE_NOT_FOUND)?,
            },
            (0x00 | 0x02 | 0x04, _) => return Err(Sw::WRONG_LENGTH),
            _ => return Err(Sw::WRONG_P1P2),
        };
        self.cursor.select(&self.fs, target);
        Ok(if with_fcp {
            Reply::Later(self.fs.fcp(target))
        } else {
            Reply::Done
        })
    }

    fn read_binary(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        let wanted = apdu.expected_len()?;
        if apdu.p1 & 0x80 != 0 {
            // No short file identifiers are known for Vitale EFs.
            return Err(Sw::FILE_NOT_FOUND);
        }
        let ef = self.cursor.ef.ok_or(Sw::NO_CURRENT_EF)?;
        let data = self.fs.ef_data(ef).ok_or(Sw::NO_CURRENT_EF)?;
        let offset = usize::from(u16::from_be_bytes([apdu.p1, apdu.p2]));
        read_chunk(data, offset, wanted, MAX_READ).map(Reply::Data)
    }
}

impl SimCard for Vitale2Card {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn reset(&mut self) {
        self.cursor = Cursor::default();
        self.t0.clear();
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
