//! A scriptable fake GemPC / GemCore reader on the master side of a
//! pseudo-terminal, for the transport's integration tests. It parses host
//! frames on its own (not with the transport's decoder).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serialport::{SerialPort, TTYPort};

/// pty creation is serialised across tests.
static PTY_LOCK: Mutex<()> = Mutex::new(());

pub(super) fn pty_pair() -> (TTYPort, TTYPort, String) {
    let _guard = PTY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (master, slave) = TTYPort::pair().expect("pty pair");
    let path = slave.name().expect("pty slave name");
    (master, slave, path)
}

/// How the fake keypad reader ends a `PC_to_RDR_Secure`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SecureReply {
    /// A DataBlock with these bytes (the card's answer).
    Data(Vec<u8>),
    /// A failed DataBlock with this bError (card present and active).
    Failed(u8),
    /// No answer at all.
    Silent,
    /// The card is pulled during the entry: `50 <state>`, no answer.
    CardPulled(u8),
}

impl Default for SecureReply {
    fn default() -> Self {
        SecureReply::Data(vec![0x90, 0x00])
    }
}

/// What the fake reader does; tests change it while it runs.
#[derive(Debug, Default)]
pub(super) struct Script {
    /// Echo every host frame (GemPC Twin).
    pub echo: bool,
    /// Also echo our NAK frames (hardware-style echo).
    pub echo_naks: bool,
    /// ATR of the card in each slot, `None` = empty slot.
    pub cards: Vec<Option<Vec<u8>>>,
    pub powered: Vec<bool>,
    /// Power-ons done per slot (the ATR's last byte is varied with it).
    pub power_ons: Vec<u32>,
    /// Send the next N answers with a flipped bit (then the good one on NAK).
    pub corrupt_answers: usize,
    /// Send the next N answers with two bits flipped in the same bit column
    /// of two bytes: the LRC still checks (then the good one on NAK).
    pub lrc_blind_answers: usize,
    /// NAK the next N host frames instead of executing them.
    pub nak_commands: usize,
    /// Answer the next N host NAK frames with a NAK (as if they arrived
    /// garbled) instead of the answer again.
    pub nak_naks: usize,
    /// Echo the next N frames with a byte changed.
    pub mangle_echoes: usize,
    /// 0x80.. bytes sent before the next XfrBlock answer, with this gap.
    pub time_requests: usize,
    pub time_request_gap: Duration,
    /// Time-extension CCID answers sent before the next XfrBlock answer.
    pub time_ext_answers: usize,
    /// On the next XfrBlock: remove the card of its slot, send `50 <state>`
    /// and no answer (what a real reader may do).
    pub notify_on_xfr: Option<u8>,
    /// Send `50 <state>` before the answer to the next command (synchronous
    /// card-movement notification, as set up by Escape 01 01 01).
    pub notify_before_next_answer: Option<u8>,
    /// Answer nothing at all.
    pub silent: bool,
    /// Fail the escape asking for asynchronous card-movement notification
    /// (`01 01 00`), as a reader that only notifies synchronously would.
    pub refuse_async_notify: bool,
    /// Executed commands: (message type, slot, data) — test-only log.
    pub executed: Vec<(u8, u8, Vec<u8>)>,
    /// NAK frames received from the host.
    pub naks_received: usize,
    /// Bytes to send unsolicited at the next idle moment.
    pub outbox: Vec<u8>,
    /// How the next PC_to_RDR_Secure ends.
    pub secure_reply: SecureReply,
    /// 0x80 bytes sent while the holder "types", `secure_gap` apart.
    pub secure_time_requests: usize,
    pub secure_gap: Duration,
}

impl Script {
    pub(super) fn new(cards: Vec<Option<Vec<u8>>>, echo: bool) -> Self {
        let n = cards.len();
        Self {
            echo,
            echo_naks: echo,
            cards,
            powered: vec![false; n],
            power_ons: vec![0; n],
            time_request_gap: Duration::from_millis(5),
            ..Self::default()
        }
    }

    pub(super) fn executed_of(&self, message_type: u8) -> usize {
        self.executed
            .iter()
            .filter(|(t, _, _)| *t == message_type)
            .count()
    }
}

