//! A virtual card for pcscd's vpcd driver (vsmartcard `libifdvpcd`).
//!
//! vpcd listens (TCP 35963 for "Virtual PCD 00 00"); the card connects.
//! Every message is a 2-byte big-endian length and a payload. A 1-byte
//! payload is a control byte: `00` power off, `01` power on, `02` reset (no
//! answer), `04` get ATR (answered with the ATR). Longer payloads are
//! C-APDUs answered with the R-APDU. Connected = card inserted, closed = card
//! removed.
//!
//! [`run`] serves slot 0 of a [`SimReader`]: it connects while the slot holds
//! a card, closes the connection when the card is removed, and reconnects
//! every 200 ms while pcscd is away. Faults set through the control socket
//! ([`crate::vpcd_faults`]) delay answers, pull the card at a chosen APDU or
//! close the connection.

use crate::reader::{SimReader, SlotChange, SlotError};
use crate::vpcd_faults::{ApduFault, VpcdFaults};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

// TCP_QUICKACK is Linux's; elsewhere delayed ACK stays as the system has it.
#[cfg_attr(unix, path = "vpcd/tcp_unix.rs")]
#[cfg_attr(not(unix), path = "vpcd/tcp_other.rs")]
mod tcp;

/// vpcd's default port (slot "Virtual PCD 00 00"); the next slot is +1.
pub const DEFAULT_PORT: u16 = 35963;
pub const CTRL_OFF: u8 = 0x00;
pub const CTRL_ON: u8 = 0x01;
pub const CTRL_RESET: u8 = 0x02;
pub const CTRL_ATR: u8 = 0x04;
/// The largest payload a 2-byte length can describe.
pub const MAX_FRAME: usize = 0xFFFF;

/// Read timeout between frames, to look at the stop flag and the slot.
const TICK: Duration = Duration::from_millis(200);
/// A frame that has started must complete within this.
const FRAME_STALL: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Most slot-change events taken in one go.
const MAX_DRAIN: usize = 10_000;
/// Answer sent when the card's answer cannot be carried (technical problem).
const SW_TECHNICAL_PROBLEM: [u8; 2] = [0x6F, 0x00];

/// Why the vpcd front-end stopped with an error. Connection problems are not
/// errors: they are retried.
#[derive(Debug, thiserror::Error)]
pub enum VpcdError {
    #[error("the simulated reader has no slot {0}")]
    NoSlot(usize),
}

/// Why one connection ended.
#[derive(Debug, thiserror::Error)]
enum SessionEnd {
    #[error("stop requested")]
    Stopped,
    #[error("card removed")]
    CardRemoved,
    #[error("vpcd closed the connection")]
    PeerClosed,
    #[error("connection closed by a disconnect fault")]
    Disconnected,
    #[error("a frame from vpcd stalled ({got} of {want} bytes after {} s)", FRAME_STALL.as_secs())]
    Stalled { got: usize, want: usize },
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
}

/// Tuning for [`run_with`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Delay between connection attempts while vpcd is unreachable.
    pub retry: Duration,
    /// Which slot of the reader is the card.
    pub slot: usize,
    /// Log every control byte and APDU header (never APDU data).
    pub verbose: bool,
    /// Faults in force (none by default), shared with the control socket.
    pub faults: VpcdFaults,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retry: Duration::from_millis(200),
            slot: 0,
            verbose: false,
            faults: VpcdFaults::default(),
        }
    }
}

/// Serves slot 0 of `reader` to vpcd at `addr` until `stop` is set.
pub fn run(reader: SimReader, addr: SocketAddr, stop: &AtomicBool) -> Result<(), VpcdError> {
    run_with(reader, addr, stop, &Options::default())
}

/// Sleeps up to `d`, waking early on stop or (with `Some(slot)`) a movement
/// in that slot. Movements seen while sleeping are consumed.
fn wait(changes: &Receiver<SlotChange>, slot: Option<usize>, d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        match changes.recv_timeout(left.min(TICK)) {
            Ok(c) if Some(c.slot) == slot => return,
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(left.min(TICK)),
        }
    }
}

