//! The reader's side of the serial line, without I/O: host bytes in, reader
//! bytes out. Echo, NAK, retransmission, resynchronisation and card-movement
//! bytes live here, so tests (and an in-process transport) can drive a
//! complete reader over any byte pipe.

use super::firmware::{Firmware, Notify, Progress};
use super::frame::{self, Deframer, Event, NAK_FRAME};
use super::{Keypad, Profile};
use crate::reader::SimReader;
use std::time::{Duration, Instant};

/// After a frame whose end is unknown, input is dropped until the line has
/// been quiet this long; then one NAK goes out.
pub const RESYNC_QUIET: Duration = Duration::from_millis(50);
/// A resynchronisation never lasts longer than this, even on a noisy line.
pub const RESYNC_MAX: Duration = Duration::from_secs(1);
/// A frame that stays incomplete this long is dropped and NAKed.
pub const INTERCHAR_TIMEOUT: Duration = Duration::from_secs(1);
/// While the holder types, the keypad (driven from another thread) is
/// looked at this often.
pub const KEYPAD_POLL: Duration = Duration::from_millis(20);
/// The byte that asks the host for more time (unframed, as a T=0 reader's).
pub const TIME_EXTENSION: u8 = 0x80;

#[derive(Debug, Clone, Copy)]
struct Resync {
    started: Instant,
    quiet_until: Instant,
    dropped: usize,
}

/// A simulated CCID serial reader at the byte level.
pub struct Link {
    profile: Profile,
    deframer: Deframer,
    firmware: Firmware,
    last_answer: Option<Vec<u8>>,
    resync: Option<Resync>,
    last_rx: Option<Instant>,
    verbose: bool,
    /// Fault: NAK every frame from the host.
    nak_storm: bool,
    /// Fault: XfrBlocks get time-extension bytes at this interval, never an answer.
    time_ext: Option<Duration>,
    /// When the next endless time-extension byte is due.
    stalled: Option<Instant>,
}

/// `PC_to_RDR_XfrBlock`: the command a card can take forever to answer.
const XFR_BLOCK: u8 = 0x6F;

impl Link {
    /// A reader with the profile's behaviour over the slots of `reader`.
    pub fn new(profile: Profile, reader: SimReader) -> Self {
        Link {
            profile,
            deframer: Deframer::new(),
            firmware: Firmware::new(profile, reader),
            last_answer: None,
            resync: None,
            last_rx: None,
            verbose: false,
            nak_storm: false,
            time_ext: None,
            stalled: None,
        }
    }

    /// Line faults that need the link's knowledge of frames (see
    /// [`super::faults`]): a NAK storm, endless time extensions.
    pub fn set_faults(&mut self, nak_storm: bool, time_ext: Option<Duration>) {
        self.nak_storm = nak_storm;
        self.time_ext = time_ext;
        if time_ext.is_none() {
            self.stalled = None;
        }
    }

    /// The port vanished and came back: the reader was power-cycled, so
    /// half-received frames, the last answer, card power and the
    /// notification mode are gone.
    pub fn power_cycle(&mut self) {
        self.deframer.clear();
        self.last_answer = None;
        self.resync = None;
        self.last_rx = None;
        self.stalled = None;
        self.firmware.power_cycle();
    }

