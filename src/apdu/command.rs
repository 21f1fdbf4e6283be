/// A short command APDU (ISO 7816-4 cases 1 to 4).
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// First parameter byte.
    pub p1: u8,
    /// Second parameter byte.
    pub p2: u8,
    /// Command data (Lc is its length).
    pub data: Vec<u8>,
    /// Expected response length: `Some(256)` is encoded as `00`.
    pub le: Option<usize>,
}

impl Command {
    /// A case 1 command: header only, no data, no Le.
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Command {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    /// With this command data.
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = data.into();
        self
    }

    /// With this expected response length.
    pub fn le(mut self, le: usize) -> Self {
        self.le = Some(le);
        self
    }

    /// Encodes the command. With `t0`, a case 4 command goes without Le (the card
    /// answers 61xx instead). Data over 255 bytes is refused: short APDUs only.
    pub fn to_bytes(&self, t0: bool) -> Option<Vec<u8>> {
        if self.data.len() > 255 || self.le.is_some_and(|le| le > 256) {
            return None;
        }
        let mut out = Vec::with_capacity(5 + self.data.len() + 1);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if !self.data.is_empty() {
            out.push(self.data.len() as u8);
            out.extend_from_slice(&self.data);
        }
        match self.le {
            Some(le) if self.data.is_empty() || !t0 => out.push(le as u8), // 256 → 00
            _ => {}
        }
        Some(out)
    }
}

// Commands may carry PINs: Debug shows the header and the data length only.
impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Command({:02X} {:02X} {:02X} {:02X}, {} data bytes, le {:?})",
            self.cla,
            self.ins,
            self.p1,
            self.p2,
            self.data.len(),
            self.le
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_four_cases() {
        let c1 = Command::new(0, 0x20, 0, 1);
        assert_eq!(c1.to_bytes(true).unwrap(), [0, 0x20, 0, 1]);
        let c2 = Command::new(0, 0xB0, 0, 0).le(256);
        assert_eq!(c2.to_bytes(true).unwrap(), [0, 0xB0, 0, 0, 0]);
        let c3 = Command::new(0, 0xA4, 4, 0x0C).data([1, 2]);
        assert_eq!(c3.to_bytes(true).unwrap(), [0, 0xA4, 4, 0x0C, 2, 1, 2]);
        let c4 = Command::new(0, 0xA4, 4, 4).data([1]).le(256);
        assert_eq!(c4.to_bytes(true).unwrap(), [0, 0xA4, 4, 4, 1, 1]);
        assert_eq!(c4.to_bytes(false).unwrap(), [0, 0xA4, 4, 4, 1, 1, 0]);
    }

    #[test]
    fn refuses_extended_lengths() {
        assert!(Command::new(0, 0, 0, 0)
            .data(vec![0; 256])
            .to_bytes(true)
            .is_none());
        assert!(Command::new(0, 0, 0, 0).le(257).to_bytes(true).is_none());
    }
}
