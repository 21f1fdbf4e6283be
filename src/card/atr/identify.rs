//! Card identification: value/mask entries for every CPS and Vitale ATR of the
//! public lists (reference cards-and-protocols §1.1, §2.1). Exact ATRs come
//! first, the generic masks (OpenSC's CPx/CPxCL) last; the first match wins.
//! Anything else, including a near miss, is [`CardKind::Unknown`].

use serde::{Serialize, Serializer};

/// The card families lecteur knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardKind {
    /// CPS3 (IAS-ECC), contact interface.
    Cps3,
    /// CPS3 (IAS-ECC), contactless interface.
    Cps3Contactless,
    /// CPS4 ("ChipDoc").
    Cps4,
    /// Carte Vitale 2.
    Vitale2,
    /// Carte Vitale 1.
    Vitale1,
    /// No ATR of the table matches.
    Unknown,
}

impl CardKind {
    /// Its name in the API (`cps3`, `vitale2`...).
    pub fn as_str(self) -> &'static str {
        match self {
            CardKind::Cps3 => "cps3",
            CardKind::Cps3Contactless => "cps3_contactless",
            CardKind::Cps4 => "cps4",
            CardKind::Vitale2 => "vitale2",
            CardKind::Vitale1 => "vitale1",
            CardKind::Unknown => "unknown",
        }
    }
}

impl Serialize for CardKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One line of the identification table: the ATR matches when it has the
/// entry's length and `atr[i] & mask[i] == value[i] & mask[i]` for every byte.
#[derive(Debug)]
pub struct Entry {
    /// The family the entry identifies.
    pub kind: CardKind,
    /// Generation and interface, for people ("CPS3 (IAS-ECC), contact").
    pub generation: &'static str,
    /// Where the ATR or mask comes from.
    pub source: &'static str,
    /// The ATR bytes compared.
    pub value: &'static [u8],
    /// Which bits of each byte count.
    pub mask: &'static [u8],
}

impl Entry {
    /// Whether `atr` matches this entry.
    pub fn matches(&self, atr: &[u8]) -> bool {
        atr.len() == self.value.len()
            && atr
                .iter()
                .zip(self.value.iter().zip(self.mask))
                .all(|(a, (v, m))| a & m == v & m)
    }

    /// True when every byte is compared in full (an exact ATR).
    pub fn is_exact(&self) -> bool {
        self.mask.iter().all(|&m| m == FF)
    }
}

const FF: u8 = 0xFF;
/// Every byte compared: an exact ATR.
const X17: &[u8] = &[FF; 17];
const X20: &[u8] = &[FF; 20];
const X9: &[u8] = &[FF; 9];

const CPS3: &str = "CPS3 (IAS-ECC), contact";
const CPS3_CL: &str = "CPS3 (IAS-ECC), contactless";
const VITALE1: &str = "Vitale 1 (Bull CP8 / B0', inverse convention)";
const V1_SOURCE: &str = "pcsc-tools smartcard_list.txt";

