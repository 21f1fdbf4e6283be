//! What of a command APDU may be shown in a trace. A whitelist: command data
//! is shown only for the interindustry commands known to carry none of the
//! holder's secrets or personal data (SELECT, MSE, GET DATA, MANAGE CHANNEL);
//! the data of PIN commands (VERIFY, CHANGE REFERENCE DATA, RESET RETRY
//! COUNTER) hides even its length; everything else shows its length only.
//! Response data is never shown (files hold names, NIRs, certificates).

/// Command data bytes shown at most; longer shown data is cut (`truncated`).
pub const SHOWN_MAX: usize = 32;

/// The command data, as a trace may show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// The command carries no data.
    Empty,
    /// Data known to be safe: its first bytes (up to [`SHOWN_MAX`]) and its length.
    Shown {
        /// The first bytes, zero-padded past `len`.
        bytes: [u8; SHOWN_MAX],
        /// The data length (Lc).
        len: u8,
    },
    /// Data that may be personal: its length only.
    Masked {
        /// The data length.
        len: u16,
    },
    /// A PIN, PUK or new PIN: neither the data nor its length.
    Secret,
}

impl Body {
    /// The shown bytes, when shown.
    pub fn shown(&self) -> Option<&[u8]> {
        match self {
            Body::Shown { bytes, len } => Some(&bytes[..usize::from(*len).min(SHOWN_MAX)]),
            _ => None,
        }
    }

    /// Whether shown data was cut at [`SHOWN_MAX`] bytes.
    pub fn truncated(&self) -> bool {
        matches!(self, Body::Shown { len, .. } if usize::from(*len) > SHOWN_MAX)
    }

    /// The data length, unless it is a secret.
    pub fn data_len(&self) -> Option<u16> {
        match self {
            Body::Empty => Some(0),
            Body::Shown { len, .. } => Some(u16::from(*len)),
            Body::Masked { len } => Some(*len),
            Body::Secret => None,
        }
    }
}

/// A command APDU (or T=0 TPDU) as a trace shows it. Fixed size: making one
/// allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafeCommand {
    /// CLA INS P1 P2 (zeros past the end of a shorter command).
    pub header: [u8; 4],
    /// Expected response length (256 for `00`).
    pub le: Option<u16>,
    /// The command data, as far as it may be shown.
    pub body: Body,
}

/// Instructions whose data is a PIN, a PUK or a new PIN, whatever the class.
const SECRET_INS: &[u8] = &[
    0x20, // VERIFY
    0x21, // VERIFY (BER-TLV data)
    0x24, // CHANGE REFERENCE DATA
    0x25, // CHANGE REFERENCE DATA (BER-TLV data)
    0x2C, // RESET RETRY COUNTER
    0x2D, // RESET RETRY COUNTER (BER-TLV data)
];

/// Interindustry instructions whose data names files, keys, algorithms or
/// tags, never the holder's data.
const SAFE_INS: &[u8] = &[
    0xA4, // SELECT: AID, file id or path
    0x22, // MANAGE SECURITY ENVIRONMENT: algorithm and key references
    0xCA, // GET DATA: tag in P1 P2
    0xCB, // GET DATA: tag list
    0x70, // MANAGE CHANNEL
];

