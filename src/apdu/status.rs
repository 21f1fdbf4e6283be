/// A status word, typed where the card logic needs to tell cases apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusWord {
    /// 90 00
    Ok,
    /// 61 xx: xx more bytes wait for GET RESPONSE (00 = 256).
    BytesAvailable(u8),
    /// 62 82: end of file reached before Le bytes.
    EndOfFile,
    /// 63 Cx: verification failed, x tries left.
    VerifyFailed(u8),
    /// 67 00
    WrongLength,
    /// 69 82
    SecurityNotSatisfied,
    /// 69 83: authentication method blocked.
    Blocked,
    /// 69 84: reference data not usable.
    RefDataNotUsable,
    /// 69 85
    ConditionsNotSatisfied,
    /// 69 86: command not allowed (no current EF).
    NotAllowed,
    /// 6A 80
    WrongData,
    /// 6A 82
    FileNotFound,
    /// 6A 86
    WrongP1P2,
    /// 6B 00: offset outside the file.
    WrongOffset,
    /// 6C xx: wrong Le, xx is the right one.
    WrongLe(u8),
    /// 6D 00
    InsNotSupported,
    /// 6E 00
    ClaNotSupported,
    /// Any other SW1 SW2.
    Other(u8, u8),
}

impl StatusWord {
    /// Types SW1 SW2.
    pub fn from_bytes(sw1: u8, sw2: u8) -> Self {
        use StatusWord::*;
        match (sw1, sw2) {
            (0x90, 0x00) => Ok,
            (0x61, n) => BytesAvailable(n),
            (0x62, 0x82) => EndOfFile,
            (0x63, n) if n & 0xF0 == 0xC0 => VerifyFailed(n & 0x0F),
            (0x67, 0x00) => WrongLength,
            (0x69, 0x82) => SecurityNotSatisfied,
            (0x69, 0x83) => Blocked,
            (0x69, 0x84) => RefDataNotUsable,
            (0x69, 0x85) => ConditionsNotSatisfied,
            (0x69, 0x86) => NotAllowed,
            (0x6A, 0x80) => WrongData,
            (0x6A, 0x82) => FileNotFound,
            (0x6A, 0x86) => WrongP1P2,
            (0x6B, 0x00) => WrongOffset,
            (0x6C, n) => WrongLe(n),
            (0x6D, 0x00) => InsNotSupported,
            (0x6E, 0x00) => ClaNotSupported,
            (a, b) => Other(a, b),
        }
    }

    /// SW1 SW2 as one number (`0x9000`).
    pub fn to_u16(self) -> u16 {
        use StatusWord::*;
        let (a, b) = match self {
            Ok => (0x90, 0x00),
            BytesAvailable(n) => (0x61, n),
            EndOfFile => (0x62, 0x82),
            VerifyFailed(n) => (0x63, 0xC0 | n),
            WrongLength => (0x67, 0x00),
            SecurityNotSatisfied => (0x69, 0x82),
            Blocked => (0x69, 0x83),
            RefDataNotUsable => (0x69, 0x84),
            ConditionsNotSatisfied => (0x69, 0x85),
            NotAllowed => (0x69, 0x86),
            WrongData => (0x6A, 0x80),
            FileNotFound => (0x6A, 0x82),
            WrongP1P2 => (0x6A, 0x86),
            WrongOffset => (0x6B, 0x00),
            WrongLe(n) => (0x6C, n),
            InsNotSupported => (0x6D, 0x00),
            ClaNotSupported => (0x6E, 0x00),
            Other(a, b) => (a, b),
        };
        u16::from_be_bytes([a, b])
    }
}

impl std::fmt::Display for StatusWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.to_u16();
        write!(f, "{:02X} {:02X}", v >> 8, v & 0xFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_status_word() {
        for v in 0..=u16::MAX {
            let [a, b] = v.to_be_bytes();
            assert_eq!(StatusWord::from_bytes(a, b).to_u16(), v);
        }
    }
}