pub(super) struct FakeReader {
    pub path: String,
    script: Arc<Mutex<Script>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    _slave: TTYPort,
}

impl FakeReader {
    pub(super) fn spawn(script: Script) -> Self {
        let (master, slave, path) = pty_pair();
        Self::spawn_on(master, slave, path, script)
    }

    pub(super) fn spawn_on(master: TTYPort, slave: TTYPort, path: String, script: Script) -> Self {
        let script = Arc::new(Mutex::new(script));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let script = script.clone();
            let stop = stop.clone();
            std::thread::spawn(move || run(master, script, stop))
        };
        Self {
            path,
            script,
            stop,
            thread: Some(thread),
            _slave: slave,
        }
    }

    pub(super) fn script(&self) -> MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops the fake and closes the pty master (the "cable is pulled").
    pub(super) fn unplug(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for FakeReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lrc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

fn frame(message: &[u8]) -> Vec<u8> {
    let mut f = vec![0x03, 0x06];
    f.extend_from_slice(message);
    f.push(lrc(&f));
    f
}

fn answer(kind: u8, slot: u8, seq: u8, status: u8, error: u8, data: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&(data.len() as u32).to_le_bytes());
    m.extend_from_slice(&[slot, seq, status, error, 0]);
    m.extend_from_slice(data);
    m
}

fn run(mut master: TTYPort, script: Arc<Mutex<Script>>, stop: Arc<AtomicBool>) {
    let _ = master.set_timeout(Duration::from_millis(5));
    let mut input: Vec<u8> = Vec::new();
    let mut last_answer: Vec<u8> = Vec::new();
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::SeqCst) {
        let outbox = std::mem::take(&mut script.lock().unwrap().outbox);
        if !outbox.is_empty() {
            let _ = master.write_all(&outbox);
        }
        match master.read(&mut buf) {
            Ok(n) if n > 0 => input.extend_from_slice(&buf[..n]),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
        loop {
            // The host never sends garbage; skip anything before SYNC anyway.
            while !input.is_empty() && input[0] != 0x03 {
                input.remove(0);
            }
            if input.len() < 2 {
                break;
            }
            if input[1] == 0x15 {
                if input.len() < 3 {
                    break;
                }
                input.drain(..3);
                let mut s = script.lock().unwrap();
                s.naks_received += 1;
                if s.echo && s.echo_naks {
                    let _ = master.write_all(&[0x03, 0x15, 0x16]);
                }
                if s.nak_naks > 0 {
                    s.nak_naks -= 1;
                    let _ = master.write_all(&[0x03, 0x15, 0x16]);
                    continue;
                }
                let again = last_answer.clone();
                send_answer(&mut master, &mut s, again);
                continue;
            }
            if input.len() < 12 {
                break;
            }
            let len = u32::from_le_bytes([input[3], input[4], input[5], input[6]]) as usize;
            let total = 2 + 10 + len + 1;
            if input.len() < total {
                break;
            }
            let host_frame: Vec<u8> = input.drain(..total).collect();
            let mut s = script.lock().unwrap();
            command(&mut master, &mut s, &host_frame, &mut last_answer);
        }
    }
}

