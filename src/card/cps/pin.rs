//! The CPS PIN: format check, tries left (GET DATA on the CHV SDO, or VERIFY
//! without data), and VERIFY, sent once and never retried here.

use super::super::{expect_ok, CardError};
use crate::apdu::{transmit, Command, Exchange, StatusWord};
use crate::card::profile::{CpsProfile, PinEncoding, RetryCounter};
use zeroize::Zeroizing;

/// The PIN's tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct PinStatus {
    /// Wrong presentations left before the PIN blocks.
    pub tries_left: u8,
    /// Wrong presentations allowed in all.
    pub tries_max: u8,
    /// The CPS3 usage counter (`9D`) is 0: the PIN cannot be used, whatever
    /// `9B` says (tries_left is then 0).
    #[serde(skip)]
    pub usage_spent: bool,
}

/// Checks a PIN's shape before it goes anywhere near the card.
pub(super) fn check_format(profile: &CpsProfile, pin: &[u8]) -> Result<(), CardError> {
    let p = &profile.pin;
    if pin.len() < p.min_length {
        return Err(CardError::PinFormat("the PIN is too short"));
    }
    if pin.len() > p.max_length {
        return Err(CardError::PinFormat("the PIN is too long"));
    }
    match p.encoding {
        PinEncoding::Ascii if !pin.iter().all(u8::is_ascii_digit) => {
            Err(CardError::PinFormat("the PIN must be digits only"))
        }
        PinEncoding::Ascii => Ok(()),
    }
}

/// Tries left and tries max, without using a try.
pub(super) fn status(ex: &mut dyn Exchange, profile: &CpsProfile) -> Result<PinStatus, CardError> {
    match profile.pin.retry_counter {
        RetryCounter::GetData => {
            if profile.pin.counter_select_mf {
                // The CHV SDO is global: Cryptolib reads it from the MF, then
                // the application must be selected again for its keys.
                let mf = Command::new(profile.application.cla, 0xA4, 0x00, 0x0C).data([0x3F, 0x00]);
                expect_ok(transmit(ex, &mf)?, "SELECT MF")?;
                let st = get_data(ex, profile);
                if matches!(st, Err(CardError::Link(_))) {
                    return st;
                }
                super::select::select_app(ex, profile)?;
                st
            } else {
                get_data(ex, profile)
            }
        }
        RetryCounter::VerifyEmpty => verify_empty(ex, profile),
    }
}

/// GET DATA `BF 81 <ref>`: scans for `9A 01 max`, `9B 01 left` and the usage
/// counter `9D 01|02 n` (0 = blocked), as Cryptolib does; the enclosing
/// template is unverified, so it is not checked.
pub(super) fn get_data(ex: &mut dyn Exchange, profile: &CpsProfile) -> Result<PinStatus, CardError> {
    let query = [
        0x4D,
        0x08,
        0x70,
        0x06,
        0xBF,
        0x81,
        profile.pin.reference,
        0x02,
        0xA0,
        0x80,
    ];
    let cmd = Command::new(profile.application.cla, 0xCB, 0x3F, 0xFF)
        .data(query)
        .le(256);
    let data = expect_ok(transmit(ex, &cmd)?, "GET DATA PIN counter")?;
    parse_counter(&data)
}

pub(super) fn parse_counter(data: &[u8]) -> Result<PinStatus, CardError> {
    let find = |tag: u8, len: usize| {
        data.windows(2 + len)
            .find(|w| w[0] == tag && w[1] as usize == len)
            .map(|w| w[2..].iter().fold(0u16, |a, b| (a << 8) | u16::from(*b)))
    };
    let usage = find(0x9D, 1).or_else(|| find(0x9D, 2));
    match (find(0x9A, 1), find(0x9B, 1)) {
        // Cryptolib: a spent usage counter reports 0 tries (public-sources §1.4.3).
        (Some(max), Some(left)) if left <= max && max <= 15 => Ok(PinStatus {
            tries_left: if usage == Some(0) { 0 } else { left as u8 },
            tries_max: max as u8,
            usage_spent: usage == Some(0),
        }),
        _ => Err(CardError::Malformed("PIN counter template lacks 9A/9B".into())),
    }
}

/// VERIFY without data: `63 Cx` x tries left, `90 00` already verified,
/// `69 83` blocked.
fn verify_empty(ex: &mut dyn Exchange, profile: &CpsProfile) -> Result<PinStatus, CardError> {
    let max = profile.pin.tries_max;
    let cmd = Command::new(profile.application.cla, 0x20, 0x00, profile.pin.reference);
    let tries_left = match transmit(ex, &cmd)?.sw {
        StatusWord::Ok => max,
        StatusWord::VerifyFailed(n) => n.min(max),
        StatusWord::Blocked | StatusWord::RefDataNotUsable => 0,
        sw => {
            return Err(CardError::Status {
                what: "VERIFY (tries left)",
                sw,
            })
        }
    };
    Ok(PinStatus {
        tries_left,
        tries_max: max,
        usage_spent: false,
    })
}

/// The PIN as sent: padded as the profile says.
fn encode(profile: &CpsProfile, pin: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(pin.to_vec());
    if let Some(pad) = profile.pin.padding {
        body.resize(pad.length, pad.char);
    }
    body
}

/// Sends one PIN command and maps its status; the command buffer is wiped.
fn pin_command(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    ins: u8,
    body: Zeroizing<Vec<u8>>,
    what: &'static str,
) -> Result<(), CardError> {
    let mut cmd = Command::new(profile.application.cla, ins, 0x00, profile.pin.reference).data(body.to_vec());
    let resp = transmit(ex, &cmd);
    zeroize::Zeroize::zeroize(&mut cmd.data);
    match resp?.sw {
        StatusWord::Ok => Ok(()),
        StatusWord::VerifyFailed(0) | StatusWord::Blocked | StatusWord::RefDataNotUsable => {
            Err(CardError::PinBlocked)
        }
        StatusWord::VerifyFailed(n) => Err(CardError::PinIncorrect { tries_left: n }),
        sw => Err(CardError::Status { what, sw }),
    }
}

