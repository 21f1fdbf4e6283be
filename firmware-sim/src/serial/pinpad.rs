//! `PC_to_RDR_Secure` on the simulated PIN-pad reader (CCID 1.1 §6.1.11):
//! the PIN verification data structure, and the VERIFY command the firmware
//! builds from the APDU template and the digits typed on the keypad. The
//! host never sees the PIN. No I/O here; [`super::firmware`] runs entries.

use std::time::{Duration, Instant};

/// `bPINOperation` values.
pub const OPERATION_VERIFY: u8 = 0x00;
pub const OPERATION_MODIFY: u8 = 0x01;

/// `bError` of a refused Secure command: the offset, in the CCID message, of
/// the field the reader does not accept.
pub mod field {
    pub const DW_LENGTH: u8 = 1;
    pub const PIN_OPERATION: u8 = 10;
    pub const FORMAT_STRING: u8 = 12;
    pub const PIN_BLOCK_STRING: u8 = 13;
    pub const PIN_LENGTH_FORMAT: u8 = 14;
    pub const MAX_EXTRA_DIGIT: u8 = 15;
    pub const ENTRY_VALIDATION: u8 = 17;
    pub const NUMBER_MESSAGE: u8 = 18;
    /// `abPINApdu` (its Lc is 4 bytes further).
    pub const PIN_APDU: u8 = 25;
}

/// `bError` PIN_CANCELLED: the holder pressed cancel.
pub const PIN_CANCELLED: u8 = 0xEF;
/// `bError` PIN_TIMEOUT: no validation in time.
pub const PIN_TIMEOUT: u8 = 0xF0;
/// `bError` CMD_SLOT_BUSY: the slot is still busy with a PIN entry.
pub const CMD_SLOT_BUSY: u8 = 0xE0;
/// The answer a reader gives for a typed PIN outside the allowed length
/// (PC/SC part 10: "invalid PIN length"); the card is not asked.
pub const SW_BAD_LENGTH: [u8; 2] = [0x64, 0x03];

/// Longest wait for the holder, whatever bTimeOut says (0 = this default).
pub const MAX_ENTRY: Duration = Duration::from_secs(30);
/// A time-extension byte goes to the host this often while the holder types.
pub const EXTENSION_INTERVAL: Duration = Duration::from_secs(1);

/// Offset of the PIN verification fields in the Secure data (after
/// `bPINOperation`), and of the APDU template.
const FIELDS: usize = 1;
const TEMPLATE: usize = 15;

/// A PIN verification request, checked against what this firmware supports
/// (the GemPC Pinpad's: validation key only, one message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verify {
    /// bTimeOut, seconds (0: the reader's default).
    pub timeout: u8,
    /// Digits in the PIN block: ASCII (`true`) or binary values 0-9.
    ascii: bool,
    right_justify: bool,
    /// PIN offset in the command's data field, bytes.
    position: usize,
    /// Fixed PIN block size in bytes, 0 = exactly the typed digits.
    block_size: usize,
    /// Byte offset in the data field where the PIN length goes, if any.
    length_at: Option<usize>,
    pub min: u8,
    pub max: u8,
    /// `CLA INS P1 P2 [Lc data]`: the command without the PIN.
    template: Vec<u8>,
}

/// Why [`Verify::build`] gave no command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildError {
    /// The typed PIN is too short or too long: answer `64 03`.
    Length,
}

