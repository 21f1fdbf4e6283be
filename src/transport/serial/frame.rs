//! Frame codec of CCID over a serial line (GemPC Twin / GemCore family).
//!
//! ```text
//! normal frame:  SYNC(03) CTRL(06) <CCID message: 10-byte header + data> LRC
//! NAK frame:     03 15 16
//! card movement: 50 <bmSlotICCState>        (unframed)
//! time request:  one byte 80..FF            (unframed, T=0 waiting-time extension)
//! ```
//!
//! The LRC is the XOR of every byte before it, so the XOR of a whole frame is 0.
//! The [`Decoder`] is strict where the reference driver is lenient: a frame with
//! a wrong LRC, an oversized `dwLength` or a bad control byte comes out as
//! [`Item::Corrupt`] and its content is never handed over. Bytes that cannot
//! start anything are skipped (resynchronisation on the next SYNC).

use std::fmt;

pub(super) const SYNC: u8 = 0x03;
pub(super) const CTRL_ACK: u8 = 0x06;
pub(super) const CTRL_NAK: u8 = 0x15;
/// The NAK frame, sent by either side to ask for the last frame again.
pub(super) const NAK_FRAME: [u8; 3] = [SYNC, CTRL_NAK, SYNC ^ CTRL_NAK];
/// `RDR_to_PC_NotifySlotChange`, sent unframed on the serial line.
pub(super) const NOTIFY_SLOT_CHANGE: u8 = 0x50;
/// Size of a CCID message header.
pub(super) const HEADER_LEN: usize = 10;
/// Largest CCID message accepted on the line: 271 bytes (short APDUs, the
/// reference driver's buffer) plus a small margin.
pub(super) const MAX_MESSAGE_LEN: usize = 271 + 16;
/// Largest `dwLength` accepted.
pub(super) const MAX_DATA_LEN: usize = MAX_MESSAGE_LEN - HEADER_LEN;
/// SYNC + CTRL + LRC around a message.
const FRAME_OVERHEAD: usize = 3;

/// XOR of all bytes.
pub(super) fn lrc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Frames one CCID message (header + data) for the line.
pub(super) fn encode(message: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(message.len() + FRAME_OVERHEAD);
    frame.push(SYNC);
    frame.push(CTRL_ACK);
    frame.extend_from_slice(message);
    frame.push(lrc(&frame));
    frame
}

/// What the decoder found on the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    /// A complete CCID message (header + data) whose LRC checked.
    Message(Vec<u8>),
    /// The peer asks for its last frame again.
    Nak,
    /// Card movement notification with its `bmSlotICCState` byte.
    SlotChange(u8),
    /// T=0 waiting-time extension byte (0x80..=0xFF).
    TimeRequest(u8),
    /// A framing error; the offending bytes were dropped.
    Corrupt(Corruption),
}

/// Why a frame was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Corruption {
    /// The LRC did not check.
    BadLrc,
    /// SYNC followed by something else than ACK or NAK.
    BadControl(u8),
    /// SYNC NAK followed by a wrong LRC byte.
    BadNak(u8),
    /// `dwLength` above [`MAX_DATA_LEN`].
    Oversize(usize),
    /// The line went quiet in the middle of a frame.
    Truncated,
    /// An unframed byte (card movement, time request) came right after
    /// bytes that fit no frame: it is most likely the body of a frame whose
    /// start was garbled, so it is not believed.
    OutOfSync(usize),
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corruption::BadLrc => write!(f, "wrong LRC"),
            Corruption::BadControl(c) => write!(f, "bad control byte 0x{c:02X} after SYNC"),
            Corruption::BadNak(c) => write!(f, "bad NAK frame LRC 0x{c:02X}"),
            Corruption::Oversize(n) => {
                write!(f, "frame length {n} above the {MAX_DATA_LEN}-byte limit")
            }
            Corruption::Truncated => write!(f, "truncated frame"),
            Corruption::OutOfSync(n) => write!(f, "out of step with the frames ({n} stray byte(s))"),
        }
    }
}

/// Incremental, bounded decoder of the reader's byte stream.
#[derive(Debug, Default)]
pub(super) struct Decoder {
    buf: Vec<u8>,
    skipped: usize,
}

impl Decoder {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the line.
    pub(super) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// True when bytes of an incomplete item are waiting for more.
    pub(super) fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Drops everything buffered (after draining the line).
    pub(super) fn clear(&mut self) {
        self.skipped += self.buf.len();
        self.consume(self.buf.len());
    }

