//! Command parsing and the T=0 response plumbing shared by the card models.
//!
//! Commands arrive as T=0 TPDUs: `CLA INS P1 P2 [P3 [data]]`. A case-4 command
//! comes without Le (the card answers `61 xx` and the host fetches the data with
//! GET RESPONSE); a trailing Le is tolerated and ignored.

/// A status word, used as the error type of every command handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sw(pub u16);

impl Sw {
    pub const OK: Sw = Sw(0x9000);
    pub const WRONG_LENGTH: Sw = Sw(0x6700);
    pub const CHANNEL_NOT_SUPPORTED: Sw = Sw(0x6881);
    pub const CHAINING_NOT_SUPPORTED: Sw = Sw(0x6884);
    pub const SECURITY_NOT_SATISFIED: Sw = Sw(0x6982);
    pub const AUTH_BLOCKED: Sw = Sw(0x6983);
    pub const CONDITIONS_NOT_SATISFIED: Sw = Sw(0x6985);
    pub const NO_CURRENT_EF: Sw = Sw(0x6986);
    pub const WRONG_DATA: Sw = Sw(0x6A80);
    pub const FILE_NOT_FOUND: Sw = Sw(0x6A82);
    pub const WRONG_P1P2: Sw = Sw(0x6A86);
    pub const REF_NOT_FOUND: Sw = Sw(0x6A88);
    pub const WRONG_OFFSET: Sw = Sw(0x6B00);
    pub const INS_NOT_SUPPORTED: Sw = Sw(0x6D00);
    pub const CLA_NOT_SUPPORTED: Sw = Sw(0x6E00);

    /// `6C xx`: wrong Le, `xx` bytes are available (`00` = 256).
    pub fn wrong_le(available: usize) -> Sw {
        Sw(0x6C00 | (available & 0xFF) as u16)
    }

    /// `63 Cx`: verification failed, `x` tries left.
    pub fn tries_left(left: u8) -> Sw {
        Sw(0x63C0 | u16::from(left.min(15)))
    }

    pub fn bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

/// A parsed command. `data` is empty for case 1/2; `le` is P3 of a 5-byte
/// command, or the optional trailing byte after the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Apdu<'a> {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: &'a [u8],
    pub le: Option<u8>,
}

