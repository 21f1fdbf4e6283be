//! PC/SC part 10 ("IFDs with Secure PIN Entry Capabilities"): the feature
//! list and the PIN verification structure. Pure functions, unit-tested.
use crate::transport::PinpadVerify;

/// `CM_IOCTL_GET_FEATURE_REQUEST = SCARD_CTL_CODE(3400)`.
pub(super) fn get_feature_request() -> u32 {
    pcsc::ctl_code(3400) as u32
}

/// Feature tag of PIN verification on the reader's keypad.
pub(super) const FEATURE_VERIFY_PIN_DIRECT: u8 = 0x06;

/// `bmFormatString`: bytes, PIN at offset 0, left-justified, ASCII.
const FORMAT_ASCII: u8 = 0x82;
/// `bmPINBlockString`: no length field, the block is the typed digits.
const BLOCK_DIGITS: u8 = 0x00;
/// `bmPINLengthFormat`: no PIN length to insert.
const LENGTH_NONE: u8 = 0x00;
/// `bEntryValidationCondition`: validation key pressed.
const VALIDATION_KEY: u8 = 0x02;
/// `bNumberMessage`: one message (what the GemPC Pinpad accepts).
const MESSAGES: u8 = 0x01;
/// `wLangId`: French.
const LANG_FRENCH: u16 = 0x040C;

/// The control code of `feature` in a GET_FEATURE_REQUEST answer: TLVs of
/// tag (1 byte), length (1 byte, 4) and the control code (4 bytes, big
/// endian). Entries of another length are skipped; a truncated list ends
/// the search.
pub(super) fn find_feature(tlv: &[u8], feature: u8) -> Option<u32> {
    let mut rest = tlv;
    while let [tag, len, tail @ ..] = rest {
        let len = usize::from(*len);
        if tail.len() < len {
            return None;
        }
        let (value, next) = tail.split_at(len);
        if *tag == feature {
            if let Ok(code) = <[u8; 4]>::try_from(value) {
                return Some(u32::from_be_bytes(code));
            }
        }
        rest = next;
    }
    None
}

