//! Card identification from the ATR: value/mask entries from the public lists
//! (reference cards-and-protocols §1.1, §2.1). A near miss is `unknown`.

/// The card families lecteur knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    Cps3,
    Vitale2,
    Vitale1,
    Unknown,
}

impl CardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CardKind::Cps3 => "cps3",
            CardKind::Vitale2 => "vitale2",
            CardKind::Vitale1 => "vitale1",
            CardKind::Unknown => "unknown",
        }
    }
}

struct Entry {
    kind: CardKind,
    value: &'static [u8],
    mask: &'static [u8],
}

const FF: u8 = 0xFF;

static TABLE: &[Entry] = &[
    // CPS3 contact, both known ATRs (differing only in historical bytes 11-12).
    Entry {
        kind: CardKind::Cps3,
        value: &[
            0x3B, 0xAC, 0x00, 0x40, 0x2A, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x00, 0x00,
            0x00, 0x90, 0x00,
        ],
        mask: &[FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0, 0, FF, FF, FF],
    },
    // Vitale 2: 3B 75 13 00 00 4x 09 EA|FA 90 00.
    Entry {
        kind: CardKind::Vitale2,
        value: &[0x3B, 0x75, 0x13, 0x00, 0x00, 0x40, 0x09, 0xEA, 0x90, 0x00],
        mask: &[FF, FF, FF, FF, FF, 0xF0, FF, 0xEF, FF, FF],
    },
    // Vitale 1, inverse convention: 3F 65 25 00 xx 09 xx 90 00.
    Entry {
        kind: CardKind::Vitale1,
        value: &[0x3F, 0x65, 0x25, 0x00, 0x00, 0x09, 0x00, 0x90, 0x00],
        mask: &[FF, FF, FF, FF, 0, FF, 0, FF, FF],
    },
];

/// Identifies a card by its ATR.
pub fn identify(atr: &[u8]) -> CardKind {
    TABLE
        .iter()
        .find(|e| {
            e.value.len() == atr.len()
                && atr
                    .iter()
                    .zip(e.value.iter().zip(e.mask))
                    .all(|(a, (v, m))| a & m == v & m)
        })
        .map_or(CardKind::Unknown, |e| e.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn identifies_the_reference_atrs() {
        assert_eq!(identify(&h("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00")), CardKind::Cps3);
        assert_eq!(identify(&h("3B AC 00 40 2A 00 12 25 00 64 80 82 02 12 00 90 00")), CardKind::Cps3);
        assert_eq!(identify(&h("3B 75 13 00 00 44 09 EA 90 00")), CardKind::Vitale2);
        assert_eq!(identify(&h("3B 75 13 00 00 45 09 FA 90 00")), CardKind::Vitale2);
        assert_eq!(identify(&h("3F 65 25 00 2C 09 69 90 00")), CardKind::Vitale1);
    }

    #[test]
    fn near_misses_are_unknown() {
        assert_eq!(identify(&h("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90")), CardKind::Unknown);
        assert_eq!(identify(&h("3B 75 13 00 00 44 09 EB 90 00")), CardKind::Unknown);
        assert_eq!(identify(&h("3B 75 13 00 00 44 09 EA 90 01")), CardKind::Unknown);
        assert_eq!(identify(&[]), CardKind::Unknown);
    }
}
