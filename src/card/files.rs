//! Selecting and reading transparent files, with every length from the card
//! checked before use. `cla` carries the logical channel (CPS4 uses 01).

use super::{expect_ok, tlv, CardError};
use crate::apdu::{transmit, Command, Exchange, StatusWord};
use crate::card::profile::PathSelection;

/// Largest file lecteur reads (certificates are ~1.5 KiB, Vitale identity < 1 KiB).
pub(crate) const MAX_FILE: usize = 16 * 1024;

/// Selects an application by AID without asking for its FCI.
pub(crate) fn select_aid(ex: &mut dyn Exchange, aid: &[u8], what: &'static str) -> Result<(), CardError> {
    select_aid_on(ex, 0x00, aid, what)
}

/// [`select_aid`] with a given CLA (logical channel).
pub(crate) fn select_aid_on(
    ex: &mut dyn Exchange,
    cla: u8,
    aid: &[u8],
    what: &'static str,
) -> Result<(), CardError> {
    let resp = transmit(ex, &Command::new(cla, 0xA4, 0x04, 0x0C).data(aid))?;
    expect_ok(resp, what).map(drop)
}

/// Selects an EF (by path from the MF when `p1` = 09, by FID when 02) and
/// returns its size from the FCI, when the card gives one.
pub(crate) fn select_ef(
    ex: &mut dyn Exchange,
    p1: u8,
    path: &[u8],
    what: &'static str,
) -> Result<Option<usize>, CardError> {
    select_ef_on(ex, 0x00, p1, path, what)
}

/// [`select_ef`] with a given CLA.
pub(crate) fn select_ef_on(
    ex: &mut dyn Exchange,
    cla: u8,
    p1: u8,
    path: &[u8],
    what: &'static str,
) -> Result<Option<usize>, CardError> {
    let resp = transmit(ex, &Command::new(cla, 0xA4, p1, 0x04).data(path).le(256))?;
    let fci = expect_ok(resp, what)?;
    Ok(tlv::fci_size(&fci))
}

/// Reads the current EF: `size` bytes when known, else until the card says the
/// end is reached. `chunk` is the largest Le the card accepts.
pub(crate) fn read_binary(
    ex: &mut dyn Exchange,
    size: Option<usize>,
    chunk: usize,
    what: &'static str,
) -> Result<Vec<u8>, CardError> {
    read_binary_on(ex, 0x00, size, chunk, what)
}

/// [`read_binary`] with a given CLA.
pub(crate) fn read_binary_on(
    ex: &mut dyn Exchange,
    cla: u8,
    size: Option<usize>,
    chunk: usize,
    what: &'static str,
) -> Result<Vec<u8>, CardError> {
    let limit = size.unwrap_or(MAX_FILE);
    if limit > MAX_FILE {
        return Err(CardError::Malformed(format!(
            "{what}: file size {limit} too large"
        )));
    }
    // A zero chunk would loop forever; 256 is the most a short APDU carries.
    let chunk = chunk.clamp(1, 256);
    let mut out = Vec::with_capacity(limit);
    while out.len() < limit {
        let offset = out.len();
        if offset > 0x7FFF {
            // READ BINARY's offset has 15 bits.
            return Err(CardError::Malformed(format!("{what}: file beyond offset 7FFF")));
        }
        let want = chunk.min(limit - offset);
        let cmd = Command::new(cla, 0xB0, (offset >> 8) as u8, offset as u8).le(want);
        let resp = transmit(ex, &cmd)?;
        match resp.sw {
            StatusWord::Ok | StatusWord::EndOfFile => {}
            StatusWord::WrongOffset if size.is_none() => break,
            sw => return Err(CardError::Status { what, sw }),
        }
        if resp.data.len() > want {
            return Err(CardError::Malformed(format!(
                "{what}: card sent {} bytes for Le {want}",
                resp.data.len()
            )));
        }
        let short = resp.data.len() < want;
        out.extend_from_slice(&resp.data);
        if resp.data.is_empty() || (short && size.is_none()) || resp.sw == StatusWord::EndOfFile {
            break;
        }
    }
    if size.is_some_and(|s| out.len() != s) {
        return Err(CardError::Malformed(format!(
            "{what}: read {} of {limit} bytes",
            out.len()
        )));
    }
    Ok(out)
}

