//! Selecting and reading transparent files, with every length from the card
//! checked before use.

use super::{expect_ok, tlv, CardError};
use crate::apdu::{transmit, Command, Exchange, StatusWord};

/// Largest file lecteur reads (certificates are ~1.5 KiB, Vitale identity < 1 KiB).
const MAX_FILE: usize = 16 * 1024;

/// Selects an application by AID without asking for its FCI.
pub fn select_aid(ex: &mut dyn Exchange, aid: &[u8], what: &'static str) -> Result<(), CardError> {
    let resp = transmit(ex, &Command::new(0x00, 0xA4, 0x04, 0x0C).data(aid))?;
    expect_ok(resp, what).map(drop)
}

/// Selects an EF (by path from the MF when `p1` = 09, by FID when 02) and
/// returns its size from the FCI, when the card gives one.
pub fn select_ef(
    ex: &mut dyn Exchange,
    p1: u8,
    path: &[u8],
    what: &'static str,
) -> Result<Option<usize>, CardError> {
    let resp = transmit(ex, &Command::new(0x00, 0xA4, p1, 0x04).data(path).le(256))?;
    let fci = expect_ok(resp, what)?;
    Ok(tlv::fci_size(&fci))
}

/// Reads the current EF: `size` bytes when known, else until the card says the
/// end is reached. `chunk` is the largest Le the card accepts.
pub fn read_binary(
    ex: &mut dyn Exchange,
    size: Option<usize>,
    chunk: usize,
    what: &'static str,
) -> Result<Vec<u8>, CardError> {
    let limit = size.unwrap_or(MAX_FILE);
    if limit > MAX_FILE {
        return Err(CardError::Malformed(format!("{what}: file size {limit} too large")));
    }
    let mut out = Vec::with_capacity(limit);
    while out.len() < limit {
        let offset = out.len();
        let want = chunk.min(limit - offset);
        let cmd = Command::new(0x00, 0xB0, (offset >> 8) as u8, offset as u8).le(want);
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
