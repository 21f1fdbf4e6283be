//! Shared helpers for the front-end tests: a tiny card, a serial "host" on
//! the pty, and a control-socket client.
#![allow(dead_code)]

use lecteur_sim::control::{CardBay, Loader};
use lecteur_sim::{SimCard, SimReader};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::OFlags;
use rustix::termios;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) const ATR_A: [u8; 4] = [0x3B, 0x02, 0x14, 0x50];
/// TA1 = 0x13 (like a Vitale 2): a host may send a PPS.
pub(crate) const ATR_B: [u8; 10] = [0x3B, 0x75, 0x13, 0x00, 0x00, 0x45, 0x09, 0xEA, 0x90, 0x00];

/// A card that answers `[commands since reset, INS, 90 00]`; INS `EE`
/// answers 300 bytes (too long for a serial frame).
pub(crate) struct TestCard {
    atr: Vec<u8>,
    count: u8,
}

impl TestCard {
    pub(crate) fn boxed(atr: &[u8]) -> Box<dyn SimCard> {
        Box::new(TestCard {
            atr: atr.to_vec(),
            count: 0,
        })
    }
}

impl SimCard for TestCard {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn reset(&mut self) {
        self.count = 0;
    }

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.count = self.count.wrapping_add(1);
        let ins = apdu.get(1).copied().unwrap_or(0);
        if ins == 0xEE {
            let mut v = vec![0x55; 298];
            v.extend_from_slice(&[0x90, 0x00]);
            return v;
        }
        vec![self.count, ins, 0x90, 0x00]
    }
}

/// A loader for the control socket: `a` and `b` are test cards.
pub(crate) fn test_loader() -> Loader {
    Arc::new(|spec: &str| match spec {
        "a" => Ok(TestCard::boxed(&ATR_A)),
        "b" => Ok(TestCard::boxed(&ATR_B)),
        other => Err(format!("no test card {other:?}")),
    })
}

pub(crate) fn bay(slots: usize) -> CardBay {
    CardBay::with_loader(SimReader::new(slots), test_loader())
}

/// A fresh temporary directory (removed by the caller if it wants).
pub(crate) fn temp_dir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("lecteur-sim-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn lrc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

/// `03 06 message LRC`.
pub(crate) fn frame(message: &[u8]) -> Vec<u8> {
    let mut f = vec![0x03, 0x06];
    f.extend_from_slice(message);
    f.push(lrc(&f));
    f
}

/// A PC_to_RDR message.
pub(crate) fn msg(kind: u8, slot: u8, seq: u8, specific: [u8; 3], data: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&(data.len() as u32).to_le_bytes());
    m.extend_from_slice(&[slot, seq]);
    m.extend_from_slice(&specific);
    m.extend_from_slice(data);
    m
}

/// What the reader sent, item by item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// A normal frame: the CCID message (LRC checked).
    Frame(Vec<u8>),
    Nak,
    /// `50 xx`.
    Notify(u8),
    /// A time-extension byte (`80`..`FF`): the reader needs more time.
    TimeExtension(u8),
}

/// The host end of the serial line: opens the link like a driver would.
pub(crate) struct Host {
    f: File,
    buf: Vec<u8>,
}

impl Host {
    pub(crate) fn open(link: &Path) -> Host {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags((OFlags::NOCTTY | OFlags::NONBLOCK).bits() as i32)
            .open(link)
            .unwrap_or_else(|e| panic!("open {}: {e}", link.display()));
        let mut t = termios::tcgetattr(&f).unwrap();
        t.make_raw();
        termios::tcsetattr(&f, termios::OptionalActions::Now, &t).unwrap();
        let _ = termios::tcflush(&f, termios::QueueSelector::IOFlush);
        Host { f, buf: Vec::new() }
    }

    pub(crate) fn send(&mut self, bytes: &[u8]) {
        self.f.write_all(bytes).unwrap();
    }

    pub(crate) fn send_msg(&mut self, message: &[u8]) {
        self.send(&frame(message));
    }

    /// Reads what is available within `timeout` into the buffer.
    fn fill(&mut self, timeout: Duration) -> bool {
        let mut pfd = [PollFd::new(&self.f, PollFlags::IN)];
        let timeout = Timespec::try_from(Duration::from_millis(timeout.as_millis() as u64)).ok();
        if !rustix::event::poll(&mut pfd, timeout.as_ref()).is_ok_and(|n| n > 0) {
            return false;
        }
        let mut chunk = [0u8; 1024];
        match self.f.read(&mut chunk) {
            Ok(n) if n > 0 => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            _ => false,
        }
    }