impl<'a> Apdu<'a> {
    /// Splits a TPDU; anything that is not a well-formed short APDU → `67 00`.
    pub fn parse(raw: &'a [u8]) -> Result<Self, Sw> {
        let (header, rest) = match raw {
            [cla, ins, p1, p2, rest @ ..] => ([*cla, *ins, *p1, *p2], rest),
            _ => return Err(Sw::WRONG_LENGTH),
        };
        let (data, le) = match rest {
            [] => (&rest[..0], None),
            [p3] => (&rest[..0], Some(*p3)),
            [lc, body @ ..] => {
                let lc = usize::from(*lc);
                // Lc = 0 followed by bytes would be extended length: not spoken here.
                if lc == 0 {
                    return Err(Sw::WRONG_LENGTH);
                }
                match body.len().checked_sub(lc) {
                    Some(0) => (body, None),
                    Some(1) => (&body[..lc], body.last().copied()),
                    _ => return Err(Sw::WRONG_LENGTH),
                }
            }
        };
        let [cla, ins, p1, p2] = header;
        Ok(Apdu {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
    }

    /// The expected length of a case-2 command (Le = 00 means 256), or `67 00`.
    pub fn expected_len(&self) -> Result<usize, Sw> {
        if !self.data.is_empty() {
            return Err(Sw::WRONG_LENGTH);
        }
        match self.le {
            Some(0) => Ok(256),
            Some(n) => Ok(usize::from(n)),
            None => Err(Sw::WRONG_LENGTH),
        }
    }
}

/// What a command handler produced, before T=0 framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Status only (`90 00`).
    Done,
    /// Case 2: data sent at once, followed by `90 00` (the handler checked Le).
    Data(Vec<u8>),
    /// Case 4: `61 xx` now, data through GET RESPONSE.
    Later(Vec<u8>),
}

impl Reply {
    /// A signature after PSO COMPUTE DIGITAL SIGNATURE without data: through
    /// GET RESPONSE when the host sent no Le (T=0), at once for Le = 00.
    pub fn signature(le: Option<u8>, signature: Vec<u8>) -> Result<Reply, Sw> {
        match le {
            None => Ok(Reply::Later(signature)),
            Some(0) => Ok(Reply::Data(signature)),
            Some(_) => Err(Sw::wrong_le(signature.len())),
        }
    }
}

pub const INS_GET_RESPONSE: u8 = 0xC0;

/// The T=0 side of a card: holds response data waiting for GET RESPONSE, and
/// frames handler results into response bytes.
#[derive(Debug, Default)]
pub struct T0 {
    pending: Vec<u8>,
    /// The class byte (logical channel) of the command that left `pending`.
    pending_cla: u8,
}

impl T0 {
    /// Forgets pending response data (reset).
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Runs one raw command through `handler`, answering GET RESPONSE
    /// (`00 C0 00 00 xx`) itself. Any other command drops the pending data.
    pub fn transmit(&mut self, raw: &[u8], handler: impl FnOnce(&Apdu<'_>) -> Result<Reply, Sw>) -> Vec<u8> {
        self.transmit_on(raw, &[0x00], handler)
    }

    /// As [`T0::transmit`], for a card that answers GET RESPONSE with any of
    /// the class bytes `get_response_clas` (one per logical channel). Data
    /// left by a command is only given to a GET RESPONSE of the same class.
    pub fn transmit_on(
        &mut self,
        raw: &[u8],
        get_response_clas: &[u8],
        handler: impl FnOnce(&Apdu<'_>) -> Result<Reply, Sw>,
    ) -> Vec<u8> {
        let apdu = match Apdu::parse(raw) {
            Ok(apdu) => apdu,
            Err(sw) => {
                self.pending.clear();
                return sw.bytes().to_vec();
            }
        };
        if apdu.ins == INS_GET_RESPONSE && get_response_clas.contains(&apdu.cla) {
            if apdu.cla != self.pending_cla {
                self.pending.clear();
            }
            return self.get_response(&apdu);
        }
        self.pending.clear();
        match handler(&apdu) {
            Ok(Reply::Done) => Sw::OK.bytes().to_vec(),
            Ok(Reply::Data(mut data)) => {
                data.extend_from_slice(&Sw::OK.bytes());
                data
            }
            Ok(Reply::Later(data)) if data.is_empty() => Sw::OK.bytes().to_vec(),
            Ok(Reply::Later(data)) => {
                self.pending = data;
                self.pending_cla = apdu.cla;
                self.more_available()
            }
            Err(sw) => sw.bytes().to_vec(),
        }
    }

    /// `61 xx` for what is pending (`00` when 256 or more).
    fn more_available(&self) -> Vec<u8> {
        vec![0x61, self.pending.len().min(256) as u8]
    }

    /// GET RESPONSE: Le equal to what is available → the data; smaller → that
    /// much and `61 <rest>` (ISO 7816-3 chunking); larger → `6C <available>`.
    fn get_response(&mut self, apdu: &Apdu<'_>) -> Vec<u8> {
        if self.pending.is_empty() {
            return Sw::CONDITIONS_NOT_SATISFIED.bytes().to_vec();
        }
        if apdu.p1 != 0 || apdu.p2 != 0 {
            return Sw::WRONG_P1P2.bytes().to_vec();
        }
        let wanted = match apdu.expected_len() {
            Ok(n) => n,
            Err(sw) => return sw.bytes().to_vec(),
        };
        let available = self.pending.len().min(256);
        if wanted > available {
            return Sw::wrong_le(available).bytes().to_vec();
        }
        let mut out: Vec<u8> = self.pending.drain(..wanted).collect();
        if self.pending.is_empty() {
            out.extend_from_slice(&Sw::OK.bytes());
        } else {
            out.extend_from_slice(&self.more_available());
        }
        out
    }
}

/// READ BINARY semantics shared by the models: `max` is the largest chunk the
/// card sends (Le above it → `67 00`), `6B 00` past the end, `6C xx` when Le
/// exceeds what remains.
pub fn read_chunk(file: &[u8], offset: usize, wanted: usize, max: usize) -> Result<Vec<u8>, Sw> {
    if wanted > max {
        return Err(Sw::WRONG_LENGTH);
    }
    let remaining = match file.len().checked_sub(offset) {
        Some(n) if n > 0 => n,
        _ => return Err(Sw::WRONG_OFFSET),
    };
    if wanted > remaining {
        return Err(Sw::wrong_le(remaining));
    }
    Ok(file.get(offset..offset + wanted).unwrap_or_default().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_four_cases() {
        let a = Apdu::parse(&[0, 0x20, 0, 1]).unwrap();
        assert!(a.data.is_empty() && a.le.is_none());
        let a = Apdu::parse(&[0, 0xB0, 0, 0, 0x10]).unwrap();
        assert_eq!((a.data.len(), a.le), (0, Some(0x10)));
        let a = Apdu::parse(&[0, 0x20, 0, 1, 2, 0x31, 0x32]).unwrap();
        assert_eq!((a.data, a.le), (&[0x31, 0x32][..], None));
        let a = Apdu::parse(&[0, 0x88, 0, 0, 2, 0x31, 0x32, 0]).unwrap();
        assert_eq!((a.data, a.le), (&[0x31, 0x32][..], Some(0)));
    }

    #[test]
    fn rejects_malformed() {
        for raw in [
            &[][..],
            &[0, 0xA4, 0],
            &[0, 0xA4, 0, 0, 0, 1],
            &[0, 0xA4, 0, 0, 3, 1, 2],
            &[0, 0xA4, 0, 0, 1, 1, 2, 3],
        ] {
            assert_eq!(Apdu::parse(raw), Err(Sw::WRONG_LENGTH), "{raw:02X?}");
        }
    }

    #[test]
    fn get_response_chunks_and_6c() {
        let mut t0 = T0::default();
        let r = t0.transmit(&[0, 0xCA, 0, 0, 1, 0], |_| Ok(Reply::Later(vec![7; 10])));
        assert_eq!(r, [0x61, 10]);
        assert_eq!(t0.transmit(&[0, 0xC0, 0, 0, 11], |_| unreachable!()), [0x6C, 10]);
        assert_eq!(
            t0.transmit(&[0, 0xC0, 0, 0, 4], |_| unreachable!()),
            [7, 7, 7, 7, 0x61, 6]
        );
        let r = t0.transmit(&[0, 0xC0, 0, 0, 6], |_| unreachable!());
        assert_eq!(r, [7, 7, 7, 7, 7, 7, 0x90, 0]);
        assert_eq!(t0.transmit(&[0, 0xC0, 0, 0, 6], |_| unreachable!()), [0x69, 0x85]);
    }

    #[test]
    fn other_command_drops_pending() {
        let mut t0 = T0::default();
        t0.transmit(&[0, 0xCA, 0, 0, 1, 0], |_| Ok(Reply::Later(vec![1; 300])));
        t0.transmit(&[0, 0xCA, 0, 0], |_| Ok(Reply::Done));
        assert_eq!(t0.transmit(&[0, 0xC0, 0, 0, 0], |_| unreachable!()), [0x69, 0x85]);
    }

    #[test]
    fn read_chunk_limits() {
        let file = [1u8; 10];
        assert_eq!(read_chunk(&file, 0, 10, 0xE7).unwrap().len(), 10);
        assert_eq!(read_chunk(&file, 4, 10, 0xE7), Err(Sw(0x6C06)));
        assert_eq!(read_chunk(&file, 10, 1, 0xE7), Err(Sw::WRONG_OFFSET));
        assert_eq!(read_chunk(&file, 0, 256, 0xE7), Err(Sw::WRONG_LENGTH));
    }
}