/// Serves one slot of `reader` to vpcd at `addr` until `stop` is set.
pub fn run_with(
    reader: SimReader,
    addr: SocketAddr,
    stop: &AtomicBool,
    opts: &Options,
) -> Result<(), VpcdError> {
    let slot = opts.slot;
    if slot >= reader.slot_count() {
        return Err(VpcdError::NoSlot(slot));
    }
    let changes = reader.subscribe();
    let mut reported_unreachable = false;
    let mut reported_empty = false;
    while !stop.load(Ordering::SeqCst) {
        if !reader.present(slot) {
            if !reported_empty {
                eprintln!("lecteur-sim: vpcd: no card in the slot; waiting for one");
                reported_empty = true;
            }
            wait(&changes, Some(slot), TICK, stop);
            continue;
        }
        reported_empty = false;
        let stream = match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(s) => s,
            Err(e) => {
                if !reported_unreachable {
                    eprintln!(
                        "lecteur-sim: vpcd: cannot connect to {addr} ({e}); retrying every {} ms",
                        opts.retry.as_millis()
                    );
                    reported_unreachable = true;
                }
                wait(&changes, None, opts.retry, stop);
                continue;
            }
        };
        reported_unreachable = false;
        eprintln!("lecteur-sim: vpcd: connected to {addr}");
        // Movements before this connection are not news for it (bounded:
        // the queue is finite; the cap only guards against a flood).
        for _ in 0..MAX_DRAIN {
            if changes.try_recv().is_err() {
                break;
            }
        }
        let mut session = Session {
            reader: &reader,
            slot,
            changes: &changes,
            stop,
            verbose: opts.verbose,
            faults: &opts.faults,
            generation: 0,
            powered: false,
        };
        let end = session.serve(stream);
        match end {
            SessionEnd::Stopped => break,
            SessionEnd::CardRemoved => {
                eprintln!("lecteur-sim: vpcd: card removed: disconnected from {addr}")
            }
            SessionEnd::Disconnected => {
                eprintln!("lecteur-sim: vpcd: fault: disconnected from {addr}; reconnecting");
                wait(&changes, None, opts.retry, stop);
            }
            SessionEnd::PeerClosed => {
                eprintln!("lecteur-sim: vpcd: {addr} closed the connection (pcscd gone?); reconnecting");
                wait(&changes, None, opts.retry, stop);
            }
            other => {
                eprintln!("lecteur-sim: vpcd: {other}; reconnecting");
                wait(&changes, None, opts.retry, stop);
            }
        }
    }
    eprintln!("lecteur-sim: vpcd: stopping");
    Ok(())
}

struct Session<'a> {
    reader: &'a SimReader,
    slot: usize,
    changes: &'a Receiver<SlotChange>,
    stop: &'a AtomicBool,
    verbose: bool,
    faults: &'a VpcdFaults,
    generation: u64,
    powered: bool,
}

