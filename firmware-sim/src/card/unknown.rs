//! A card that is not a health card: it knows no application (SELECT →
//! `6A 82`) and no other command (`6D 00`).

use super::apdu::{Apdu, Sw};
use super::SimCard;

/// A PC/SC-listed storage-card ATR, obviously not a CPS or Vitale.
pub const DEFAULT_ATR: [u8; 20] = [
    0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x6A,
];

pub struct UnknownCard {
    atr: Vec<u8>,
}

impl UnknownCard {
    pub fn new(atr: Vec<u8>) -> Self {
        UnknownCard { atr }
    }
}

impl SimCard for UnknownCard {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn reset(&mut self) {}

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let sw = match Apdu::parse(apdu) {
            Ok(a) if a.ins == 0xA4 => Sw::FILE_NOT_FOUND,
            Ok(_) => Sw::INS_NOT_SUPPORTED,
            Err(sw) => sw,
        };
        sw.bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let mut card = UnknownCard::new(DEFAULT_ATR.to_vec());
        assert_eq!(card.atr(), DEFAULT_ATR);
        assert_eq!(card.transmit(&[0, 0xA4, 4, 0, 2, 1, 2]), [0x6A, 0x82]);
        assert_eq!(card.transmit(&[0, 0xB0, 0, 0, 0]), [0x6D, 0x00]);
        assert_eq!(card.transmit(&[0, 0xC0, 0, 0, 0]), [0x6D, 0x00]);
        assert_eq!(card.transmit(&[0]), [0x67, 0x00]);
    }
}
