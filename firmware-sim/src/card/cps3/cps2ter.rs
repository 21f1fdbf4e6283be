//! The CPS2ter volet of the simulated CPS3: the commands of class `A0`.
//!
//! Public facts (the ANS's Cryptolib sources, reference public-sources
//! §1.2.6 and §1.6.4): the volet holds `CPS_SIT_FACT` in `3F00/7F01/4000` and
//! `CPS2TER_ACTIVITY_nn_PS` in `3F00/4010` … `401F`; files are selected one
//! file id at a time (`A0 A4 00 00 02 FID`), the answer to a SELECT is
//! `9F xx` ("bytes available") and the header comes with GET RESPONSE
//! `A0 C0 00 00 xx` as `85 L <size(2) fid(2) type(1)>` (type 1 MF, 2 DF, 4
//! EF); READ BINARY is `A0 B0`; the volet's own status words are `94 04` (no
//! such file), `94 02` (bad address or length), `98 04` (access condition
//! not fulfilled), `6B 00` (wrong P1 P2), `6D 00`, `6E 00`.
//!
//! Not public, so this simulator's choices: the header carries those five
//! bytes only; the objects are private (Cryptolib gives them the CPS PIN's
//! auth id), so READ BINARY answers `98 04` until the CPS3's PIN is verified;
//! an EF of the MF is found from `7F01` too (Cryptolib never selects `3F00`
//! on this volet yet reads `4010` after `7F01/4000`, so the card must); the
//! files' contents come from the card file and mean nothing.

use crate::card::apdu::Sw;

/// The volet's class byte.
pub const CLA: u8 = 0xA0;
pub const DF_BILLING: u16 = 0x7F01;
pub const EF_BILLING: u16 = 0x4000;
pub const EF_ACTIVITY_FIRST: u16 = 0x4010;

const MF: u16 = 0x3F00;
const SW_BYTES_AVAILABLE: u16 = 0x9F00;
const SW_NO_EF: Sw = Sw(0x9400);
const SW_OUT_OF_RANGE: Sw = Sw(0x9402);
const SW_NOT_FOUND: Sw = Sw(0x9404);
const SW_ACCESS: Sw = Sw(0x9804);
const SW_WRONG_P1P2: Sw = Sw(0x6B00);

/// What the volet holds: `CPS_SIT_FACT`, and one activity object per
/// situation in use (`4010` + index - 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoletData {
    pub billing: Vec<u8>,
    pub activities: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Current {
    Mf,
    BillingDf,
    Ef(u16),
}

#[derive(Debug, Clone)]
pub struct Volet {
    data: VoletData,
    current: Current,
    pending: Vec<u8>,
}

impl Volet {
    pub fn new(data: VoletData) -> Self {
        Volet {
            data,
            current: Current::Mf,
            pending: Vec::new(),
        }
    }

    pub fn reset(&mut self) {
        self.current = Current::Mf;
        self.pending.clear();
    }

    /// The content of an EF of the volet.
    fn ef(&self, fid: u16) -> Option<&[u8]> {
        match fid {
            EF_BILLING => Some(&self.data.billing),
            f if (EF_ACTIVITY_FIRST..EF_ACTIVITY_FIRST + 16).contains(&f) => self
                .data
                .activities
                .get(usize::from(f - EF_ACTIVITY_FIRST))
                .map(Vec::as_slice),
            _ => None,
        }
    }

    /// One raw command of class `A0`; `verified`: the CPS PIN is.
    pub fn transmit(&mut self, raw: &[u8], verified: bool) -> Vec<u8> {
        let pending = std::mem::take(&mut self.pending);
        let answer = match raw {
            [CLA, 0xC0, p1, p2, le] => get_response(pending, *p1, *p2, *le),
            [CLA, 0xA4, p1, p2, rest @ ..] => self.select(*p1, *p2, rest),
            [CLA, 0xB0, p1, p2, le] => self.read_binary(*p1, *p2, *le, verified),
            [CLA, 0xA4 | 0xB0 | 0xC0, ..] => Err(Sw(0x6700)),
            [CLA, _, _, _, ..] => Err(Sw::INS_NOT_SUPPORTED),
            _ => Err(Sw::CLA_NOT_SUPPORTED),
        };
        match answer {
            Ok(Answer::Data(mut d)) => {
                d.extend_from_slice(&Sw::OK.bytes());
                d
            }
            Ok(Answer::Later(d)) => {
                let n = d.len() as u16;
                self.pending = d;
                Sw(SW_BYTES_AVAILABLE | n).bytes().to_vec()
            }
            Err(sw) => sw.bytes().to_vec(),
        }
    }