impl Session<'_> {
    fn serve(&mut self, mut stream: TcpStream) -> SessionEnd {
        let end = self.serve_inner(&mut stream).err().unwrap_or(SessionEnd::Stopped);
        let _ = stream.shutdown(Shutdown::Both);
        end
    }

    fn serve_inner(&mut self, stream: &mut TcpStream) -> Result<(), SessionEnd> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(TICK))?;
        stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
        // The card is inserted now: it gets a fresh start.
        let (generation, _) = self
            .reader
            .connect(self.slot)
            .map_err(|_| SessionEnd::CardRemoved)?;
        self.generation = generation;
        let mut len = [0u8; 2];
        let mut payload = Vec::with_capacity(300);
        loop {
            self.read_full(stream, &mut len, true)?;
            let n = usize::from(u16::from_be_bytes(len));
            payload.clear();
            payload.resize(n, 0);
            self.read_full(stream, &mut payload, false)?;
            self.check_slot()?;
            if let Some(answer) = self.handle(&payload)? {
                send(stream, &answer)?;
            }
        }
    }

    /// Ends the session when the card moved (removed or swapped) or on stop.
    fn check_slot(&self) -> Result<(), SessionEnd> {
        if self.stop.load(Ordering::SeqCst) {
            return Err(SessionEnd::Stopped);
        }
        if self.faults.take_disconnect() {
            return Err(SessionEnd::Disconnected);
        }
        for _ in 0..MAX_DRAIN {
            match self.changes.try_recv() {
                Ok(c) if c.slot == self.slot => return Err(SessionEnd::CardRemoved),
                Ok(_) => {}
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => return Ok(()),
            }
        }
        Ok(())
    }

    /// `read_exact` that wakes up every tick to look at the stop flag and
    /// the slot while idle between frames, and gives up on a stalled frame.
    fn read_full(&self, stream: &mut TcpStream, buf: &mut [u8], idle: bool) -> Result<(), SessionEnd> {
        let mut got = 0;
        let mut started: Option<Instant> = if idle { None } else { Some(Instant::now()) };
        while got < buf.len() {
            quick_ack(stream);
            match stream.read(&mut buf[got..]) {
                Ok(0) => return Err(SessionEnd::PeerClosed),
                Ok(k) => {
                    got += k;
                    started.get_or_insert_with(Instant::now);
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    match started {
                        None => self.check_slot()?,
                        Some(t) => {
                            if self.stop.load(Ordering::SeqCst) {
                                return Err(SessionEnd::Stopped);
                            }
                            if t.elapsed() >= FRAME_STALL {
                                return Err(SessionEnd::Stalled { got, want: buf.len() });
                            }
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    return Err(SessionEnd::PeerClosed)
                }
                Err(e) => return Err(SessionEnd::Io(e)),
            }
        }
        Ok(())
    }

    fn card_gone(&self, e: SlotError) -> SessionEnd {
        if self.verbose {
            eprintln!("lecteur-sim: vpcd: card operation failed: {e}");
        }
        SessionEnd::CardRemoved
    }

    fn power(&mut self, on: bool) -> Result<(), SessionEnd> {
        // Power off and reset both make the card forget its state.
        self.reader
            .reset(self.slot, self.generation)
            .map_err(|e| self.card_gone(e))?;
        self.powered = on;
        Ok(())
    }

    /// One vpcd message in; the answer to send, if any.
    fn handle(&mut self, payload: &[u8]) -> Result<Option<Vec<u8>>, SessionEnd> {
        match payload {
            [] => {
                eprintln!("lecteur-sim: vpcd: empty message ignored");
                Ok(None)
            }
            [ctrl] => {
                match *ctrl {
                    CTRL_OFF => {
                        if self.verbose {
                            eprintln!("lecteur-sim: vpcd: power off");
                        }
                        if self.powered {
                            self.power(false)?;
                        }
                    }
                    CTRL_ON => {
                        if self.verbose {
                            eprintln!("lecteur-sim: vpcd: power on");
                        }
                        self.power(true)?;
                    }
                    CTRL_RESET => {
                        if self.verbose {
                            eprintln!("lecteur-sim: vpcd: reset");
                        }
                        self.power(true)?;
                    }
                    CTRL_ATR => {
                        // Polled about twice a second: never logged.
                        let atr = self.reader.atr(self.slot).unwrap_or_default();
                        return Ok(Some(atr));
                    }
                    other => {
                        eprintln!("lecteur-sim: vpcd: unknown control byte {other:#04x} ignored");
                    }
                }
                Ok(None)
            }
            apdu => {
                if !self.powered {
                    eprintln!("lecteur-sim: vpcd: APDU to an unpowered card: powering it first");
                    self.power(true)?;
                }
                let delay = match self.faults.on_apdu(apdu) {
                    ApduFault::Pull => {
                        // Mid-APDU: the command arrived, no answer ever leaves.
                        let _ = self.reader.remove(self.slot);
                        eprintln!(
                            "lecteur-sim: vpcd: fault: card pulled at APDU {}",
                            hex::encode_upper(&apdu[..apdu.len().min(4)])
                        );
                        return Err(SessionEnd::CardRemoved);
                    }
                    ApduFault::Answer(delay) => delay,
                };
                let mut answer = self
                    .reader
                    .transmit(self.slot, self.generation, apdu)
                    .map_err(|e| self.card_gone(e))?;
                if let Some(d) = delay {
                    std::thread::sleep(d);
                    // A card pulled (or a disconnect) meanwhile: the answer
                    // never leaves.
                    self.check_slot()?;
                }
                if answer.len() < 2 || answer.len() > MAX_FRAME {
                    eprintln!(
                        "lecteur-sim: vpcd: the card answered {} bytes (must be 2 to {MAX_FRAME}): sending 6F00",
                        answer.len()
                    );
                    answer = SW_TECHNICAL_PROBLEM.to_vec();
                }
                if self.verbose {
                    eprintln!(
                        "lecteur-sim: vpcd: APDU {} ({} bytes) -> {} bytes, SW {}",
                        hex::encode_upper(&apdu[..apdu.len().min(4)]),
                        apdu.len(),
                        answer.len(),
                        hex::encode_upper(&answer[answer.len() - 2..])
                    );
                }
                Ok(Some(answer))
            }
        }
    }
}

/// Sends one length-prefixed message (the caller keeps it within 0xFFFF).
/// vpcd writes the 2-byte length and the body in two `send`s, so Nagle holds
/// the body until our ACK of the length, which delayed ACK holds for up to
/// 40 ms: about 40 ms lost per APDU. Quick-ACK mode (which the kernel clears
/// by itself, hence set before every read) sends the ACK at once.
fn quick_ack(stream: &TcpStream) {
    tcp::quick_ack(stream);
}

fn send(stream: &mut TcpStream, payload: &[u8]) -> Result<(), SessionEnd> {
    let len = u16::try_from(payload.len()).map_err(|_| {
        SessionEnd::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("message of {} bytes does not fit a vpcd frame", payload.len()),
        ))
    })?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    match stream.write_all(&frame) {
        Ok(()) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ) =>
        {
            Err(SessionEnd::PeerClosed)
        }
        Err(e) => Err(SessionEnd::Io(e)),
    }
}
