//! SELECT and READ BINARY on the CPS file system, shared by the CPS3 and the
//! CPS4 (which differ in how they read a path).

use super::MAX_READ;
use crate::card::apdu::{read_chunk, Apdu, Reply, Sw};
use crate::card::fs::{Cursor, FileSystem, MF_FID};

/// How a card resolves SELECT by FID and by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRule {
    /// CPS3: P1 00 = MF or a child of the current DF; P1 09 = a path that
    /// must start with `3F00` (otherwise `6A 82`); no P1 08.
    Cps3,
    /// CPS4 (ISO 7816-4): P1 00 searches the current DF, its children, its
    /// parent and siblings, and the MF's children; P1 08 = path from the MF
    /// without `3F00`; P1 09 = path from the current DF, so one starting with
    /// `3F00` names a child `3F00` that no DF has: `6A 82`. (Cryptolib never
    /// sends that to a CPS4, public-sources §1.6.2; what the ChipDoc answers
    /// is not public, `6A 82` is what ISO's definition of P1 09 gives.)
    Iso,
}

/// SELECT: P1 00 (FID), 01 (child DF), 02 (child), 03 (parent), 04 (AID,
/// searched anywhere), 08/09 (path); P2 04 (FCP through `61 xx`) or 0C (none).
/// P2 00 → `6A 86`, as the real card answers the AID select with P2 00.
pub fn select(fs: &FileSystem, cursor: &mut Cursor, apdu: &Apdu<'_>, rule: PathRule) -> Result<Reply, Sw> {
    let with_fcp = match apdu.p2 {
        0x04 => true,
        0x0C => false,
        _ => return Err(Sw::WRONG_P1P2),
    };
    let fid = || match apdu.data {
        [hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
        _ => Err(Sw::WRONG_LENGTH),
    };
    let child = |fid: u16| fs.child(cursor.df, fid).ok_or(Sw::FILE_NOT_FOUND);
    let target = match (apdu.p1, rule) {
        (0x00, PathRule::Cps3) => match fid()? {
            MF_FID => FileSystem::MF,
            f => child(f)?,
        },
        (0x00, PathRule::Iso) => fs.find_fid(cursor.df, fid()?).ok_or(Sw::FILE_NOT_FOUND)?,
        (0x01, _) => Some(child(fid()?)?)
            .filter(|i| fs.is_df(*i))
            .ok_or(Sw::FILE_NOT_FOUND)?,
        // `3F00` is reserved for the MF (ISO 7816-4): OpenSC's IAS-ECC
        // driver selects it so (`A4 02 04 02 3F00`) before each PIN
        // verification, and verifies PINs on real CPS3s (OpenSC issue #2267).
        (0x02, PathRule::Cps3) if fid()? == MF_FID => FileSystem::MF,
        (0x02, _) => child(fid()?)?,
        (0x03, _) if apdu.data.is_empty() => fs
            .node(cursor.df)
            .and_then(|n| n.parent)
            .ok_or(Sw::FILE_NOT_FOUND)?,
        (0x04, _) if !apdu.data.is_empty() => fs.by_aid(apdu.data).ok_or(Sw::FILE_NOT_FOUND)?,
        (0x09, PathRule::Cps3) => fs.by_path_from_mf(apdu.data)?,
        (0x08, PathRule::Iso) if !apdu.data.is_empty() => fs.by_path_from(FileSystem::MF, apdu.data)?,
        (0x09, PathRule::Iso) if !apdu.data.is_empty() => fs.by_path_from(cursor.df, apdu.data)?,
        (0x03 | 0x04, _) | (0x08 | 0x09, PathRule::Iso) => return Err(Sw::WRONG_LENGTH),
        _ => return Err(Sw::WRONG_P1P2),
    };
    cursor.select(fs, target);
    Ok(if with_fcp {
        Reply::Later(fs.fcp(target))
    } else {
        Reply::Done
    })
}

/// READ BINARY on the current EF (`B0 off_hi off_lo Le`), or by SFI
/// (`B0 8x off Le`, which makes the EF current). A PIN-protected EF answers
/// `69 82` until the PIN is verified. Le = 00 ("up to 256") is answered with
/// what remains, at most [`MAX_READ`] bytes: IAS-ECC's chunk, which OpenSC's
/// IAS-ECC driver expects in answer to Le = 00 and completes by itself.
pub fn read_binary(
    fs: &FileSystem,
    cursor: &mut Cursor,
    apdu: &Apdu<'_>,
    verified: bool,
) -> Result<Reply, Sw> {
    read_binary_up_to(fs, cursor, apdu, verified, MAX_READ)
}

/// [`read_binary`] for a card that sends at most `max` bytes at once (Le =
/// 00 is answered with at most that much).
pub fn read_binary_up_to(
    fs: &FileSystem,
    cursor: &mut Cursor,
    apdu: &Apdu<'_>,
    verified: bool,
    max: usize,
) -> Result<Reply, Sw> {
    let asked = apdu.expected_len()?;
    let (ef, offset) = if apdu.p1 & 0x80 != 0 {
        if apdu.p1 & 0x60 != 0 {
            return Err(Sw::WRONG_P1P2);
        }
        let ef = fs
            .child_by_sfi(cursor.df, apdu.p1 & 0x1F)
            .ok_or(Sw::FILE_NOT_FOUND)?;
        cursor.select(fs, ef);
        (ef, usize::from(apdu.p2))
    } else {
        let ef = cursor.ef.ok_or(Sw::NO_CURRENT_EF)?;
        (ef, usize::from(u16::from_be_bytes([apdu.p1, apdu.p2])))
    };
    let data = fs.ef_data(ef).ok_or(Sw::NO_CURRENT_EF)?;
    if fs.read_needs_pin(ef) && !verified {
        return Err(Sw::SECURITY_NOT_SATISFIED);
    }
    let wanted = match apdu.le {
        Some(0) => max.min(data.len().saturating_sub(offset)),
        _ => asked,
    };
    read_chunk(data, offset, wanted, max).map(Reply::Data)
}
