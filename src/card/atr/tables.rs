//! ISO/IEC 7816-3 tables for TA1: clock rate conversion (Fi, f max) and baud
//! rate adjustment (Di). `None` marks an RFU index.

/// Fi and f(max) in kHz for the high nibble of TA1.
pub(super) fn fi_fmax(index: u8) -> Option<(u16, u32)> {
    Some(match index {
        0x0 => (372, 4_000),
        0x1 => (372, 5_000),
        0x2 => (558, 6_000),
        0x3 => (744, 8_000),
        0x4 => (1116, 12_000),
        0x5 => (1488, 16_000),
        0x6 => (1860, 20_000),
        0x9 => (512, 5_000),
        0xA => (768, 7_500),
        0xB => (1024, 10_000),
        0xC => (1536, 15_000),
        0xD => (2048, 20_000),
        _ => return None,
    })
}

/// Di for the low nibble of TA1.
pub(super) fn di(index: u8) -> Option<u8> {
    Some(match index {
        0x1 => 1,
        0x2 => 2,
        0x3 => 4,
        0x4 => 8,
        0x5 => 16,
        0x6 => 32,
        0x7 => 64,
        0x8 => 12,
        0x9 => 20,
        _ => return None,
    })
}

/// Default TA1 when it is absent: Fd = 372, Dd = 1, f(max) = 5 MHz.
pub(super) const DEFAULT_TA1: u8 = 0x11;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables() {
        assert_eq!(fi_fmax(1), Some((372, 5_000)));
        assert_eq!(fi_fmax(0xA), Some((768, 7_500)));
        assert_eq!(fi_fmax(7), None);
        assert_eq!(fi_fmax(0xE), None);
        assert_eq!(di(8), Some(12));
        assert_eq!(di(0), None);
        assert_eq!(di(0xA), None);
        assert_eq!((1..16).filter_map(fi_fmax).count(), 11);
    }
}
