//! The carte Vitale 1 (Bull CP8 "B0'" family, inverse convention): its
//! command set is not public, so the model only has its ATR and answers
//! `6E 00` (class not supported) to every command. A host can detect it and
//! report it as unsupported.

use super::apdu::{Apdu, Sw};
use super::SimCard;

/// A Vitale 1 ATR (reference §2.1), logical byte values (TS = 3F: inverse convention).
pub const DEFAULT_ATR: [u8; 9] = [0x3F, 0x65, 0x25, 0x00, 0x2C, 0x09, 0x69, 0x90, 0x00];

pub struct Vitale1Card {
    atr: Vec<u8>,
}

impl Vitale1Card {
    pub fn new(atr: Vec<u8>) -> Self {
        Vitale1Card { atr }
    }
}

impl SimCard for Vitale1Card {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn reset(&mut self) {}

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let sw = match Apdu::parse(apdu) {
            Ok(_) => Sw::CLA_NOT_SUPPORTED,
            Err(sw) => sw,
        };
        sw.bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_6e00_to_everything() {
        let mut card = Vitale1Card::new(DEFAULT_ATR.to_vec());
        assert_eq!(card.atr(), DEFAULT_ATR);
        for apdu in [
            &[0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00][..],
            &[0x00, 0xB0, 0x00, 0x00, 0x10],
            &[0x00, 0xC0, 0x00, 0x00, 0x10],
            &[0xBC, 0xB0, 0x00, 0x00, 0x10],
            &[0x00, 0x20, 0x00, 0x01],
        ] {
            assert_eq!(card.transmit(apdu), [0x6E, 0x00], "{apdu:02X?}");
        }
        assert_eq!(card.transmit(&[0x00]), [0x67, 0x00]);
    }
}
