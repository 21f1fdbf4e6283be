//! Serial framing of CCID messages (GemPC Twin / GemCore family), reader side.
//!
//! ```text
//! normal frame:  03 06 <CCID message: 10-byte header + data> LRC
//! NAK frame:     03 15 16
//! card movement: 50 <bmSlotICCState>        (reader to host only)
//! ```
//! LRC is the XOR of every byte before it, SYNC and CTRL included.

/// Start of every frame.
pub const SYNC: u8 = 0x03;
/// Control byte of a normal frame.
pub const ACK: u8 = 0x06;
/// Control byte of an error frame.
pub const NAK: u8 = 0x15;
/// The whole NAK frame (`03 15` and their XOR).
pub const NAK_FRAME: [u8; 3] = [SYNC, NAK, SYNC ^ NAK];
/// RDR_to_PC_NotifySlotChange, sent unframed as `50 <bmSlotICCState>`.
pub const NOTIFY_SLOT_CHANGE: u8 = 0x50;
/// CCID message header length.
pub const HEADER_LEN: usize = 10;
/// Largest CCID message (header + data) either side accepts: the reference
/// driver's buffer for short APDUs.
pub const MAX_MESSAGE_LEN: usize = 271;
/// Largest data part of a CCID message.
pub const MAX_DATA_LEN: usize = MAX_MESSAGE_LEN - HEADER_LEN;

/// XOR of all bytes.
pub fn lrc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Frames a CCID message: `03 06 message LRC`.
pub fn encode(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 3);
    out.push(SYNC);
    out.push(ACK);
    out.extend_from_slice(message);
    out.push(lrc(&out));
    out
}

/// What was wrong with a host frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("bad LRC (computed {computed:#04x}, received {received:#04x})")]
    BadLrc { computed: u8, received: u8 },
    #[error("CCID message length {0} out of range (10 to {MAX_MESSAGE_LEN} bytes)")]
    BadLength(u64),
    #[error("control byte {0:#04x} after SYNC is neither ACK (0x06) nor NAK (0x15)")]
    BadControl(u8),
    #[error("malformed NAK frame (third byte {0:#04x}, expected 0x16)")]
    BadNak(u8),
}

impl FrameError {
    /// Whether the frame's end is unknown, so the reader must resynchronise
    /// (drop input until the line is quiet) before it answers.
    pub fn needs_resync(&self) -> bool {
        !matches!(self, FrameError::BadLrc { .. })
    }
}

/// One thing found in the host's byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A well-formed frame; `raw` is the whole frame, `message` the CCID message.
    Message { raw: Vec<u8>, message: Vec<u8> },
    /// The host asks for the last answer again.
    HostNak { raw: Vec<u8> },
    /// A broken frame; `raw` holds the bytes that were dropped.
    Bad { raw: Vec<u8>, error: FrameError },
    /// Bytes before a SYNC that belong to no frame.
    Skipped(usize),
}

/// Cuts the host's byte stream into frames. Never holds more than one
/// frame's worth of bytes plus what was pushed since the last [`next_event`](Self::next_event).
#[derive(Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
}