impl Verify {
    /// Parses the Secure data (`bPINOperation` first). `Err` is the bError
    /// of the refusal.
    pub fn parse(data: &[u8]) -> Result<Verify, u8> {
        let op = *data.first().ok_or(field::DW_LENGTH)?;
        if op != OPERATION_VERIFY {
            return Err(field::PIN_OPERATION);
        }
        if data.len() < TEMPLATE + 4 {
            return Err(field::DW_LENGTH);
        }
        let f = &data[FIELDS..TEMPLATE];
        let (timeout, format, block, length_format) = (f[0], f[1], f[2], f[3]);
        // wPINMaxExtraDigit = XXYY (XX min, YY max), little-endian.
        let (max, min) = (f[4], f[5]);
        let (validation, messages) = (f[6], f[7]);
        let template = data[TEMPLATE..].to_vec();

        // bmFormatString: bit 7 units (bytes only here), bits 6-3 position,
        // bit 2 right-justify, bits 1-0 type (binary 00 or ASCII 10 here).
        if format & 0x80 == 0 {
            return Err(field::FORMAT_STRING);
        }
        let ascii = match format & 0x03 {
            0b00 => false,
            0b10 => true,
            _ => return Err(field::FORMAT_STRING),
        };
        let right_justify = format & 0x04 != 0;
        let position = usize::from((format >> 3) & 0x0F);
        // bmPINBlockString: bits 7-4 PIN length field size in bits (none or
        // one byte here), bits 3-0 PIN block size in bytes.
        let length_bits = block >> 4;
        let block_size = usize::from(block & 0x0F);
        if length_bits != 0 && length_bits != 8 {
            return Err(field::PIN_BLOCK_STRING);
        }
        if min == 0 || min > max || (block_size != 0 && usize::from(max) > block_size) {
            return Err(field::MAX_EXTRA_DIGIT);
        }
        // The GemPC Pinpad firmware takes the validation key only, and one
        // message (libccid rewrites other values for it).
        if validation != 0x02 {
            return Err(field::ENTRY_VALIDATION);
        }
        if messages != 0x01 {
            return Err(field::NUMBER_MESSAGE);
        }
        // The template: CLA INS P1 P2, then optionally Lc and the data field
        // with the padding around the PIN block.
        let data_len = match template.len() {
            4 => 0,
            n => {
                if usize::from(template[4]) != n - 5 {
                    return Err(field::PIN_APDU + 4);
                }
                n - 5
            }
        };
        if block_size != 0 && position + block_size > data_len {
            // A fixed-size block needs its padding in the template.
            return Err(field::PIN_BLOCK_STRING);
        }
        if position + usize::from(max) > 255 {
            return Err(field::FORMAT_STRING);
        }
        // bmPINLengthFormat: bit 4 units (bytes only here), bits 3-0 offset.
        let length_at = if length_bits == 8 {
            if length_format & 0x10 == 0 {
                return Err(field::PIN_LENGTH_FORMAT);
            }
            let at = usize::from(length_format & 0x0F);
            // Before the PIN: what the template keeps in front of it.
            let kept = if block_size == 0 { position } else { data_len };
            if at >= kept || (at >= position && at < position + block_size.max(1)) {
                return Err(field::PIN_LENGTH_FORMAT);
            }
            Some(at)
        } else {
            None
        };
        Ok(Verify {
            timeout,
            ascii,
            right_justify,
            position,
            block_size,
            length_at,
            min,
            max,
            template,
        })
    }

    /// How long the holder has: bTimeOut, capped at [`MAX_ENTRY`].
    pub fn entry_time(&self) -> Duration {
        match self.timeout {
            0 => MAX_ENTRY,
            s => Duration::from_secs(u64::from(s)).min(MAX_ENTRY),
        }
    }

    /// The command for the card: the template with the typed `digits`
    /// (ASCII) formatted in and Lc set. The caller wipes it after use.
    pub fn build(&self, digits: &[u8]) -> Result<Vec<u8>, BuildError> {
        let n = digits.len();
        if n < usize::from(self.min) || n > usize::from(self.max) {
            return Err(BuildError::Length);
        }
        let mut data: Vec<u8> = self.template.get(5..).unwrap_or_default().to_vec();
        let at = if self.block_size == 0 {
            data.resize(self.position, 0x00);
            data.resize(self.position + n, 0x00);
            self.position
        } else if self.right_justify {
            self.position + self.block_size - n
        } else {
            self.position
        };
        for (slot, &d) in data[at..at + n].iter_mut().zip(digits) {
            *slot = if self.ascii { d } else { d.wrapping_sub(b'0') };
        }
        if let Some(l) = self.length_at {
            // n <= max <= 255 - position.
            data[l] = n as u8;
        }
        let mut apdu = Vec::with_capacity(5 + data.len());
        apdu.extend_from_slice(&self.template[..4]);
        // Parse checked position + max <= 255 and the template's own Lc.
        apdu.push(data.len() as u8);
        apdu.extend_from_slice(&data);
        super::keypad::wipe(&mut data);
        Ok(apdu)
    }
}

/// A PIN entry the reader is running: the Secure command it will answer.
#[derive(Debug)]
pub struct Entry {
    pub slot: u8,
    pub seq: u8,
    /// The card the command is for.
    pub generation: u64,
    pub verify: Verify,
    pub deadline: Instant,
    pub next_extension: Instant,
}