/// Splits a command and keeps what may be shown. Malformed or extended
/// commands show their data length only.
pub fn safe_command(apdu: &[u8]) -> SafeCommand {
    let mut header = [0u8; 4];
    for (h, b) in header.iter_mut().zip(apdu) {
        *h = *b;
    }
    let [cla, ins, ..] = header;
    let le_of = |b: u8| Some(if b == 0 { 256 } else { u16::from(b) });
    let rest = apdu.get(4..).unwrap_or_default();
    let (data, le): (&[u8], Option<u16>) = match rest {
        [] => (&[], None),
        [le] => (&[], le_of(*le)),
        [lc, tail @ ..] if tail.len() == usize::from(*lc) => (tail, None),
        [lc, tail @ .., le] if tail.len() == usize::from(*lc) => (tail, le_of(*le)),
        _ => {
            // Not a short APDU: its length is all that is sure.
            let body = if SECRET_INS.contains(&ins) {
                Body::Secret
            } else {
                Body::Masked {
                    len: u16::try_from(rest.len()).unwrap_or(u16::MAX),
                }
            };
            return SafeCommand {
                header,
                le: None,
                body,
            };
        }
    };
    // A VERIFY without data asks the tries left: there is nothing to hide.
    let body = if data.is_empty() {
        Body::Empty
    } else if SECRET_INS.contains(&ins) {
        Body::Secret
    } else if interindustry(cla) && SAFE_INS.contains(&ins) {
        let mut bytes = [0u8; SHOWN_MAX];
        for (b, d) in bytes.iter_mut().zip(data) {
            *b = *d;
        }
        // A short APDU's data is at most 255 bytes.
        let len = u8::try_from(data.len()).unwrap_or(u8::MAX);
        Body::Shown { bytes, len }
    } else {
        Body::Masked {
            len: data.len() as u16, // at most 255 here
        }
    };
    SafeCommand { header, le, body }
}

/// A class byte whose instructions mean what ISO 7816-4 says (a proprietary
/// class may give `A4` another meaning).
fn interindustry(cla: u8) -> bool {
    cla & 0x80 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(hex: &str) -> SafeCommand {
        safe_command(&hex::decode(hex).unwrap())
    }

    #[test]
    fn select_data_is_shown() {
        let c = cmd("00A4040C07A0000000041010");
        assert_eq!(c.header, [0, 0xA4, 4, 0x0C]);
        assert_eq!(c.body.shown(), Some(&hex::decode("A0000000041010").unwrap()[..]));
        assert_eq!(c.body.data_len(), Some(7));
        assert_eq!(c.le, None);
        let c = cmd("00A4000402200100");
        assert_eq!(c.body.shown(), Some(&[0x20, 0x01][..]));
        assert_eq!(c.le, Some(256));
    }

    #[test]
    fn pin_commands_hide_data_and_length() {
        for apdu in [
            "0020008108313233343FFFFFFF",
            "00240081103132333435363738FFFFFFFFFFFFFFFF",
            "002C00811031323334353637383132333435363738",
            "802000810431323334",
            "0020008104313233",       // Lc disagrees with the data
            "0021008100000331323334", // extended length
        ] {
            let c = cmd(apdu);
            assert_eq!(c.body, Body::Secret, "{apdu}");
            assert_eq!(c.body.data_len(), None);
            assert_eq!(c.body.shown(), None);
        }
        // VERIFY without data asks the tries left: nothing to hide.
        assert_eq!(cmd("00200081").body, Body::Empty);
    }

    #[test]
    fn other_data_shows_its_length_only() {
        let c = cmd("002A9E9A20000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F00");
        assert_eq!(c.body, Body::Masked { len: 32 });
        assert_eq!(c.le, Some(256));
        // A proprietary class: even SELECT is not known to be safe.
        assert_eq!(cmd("80A4040002AABB").body, Body::Masked { len: 2 });
        assert_eq!(cmd("0088000003AABBCC").body, Body::Masked { len: 3 });
    }

    #[test]
    fn headers_and_le() {
        assert_eq!(cmd("00B0000000").le, Some(256));
        assert_eq!(cmd("00B0000010").le, Some(16));
        assert_eq!(cmd("00B00000").body, Body::Empty);
        assert_eq!(cmd("00B00000").le, None);
        let short = cmd("00B0");
        assert_eq!(short.header, [0, 0xB0, 0, 0]);
        assert_eq!(short.body, Body::Empty);
        assert_eq!(cmd("").header, [0; 4]);
    }

    #[test]
    fn long_shown_data_is_cut() {
        let path = format!("00A40800{:02X}{}", 40, "3F00".repeat(20));
        let c = cmd(&path);
        assert_eq!(c.body.shown().map(<[u8]>::len), Some(SHOWN_MAX));
        assert!(c.body.truncated());
        assert_eq!(c.body.data_len(), Some(40));
    }
}