    pub fn set_verbose(&mut self, verbose: bool) {
        self.verbose = verbose;
        self.firmware.set_verbose(verbose);
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The keypad of a PIN-pad reader.
    pub fn keypad(&self) -> Option<Keypad> {
        self.firmware.keypad()
    }

    /// A running PIN entry's news: time-extension bytes, or its answer
    /// (after any card-movement notification, which is older).
    fn pinpad(&mut self, now: Instant, out: &mut Vec<u8>) {
        // One answer at most; a few extension bytes at most per call.
        for _ in 0..4 {
            match self.firmware.pinpad_tick(now) {
                None => return,
                Some(Progress::TimeExtension) => {
                    if self.verbose {
                        eprintln!("lecteur-sim: serial: holder typing: time extension");
                    }
                    out.push(TIME_EXTENSION);
                }
                Some(Progress::Answer(message)) => {
                    if let Some(n) = self.firmware.take_notification() {
                        out.extend_from_slice(&n);
                    }
                    let answer = frame::encode(&message);
                    out.extend_from_slice(&answer);
                    self.last_answer = Some(answer);
                    return;
                }
            }
        }
    }

    /// Bytes from the host; returns the bytes the reader sends back.
    pub fn receive(&mut self, bytes: &[u8], now: Instant) -> Vec<u8> {
        let mut out = Vec::new();
        if bytes.is_empty() {
            return out;
        }
        self.last_rx = Some(now);
        if let Some(r) = self.resync.as_mut() {
            r.dropped += bytes.len();
            r.quiet_until = now + RESYNC_QUIET;
            return out;
        }
        self.deframer.push(bytes);
        while let Some(event) = self.deframer.next_event() {
            match event {
                Event::Skipped(n) => {
                    eprintln!("lecteur-sim: serial: skipped {n} byte(s) outside any frame");
                }
                Event::Message { raw, message } => {
                    if self.profile.echoes() {
                        out.extend_from_slice(&raw);
                    }
                    if self.nak_storm {
                        eprintln!("lecteur-sim: serial: fault: NAK storm: NAK");
                        out.extend_from_slice(&NAK_FRAME);
                        continue;
                    }
                    if let (Some(every), Some(&XFR_BLOCK)) = (self.time_ext, message.first()) {
                        // The card asks for more time, again and again.
                        eprintln!("lecteur-sim: serial: fault: endless time extension");
                        out.push(TIME_EXTENSION);
                        self.stalled = Some(now + every);
                        continue;
                    }
                    self.stalled = None;
                    let answer = self.firmware.receive(&message, now).map(|m| frame::encode(&m));
                    if let Some(n) = self.firmware.take_notification() {
                        if self.verbose {
                            eprintln!("lecteur-sim: serial: card movement notified: 50 {:02X}", n[1]);
                        }
                        out.extend_from_slice(&n);
                    }
                    match answer {
                        Some(answer) => {
                            out.extend_from_slice(&answer);
                            self.last_answer = Some(answer);
                        }
                        // A PIN entry started; keys may already be waiting.
                        None => self.pinpad(now, &mut out),
                    }
                }
                Event::HostNak { raw } => {
                    if self.profile.echoes() {
                        out.extend_from_slice(&raw);
                    }
                    match &self.last_answer {
                        Some(answer) => {
                            eprintln!("lecteur-sim: serial: host sent NAK: retransmitting the last answer");
                            out.extend_from_slice(answer);
                        }
                        None => {
                            eprintln!("lecteur-sim: serial: host sent NAK but nothing was sent yet: NAK");
                            out.extend_from_slice(&NAK_FRAME);
                        }
                    }
                }
                Event::Bad { raw, error } => {
                    if error.needs_resync() {
                        let held = self.deframer.clear();
                        eprintln!(
                            "lecteur-sim: serial: bad frame from host: {error}; resynchronising, then NAK"
                        );
                        self.resync = Some(Resync {
                            started: now,
                            quiet_until: now + RESYNC_QUIET,
                            dropped: raw.len() + held,
                        });
                        break;
                    }
                    eprintln!("lecteur-sim: serial: bad frame from host: {error}: NAK");
                    if self.profile.echoes() {
                        out.extend_from_slice(&raw);
                    }
                    out.extend_from_slice(&NAK_FRAME);
                }
            }
        }
        out
    }

    /// Time passes: ends resynchronisations, drops stalled frames, and sends
    /// asynchronous card-movement notifications. Call it at least every
    /// 100 ms or at [`next_deadline`](Self::next_deadline).
    pub fn tick(&mut self, now: Instant) -> Vec<u8> {
        let mut out = Vec::new();
        if self.firmware.entering() {
            self.pinpad(now, &mut out);
        }
        if let (Some(due), Some(every)) = (self.stalled, self.time_ext) {
            if now >= due {
                out.push(TIME_EXTENSION);
                self.stalled = Some(now + every);
            }
        }
        if let Some(r) = self.resync {
            if now >= r.quiet_until || now.duration_since(r.started) >= RESYNC_MAX {
                self.resync = None;
                eprintln!(
                    "lecteur-sim: serial: resynchronised after dropping {} byte(s): NAK",
                    r.dropped
                );
                out.extend_from_slice(&NAK_FRAME);
            }
        } else if self.deframer.pending() > 0 {
            let since = self.last_rx.unwrap_or(now);
            if now.duration_since(since) >= INTERCHAR_TIMEOUT {
                let n = self.deframer.clear();
                eprintln!("lecteur-sim: serial: incomplete frame ({n} byte(s)) timed out: NAK");
                out.extend_from_slice(&NAK_FRAME);
            }
        }
        if self.firmware.notify_mode() == Notify::Async
            && self.resync.is_none()
            && self.deframer.pending() == 0
        {
            if let Some(n) = self.firmware.take_notification() {
                out.extend_from_slice(&n);
            }
        } else {
            self.firmware.sync_changes();
        }
        out
    }

    /// When [`tick`](Self::tick) next has something to do on its own.
    pub fn next_deadline(&self) -> Option<Instant> {
        let entry = self
            .firmware
            .entry_deadline()
            .map(|d| d.min(Instant::now() + KEYPAD_POLL));
        let line = if let Some(r) = self.resync {
            Some(r.quiet_until.min(r.started + RESYNC_MAX))
        } else if self.deframer.pending() > 0 {
            self.last_rx.map(|t| t + INTERCHAR_TIMEOUT)
        } else {
            None
        };
        [entry, line, self.stalled].into_iter().flatten().min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::EchoCard;
    use crate::serial::frame::{encode, lrc, MAX_DATA_LEN};

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn link() -> (Link, SimReader) {
        let reader = SimReader::new(2);
        reader
            .insert(0, Box::new(EchoCard::new(EchoCard::DEFAULT_ATR.to_vec())))
            .unwrap();
        let mut l = Link::new(Profile::GemPcTwin, reader.clone());
        l.set_verbose(false);
        (l, reader)
    }

    #[test]
    fn every_well_framed_message_gets_one_answer() {
        let (mut l, reader) = link();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let kinds = [
            0x61, 0x62, 0x63, 0x65, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x71, 0x72, 0x73,
        ];
        let t0 = Instant::now();
        for i in 0..3000u32 {
            let kind = if rng.below(8) == 0 {
                rng.next() as u8
            } else {
                kinds[rng.below(kinds.len() as u64) as usize]
            };
            let len = match rng.below(4) {
                0 => 0,
                1 => rng.below(6) as usize,
                2 => rng.below(300) as usize,
                _ => MAX_DATA_LEN,
            }
            .min(MAX_DATA_LEN);
            let mut m = vec![kind];
            m.extend_from_slice(&(len as u32).to_le_bytes());
            m.extend_from_slice(&[rng.below(4) as u8, i as u8, rng.next() as u8, 0, 0]);
            m.extend((0..len).map(|_| rng.next() as u8));
            if i % 97 == 0 {
                let _ = reader.remove(0);
            } else if i % 89 == 0 {
                let _ = reader.insert(0, Box::new(EchoCard::new(EchoCard::DEFAULT_ATR.to_vec())));
            }
            let f = encode(&m);
            let out = l.receive(&f, t0);
            // Echo, maybe 50 xx, then exactly one answer frame.
            assert_eq!(&out[..f.len()], &f[..]);
            let mut rest = &out[f.len()..];
            if rest.first() == Some(&0x50) {
                rest = &rest[2..];
            }
            assert_eq!(&rest[..2], &[0x03, 0x06]);
            assert_eq!(lrc(rest), 0, "answer LRC");
            let dw = u32::from_le_bytes([rest[3], rest[4], rest[5], rest[6]]) as usize;
            assert_eq!(rest.len(), 2 + 10 + dw + 1);
            assert!(dw <= MAX_DATA_LEN);
            assert_eq!(rest[2 + 6], i as u8, "bSeq echoed");
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let (mut l, _reader) = link();
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let mut now = Instant::now();
        for _ in 0..3000 {
            let n = rng.below(64) as usize;
            let bytes: Vec<u8> = (0..n)
                .map(|_| match rng.below(5) {
                    0 => 0x03,
                    1 => 0x06,
                    _ => rng.next() as u8,
                })
                .collect();
            let out = l.receive(&bytes, now);
            assert!(out.len() < 64 * 1024);
            now += Duration::from_millis(rng.below(120));
            l.tick(now);
        }
    }
}
