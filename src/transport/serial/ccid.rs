//! CCID messages (USB CCID 1.1 subset) as carried on the serial line: building
//! host commands and checking reader answers.

use std::fmt;

use zeroize::Zeroize;

use super::frame::{HEADER_LEN, MAX_DATA_LEN};
use crate::transport::PinpadVerify;

pub(super) const PC_TO_RDR_ICC_POWER_ON: u8 = 0x62;
pub(super) const PC_TO_RDR_ICC_POWER_OFF: u8 = 0x63;
pub(super) const PC_TO_RDR_GET_SLOT_STATUS: u8 = 0x65;
pub(super) const PC_TO_RDR_SECURE: u8 = 0x69;
pub(super) const PC_TO_RDR_ESCAPE: u8 = 0x6B;
pub(super) const PC_TO_RDR_XFR_BLOCK: u8 = 0x6F;

pub(super) const RDR_TO_PC_DATA_BLOCK: u8 = 0x80;
pub(super) const RDR_TO_PC_SLOT_STATUS: u8 = 0x81;
pub(super) const RDR_TO_PC_ESCAPE: u8 = 0x83;

/// Largest command APDU of a short-APDU reader: 5 + 255 + 1.
pub(super) const MAX_APDU_LEN: usize = 261;
/// Longest ATR allowed by ISO 7816-3.
pub(super) const MAX_ATR_LEN: usize = 33;

/// Escape data asking for the firmware version.
pub(super) const ESCAPE_FIRMWARE: &[u8] = &[0x02];
/// Escape data switching card-movement notification on, asynchronous: the
/// reader sends `50 xx` as soon as a card moves (`01 <on> <synchronous>`).
pub(super) const ESCAPE_CARD_MOVEMENT_ASYNC: &[u8] = &[0x01, 0x01, 0x00];
/// Escape data switching card-movement notification to synchronous mode.
pub(super) const ESCAPE_CARD_MOVEMENT_SYNC: &[u8] = &[0x01, 0x01, 0x01];

/// `bPINOperation` of `PC_to_RDR_Secure`: PIN verification.
pub(super) const PIN_OPERATION_VERIFY: u8 = 0x00;
/// `bmFormatString`: system units are bytes (bit 7), the PIN starts at
/// offset 0 of the command's data field (bits 6-3), left-justified (bit 2
/// clear), ASCII digits (bits 1-0 = `10`).
pub(super) const PIN_FORMAT_ASCII: u8 = 0x82;
/// `bmPINBlockString`: no PIN length field (bits 7-4), block size 0 (bits
/// 3-0): the PIN block is the typed digits, and the reader sets Lc.
pub(super) const PIN_BLOCK_DIGITS: u8 = 0x00;
/// `bmPINLengthFormat`: no PIN length to insert.
pub(super) const PIN_LENGTH_NONE: u8 = 0x00;
/// `bEntryValidationCondition`: the holder presses the validation key (the
/// only value the GemPC Pinpad firmware accepts, per libccid).
pub(super) const PIN_VALIDATION_KEY: u8 = 0x02;
/// `bNumberMessage`: one message ("enter PIN"); the GemPC Pinpad firmware
/// rejects 00 and FF (libccid corrects them to 01).
pub(super) const PIN_MESSAGES: u8 = 0x01;
/// `wLangId`: French (0x040C).
pub(super) const PIN_LANG_FRENCH: u16 = 0x040C;
/// Length of the PIN verification data structure before the APDU template,
/// `bPINOperation` included.
pub(super) const PIN_VERIFY_FIELDS_LEN: usize = 15;

/// The data of a `PC_to_RDR_Secure` PIN verification (CCID 1.1 §6.1.11):
/// `bPINOperation`, the PIN verification data structure, then the APDU
/// template `CLA INS P1 P2`. It holds no PIN: the reader appends Lc and the
/// typed digits.
pub(super) fn pin_verify_data(request: &PinpadVerify) -> Vec<u8> {
    let mut d = Vec::with_capacity(PIN_VERIFY_FIELDS_LEN + request.header.len());
    d.push(PIN_OPERATION_VERIFY);
    d.push(request.timeout_secs); // bTimeOut (0: the reader's default)
    d.push(PIN_FORMAT_ASCII);
    d.push(PIN_BLOCK_DIGITS);
    d.push(PIN_LENGTH_NONE);
    // wPINMaxExtraDigit = XXYY, XX minimum and YY maximum digits, little-endian.
    d.extend_from_slice(&u16::from_be_bytes([request.min_len, request.max_len]).to_le_bytes());
    d.push(PIN_VALIDATION_KEY);
    d.push(PIN_MESSAGES);
    d.extend_from_slice(&PIN_LANG_FRENCH.to_le_bytes());
    d.push(0x00); // bMsgIndex
    d.extend_from_slice(&[0x00; 3]); // bTeoPrologue (T=0: unused)
    d.extend_from_slice(&request.header);
    d
}

