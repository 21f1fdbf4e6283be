//! T=0 rules, applied to every exchange: case 4 without Le, `61xx` answered by
//! GET RESPONSE, `6Cxx` answered by sending the command again with Le = xx.
//! Harmless on T=1 readers, which never produce these status words for us.

use super::{ApduError, Command, Exchange, Response, StatusWord};

/// At most this many GET RESPONSE rounds for one command (a card looping on
/// 61xx must not hold the reader forever).
const MAX_GET_RESPONSE: usize = 32;
/// Largest response assembled from GET RESPONSE chunks.
const MAX_RESPONSE: usize = 65_536;

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
    while let StatusWord::BytesAvailable(n) = resp.sw {
        rounds += 1;
        if rounds > MAX_GET_RESPONSE || data.len() > MAX_RESPONSE {
            return Err(ApduError::Malformed(format!(
                "card keeps answering 61xx after {} bytes",
                data.len()
            )));
        }
        let get = [cmd.cla & 0x03, 0xC0, 0x00, 0x00, n];
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
    fn short_answer_is_malformed() {
        let mut r = Replay::new([("00B0000001", "90")]);
        assert!(transmit(&mut r, &Command::new(0, 0xB0, 0, 0).le(1)).is_err());
    }
}