impl Deframer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held for a frame that is not complete yet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Drops everything held; returns how many bytes that was.
    pub fn clear(&mut self) -> usize {
        let n = self.buf.len();
        self.buf.clear();
        n
    }

    /// The next event, or `None` when more bytes are needed. Every event
    /// consumes at least one byte, so calling this in a loop terminates.
    pub fn next_event(&mut self) -> Option<Event> {
        let first = *self.buf.first()?;
        if first != SYNC {
            let n = self.buf.iter().position(|&b| b == SYNC).unwrap_or(self.buf.len());
            self.buf.drain(..n);
            return Some(Event::Skipped(n));
        }
        let ctrl = *self.buf.get(1)?;
        match ctrl {
            NAK => {
                let check = *self.buf.get(2)?;
                let raw: Vec<u8> = self.buf.drain(..3).collect();
                if check == SYNC ^ NAK {
                    Some(Event::HostNak { raw })
                } else {
                    Some(Event::Bad {
                        raw,
                        error: FrameError::BadNak(check),
                    })
                }
            }
            ACK => {
                // SYNC CTRL bMessageType dwLength(4)
                if self.buf.len() < 7 {
                    return None;
                }
                let dw = u32::from_le_bytes([self.buf[3], self.buf[4], self.buf[5], self.buf[6]]);
                let message_len = HEADER_LEN as u64 + u64::from(dw);
                if message_len > MAX_MESSAGE_LEN as u64 {
                    let raw: Vec<u8> = self.buf.drain(..7).collect();
                    return Some(Event::Bad {
                        raw,
                        error: FrameError::BadLength(message_len),
                    });
                }
                // Bounded by MAX_MESSAGE_LEN above.
                let message_len = message_len as usize;
                let frame_len = 2 + message_len + 1;
                if self.buf.len() < frame_len {
                    return None;
                }
                let raw: Vec<u8> = self.buf.drain(..frame_len).collect();
                let computed = lrc(&raw[..frame_len - 1]);
                let received = raw[frame_len - 1];
                if computed != received {
                    return Some(Event::Bad {
                        raw,
                        error: FrameError::BadLrc { computed, received },
                    });
                }
                let message = raw[2..frame_len - 1].to_vec();
                Some(Event::Message { raw, message })
            }
            other => {
                let raw: Vec<u8> = self.buf.drain(..2).collect();
                Some(Event::Bad {
                    raw,
                    error: FrameError::BadControl(other),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get_slot_status(slot: u8, seq: u8) -> Vec<u8> {
        vec![0x65, 0, 0, 0, 0, slot, seq, 0, 0, 0]
    }

    #[test]
    fn encode_has_zero_total_xor() {
        let f = encode(&get_slot_status(0, 1));
        assert_eq!(&f[..2], &[SYNC, ACK]);
        assert_eq!(lrc(&f), 0);
        assert_eq!(lrc(&NAK_FRAME), 0);
    }

    #[test]
    fn split_input_and_noise() {
        let mut d = Deframer::new();
        let f = encode(&get_slot_status(1, 7));
        d.push(&[0xAA, 0x55]);
        d.push(&f[..5]);
        assert_eq!(d.next_event(), Some(Event::Skipped(2)));
        assert_eq!(d.next_event(), None);
        d.push(&f[5..]);
        match d.next_event() {
            Some(Event::Message { message, .. }) => assert_eq!(message, get_slot_status(1, 7)),
            other => panic!("{other:?}"),
        }
        assert_eq!(d.next_event(), None);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn errors() {
        let mut d = Deframer::new();
        let mut f = encode(&get_slot_status(0, 0));
        let last = f.len() - 1;
        f[last] ^= 0xFF;
        d.push(&f);
        assert!(matches!(
            d.next_event(),
            Some(Event::Bad {
                error: FrameError::BadLrc { .. },
                ..
            })
        ));
        d.push(&[SYNC, ACK, 0x6F, 0xFF, 0xFF, 0xFF, 0xFF]);
        match d.next_event() {
            Some(Event::Bad { error, .. }) => {
                assert!(error.needs_resync());
                assert_eq!(error, FrameError::BadLength(10 + 0xFFFF_FFFF));
            }
            other => panic!("{other:?}"),
        }
        d.push(&NAK_FRAME);
        assert!(matches!(d.next_event(), Some(Event::HostNak { .. })));
        d.push(&[SYNC, NAK, 0x00]);
        assert!(matches!(
            d.next_event(),
            Some(Event::Bad {
                error: FrameError::BadNak(0),
                ..
            })
        ));
        d.push(&[SYNC, 0x42]);
        assert!(matches!(
            d.next_event(),
            Some(Event::Bad {
                error: FrameError::BadControl(0x42),
                ..
            })
        ));
        // Largest accepted message.
        let mut big = vec![0x6F];
        big.extend_from_slice(&(MAX_DATA_LEN as u32).to_le_bytes());
        big.extend_from_slice(&[0; 5]);
        big.extend(std::iter::repeat_n(0x11, MAX_DATA_LEN));
        d.push(&encode(&big));
        assert!(matches!(d.next_event(), Some(Event::Message { .. })));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_terminate() {
        // A cheap deterministic pseudo-random stream.
        let mut x: u32 = 0x1234_5678;
        let mut d = Deframer::new();
        for _ in 0..2000 {
            let mut chunk = Vec::new();
            for _ in 0..37 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                chunk.push(if x % 7 == 0 { SYNC } else { x as u8 });
            }
            d.push(&chunk);
            let mut guard = 0;
            while d.next_event().is_some() {
                guard += 1;
                assert!(guard < 10_000);
            }
            assert!(d.pending() <= 2 + MAX_MESSAGE_LEN + 1);
        }
    }
}