/// Selects a file by its path from the MF (`3F00 …`, P1 09) and reads it whole.
/// Only the tests use it.
#[cfg(test)]
pub(crate) fn read_path(
    ex: &mut dyn Exchange,
    cla: u8,
    path: &[u8],
    chunk: usize,
    what: &'static str,
) -> Result<Vec<u8>, CardError> {
    let size = select_ef_on(ex, cla, 0x09, path, what)?;
    read_binary_on(ex, cla, size, chunk, what)
}

/// Selects a file by its path from the MF as Cryptolib does on a CPS4:
/// `3F00` left out; one file id with P1 00; a longer path as its last file id
/// with P1 09 (from the current DF), and when that is `6A 82`, the first file
/// id with P1 00 (no FCI) then the rest with P1 09. Never P1 09 with `3F00`.
pub(crate) fn select_relative(
    ex: &mut dyn Exchange,
    cla: u8,
    path: &[u8],
    what: &'static str,
) -> Result<Option<usize>, CardError> {
    if path.len() < 2 || path.len() % 2 != 0 {
        return Err(CardError::Malformed(format!("{what}: a path is whole file ids")));
    }
    let rest = path.strip_prefix(&[0x3F, 0x00][..]).unwrap_or(path);
    let (first, last) = match rest.len() {
        // The MF itself.
        0 => return select_ef_on(ex, cla, 0x00, &[0x3F, 0x00], what),
        2 => return select_ef_on(ex, cla, 0x00, rest, what),
        n => (&rest[..2], &rest[n - 2..]),
    };
    let cmd = Command::new(cla, 0xA4, 0x09, 0x04).data(last).le(256);
    let resp = transmit(ex, &cmd)?;
    if resp.sw != StatusWord::FileNotFound {
        return Ok(tlv::fci_size(&expect_ok(resp, what)?));
    }
    // The current DF was not the file's: from the first DF on the path.
    let df = Command::new(cla, 0xA4, 0x00, 0x0C).data(first);
    expect_ok(transmit(ex, &df)?, what)?;
    select_ef_on(ex, cla, 0x09, &rest[2..], what)
}

/// How to read files on one card: its CLA (logical channel), READ BINARY
/// size and how it selects a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub cla: u8,
    pub chunk: usize,
    pub select: PathSelection,
}

impl Reader {
    /// Selects a file by its path from the MF; its size when the FCI gives it.
    pub fn select(
        &self,
        ex: &mut dyn Exchange,
        path: &[u8],
        what: &'static str,
    ) -> Result<Option<usize>, CardError> {
        match self.select {
            PathSelection::MfPath => select_ef_on(ex, self.cla, 0x09, path, what),
            PathSelection::Relative => select_relative(ex, self.cla, path, what),
        }
    }

    /// Reads a whole file by its path from the MF.
    pub fn read(&self, ex: &mut dyn Exchange, path: &[u8], what: &'static str) -> Result<Vec<u8>, CardError> {
        let size = self.select(ex, path, what)?;
        read_binary_on(ex, self.cla, size, self.chunk, what)
    }