/// `PIN_VERIFY_STRUCTURE` (little-endian fields) followed by the APDU
/// template `CLA INS P1 P2`; no PIN: the reader appends Lc and the digits.
pub(super) fn verify_structure(request: &PinpadVerify) -> Vec<u8> {
    let mut s = Vec::with_capacity(19 + request.header.len());
    s.push(request.timeout_secs); // bTimerOut
    s.push(request.timeout_secs); // bTimerOut2 (after the first key)
    s.push(FORMAT_ASCII);
    s.push(BLOCK_DIGITS);
    s.push(LENGTH_NONE);
    // wPINMaxExtraDigit = XXYY: XX minimum, YY maximum digits.
    s.extend_from_slice(&u16::from_be_bytes([request.min_len, request.max_len]).to_le_bytes());
    s.push(VALIDATION_KEY);
    s.push(MESSAGES);
    s.extend_from_slice(&LANG_FRENCH.to_le_bytes());
    s.push(0x00); // bMsgIndex
    s.extend_from_slice(&[0x00; 3]); // bTeoPrologue
    s.extend_from_slice(&(request.header.len() as u32).to_le_bytes()); // ulDataLength
    s.extend_from_slice(&request.header);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feature tag of PIN modification (not used by lecteur yet).
    const FEATURE_MODIFY_PIN_DIRECT: u8 = 0x07;

    #[test]
    fn feature_request_code() {
        // pcsc-lite: SCARD_CTL_CODE(code) = 0x42000000 + code; WinSCard:
        // 0x00310000 | code << 2 (the `pcsc` crate follows its target).
        let expected = if cfg!(windows) {
            0x0031_0000 | (3400 << 2)
        } else {
            0x4200_0000 + 3400
        };
        assert_eq!(get_feature_request(), expected);
    }

    #[test]
    fn feature_list() {
        // What libccid answers for a pinpad reader: verify, modify,
        // PIN properties, TLV properties.
        let tlv =
            hex::decode("0604 42330006 0704 42330007 0A04 4233000A 1204 42330012".replace(' ', "")).unwrap();
        assert_eq!(find_feature(&tlv, FEATURE_VERIFY_PIN_DIRECT), Some(0x4233_0006));
        assert_eq!(find_feature(&tlv, FEATURE_MODIFY_PIN_DIRECT), Some(0x4233_0007));
        assert_eq!(find_feature(&tlv, 0x13), None);
        // A reader with only TLV properties (vpcd upstream): no pinpad.
        let tlv = hex::decode("120442330012").unwrap();
        assert_eq!(find_feature(&tlv, FEATURE_VERIFY_PIN_DIRECT), None);
        assert_eq!(find_feature(&[], FEATURE_VERIFY_PIN_DIRECT), None);
        // Odd entries are skipped, truncated lists end the search.
        let tlv = hex::decode("0102AAAA 060442330006".replace(' ', "")).unwrap();
        assert_eq!(find_feature(&tlv, FEATURE_VERIFY_PIN_DIRECT), Some(0x4233_0006));
        let tlv = hex::decode("060201020604423300").unwrap();
        assert_eq!(find_feature(&tlv, FEATURE_VERIFY_PIN_DIRECT), None);
        assert_eq!(find_feature(&[0x06], FEATURE_VERIFY_PIN_DIRECT), None);
        assert_eq!(find_feature(&[0x06, 0xFF, 0x00], FEATURE_VERIFY_PIN_DIRECT), None);
    }

    #[test]
    fn verify_structure_bytes() {
        let request = PinpadVerify {
            header: [0x00, 0x20, 0x00, 0x01],
            min_len: 4,
            max_len: 8,
            timeout_secs: 30,
        };
        let s = verify_structure(&request);
        assert_eq!(s.len(), 19 + 4);
        assert_eq!(
            hex::encode_upper(&s),
            concat!(
                "1E", "1E", // bTimerOut, bTimerOut2
                "82", "00", "00",   // bmFormatString, bmPINBlockString, bmPINLengthFormat
                "0804", // wPINMaxExtraDigit 0x0408: 4 to 8 digits
                "02", "01", // bEntryValidationCondition, bNumberMessage
                "0C04", "00",       // wLangId 0x040C, bMsgIndex
                "000000",   // bTeoPrologue
                "04000000", // ulDataLength
                "00200001", // CLA INS P1 P2
            )
        );
    }

    /// Manual check against a real reader with a keypad, or lecteur-sim's
    /// GemPC PinPad behind pcscd's libccidtwin:
    /// `LECTEUR_PCSC_PINPAD="GemPC PinPad sim 00 00" cargo test --lib
    /// pcsc::part10::tests::real_reader -- --ignored --nocapture`
    /// (type 1234 on the keypad, or script it first: `lecteur-sim
    /// control --socket SOCK keys 1234`).
    #[test]
    #[ignore = "needs a PC/SC reader: set LECTEUR_PCSC_PINPAD"]
    fn real_reader() {
        use crate::transport::SlotLink;
        let Ok(name) = std::env::var("LECTEUR_PCSC_PINPAD") else {
            eprintln!("LECTEUR_PCSC_PINPAD not set");
            return;
        };
        let mut channel = super::super::PcscSlot {
            reader: std::ffi::CString::new(name).unwrap(),
            ctx: None,
            card: None,
            pin_verify: None,
            failed: None,
            moved: false,
        };
        let pinpad = channel.has_pinpad();
        eprintln!("has_pinpad: {pinpad} (control code {:08X?})", channel.pin_verify);
        match channel.connect() {
            Ok(atr) => eprintln!("ATR {}", hex::encode_upper(atr)),
            Err(e) => eprintln!("connect: {e}"),
        }
        let request = PinpadVerify {
            header: [0x00, 0x20, 0x00, 0x01],
            min_len: 4,
            max_len: 8,
            timeout_secs: 30,
        };
        for _ in 0..std::env::var("LECTEUR_PCSC_PINPAD_TRIES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1)
        {
            match channel.verify_pin_pinpad(&request) {
                Ok(sw) => eprintln!("verify_pin_pinpad: SW {}", hex::encode_upper(sw)),
                Err(e) => eprintln!("verify_pin_pinpad: {e:?}"),
            }
        }
        channel.disconnect();
    }

    #[test]
    fn verify_answers() {
        use crate::transport::{pinpad_answer as verify_answer, TransportError};
        assert_eq!(verify_answer(&[0x90, 0x00]), Ok(vec![0x90, 0x00]));
        assert_eq!(verify_answer(&[0x63, 0xC2]), Ok(vec![0x63, 0xC2]));
        assert_eq!(verify_answer(&[0x64, 0x00]), Err(TransportError::PinTimeout));
        assert_eq!(verify_answer(&[0x64, 0x01]), Err(TransportError::PinCancelled));
        assert!(matches!(verify_answer(&[]), Err(TransportError::Protocol(_))));
        assert!(matches!(verify_answer(&[0x90]), Err(TransportError::Protocol(_))));
        assert!(matches!(
            verify_answer(&[1, 0x90, 0x00]),
            Err(TransportError::Protocol(_))
        ));
    }
}