fn command(master: &mut TTYPort, s: &mut Script, host_frame: &[u8], last_answer: &mut Vec<u8>) {
    if s.echo {
        let mut echo = host_frame.to_vec();
        if s.mangle_echoes > 0 {
            s.mangle_echoes -= 1;
            echo[2] ^= 0x01;
        }
        let _ = master.write_all(&echo);
    }
    if lrc(host_frame) != 0 || s.nak_commands > 0 {
        s.nak_commands = s.nak_commands.saturating_sub(1);
        let _ = master.write_all(&[0x03, 0x15, 0x16]);
        return;
    }
    if s.silent {
        return;
    }
    if let Some(state) = s.notify_before_next_answer.take() {
        let _ = master.write_all(&[0x50, state]);
    }
    let m = &host_frame[2..host_frame.len() - 1];
    let (kind, slot, seq) = (m[0], m[5], m[6]);
    let data = m[10..].to_vec();
    let si = slot as usize;
    s.executed.push((kind, slot, data.clone()));
    let icc = |s: &Script| -> u8 {
        match (s.cards.get(si).and_then(|c| c.as_ref()), s.powered.get(si)) {
            (None, _) => 2,
            (Some(_), Some(true)) => 0,
            (Some(_), _) => 1,
        }
    };
    let reply = match kind {
        0x6B if data == [0x01, 0x01, 0x00] && s.refuse_async_notify => {
            answer(0x83, slot, seq, 0x40 | icc(s), 0x00, &[])
        }
        0x6B => {
            let out: &[u8] = if data == [0x02] { b"GemPC Fake 1.00" } else { b"" };
            answer(0x83, slot, seq, 0, 0, out)
        }
        0x65 => answer(0x81, slot, seq, icc(s), 0, &[]),
        0x62 => match s.cards.get(si).cloned().flatten() {
            Some(mut atr) => {
                s.powered[si] = true;
                s.power_ons[si] += 1;
                if let Some(last) = atr.last_mut() {
                    *last = last.wrapping_add(s.power_ons[si] as u8 - 1);
                }
                answer(0x80, slot, seq, 0, 0, &atr)
            }
            None => answer(0x80, slot, seq, 0x42, 0xFE, &[]),
        },
        0x63 => {
            if let Some(p) = s.powered.get_mut(si) {
                *p = false;
            }
            answer(0x81, slot, seq, icc(s), 0, &[])
        }
        0x69 => {
            for _ in 0..std::mem::take(&mut s.secure_time_requests) {
                std::thread::sleep(s.secure_gap);
                let _ = master.write_all(&[0x80]);
            }
            match std::mem::take(&mut s.secure_reply) {
                SecureReply::Data(out) => answer(0x80, slot, seq, icc(s), 0, &out),
                SecureReply::Failed(error) => answer(0x80, slot, seq, 0x40 | icc(s), error, &[]),
                SecureReply::Silent => return,
                SecureReply::CardPulled(state) => {
                    s.cards[si] = None;
                    s.powered[si] = false;
                    let _ = master.write_all(&[0x50, state]);
                    return;
                }
            }
        }
        0x6F => {
            if let Some(state) = s.notify_on_xfr.take() {
                s.cards[si] = None;
                s.powered[si] = false;
                let _ = master.write_all(&[0x50, state]);
                return;
            }
            let status = icc(s);
            if status != 0 {
                answer(0x80, slot, seq, 0x40 | status, 0xFE, &[])
            } else {
                for _ in 0..std::mem::take(&mut s.time_requests) {
                    let _ = master.write_all(&[0x80]);
                    std::thread::sleep(s.time_request_gap);
                }
                for _ in 0..std::mem::take(&mut s.time_ext_answers) {
                    let _ = master.write_all(&frame(&answer(0x80, slot, seq, 0x80, 1, &[])));
                    std::thread::sleep(s.time_request_gap);
                }
                let mut out = data.clone();
                out.extend_from_slice(&[0x90, 0x00]);
                answer(0x80, slot, seq, 0, 0, &out)
            }
        }
        _ => answer(0x81, slot, seq, 0x40 | icc(s), 0x00, &[]),
    };
    let good = frame(&reply);
    *last_answer = good.clone();
    send_answer(master, s, good);
}

/// Sends an answer frame, corrupted if the script says so.
fn send_answer(master: &mut TTYPort, s: &mut Script, mut frame: Vec<u8>) {
    if frame.is_empty() {
        return;
    }
    if s.corrupt_answers > 0 {
        s.corrupt_answers -= 1;
        let i = frame.len() - 2;
        frame[i] ^= 0x10;
    } else if s.lrc_blind_answers > 0 && frame.len() >= 15 {
        s.lrc_blind_answers -= 1;
        // Two data bytes (the status word), the same bit: XOR unchanged.
        let i = frame.len() - 3;
        frame[i] ^= 0x01;
        frame[i + 1] ^= 0x01;
    }
    let _ = master.write_all(&frame);
}