    /// Like [`Reader::read`], but a file that is not there is `None`.
    pub fn read_optional(
        &self,
        ex: &mut dyn Exchange,
        path: &[u8],
        what: &'static str,
    ) -> Result<Option<Vec<u8>>, CardError> {
        match self.read(ex, path, what) {
            Ok(data) => Ok(Some(data)),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Whether a status error means "this file is not on the card".
pub(crate) fn is_absent(e: &CardError) -> bool {
    matches!(
        e,
        CardError::Status {
            sw: StatusWord::FileNotFound | StatusWord::Other(0x6A, 0x88),
            ..
        }
    )
}

/// Whether a status error means "not without the PIN".
pub(crate) fn is_denied(e: &CardError) -> bool {
    matches!(
        e,
        CardError::Status {
            sw: StatusWord::SecurityNotSatisfied,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;

    #[test]
    fn reads_on_a_logical_channel_without_knowing_the_size() {
        let mut r = Replay::new([
            ("01A4090404 3F00D010", "9000"),
            ("01B0000002", "AABB9000"),
            ("01B0000202", "CC6282"),
        ]);
        let data = read_path(&mut r, 0x01, &[0x3F, 0x00, 0xD0, 0x10], 2, "t").unwrap();
        assert_eq!(data, [0xAA, 0xBB, 0xCC]);
        r.finish();
    }

    fn relative(chunk: usize) -> Reader {
        Reader {
            cla: 0x01,
            chunk,
            select: PathSelection::Relative,
        }
    }

    #[test]
    fn relative_selection_as_cryptolib_does_it() {
        // One file id after the MF: P1 00; 256-byte reads (Le 00).
        let mut r = Replay::new([
            ("01A4000402 D003", "9000"),
            ("01B0000000", &format!("{}9000", "AB".repeat(256))),
            ("01B0010000", "CC6282"),
        ]);
        let data = relative(256)
            .read(&mut r, &[0x3F, 0x00, 0xD0, 0x03], "t")
            .unwrap();
        assert_eq!(data.len(), 257);
        r.finish();
        // A longer path: its last file id from the current DF; on 6A 82 the
        // first DF (no FCI), then the rest.
        let mut r = Replay::new([
            ("01A4090402 E001", "6A82"),
            ("01A4000C02 0001", "9000"),
            ("01A4090402 E001", "6F04 80020002 9000"),
            ("01B0000002", "30009000"),
        ]);
        let data = relative(256)
            .read(&mut r, &[0x3F, 0x00, 0x00, 0x01, 0xE0, 0x01], "t")
            .unwrap();
        assert_eq!(data, [0x30, 0x00]);
        r.finish();
        // Found at once: no second try.
        let mut r = Replay::new([("01A4090402 D101", "9000"), ("01B0000000", "E1006282")]);
        relative(256)
            .read(&mut r, &[0x3F, 0x00, 0x00, 0x01, 0xD1, 0x01], "t")
            .unwrap();
        r.finish();
        // Three levels: the rest after the first DF goes whole.
        let mut r = Replay::new([
            ("01A4090402 4401", "6A82"),
            ("01A4000C02 0001", "9000"),
            ("01A4090404 50154401", "6A82"),
        ]);
        let e = relative(256)
            .read(&mut r, &[0x3F, 0x00, 0x00, 0x01, 0x50, 0x15, 0x44, 0x01], "t")
            .unwrap_err();
        assert!(is_absent(&e));
        r.finish();
        // The first DF missing ends it; a path that is not file ids is refused.
        let mut r = Replay::new([("01A4090402 E001", "6A82"), ("01A4000C02 0002", "6A82")]);
        assert!(relative(256)
            .read(&mut r, &[0x00, 0x02, 0xE0, 0x01], "t")
            .is_err());
        r.finish();
        let mut r = Replay::new(Vec::<(String, String)>::new());
        assert!(matches!(
            relative(256).read(&mut r, &[0x3F, 0x00, 0x01], "t"),
            Err(CardError::Malformed(_))
        ));
    }

    #[test]
    fn status_errors_are_classified() {
        let mut r = Replay::new([("00A4090404 3F00D010", "6A82")]);
        let e = read_path(&mut r, 0, &[0x3F, 0x00, 0xD0, 0x10], 2, "t").unwrap_err();
        assert!(is_absent(&e) && !is_denied(&e));
        let mut r = Replay::new([("00A4090404 3F00D010", "9000"), ("00B0000002", "6982")]);
        let e = read_path(&mut r, 0, &[0x3F, 0x00, 0xD0, 0x10], 2, "t").unwrap_err();
        assert!(is_denied(&e));
    }
}