/// A host-to-reader message before it gets its sequence number.
#[derive(Debug)]
pub(super) struct Command {
    pub message_type: u8,
    pub slot: u8,
    pub params: [u8; 3],
    pub data: Vec<u8>,
}

impl Command {
    /// `PC_to_RDR_IccPowerOn` with automatic voltage selection.
    pub(super) fn power_on(slot: u8) -> Self {
        Self::new(PC_TO_RDR_ICC_POWER_ON, slot, Vec::new())
    }

    pub(super) fn power_off(slot: u8) -> Self {
        Self::new(PC_TO_RDR_ICC_POWER_OFF, slot, Vec::new())
    }

    pub(super) fn get_slot_status(slot: u8) -> Self {
        Self::new(PC_TO_RDR_GET_SLOT_STATUS, slot, Vec::new())
    }

    /// `PC_to_RDR_Escape` (reader-level, slot 0).
    pub(super) fn escape(data: &[u8]) -> Self {
        Self::new(PC_TO_RDR_ESCAPE, 0, data.to_vec())
    }

    /// `PC_to_RDR_Secure` verifying a PIN typed on the reader's keypad
    /// (bBWI 0, wLevelParameter 0).
    pub(super) fn secure_verify(slot: u8, request: &PinpadVerify) -> Self {
        Self::new(PC_TO_RDR_SECURE, slot, pin_verify_data(request))
    }

    /// `PC_to_RDR_XfrBlock` at TPDU level (bBWI 0, wLevelParameter 0).
    pub(super) fn xfr_block(slot: u8, apdu: &[u8]) -> Self {
        Self::new(PC_TO_RDR_XFR_BLOCK, slot, apdu.to_vec())
    }

    fn new(message_type: u8, slot: u8, data: Vec<u8>) -> Self {
        debug_assert!(data.len() <= MAX_DATA_LEN);
        Self {
            message_type,
            slot,
            params: [0; 3],
            data,
        }
    }

    /// Short name for logs.
    pub(super) fn name(&self) -> &'static str {
        message_name(self.message_type)
    }

    /// True when the data may carry secrets (APDUs, PINs).
    pub(super) fn carries_apdu(&self) -> bool {
        self.message_type == PC_TO_RDR_XFR_BLOCK
    }

    /// The answer type this command calls for.
    pub(super) fn answer_type(&self) -> u8 {
        match self.message_type {
            PC_TO_RDR_ICC_POWER_ON | PC_TO_RDR_XFR_BLOCK | PC_TO_RDR_SECURE => RDR_TO_PC_DATA_BLOCK,
            PC_TO_RDR_ESCAPE => RDR_TO_PC_ESCAPE,
            _ => RDR_TO_PC_SLOT_STATUS,
        }
    }

    /// Header + data with the given sequence number.
    pub(super) fn encode(&self, seq: u8) -> Vec<u8> {
        let mut m = Vec::with_capacity(HEADER_LEN + self.data.len());
        m.push(self.message_type);
        m.extend_from_slice(&(self.data.len() as u32).to_le_bytes());
        m.push(self.slot);
        m.push(seq);
        m.extend_from_slice(&self.params);
        m.extend_from_slice(&self.data);
        m
    }
}

impl Drop for Command {
    fn drop(&mut self) {
        // XfrBlock data are APDUs, possibly a VERIFY with a PIN.
        self.data.zeroize();
    }
}

/// Card presence as reported in `bmICCStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IccStatus {
    /// Present and powered.
    Active,
    /// Present, not powered.
    Inactive,
    /// No card.
    Absent,
}

/// `bmCommandStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CommandStatus {
    Processed,
    Failed,
    TimeExtension,
}