impl Entry {
    pub fn new(slot: u8, seq: u8, generation: u64, verify: Verify, now: Instant) -> Self {
        Entry {
            slot,
            seq,
            generation,
            deadline: now + verify.entry_time(),
            next_extension: now + EXTENSION_INTERVAL,
            verify,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Secure data: bPINOperation, the 14 fields, then the template.
    fn data(format: u8, block: u8, length: u8, min: u8, max: u8, template: &[u8]) -> Vec<u8> {
        let mut d = vec![
            0x00, 30, format, block, length, max, min, 0x02, 0x01, 0x0C, 0x04, 0, 0, 0, 0,
        ];
        d.extend_from_slice(template);
        d
    }

    #[test]
    fn ascii_digits_only() {
        let v = Verify::parse(&data(0x82, 0x00, 0x00, 4, 8, &[0x00, 0x20, 0x00, 0x01])).unwrap();
        assert_eq!(v.entry_time(), Duration::from_secs(30));
        assert_eq!(hex::encode_upper(v.build(b"1234").unwrap()), "002000010431323334");
        assert_eq!(
            hex::encode_upper(v.build(b"12345678").unwrap()),
            "00200001083132333435363738"
        );
        assert_eq!(v.build(b"123"), Err(BuildError::Length));
        assert_eq!(v.build(b"123456789"), Err(BuildError::Length));
    }

    #[test]
    fn padded_block_and_length_field() {
        // Lc 8, FF padding, ASCII left-justified in an 8-byte block.
        let t = [
            0x00, 0x20, 0x00, 0x01, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ];
        let v = Verify::parse(&data(0x82, 0x08, 0x00, 4, 8, &t)).unwrap();
        assert_eq!(
            hex::encode_upper(v.build(b"1234").unwrap()),
            "002000010831323334FFFFFFFF"
        );
        // Right-justified binary digits after a length byte.
        let t = [0x00, 0x20, 0x00, 0x81, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00];
        let v = Verify::parse(&data(0x80 | (1 << 3) | 0x04, 0x84, 0x10, 2, 4, &t)).unwrap();
        assert_eq!(
            hex::encode_upper(v.build(b"123").unwrap()),
            "002000810503000102 03".replace(' ', "")
        );
    }

    #[test]
    fn refusals_name_the_field() {
        let h = [0x00, 0x20, 0x00, 0x01];
        let mut modify = data(0x82, 0, 0, 4, 8, &h);
        modify[0] = OPERATION_MODIFY;
        assert_eq!(Verify::parse(&modify), Err(field::PIN_OPERATION));
        assert_eq!(Verify::parse(&[]), Err(field::DW_LENGTH));
        assert_eq!(
            Verify::parse(&data(0x82, 0, 0, 4, 8, &h[..3])),
            Err(field::DW_LENGTH)
        );
        assert_eq!(
            Verify::parse(&data(0x02, 0, 0, 4, 8, &h)),
            Err(field::FORMAT_STRING)
        );
        assert_eq!(
            Verify::parse(&data(0x81, 0, 0, 4, 8, &h)),
            Err(field::FORMAT_STRING)
        );
        assert_eq!(
            Verify::parse(&data(0x82, 0x40, 0, 4, 8, &h)),
            Err(field::PIN_BLOCK_STRING)
        );
        assert_eq!(
            Verify::parse(&data(0x82, 0x08, 0, 4, 8, &h)),
            Err(field::PIN_BLOCK_STRING)
        );
        assert_eq!(
            Verify::parse(&data(0x82, 0, 0, 0, 8, &h)),
            Err(field::MAX_EXTRA_DIGIT)
        );
        assert_eq!(
            Verify::parse(&data(0x82, 0, 0, 9, 8, &h)),
            Err(field::MAX_EXTRA_DIGIT)
        );
        let mut d = data(0x82, 0, 0, 4, 8, &h);
        d[7] = 0x07;
        assert_eq!(Verify::parse(&d), Err(field::ENTRY_VALIDATION));
        let mut d = data(0x82, 0, 0, 4, 8, &h);
        d[8] = 0xFF;
        assert_eq!(Verify::parse(&d), Err(field::NUMBER_MESSAGE));
        assert_eq!(
            Verify::parse(&data(0x82, 0, 0, 4, 8, &[0, 0x20, 0, 1, 3, 0xFF])),
            Err(field::PIN_APDU + 4)
        );
        // A length field where the PIN goes, or in bits.
        assert_eq!(
            Verify::parse(&data(0x82, 0x80, 0x10, 4, 8, &h)),
            Err(field::PIN_LENGTH_FORMAT)
        );
        assert_eq!(
            Verify::parse(&data(0x8A, 0x80, 0x00, 4, 8, &h)),
            Err(field::PIN_LENGTH_FORMAT)
        );
    }

    #[test]
    fn entry_time_is_capped() {
        let mut d = data(0x82, 0, 0, 4, 8, &[0x00, 0x20, 0x00, 0x01]);
        d[1] = 5;
        assert_eq!(Verify::parse(&d).unwrap().entry_time(), Duration::from_secs(5));
        d[1] = 200;
        assert_eq!(Verify::parse(&d).unwrap().entry_time(), MAX_ENTRY);
    }
}