/// Presents the PIN once, padded as the profile says; the command buffer is
/// wiped after use.
pub(super) fn verify(ex: &mut dyn Exchange, profile: &CpsProfile, pin: &[u8]) -> Result<(), CardError> {
    check_format(profile, pin)?;
    pin_command(ex, profile, 0x20, encode(profile, pin), "VERIFY")
}

/// CHANGE REFERENCE DATA: the current and the new PIN in one command.
pub(super) fn change(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    old: &[u8],
    new: &[u8],
) -> Result<(), CardError> {
    check_format(profile, old)?;
    check_format(profile, new)?;
    let mut body = encode(profile, old);
    body.extend_from_slice(&encode(profile, new));
    pin_command(ex, profile, 0x24, body, "CHANGE REFERENCE DATA")
}

/// RESET RETRY COUNTER: the PUK (8 digits) and the new PIN. A wrong PUK
/// answers 63 Cx with the PUK's tries left.
pub(super) fn unblock(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    puk: &[u8],
    new: &[u8],
) -> Result<(), CardError> {
    if puk.len() != 8 || !puk.iter().all(u8::is_ascii_digit) {
        return Err(CardError::PinFormat("the PUK must be 8 digits"));
    }
    check_format(profile, new)?;
    let mut body = Zeroizing::new(puk.to_vec());
    body.extend_from_slice(&encode(profile, new));
    pin_command(ex, profile, 0x2C, body, "RESET RETRY COUNTER")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;
    use crate::card::profile::{Padding, Profiles};

    fn cps3() -> CpsProfile {
        (*Profiles::builtin().unwrap().cps3).clone()
    }

    #[test]
    fn format_follows_the_profile() {
        let mut p = cps3();
        assert!(check_format(&p, b"1234").is_ok());
        assert_eq!(
            check_format(&p, b"123"),
            Err(CardError::PinFormat("the PIN is too short"))
        );
        assert_eq!(
            check_format(&p, b"123456789"),
            Err(CardError::PinFormat("the PIN is too long"))
        );
        assert!(check_format(&p, b"12a4").is_err());
        p.pin.max_length = 12;
        assert!(check_format(&p, b"123456789").is_ok());
    }

    #[test]
    fn counter_by_get_data_selects_the_mf_and_comes_back() {
        let mut r = Replay::new([
            ("00A4000C02 3F00", "9000"),
            ("00CB3FFF0A 4D087006BF810102A080", "610E"),
            ("00C000000E", "BF81010A A008 9A0103 9B0102 9D0101 9000"),
            ("00A4040C0D E828BD080F8025000001FF0010", "9000"),
        ]);
        assert_eq!(
            status(&mut r, &cps3()).unwrap(),
            PinStatus {
                tries_left: 2,
                tries_max: 3,
                ..Default::default()
            }
        );
        r.finish();
    }

    #[test]
    fn a_spent_usage_counter_means_blocked() {
        let s = parse_counter(&crate::card::testutil::h("A00B 9A0103 9B0103 9D020000")).unwrap();
        assert_eq!((s.tries_left, s.usage_spent), (0, true));
        let s = parse_counter(&crate::card::testutil::h("A00B 9A0103 9B0103 9D0100")).unwrap();
        assert_eq!((s.tries_left, s.usage_spent), (0, true));
        let s = parse_counter(&crate::card::testutil::h("A00B 9A0103 9B0103 9D0101")).unwrap();
        assert_eq!((s.tries_left, s.usage_spent), (3, false));
        assert!(parse_counter(&[0x9A, 0x01, 0x03]).is_err());
        assert!(parse_counter(&[0x9A, 0x01, 0x02, 0x9B, 0x01, 0x03]).is_err());
    }

    #[test]
    fn counter_by_empty_verify() {
        let p = &Profiles::builtin().unwrap().cps4;
        for (sw, left) in [("63C2", 2), ("9000", 3), ("6983", 0), ("63C9", 3)] {
            let mut r = Replay::new([("01200001", sw)]);
            assert_eq!(
                status(&mut r, p).unwrap(),
                PinStatus {
                    tries_left: left,
                    tries_max: 3,
                    ..Default::default()
                }
            );
        }
        let mut r = Replay::new([("01200001", "6A88")]);
        assert!(matches!(status(&mut r, p), Err(CardError::Status { .. })));
    }

    #[test]
    fn verify_pads_when_told_and_reports_tries() {
        let mut p = cps3();
        p.pin.padding = Some(Padding {
            char: 0xFF,
            length: 8,
        });
        let mut r = Replay::new([("0020000108 31323334FFFFFFFF", "9000")]);
        assert!(verify(&mut r, &p, b"1234").is_ok());
        let mut r = Replay::new([("0020000108 31313131FFFFFFFF", "63C1")]);
        assert_eq!(
            verify(&mut r, &p, b"1111"),
            Err(CardError::PinIncorrect { tries_left: 1 })
        );
        let mut r = Replay::new([("0020000108 31313131FFFFFFFF", "63C0")]);
        assert_eq!(verify(&mut r, &p, b"1111"), Err(CardError::PinBlocked));
    }

    #[test]
    fn random_counters_never_panic() {
        let mut rng = crate::card::testutil::Rng::new(0x9A);
        let seeds = [crate::card::testutil::h("BF81010A A008 9A0103 9B0102 9D0101")];
        for input in rng.inputs(&seeds) {
            let _ = parse_counter(&input);
        }
    }
}