/// A reader-to-host message whose header has been checked.
#[derive(Debug)]
pub(super) struct Answer {
    pub message_type: u8,
    pub slot: u8,
    pub seq: u8,
    pub icc: IccStatus,
    pub command: CommandStatus,
    pub error: u8,
    pub data: Vec<u8>,
}

/// A reader message that is not a well-formed CCID answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MalformedAnswer(pub String);

impl fmt::Display for MalformedAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Answer {
    /// Parses a message whose frame LRC already checked.
    pub(super) fn parse(message: &[u8]) -> Result<Self, MalformedAnswer> {
        if message.len() < HEADER_LEN {
            return Err(MalformedAnswer(format!(
                "message of {} bytes is shorter than a CCID header",
                message.len()
            )));
        }
        let declared = u32::from_le_bytes([message[1], message[2], message[3], message[4]]) as usize;
        if declared != message.len() - HEADER_LEN {
            return Err(MalformedAnswer(format!(
                "dwLength {declared} does not match the {} data bytes",
                message.len() - HEADER_LEN
            )));
        }
        let status = message[7];
        let icc = match status & 0x03 {
            0 => IccStatus::Active,
            1 => IccStatus::Inactive,
            2 => IccStatus::Absent,
            _ => {
                return Err(MalformedAnswer(format!(
                    "reserved bmICCStatus in bStatus 0x{status:02X}"
                )))
            }
        };
        let command = match status >> 6 {
            0 => CommandStatus::Processed,
            1 => CommandStatus::Failed,
            2 => CommandStatus::TimeExtension,
            _ => {
                return Err(MalformedAnswer(format!(
                    "reserved bmCommandStatus in bStatus 0x{status:02X}"
                )))
            }
        };
        Ok(Self {
            message_type: message[0],
            slot: message[5],
            seq: message[6],
            icc,
            command,
            error: message[8],
            data: message[HEADER_LEN..].to_vec(),
        })
    }
}

/// Name of a CCID message type, for logs.
pub(super) fn message_name(message_type: u8) -> &'static str {
    match message_type {
        PC_TO_RDR_ICC_POWER_ON => "IccPowerOn",
        PC_TO_RDR_ICC_POWER_OFF => "IccPowerOff",
        PC_TO_RDR_GET_SLOT_STATUS => "GetSlotStatus",
        PC_TO_RDR_ESCAPE => "Escape",
        PC_TO_RDR_XFR_BLOCK => "XfrBlock",
        PC_TO_RDR_SECURE => "Secure",
        RDR_TO_PC_DATA_BLOCK => "DataBlock",
        RDR_TO_PC_SLOT_STATUS => "SlotStatus",
        RDR_TO_PC_ESCAPE => "RDR_to_PC_Escape",
        0x82 => "Parameters",
        0x84 => "DataRateAndClockFrequency",
        _ => "unknown",
    }
}

pub(super) const ICC_MUTE: u8 = 0xFE;
pub(super) const PIN_TIMEOUT: u8 = 0xF0;
pub(super) const PIN_CANCELLED: u8 = 0xEF;
pub(super) const CMD_SLOT_BUSY: u8 = 0xE0;
pub(super) const CMD_NOT_SUPPORTED: u8 = 0x00;