/// The identification table, most specific entries first.
pub static TABLE: &[Entry] = &[
    Entry {
        kind: CardKind::Cps3,
        generation: CPS3,
        source: "Cryptolib card-cps.c (exact ATR)",
        value: &[
            0x3B, 0xAC, 0x00, 0x40, 0x2A, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x03, 0x10, 0x00, 0x90,
            0x00,
        ],
        mask: X17,
    },
    Entry {
        kind: CardKind::Cps3,
        generation: CPS3,
        source: "pcsc-tools smartcard_list.txt (exact ATR)",
        value: &[
            0x3B, 0xAC, 0x00, 0x40, 0x2A, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x82, 0x02, 0x12, 0x00, 0x90,
            0x00,
        ],
        mask: X17,
    },
    Entry {
        kind: CardKind::Cps3Contactless,
        generation: CPS3_CL,
        source: "Cryptolib card-cps.c (exact ATR)",
        value: &[
            0x3B, 0x8F, 0x80, 0x01, 0x00, 0x31, 0xB8, 0x64, 0x04, 0xB0, 0xEC, 0xC1, 0x73, 0x94, 0x01, 0x80,
            0x82, 0x90, 0x00, 0x0E,
        ],
        mask: X20,
    },
    Entry {
        kind: CardKind::Cps4,
        generation: "CPS4 (ChipDoc), contact, T=0 and T=1",
        source: "Cryptolib card-cps.c (exact ATR)",
        value: &[
            0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x04, 0x01, 0x00, 0x00, 0x90,
            0x44,
        ],
        mask: X17,
    },
    Entry {
        kind: CardKind::Cps4,
        generation: "CPS4 (ChipDoc), contact, T=0 and T=1, \"RC\" variant",
        source: "Cryptolib card-cps.c (exact ATR)",
        value: &[
            0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01, 0x00, 0x90,
            0x44,
        ],
        mask: X17,
    },
    Entry {
        kind: CardKind::Cps4,
        generation: "CPS4 (ChipDoc), contact, T=0 only",
        source: "Cryptolib card-cps.c, pcsc-tools smartcard_list.txt (exact ATR)",
        value: &[
            0x3B, 0xDC, 0x18, 0xFF, 0x00, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01, 0x00, 0x90,
            0x00,
        ],
        mask: X17,
    },
    // 3B 75 13 00 00 4x 09 EA|FA 90 00
    Entry {
        kind: CardKind::Vitale2,
        generation: "Vitale 2",
        source: "pcsc-tools smartcard_list.txt (3B 75 13 00 00 4x 09 EA|FA 90 00)",
        value: &[0x3B, 0x75, 0x13, 0x00, 0x00, 0x40, 0x09, 0xEA, 0x90, 0x00],
        mask: &[FF, FF, FF, FF, FF, 0xF0, FF, 0xEF, FF, FF],
    },
    // 3F 65 25 00 2[2C] 09 [F6]9 90 00: four exact ATRs (a mask would admit more).
    Entry {
        kind: CardKind::Vitale1,
        generation: VITALE1,
        source: V1_SOURCE,
        value: &[0x3F, 0x65, 0x25, 0x00, 0x22, 0x09, 0xF9, 0x90, 0x00],
        mask: X9,
    },
    Entry {
        kind: CardKind::Vitale1,
        generation: VITALE1,
        source: V1_SOURCE,
        value: &[0x3F, 0x65, 0x25, 0x00, 0x22, 0x09, 0x69, 0x90, 0x00],
        mask: X9,
    },
    Entry {
        kind: CardKind::Vitale1,
        generation: VITALE1,
        source: V1_SOURCE,
        value: &[0x3F, 0x65, 0x25, 0x00, 0x2C, 0x09, 0xF9, 0x90, 0x00],
        mask: X9,
    },
    Entry {
        kind: CardKind::Vitale1,
        generation: VITALE1,
        source: V1_SOURCE,
        value: &[0x3F, 0x65, 0x25, 0x00, 0x2C, 0x09, 0x69, 0x90, 0x00],
        mask: X9,
    },
    Entry {
        kind: CardKind::Vitale1,
        generation: VITALE1,
        source: V1_SOURCE,
        value: &[0x3F, 0x65, 0x25, 0x00, 0x52, 0x09, 0x6A, 0x90, 0x00],
        mask: X9,
    },
    // 3F 65 25 00 A[34] 09 6A 90 00
    Entry {
        kind: CardKind::Vitale1,
        generation: VITALE1,
        source: V1_SOURCE,
        value: &[0x3F, 0x65, 0x25, 0x00, 0xA3, 0x09, 0x6A, 0x90, 0x00],
        mask: X9,
    },
    Entry {
        kind: CardKind::Vitale1,
        generation: VITALE1,
        source: V1_SOURCE,
        value: &[0x3F, 0x65, 0x25, 0x00, 0xA4, 0x09, 0x6A, 0x90, 0x00],
        mask: X9,
    },
    // Generic masks last: they also cover the exact ATRs above.
    Entry {
        kind: CardKind::Cps3,
        generation: "CPx (IAS-ECC), contact, generic mask: generation not told apart",
        source: "OpenSC card-iasecc.c \"IAS/ECC CPx\" mask",
        value: &[
            0x3B, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x00, 0x00, 0x00, 0x90,
            0x00,
        ],
        mask: &[FF, 0, 0, 0, 0, FF, FF, FF, FF, FF, FF, 0, 0, 0, FF, FF, FF],
    },
    Entry {
        kind: CardKind::Cps3Contactless,
        generation: "CPx (IAS-ECC), contactless, generic mask",
        source: "OpenSC customactions.cpp \"IAS/ECC CPxCL\" mask",
        value: &[
            0x3B, 0x8F, 0x80, 0x01, 0x00, 0x31, 0xB8, 0x64, 0x00, 0x00, 0xEC, 0xC0, 0x73, 0x94, 0x01, 0x80,
            0x82, 0x90, 0x00, 0x0E,
        ],
        mask: &[
            FF, FF, FF, FF, FF, FF, FF, FF, 0, 0, FF, 0xC0, FF, FF, FF, FF, FF, FF, FF, FF,
        ],
    },
];