    /// Removes the first `n` buffered bytes and scrubs the freed space (the
    /// stream carries echoes of our APDUs, possibly PINs).
    fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        let rest = self.buf.len() - n;
        self.buf.copy_within(n.., 0);
        self.buf[rest..].fill(0);
        self.buf.truncate(rest);
    }

    /// Gives up on an incomplete item because the line went quiet.
    pub(super) fn truncate(&mut self) -> Option<Item> {
        if self.buf.is_empty() {
            return None;
        }
        self.clear();
        Some(Item::Corrupt(Corruption::Truncated))
    }

    /// Number of bytes skipped as garbage since the last call.
    pub(super) fn take_skipped(&mut self) -> usize {
        std::mem::take(&mut self.skipped)
    }

    /// Next complete item, or `None` if more bytes are needed.
    pub(super) fn next_item(&mut self) -> Option<Item> {
        // Skip bytes that cannot start anything (resynchronisation).
        let start = self
            .buf
            .iter()
            .position(|&b| b == SYNC || b == NOTIFY_SLOT_CHANGE || b >= 0x80)
            .unwrap_or(self.buf.len());
        if start > 0 {
            self.skipped += start;
            self.consume(start);
        }
        let first = *self.buf.first()?;
        match first {
            NOTIFY_SLOT_CHANGE => {
                let state = *self.buf.get(1)?;
                self.consume(2);
                Some(Item::SlotChange(state))
            }
            SYNC => self.next_frame(),
            b => {
                self.consume(1);
                Some(Item::TimeRequest(b))
            }
        }
    }

    fn next_frame(&mut self) -> Option<Item> {
        let ctrl = *self.buf.get(1)?;
        match ctrl {
            CTRL_NAK => {
                let check = *self.buf.get(2)?;
                if check == SYNC ^ CTRL_NAK {
                    self.consume(3);
                    Some(Item::Nak)
                } else {
                    // Keep the third byte: it may start the next item.
                    self.skipped += 2;
                    self.consume(2);
                    Some(Item::Corrupt(Corruption::BadNak(check)))
                }
            }
            CTRL_ACK => {
                if self.buf.len() < 2 + HEADER_LEN {
                    return None;
                }
                let len_bytes = [self.buf[3], self.buf[4], self.buf[5], self.buf[6]];
                let data_len = u32::from_le_bytes(len_bytes) as usize;
                if data_len > MAX_DATA_LEN {
                    self.skipped += 2;
                    self.consume(2);
                    return Some(Item::Corrupt(Corruption::Oversize(data_len)));
                }
                let total = HEADER_LEN + data_len + FRAME_OVERHEAD;
                if self.buf.len() < total {
                    return None;
                }
                if lrc(&self.buf[..total]) != 0 {
                    self.skipped += total;
                    self.consume(total);
                    return Some(Item::Corrupt(Corruption::BadLrc));
                }
                let message = self.buf[2..total - 1].to_vec();
                self.consume(total);
                Some(Item::Message(message))
            }
            other => {
                // Drop the SYNC only: the next byte may be a real SYNC.
                self.skipped += 1;
                self.consume(1);
                Some(Item::Corrupt(Corruption::BadControl(other)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(data: &[u8]) -> Vec<u8> {
        let mut m = vec![0x80];
        m.extend_from_slice(&(data.len() as u32).to_le_bytes());
        m.extend_from_slice(&[0, 7, 0, 0, 0]);
        m.extend_from_slice(data);
        m
    }

    fn decode_all(bytes: &[u8]) -> Vec<Item> {
        let mut d = Decoder::new();
        d.push(bytes);
        std::iter::from_fn(|| d.next_item()).collect()
    }

    #[test]
    fn lrc_of_a_frame_is_zero() {
        let f = encode(&message(&[0x90, 0x00]));
        assert_eq!(lrc(&f), 0);
        assert_eq!(&f[..2], &[SYNC, CTRL_ACK]);
        assert_eq!(NAK_FRAME, [0x03, 0x15, 0x16]);
    }

    #[test]
    fn round_trip() {
        for len in [0usize, 1, 2, 255, 258, MAX_DATA_LEN] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let m = message(&data);
            assert_eq!(decode_all(&encode(&m)), vec![Item::Message(m)]);
        }
    }

    #[test]
    fn byte_by_byte_round_trip() {
        let m = message(&[1, 2, 3, 0x03, 0x50, 0x80, 0xFF]);
        let f = encode(&m);
        let mut d = Decoder::new();
        for (i, b) in f.iter().enumerate() {
            d.push(&[*b]);
            let item = d.next_item();
            if i + 1 < f.len() {
                assert_eq!(item, None, "early item at byte {i}");
            } else {
                assert_eq!(item, Some(Item::Message(m.clone())));
            }
        }
        assert!(!d.has_partial());
    }

    #[test]
    fn bad_lrc_is_rejected_and_next_frame_still_decodes() {
        let m = message(&[0x61, 0x10]);
        let mut bad = encode(&m);
        let n = bad.len();
        bad[n - 3] ^= 0x01; // flip one data bit
        let mut stream = bad.clone();
        stream.extend(encode(&m));
        assert_eq!(
            decode_all(&stream),
            vec![Item::Corrupt(Corruption::BadLrc), Item::Message(m)]
        );
        let mut bad_lrc = encode(&message(&[]));
        *bad_lrc.last_mut().unwrap() ^= 0xFF;
        assert_eq!(decode_all(&bad_lrc), vec![Item::Corrupt(Corruption::BadLrc)]);
    }

    #[test]
    fn truncated_frame_waits_then_is_dropped() {
        let f = encode(&message(&[1, 2, 3]));
        let mut d = Decoder::new();
        d.push(&f[..f.len() - 2]);
        assert_eq!(d.next_item(), None);
        assert!(d.has_partial());
        assert_eq!(d.truncate(), Some(Item::Corrupt(Corruption::Truncated)));
        assert!(!d.has_partial());
        assert_eq!(d.truncate(), None);
        // A header alone is also partial.
        d.push(&f[..5]);
        assert_eq!(d.next_item(), None);
    }

    #[test]
    fn oversize_length_is_rejected_without_waiting() {
        let mut m = message(&[]);
        m[1..5].copy_from_slice(&((MAX_DATA_LEN as u32) + 1).to_le_bytes());
        let f = encode(&m);
        let items = decode_all(&f[..12]);
        assert_eq!(items[0], Item::Corrupt(Corruption::Oversize(MAX_DATA_LEN + 1)));
        let mut huge = message(&[]);
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        let items = decode_all(&encode(&huge));
        assert_eq!(items[0], Item::Corrupt(Corruption::Oversize(u32::MAX as usize)));
    }

    #[test]
    fn garbage_before_sync_is_skipped() {
        let m = message(&[0x90, 0x00]);
        let mut stream = vec![0x00, 0x11, 0x42, 0x7F, 0x06];
        stream.extend(encode(&m));
        let mut d = Decoder::new();
        d.push(&stream);
        assert_eq!(d.next_item(), Some(Item::Message(m)));
        assert_eq!(d.take_skipped(), 5);
        assert_eq!(d.next_item(), None);
    }

    #[test]
    fn bad_control_byte_then_resync() {
        let m = message(&[0x90, 0x00]);
        let mut stream = vec![SYNC, 0x42];
        stream.extend(encode(&m));
        assert_eq!(
            decode_all(&stream),
            vec![Item::Corrupt(Corruption::BadControl(0x42)), Item::Message(m)]
        );
    }

    #[test]
    fn nak_frames() {
        assert_eq!(decode_all(&NAK_FRAME), vec![Item::Nak]);
        assert_eq!(
            decode_all(&[SYNC, CTRL_NAK, 0x00]),
            vec![Item::Corrupt(Corruption::BadNak(0x00))]
        );
    }

    #[test]
    fn interleaved_notifications_and_time_requests() {
        let m = message(&[0x6F, 0x00]);
        let mut stream = vec![0x80, NOTIFY_SLOT_CHANGE, 0x02, 0xFF];
        stream.extend(encode(&m));
        stream.extend([NOTIFY_SLOT_CHANGE, 0x03, 0x81]);
        stream.extend(NAK_FRAME);
        assert_eq!(
            decode_all(&stream),
            vec![
                Item::TimeRequest(0x80),
                Item::SlotChange(0x02),
                Item::TimeRequest(0xFF),
                Item::Message(m),
                Item::SlotChange(0x03),
                Item::TimeRequest(0x81),
                Item::Nak,
            ]
        );
        // A notification split across reads.
        let mut d = Decoder::new();
        d.push(&[NOTIFY_SLOT_CHANGE]);
        assert_eq!(d.next_item(), None);
        d.push(&[0x0C]);
        assert_eq!(d.next_item(), Some(Item::SlotChange(0x0C)));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded() {
        // A cheap deterministic pseudo-random stream.
        let mut x: u32 = 0x1234_5678;
        let mut d = Decoder::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            d.push(&[x as u8]);
            while d.next_item().is_some() {}
            assert!(d.buf.len() <= MAX_MESSAGE_LEN + FRAME_OVERHEAD);
        }
    }
}