/// Human name of a `bError` value of a failed command.
pub(super) fn error_name(code: u8) -> String {
    let name = match code {
        ICC_MUTE => "ICC_MUTE",
        0xFD => "XFR_PARITY_ERROR",
        0xFC => "XFR_OVERRUN",
        0xFB => "HW_ERROR",
        0xF8 => "BAD_ATR_TS",
        0xF7 => "BAD_ATR_TCK",
        0xF6 => "ICC_PROTOCOL_NOT_SUPPORTED",
        0xF5 => "ICC_CLASS_NOT_SUPPORTED",
        0xF4 => "PROCEDURE_BYTE_CONFLICT",
        0xF3 => "DEACTIVATED_PROTOCOL",
        0xF2 => "BUSY_WITH_AUTO_SEQUENCE",
        PIN_TIMEOUT => "PIN_TIMEOUT",
        PIN_CANCELLED => "PIN_CANCELLED",
        CMD_SLOT_BUSY => "CMD_SLOT_BUSY",
        CMD_NOT_SUPPORTED => "CMD_NOT_SUPPORTED",
        other => return format!("bad header field at offset {other} (bError 0x{other:02X})"),
    };
    format!("{name} (bError 0x{code:02X})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_encoding() {
        let c = Command::xfr_block(1, &[0x00, 0xA4, 0x04, 0x00]);
        assert_eq!(c.answer_type(), RDR_TO_PC_DATA_BLOCK);
        assert_eq!(
            c.encode(9),
            vec![0x6F, 4, 0, 0, 0, 1, 9, 0, 0, 0, 0x00, 0xA4, 0x04, 0x00]
        );
        assert_eq!(
            Command::escape(ESCAPE_FIRMWARE).encode(0),
            vec![0x6B, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x02]
        );
        assert_eq!(
            Command::power_on(0).encode(3),
            vec![0x62, 0, 0, 0, 0, 0, 3, 0, 0, 0]
        );
        assert_eq!(Command::get_slot_status(0).answer_type(), RDR_TO_PC_SLOT_STATUS);
        assert_eq!(Command::power_off(0).answer_type(), RDR_TO_PC_SLOT_STATUS);
    }

    #[test]
    fn secure_pin_verify_bytes() {
        let request = PinpadVerify {
            header: [0x00, 0x20, 0x00, 0x01],
            min_len: 4,
            max_len: 8,
            timeout_secs: 30,
        };
        let c = Command::secure_verify(0, &request);
        assert_eq!(c.answer_type(), RDR_TO_PC_DATA_BLOCK);
        assert!(!c.carries_apdu(), "no PIN in a Secure command");
        assert_eq!(c.name(), "Secure");
        assert_eq!(
            hex::encode_upper(c.encode(7)),
            concat!(
                "69", "13000000", "00", "07", "00",
                "0000",     // header: 19 data bytes, bBWI, wLevelParameter
                "00",       // bPINOperation: verify
                "1E",       // bTimeOut: 30 s
                "82",       // bmFormatString: bytes, offset 0, left, ASCII
                "00",       // bmPINBlockString
                "00",       // bmPINLengthFormat
                "0804",     // wPINMaxExtraDigit 0x0408: 4 to 8 digits
                "02",       // bEntryValidationCondition: validation key
                "01",       // bNumberMessage
                "0C04",     // wLangId 0x040C
                "00",       // bMsgIndex
                "000000",   // bTeoPrologue
                "00200001", // CLA INS P1 P2
            )
        );
    }

    #[test]
    fn answer_parsing() {
        let a = Answer::parse(&[0x80, 2, 0, 0, 0, 1, 5, 0x00, 0, 0, 0x90, 0x00]).unwrap();
        assert_eq!(a.message_type, RDR_TO_PC_DATA_BLOCK);
        assert_eq!((a.slot, a.seq), (1, 5));
        assert_eq!(a.icc, IccStatus::Active);
        assert_eq!(a.command, CommandStatus::Processed);
        assert_eq!(a.data, vec![0x90, 0x00]);
        let a = Answer::parse(&[0x81, 0, 0, 0, 0, 0, 5, 0x42, 0xFE, 0]).unwrap();
        assert_eq!(a.icc, IccStatus::Absent);
        assert_eq!(a.command, CommandStatus::Failed);
        assert_eq!(a.error, ICC_MUTE);
        let a = Answer::parse(&[0x80, 0, 0, 0, 0, 0, 5, 0x80, 0, 0]).unwrap();
        assert_eq!(a.command, CommandStatus::TimeExtension);
        assert!(Answer::parse(&[0x80, 0, 0]).is_err());
        assert!(Answer::parse(&[0x80, 3, 0, 0, 0, 0, 5, 0, 0, 0, 1]).is_err());
        assert!(Answer::parse(&[0x80, 0, 0, 0, 0, 0, 5, 0x03, 0, 0]).is_err());
        assert!(Answer::parse(&[0x80, 0, 0, 0, 0, 0, 5, 0xC0, 0, 0]).is_err());
    }

    #[test]
    fn error_names() {
        assert_eq!(error_name(0xFE), "ICC_MUTE (bError 0xFE)");
        assert_eq!(error_name(0xF4), "PROCEDURE_BYTE_CONFLICT (bError 0xF4)");
        assert!(error_name(5).contains("offset 5"));
    }
}