    fn select(&mut self, p1: u8, p2: u8, rest: &[u8]) -> Result<Answer, Sw> {
        if (p1, p2) != (0, 0) {
            return Err(SW_WRONG_P1P2);
        }
        let fid = match rest {
            // Case 3 (T=0); a trailing Le byte is tolerated.
            [0x02, a, b] | [0x02, a, b, _] => u16::from_be_bytes([*a, *b]),
            _ => return Err(Sw(0x6700)),
        };
        let in_billing_df = match self.current {
            Current::BillingDf => true,
            Current::Ef(f) => f == EF_BILLING,
            Current::Mf => false,
        };
        let (current, size, kind) = match fid {
            MF => (Current::Mf, 0, 1),
            DF_BILLING => (Current::BillingDf, 0, 2),
            EF_BILLING if in_billing_df => (Current::Ef(fid), self.data.billing.len(), 4),
            f if f != EF_BILLING => match self.ef(f) {
                Some(d) => (Current::Ef(f), d.len(), 4),
                None => return Err(SW_NOT_FOUND),
            },
            _ => return Err(SW_NOT_FOUND),
        };
        self.current = current;
        let [s0, s1] = (size as u16).to_be_bytes();
        let [f0, f1] = fid.to_be_bytes();
        Ok(Answer::Later(vec![0x85, 0x05, s0, s1, f0, f1, kind]))
    }

    fn read_binary(&self, p1: u8, p2: u8, le: u8, verified: bool) -> Result<Answer, Sw> {
        let Current::Ef(fid) = self.current else {
            return Err(SW_NO_EF);
        };
        if !verified {
            return Err(SW_ACCESS);
        }
        let data = self.ef(fid).ok_or(SW_NO_EF)?;
        let offset = usize::from(u16::from_be_bytes([p1, p2]));
        let len = if le == 0 { 256 } else { usize::from(le) };
        data.get(offset..offset + len)
            .map(|d| Answer::Data(d.to_vec()))
            .ok_or(SW_OUT_OF_RANGE)
    }
}

enum Answer {
    Data(Vec<u8>),
    /// `9F xx`, then GET RESPONSE.
    Later(Vec<u8>),
}

/// GET RESPONSE `A0 C0 00 00 xx`: exactly what the last command left.
fn get_response(pending: Vec<u8>, p1: u8, p2: u8, le: u8) -> Result<Answer, Sw> {
    if (p1, p2) != (0, 0) {
        return Err(SW_WRONG_P1P2);
    }
    if pending.is_empty() {
        return Err(Sw::CONDITIONS_NOT_SATISFIED);
    }
    if usize::from(le) != pending.len() {
        return Err(Sw(0x6700 | pending.len() as u16));
    }
    Ok(Answer::Data(pending))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn volet() -> Volet {
        Volet::new(VoletData {
            billing: h("0102030405"),
            activities: vec![h("AA"), h("BBCC")],
        })
    }

    #[test]
    fn selects_and_reads_as_cryptolib_does() {
        let mut v = volet();
        assert_eq!(v.transmit(&h("A0A4000002 7F01"), true), h("9F07"));
        assert_eq!(v.transmit(&h("A0A4000002 4000"), true), h("9F07"));
        assert_eq!(v.transmit(&h("A0C0000007"), true), h("8505 0005 4000 04 9000"));
        assert_eq!(v.transmit(&h("A0B0000005"), false), h("9804"));
        assert_eq!(v.transmit(&h("A0B0000005"), true), h("0102030405 9000"));
        assert_eq!(v.transmit(&h("A0B0000306"), true), h("9402"));
        // An MF's EF from 7F01/4000, without selecting 3F00.
        assert_eq!(v.transmit(&h("A0A4000002 4011"), true), h("9F07"));
        assert_eq!(v.transmit(&h("A0C0000007"), true), h("8505 0002 4011 04 9000"));
        assert_eq!(v.transmit(&h("A0B0000002"), true), h("BBCC 9000"));
        // 4000 only in 7F01; an activity not in use; GET RESPONSE twice.
        assert_eq!(v.transmit(&h("A0A4000002 4000"), true), h("9404"));
        assert_eq!(v.transmit(&h("A0A4000002 4012"), true), h("9404"));
        assert_eq!(v.transmit(&h("A0C0000007"), true), h("6985"));
        assert_eq!(v.transmit(&h("A0A4000002 4010"), true), h("9F07"));
        assert_eq!(v.transmit(&h("A0C0000005"), true), h("6707"));
        assert_eq!(v.transmit(&h("A0A4010002 4010"), true), h("6B00"));
        assert_eq!(v.transmit(&h("A0CA000000"), true), h("6D00"));
        v.reset();
        assert_eq!(v.transmit(&h("A0B0000001"), true), h("9400"));
    }
}
