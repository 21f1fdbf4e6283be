//! T=0 rules, applied to every exchange: case 4 without Le, `61xx` answered by
//! GET RESPONSE, `6Cxx` answered by sending the command again with Le = xx.
//! Harmless on T=1 readers, which never produce these status words for us.
//! On the CPS2ter volet of a CPS3 (class `A0`), "bytes available" is `9Fxx`
//! and its GET RESPONSE has class `A0` too (Cryptolib `card-cps.h`, `apdu.c`).

use super::{ApduError, Command, Exchange, Response, StatusWord};

/// At most this many GET RESPONSE rounds for one command (a card looping on
/// 61xx must not hold the reader forever).
const MAX_GET_RESPONSE: usize = 32;
/// Largest response assembled from GET RESPONSE chunks.
const MAX_RESPONSE: usize = 65_536;
/// The class of the CPS2ter volet's commands, whose SW1 `9F` means "bytes available".
pub const CLA_CPS2TER: u8 = 0xA0;

/// Bytes waiting for GET RESPONSE, and the GET RESPONSE's class: `61xx` on
/// any channel, `9Fxx` for a CPS2ter command that expects data (without Le,
/// `9Fxx` is the command's success, as Cryptolib takes it).
fn available(cmd: &Command, sw: StatusWord) -> Option<(u8, u8)> {
    match sw {
        StatusWord::BytesAvailable(n) => Some((cmd.cla & 0x03, n)),
        StatusWord::Other(0x9F, n) if cmd.cla == CLA_CPS2TER && cmd.le.is_some() => Some((CLA_CPS2TER, n)),
        _ => None,
    }
}

/// Sends a command and returns the whole response, following T=0 rules.
pub fn transmit(ex: &mut dyn Exchange, cmd: &Command) -> Result<Response, ApduError> {
    // The header only: the data may be a PIN or patient data.
    tracing::trace!(cla = cmd.cla, ins = cmd.ins, p1 = cmd.p1, p2 = cmd.p2, "apdu");
    let bytes = cmd
        .to_bytes(true)
        .ok_or_else(|| ApduError::Malformed(format!("{cmd:?} does not fit a short APDU")))?;
    let mut resp = Response::from_bytes(ex.exchange(&bytes)?)?;

    if let StatusWord::WrongLe(n) = resp.sw {
        // Only once: a card that keeps asking is broken, and its answer is returned as is.
        let again = Command {
            le: Some(if n == 0 { 256 } else { n as usize }),
            ..cmd.clone()
        };
        let bytes = again
            .to_bytes(false)
            .ok_or_else(|| ApduError::Malformed("6Cxx retry does not fit a short APDU".to_string()))?;
        resp = Response::from_bytes(ex.exchange(&bytes)?)?;
    }

    let mut data = std::mem::take(&mut resp.data);
    let mut rounds = 0;
    while let Some((cla, n)) = available(cmd, resp.sw) {
        rounds += 1;
        if rounds > MAX_GET_RESPONSE || data.len() > MAX_RESPONSE {
            return Err(ApduError::Malformed(format!(
                "card keeps answering {} after {} bytes",
                resp.sw,
                data.len()
            )));
        }
        let get = [cla, 0xC0, 0x00, 0x00, n];
        resp = Response::from_bytes(ex.exchange(&get)?)?;
        data.append(&mut resp.data);
    }
    Ok(Response { data, sw: resp.sw })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;

    #[test]
    fn case4_goes_without_le_and_fetches_61xx() {
        let mut r = Replay::new([("00A4040402A0A1", "6103"), ("00C0000003", "6F01019000")]);
        let cmd = Command::new(0, 0xA4, 4, 4).data([0xA0, 0xA1]).le(256);
        let resp = transmit(&mut r, &cmd).unwrap();
        assert_eq!(resp.data, [0x6F, 1, 1]);
        assert_eq!(resp.sw, StatusWord::Ok);
        r.finish();
    }

    #[test]
    fn resends_once_on_6cxx() {
        let mut r = Replay::new([("00B0000000", "6C02"), ("00B0000002", "AABB9000")]);
        let resp = transmit(&mut r, &Command::new(0, 0xB0, 0, 0).le(256)).unwrap();
        assert_eq!(resp.data, [0xAA, 0xBB]);
        r.finish();
    }

    #[test]
    fn endless_61xx_is_an_error() {
        let mut exchanges = vec![("0088000001AA".to_string(), "6101".to_string())];
        for _ in 0..MAX_GET_RESPONSE {
            exchanges.push(("00C0000001".into(), "006101".into()));
        }
        let mut r = Replay::new(exchanges);
        let err = transmit(&mut r, &Command::new(0, 0x88, 0, 0).data([0xAA])).unwrap_err();
        assert!(matches!(err, ApduError::Malformed(_)));
    }

    #[test]
    fn cps2ter_9fxx_is_fetched_with_class_a0_and_bounded() {
        // Case 4 on the CPS2ter volet: 9F xx, then GET RESPONSE A0 C0.
        let mut r = Replay::new([
            ("A0A4000002 4000", "9F07"),
            ("A0C0000007", "8505 0040400004 9000"),
        ]);
        let cmd = Command::new(0xA0, 0xA4, 0, 0).data([0x40, 0x00]).le(256);
        let resp = transmit(&mut r, &cmd).unwrap();
        assert_eq!((resp.data.len(), resp.sw), (7, StatusWord::Ok));
        r.finish();
        // Case 3: 9F xx is the answer itself, nothing is fetched.
        let mut r = Replay::new([("A0A4000002 7F01", "9F17")]);
        let resp = transmit(&mut r, &Command::new(0xA0, 0xA4, 0, 0).data([0x7F, 0x01])).unwrap();
        assert_eq!(resp.sw, StatusWord::Other(0x9F, 0x17));
        r.finish();
        // Another class: 9F xx is just a status word.
        let mut r = Replay::new([("00B0000001", "9F01")]);
        let resp = transmit(&mut r, &Command::new(0, 0xB0, 0, 0).le(1)).unwrap();
        assert_eq!(resp.sw, StatusWord::Other(0x9F, 0x01));
        // A storm of 9F xx ends in an error after the bound.
        let mut steps = vec![("A0B0000001".to_string(), "9F01".to_string())];
        for _ in 0..MAX_GET_RESPONSE {
            steps.push(("A0C0000001".into(), "009F01".into()));
        }
        let mut r = Replay::new(steps);
        let err = transmit(&mut r, &Command::new(0xA0, 0xB0, 0, 0).le(1)).unwrap_err();
        assert!(matches!(err, ApduError::Malformed(m) if m.contains("9F 01")));
    }

    #[test]
    fn short_answer_is_malformed() {
        let mut r = Replay::new([("00B0000001", "90")]);
        assert!(transmit(&mut r, &Command::new(0, 0xB0, 0, 0).le(1)).is_err());
    }
}