/// The table entry an ATR matches, if any.
pub fn lookup(atr: &[u8]) -> Option<&'static Entry> {
    TABLE.iter().find(|e| e.matches(atr))
}

/// Identifies a card by its ATR.
pub fn identify(atr: &[u8]) -> CardKind {
    lookup(atr).map_or(CardKind::Unknown, |e| e.kind)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// Every ATR of the reference (§1.1, §2.1), with its kind.
    pub(crate) const REFERENCE: &[(&str, CardKind)] = &[
        (
            "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00",
            CardKind::Cps3,
        ),
        (
            "3B AC 00 40 2A 00 12 25 00 64 80 82 02 12 00 90 00",
            CardKind::Cps3,
        ),
        (
            "3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E",
            CardKind::Cps3Contactless,
        ),
        (
            "3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44",
            CardKind::Cps4,
        ),
        (
            "3B 9B 18 80 01 00 12 25 00 64 80 00 04 01 00 90 44",
            CardKind::Cps4,
        ),
        (
            "3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00",
            CardKind::Cps4,
        ),
        ("3B 75 13 00 00 43 09 EA 90 00", CardKind::Vitale2),
        ("3B 75 13 00 00 44 09 EA 90 00", CardKind::Vitale2),
        ("3B 75 13 00 00 4C 09 EA 90 00", CardKind::Vitale2),
        ("3B 75 13 00 00 45 09 FA 90 00", CardKind::Vitale2),
        ("3F 65 25 00 22 09 F9 90 00", CardKind::Vitale1),
        ("3F 65 25 00 22 09 69 90 00", CardKind::Vitale1),
        ("3F 65 25 00 2C 09 F9 90 00", CardKind::Vitale1),
        ("3F 65 25 00 2C 09 69 90 00", CardKind::Vitale1),
        ("3F 65 25 00 52 09 6A 90 00", CardKind::Vitale1),
        ("3F 65 25 00 A3 09 6A 90 00", CardKind::Vitale1),
        ("3F 65 25 00 A4 09 6A 90 00", CardKind::Vitale1),
    ];

    #[test]
    fn identifies_every_reference_atr() {
        for (atr, kind) in REFERENCE {
            assert_eq!(identify(&h(atr)), *kind, "{atr}");
            assert!(
                lookup(&h(atr)).unwrap().is_exact() || *kind == CardKind::Vitale2,
                "{atr}"
            );
        }
    }

    #[test]
    fn generic_masks_match_other_cpx_atrs() {
        // Same CPx historical signature, other T0/TA1 and card-specific bytes.
        let cpx = h("3B AD 00 40 2A 00 12 25 00 64 80 00 05 11 00 90 00");
        assert_eq!(lookup(&cpx).unwrap().source, TABLE[14].source);
        assert_eq!(identify(&cpx), CardKind::Cps3);
        // The CPxCL mask with other IC bytes and a lower nibble in byte 11.
        let cl = h("3B 8F 80 01 00 31 B8 64 11 22 EC C5 73 94 01 80 82 90 00 0E");
        assert_eq!(identify(&cl), CardKind::Cps3Contactless);
        // OpenSC's typo `2B 8F...` is not an ATR (TS 2B) and is not accepted.
        assert_eq!(
            identify(&h("2B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E")),
            CardKind::Unknown
        );
    }

    #[test]
    fn value_and_mask_have_the_same_length_and_values_are_in_the_mask() {
        for e in TABLE {
            assert_eq!(e.value.len(), e.mask.len(), "{}", e.generation);
            assert!(
                e.value.iter().zip(e.mask).all(|(v, m)| v & !m == 0),
                "{}",
                e.generation
            );
            assert!(e.value.len() <= 33);
        }
    }

    /// Flipping any compared bit of any entry leaves that entry; the ATR is
    /// then unknown, unless a broader entry that ignores that very bit takes it.
    #[test]
    fn one_bit_off_never_matches_the_entry() {
        let mut flips = 0;
        for (i, e) in TABLE.iter().enumerate() {
            for byte in 0..e.value.len() {
                for bit in 0..8 {
                    let b = 1u8 << bit;
                    if e.mask[byte] & b == 0 {
                        continue;
                    }
                    let mut atr = e.value.to_vec();
                    atr[byte] ^= b;
                    flips += 1;
                    assert!(!e.matches(&atr), "entry {i} byte {byte} bit {bit}");
                    match TABLE.iter().position(|o| o.matches(&atr)) {
                        None => assert_eq!(identify(&atr), CardKind::Unknown),
                        Some(j) => {
                            assert_ne!(i, j);
                            assert_eq!(TABLE[j].mask[byte] & b, 0, "entry {j} compares the flipped bit");
                        }
                    }
                }
            }
        }
        assert!(flips > 1500, "{flips}");
    }

    #[test]
    fn one_byte_shorter_or_longer_is_unknown() {
        for e in TABLE {
            assert_eq!(
                identify(&e.value[..e.value.len() - 1]),
                CardKind::Unknown,
                "{}",
                e.generation
            );
            assert_eq!(identify(&e.value[1..]), CardKind::Unknown, "{}", e.generation);
            for extra in 0..=255u8 {
                let mut longer = e.value.to_vec();
                longer.push(extra);
                assert_eq!(
                    identify(&longer),
                    CardKind::Unknown,
                    "{} + {extra:02X}",
                    e.generation
                );
                let mut before = vec![extra];
                before.extend_from_slice(e.value);
                assert_eq!(
                    identify(&before),
                    CardKind::Unknown,
                    "{extra:02X} + {}",
                    e.generation
                );
            }
        }
        assert_eq!(identify(&[]), CardKind::Unknown);
    }

    #[test]
    fn unmasked_bits_of_vitale2_still_match() {
        for x in 0..16u8 {
            for b in [0xEA, 0xFA] {
                let atr = [0x3B, 0x75, 0x13, 0x00, 0x00, 0x40 | x, 0x09, b, 0x90, 0x00];
                assert_eq!(identify(&atr), CardKind::Vitale2);
            }
        }
        // 3F 65 25 00 2[2C]: other values of that byte are not Vitale 1.
        for v in 0..=255u8 {
            let atr = [0x3F, 0x65, 0x25, 0x00, v, 0x09, 0x69, 0x90, 0x00];
            assert_eq!(
                identify(&atr) == CardKind::Vitale1,
                v == 0x22 || v == 0x2C,
                "{v:02X}"
            );
        }
    }

    #[test]
    fn simulator_unknown_card_is_unknown() {
        assert_eq!(
            identify(&h("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A")),
            CardKind::Unknown
        );
    }

    #[test]
    fn kind_names() {
        assert_eq!(CardKind::Cps3Contactless.as_str(), "cps3_contactless");
        assert_eq!(CardKind::Cps4.as_str(), "cps4");
        assert_eq!(serde_json::to_string(&CardKind::Vitale1).unwrap(), "\"vitale1\"");
    }
}