    fn need(&mut self, n: usize, deadline: Instant) {
        while self.buf.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for the reader (have {:02X?})",
                self.buf
            );
            self.fill(left);
        }
    }

    /// The next item from the reader (panics after `timeout`).
    pub(crate) fn item_within(&mut self, timeout: Duration) -> Item {
        let deadline = Instant::now() + timeout;
        self.need(1, deadline);
        match self.buf[0] {
            0x50 => {
                self.need(2, deadline);
                let state = self.buf[1];
                self.buf.drain(..2);
                Item::Notify(state)
            }
            0x03 => {
                self.need(2, deadline);
                match self.buf[1] {
                    0x15 => {
                        self.need(3, deadline);
                        assert_eq!(self.buf[2], 0x16, "bad NAK frame");
                        self.buf.drain(..3);
                        Item::Nak
                    }
                    0x06 => {
                        self.need(7, deadline);
                        let dw =
                            u32::from_le_bytes([self.buf[3], self.buf[4], self.buf[5], self.buf[6]]) as usize;
                        assert!(dw <= 261, "reader sent dwLength {dw}");
                        let total = 2 + 10 + dw + 1;
                        self.need(total, deadline);
                        let raw: Vec<u8> = self.buf.drain(..total).collect();
                        assert_eq!(lrc(&raw), 0, "bad LRC from the reader: {raw:02X?}");
                        Item::Frame(raw[2..total - 1].to_vec())
                    }
                    other => panic!("bad control byte {other:#04x} from the reader"),
                }
            }
            b @ 0x80..=0xFF => {
                self.buf.drain(..1);
                Item::TimeExtension(b)
            }
            other => panic!("unexpected byte {other:#04x} from the reader"),
        }
    }

    pub(crate) fn item(&mut self) -> Item {
        self.item_within(Duration::from_secs(3))
    }

    /// The next item, which must be a frame.
    pub(crate) fn answer(&mut self) -> Vec<u8> {
        match self.item() {
            Item::Frame(m) => m,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// Sends a message and returns the answer frame.
    pub(crate) fn call(&mut self, message: &[u8]) -> Vec<u8> {
        self.send_msg(message);
        self.answer()
    }

    /// Drops whatever arrives within `d`.
    pub(crate) fn discard(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while Instant::now() < deadline {
            self.fill(deadline.saturating_duration_since(Instant::now()));
        }
        self.buf.clear();
    }

    /// Exactly `n` bytes arrive within `d`, then nothing.
    pub(crate) fn expect_silence_after(&mut self, n: usize, d: Duration) {
        let deadline = Instant::now() + d;
        while Instant::now() < deadline {
            self.fill(deadline.saturating_duration_since(Instant::now()));
        }
        assert_eq!(self.buf.len(), n, "bytes from the reader: {:02X?}", self.buf);
        self.buf.clear();
    }

    /// Nothing arrives for `d`.
    pub(crate) fn expect_silence(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while Instant::now() < deadline {
            self.fill(deadline.saturating_duration_since(Instant::now()));
        }
        assert!(
            self.buf.is_empty(),
            "unexpected bytes from the reader: {:02X?}",
            self.buf
        );
    }
}

/// A control-socket client.
pub(crate) struct Control {
    r: BufReader<UnixStream>,
}

impl Control {
    pub(crate) fn connect(path: &Path) -> Control {
        let s = UnixStream::connect(path).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Control { r: BufReader::new(s) }
    }

    /// Sends a command; returns the answer lines up to `ok`/`error: …` included.
    pub(crate) fn command(&mut self, line: &str) -> Vec<String> {
        let s = self.r.get_mut();
        s.write_all(line.as_bytes()).unwrap();
        s.write_all(b"\n").unwrap();
        let mut lines = Vec::new();
        loop {
            let mut l = String::new();
            assert!(self.r.read_line(&mut l).unwrap() > 0, "control socket closed");
            let l = l.trim_end().to_string();
            let last = l == "ok" || l.starts_with("error:");
            lines.push(l);
            if last {
                return lines;
            }
        }
    }
}
