//! The CCID command set of the simulated reader: one CCID message in, one
//! CCID message out, plus card-movement state for `0x50` notifications.
//! No I/O here; [`super::link::Link`] does the framing.

use super::frame::{HEADER_LEN, MAX_DATA_LEN, NOTIFY_SLOT_CHANGE};
use super::keypad::{wipe, Action, Digits, Keypad};
use super::pinpad::{self, BuildError, Entry, Verify};
use super::Profile;
use crate::reader::{SimReader, SlotChange, SlotError};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Instant;

/// PC_to_RDR message types.
pub mod pc_to_rdr {
    pub const SET_PARAMETERS: u8 = 0x61;
    pub const ICC_POWER_ON: u8 = 0x62;
    pub const ICC_POWER_OFF: u8 = 0x63;
    pub const GET_SLOT_STATUS: u8 = 0x65;
    pub const SECURE: u8 = 0x69;
    pub const T0_APDU: u8 = 0x6A;
    pub const ESCAPE: u8 = 0x6B;
    pub const GET_PARAMETERS: u8 = 0x6C;
    pub const RESET_PARAMETERS: u8 = 0x6D;
    pub const ICC_CLOCK: u8 = 0x6E;
    pub const XFR_BLOCK: u8 = 0x6F;
    pub const MECHANICAL: u8 = 0x71;
    pub const ABORT: u8 = 0x72;
    pub const SET_DATA_RATE_AND_CLOCK_FREQUENCY: u8 = 0x73;
}

/// RDR_to_PC message types.
pub mod rdr_to_pc {
    pub const DATA_BLOCK: u8 = 0x80;
    pub const SLOT_STATUS: u8 = 0x81;
    pub const PARAMETERS: u8 = 0x82;
    pub const ESCAPE: u8 = 0x83;
    pub const DATA_RATE_AND_CLOCK_FREQUENCY: u8 = 0x84;
}

/// `bError` values used here.
pub mod error {
    /// Command not supported.
    pub const CMD_NOT_SUPPORTED: u8 = 0x00;
    /// Bad `dwLength` (index of the field in the header).
    pub const BAD_LENGTH: u8 = 0x01;
    /// Bad `bSlot` (index of the field in the header).
    pub const BAD_SLOT: u8 = 0x05;
    /// Bad `bProtocolNum` (index of the field in the header).
    pub const BAD_PROTOCOL_NUM: u8 = 0x07;
    pub const XFR_OVERRUN: u8 = 0xFC;
    pub const ICC_MUTE: u8 = 0xFE;
}

/// `bmICCStatus`.
pub const ICC_ACTIVE: u8 = 0;
pub const ICC_INACTIVE: u8 = 1;
pub const ICC_ABSENT: u8 = 2;
/// `bmCommandStatus` = failed.
pub const COMMAND_FAILED: u8 = 0x40;

/// Default T=0 parameters: Fi/Di 0x11, direct convention, no extra guard
/// time, WI 10, clock stop not allowed.
const DEFAULT_T0_PARAMS: [u8; 5] = [0x11, 0x00, 0x00, 0x0A, 0x00];
/// Default clock (kHz) and data rate (bps) reported by
/// SetDataRateAndClockFrequency when the host asks for nothing.
const DEFAULT_CLOCK_KHZ: u32 = 4000;
const DEFAULT_DATA_RATE: u32 = 10752;

/// How card movements are reported (Escape `01 <on> <sync>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// Never sent; the host polls GetSlotStatus.
    Off,
    /// `50 xx` after the host's next command and before the answer.
    Sync,
    /// `50 xx` as soon as the card moves (and before the next answer).
    Async,
}

#[derive(Debug, Clone)]
struct SlotState {
    /// Insertion generation of the powered card.
    powered: Option<u64>,
    params: [u8; 5],
    /// A PPS may follow the ATR until the first APDU.
    pps_allowed: bool,
    atr: Vec<u8>,
}

impl SlotState {
    fn new() -> Self {
        SlotState {
            powered: None,
            params: DEFAULT_T0_PARAMS,
            pps_allowed: false,
            atr: Vec::new(),
        }
    }
}

/// The reader firmware: slots, power state, parameters, notifications.
pub struct Firmware {
    profile: Profile,
    reader: SimReader,
    changes: Receiver<SlotChange>,
    slots: Vec<SlotState>,
    notify: Notify,
    /// Bit per slot: moved since the last `0x50`.
    changed: u32,
    verbose: bool,
    /// The keypad of a PIN-pad reader.
    keypad: Option<Keypad>,
    /// The PIN entry running, if any (its Secure command is not answered yet).
    entry: Option<Entry>,
}

/// What a running PIN entry has for the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still waiting for the holder: a time-extension byte goes out.
    TimeExtension,
    /// The entry ended: the answer to its Secure command.
    Answer(Vec<u8>),
}

/// The fields of a host message header.
#[derive(Debug, Clone, Copy)]
struct Header {
    kind: u8,
    slot: u8,
    seq: u8,
    specific: [u8; 3],
}

/// The answer type for a host message type.
fn answer_kind(kind: u8) -> u8 {
    use pc_to_rdr::*;
    match kind {
        ICC_POWER_ON | XFR_BLOCK | SECURE => rdr_to_pc::DATA_BLOCK,
        SET_PARAMETERS | GET_PARAMETERS | RESET_PARAMETERS => rdr_to_pc::PARAMETERS,
        ESCAPE => rdr_to_pc::ESCAPE,
        SET_DATA_RATE_AND_CLOCK_FREQUENCY => rdr_to_pc::DATA_RATE_AND_CLOCK_FREQUENCY,
        _ => rdr_to_pc::SLOT_STATUS,
    }
}

/// Builds a reader-to-host CCID message.
pub fn reply(kind: u8, slot: u8, seq: u8, status: u8, error: u8, specific: u8, data: &[u8]) -> Vec<u8> {
    // Callers keep data within MAX_DATA_LEN, far below u32::MAX.
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes();
    let mut out = Vec::with_capacity(HEADER_LEN + data.len());
    out.push(kind);
    out.extend_from_slice(&len);
    out.extend_from_slice(&[slot, seq, status, error, specific]);
    out.extend_from_slice(data);
    out
}

/// Whether `data` is a well-formed PPS request (PPSS=FF, PPS0, optional
/// PPS1..3, PCK with a zero XOR over all).
fn is_valid_pps(data: &[u8]) -> bool {
    if data.len() < 3 || data[0] != 0xFF {
        return false;
    }
    let pps0 = data[1];
    let optional = [0x10u8, 0x20, 0x40]
        .iter()
        .filter(|&&bit| pps0 & bit != 0)
        .count();
    data.len() == 3 + optional && data.iter().fold(0u8, |a, b| a ^ b) == 0
}

/// T=0 parameters implied by an ATR: Fi/Di from TA1, extra guard time from
/// TC1, WI from TC2 (defaults otherwise).
pub fn t0_params_from_atr(atr: &[u8]) -> [u8; 5] {
    let mut params = DEFAULT_T0_PARAMS;
    if atr.first() == Some(&0x3F) {
        params[1] |= 0x02; // inverse convention
    }
    if atr.len() < 2 {
        return params;
    }
    let mut i = 1;
    let mut y = atr[1] >> 4;
    let mut level = 1;
    // At most 8 levels of interface bytes; every step moves forward.
    while level <= 8 {
        let mut next_y = 0;
        for (bit, name) in [(1u8, 'A'), (2, 'B'), (4, 'C'), (8, 'D')] {
            if y & bit == 0 {
                continue;
            }
            i += 1;
            let Some(&value) = atr.get(i) else {
                return params;
            };
            match (level, name) {
                (1, 'A') => params[0] = value,
                (1, 'C') => params[2] = value,
                (2, 'C') => params[3] = value,
                (_, 'D') => next_y = value >> 4,
                _ => {}
            }
        }
        if y & 8 == 0 {
            break;
        }
        y = next_y;
        level += 1;
    }
    params
}

impl Firmware {
    pub fn new(profile: Profile, reader: SimReader) -> Self {
        let changes = reader.subscribe();
        let slots = vec![SlotState::new(); reader.slot_count()];
        Firmware {
            profile,
            reader,
            changes,
            slots,
            notify: Notify::Off,
            changed: 0,
            verbose: false,
            keypad: profile.has_keypad().then(Keypad::new),
            entry: None,
        }
    }

    /// The keypad of a PIN-pad reader.
    pub fn keypad(&self) -> Option<Keypad> {
        self.keypad.clone()
    }

    /// Whether a PIN entry is running.
    pub fn entering(&self) -> bool {
        self.entry.is_some()
    }

    /// When the running PIN entry next has something to do on its own.
    pub fn entry_deadline(&self) -> Option<Instant> {
        self.entry.as_ref().map(|e| e.deadline.min(e.next_extension))
    }

    /// Handles one CCID message at `now`. `None`: the answer comes later,
    /// from [`Self::pinpad_tick`] (a PIN entry started).
    pub fn receive(&mut self, message: &[u8], now: Instant) -> Option<Vec<u8>> {
        if message.len() < HEADER_LEN {
            return Some(self.handle(message));
        }
        let h = Header {
            kind: message[0],
            slot: message[5],
            seq: message[6],
            specific: [message[7], message[8], message[9]],
        };
        if self.entry.as_ref().is_some_and(|e| e.slot == h.slot) {
            match h.kind {
                pc_to_rdr::GET_SLOT_STATUS => {}
                pc_to_rdr::ABORT => {
                    self.end_entry();
                    eprintln!(
                        "lecteur-sim: serial: slot {}: PIN entry aborted by the host",
                        h.slot
                    );
                }
                _ => {
                    eprintln!(
                        "lecteur-sim: serial: slot {}: command {:#04x} while the holder types: slot busy",
                        h.slot, h.kind
                    );
                    let icc = self.icc_status(usize::from(h.slot));
                    return Some(self.fail(&h, icc, pinpad::CMD_SLOT_BUSY));
                }
            }
        }
        if h.kind == pc_to_rdr::SECURE && usize::from(h.slot) < self.slots.len() {
            self.sync_changes();
            return self.secure(&h, &message[HEADER_LEN..], now);
        }
        Some(self.handle(message))
    }

    /// PC_to_RDR_Secure: starts a PIN entry on the keypad (no answer yet),
    /// or refuses at once.
    fn secure(&mut self, h: &Header, data: &[u8], now: Instant) -> Option<Vec<u8>> {
        let slot = usize::from(h.slot);
        let icc = self.icc_status(slot);
        let Some(keypad) = self.keypad.clone() else {
            eprintln!("lecteur-sim: serial: slot {slot}: PC_to_RDR_Secure, but this reader has no keypad");
            return Some(self.fail(h, icc, error::CMD_NOT_SUPPORTED));
        };
        let Some(generation) = self.slots[slot].powered else {
            eprintln!("lecteur-sim: serial: slot {slot}: PIN entry for an unpowered or absent card");
            return Some(self.fail(h, icc, error::ICC_MUTE));
        };
        let verify = match Verify::parse(data) {
            Ok(v) => v,
            Err(field) => {
                if data.first() == Some(&pinpad::OPERATION_MODIFY) {
                    eprintln!(
                        "lecteur-sim: serial: slot {slot}: PIN modification is not supported by this reader"
                    );
                } else {
                    eprintln!(
                        "lecteur-sim: serial: slot {slot}: PIN verification refused (bError {field}: field at offset {field})"
                    );
                }
                return Some(self.fail(h, icc, field));
            }
        };
        self.slots[slot].pps_allowed = false;
        let entry = Entry::new(h.slot, h.seq, generation, verify, now);
        eprintln!(
            "lecteur-sim: serial: slot {slot}: PIN entry: the holder has {} s, {} to {} digits",
            entry.verify.entry_time().as_secs(),
            entry.verify.min,
            entry.verify.max
        );
        keypad.set_entering(true);
        self.entry = Some(entry);
        None
    }

    fn end_entry(&mut self) -> Option<Entry> {
        if let Some(k) = &self.keypad {
            k.set_entering(false);
        }
        self.entry.take()
    }

    /// Moves the running PIN entry on: a keypad action, the end of the
    /// holder's time, a pulled card, or a time extension due.
    pub fn pinpad_tick(&mut self, now: Instant) -> Option<Progress> {
        let entry = self.entry.as_ref()?;
        let (slot, generation) = (usize::from(entry.slot), entry.generation);
        let h = Header {
            kind: pc_to_rdr::SECURE,
            slot: entry.slot,
            seq: entry.seq,
            specific: [0; 3],
        };
        self.sync_changes();
        if self.slots[slot].powered != Some(generation) {
            self.end_entry();
            eprintln!("lecteur-sim: serial: slot {slot}: card pulled during PIN entry");
            let icc = self.icc_status(slot);
            return Some(Progress::Answer(self.fail(&h, icc, error::ICC_MUTE)));
        }
        let action = self.keypad.as_ref().and_then(Keypad::take);
        if let Some(action) = action {
            let entry = self.end_entry()?;
            let answer = match action {
                Action::Keys(digits) => self.validate(&h, &entry, digits),
                Action::Cancel => {
                    eprintln!("lecteur-sim: serial: slot {slot}: PIN entry cancelled on the keypad");
                    self.fail(&h, ICC_ACTIVE, pinpad::PIN_CANCELLED)
                }
                Action::Timeout => {
                    eprintln!("lecteur-sim: serial: slot {slot}: PIN entry timed out (scripted)");
                    self.fail(&h, ICC_ACTIVE, pinpad::PIN_TIMEOUT)
                }
            };
            return Some(Progress::Answer(answer));
        }
        let entry = self.entry.as_mut()?;
        if now >= entry.deadline {
            self.end_entry();
            eprintln!("lecteur-sim: serial: slot {slot}: PIN entry timed out");
            return Some(Progress::Answer(self.fail(&h, ICC_ACTIVE, pinpad::PIN_TIMEOUT)));
        }
        if now >= entry.next_extension {
            entry.next_extension = now + pinpad::EXTENSION_INTERVAL;
            return Some(Progress::TimeExtension);
        }
        None
    }

    /// The holder validated `digits`: the firmware sends the VERIFY it builds
    /// to the card and answers with the card's answer. The digits and the
    /// command are wiped.
    fn validate(&mut self, h: &Header, entry: &Entry, digits: Digits) -> Vec<u8> {
        let slot = usize::from(h.slot);
        let mut apdu = match entry.verify.build(digits.as_bytes()) {
            Ok(apdu) => apdu,
            Err(BuildError::Length) => {
                // Not even the length of what was typed goes to the log.
                eprintln!(
                    "lecteur-sim: serial: slot {slot}: PIN typed outside {} to {} digits: 64 03",
                    entry.verify.min, entry.verify.max
                );
                return reply(
                    rdr_to_pc::DATA_BLOCK,
                    h.slot,
                    h.seq,
                    ICC_ACTIVE,
                    0,
                    0,
                    &pinpad::SW_BAD_LENGTH,
                );
            }
        };
        drop(digits);
        let result = self.reader.transmit(slot, entry.generation, &apdu);
        wipe(&mut apdu);
        match result {
            Ok(answer) if answer.len() <= MAX_DATA_LEN => {
                let sw = answer
                    .len()
                    .checked_sub(2)
                    .map(|i| hex::encode_upper(&answer[i..]))
                    .unwrap_or_else(|| "none".to_string());
                eprintln!("lecteur-sim: serial: slot {slot}: PIN validated on the keypad; the card answered SW {sw}");
                reply(rdr_to_pc::DATA_BLOCK, h.slot, h.seq, ICC_ACTIVE, 0, 0, &answer)
            }
            Ok(_) => self.fail(h, ICC_ACTIVE, error::XFR_OVERRUN),
            Err(_) => {
                self.slots[slot].powered = None;
                let icc = self.icc_status(slot);
                self.fail(h, icc, error::ICC_MUTE)
            }
        }
    }

    pub fn set_verbose(&mut self, verbose: bool) {
        self.verbose = verbose;
    }

    /// Power lost and back (the port vanished): cards unpowered, no
    /// notifications until the host turns them on again, no PIN entry.
    pub fn power_cycle(&mut self) {
        self.end_entry();
        self.sync_changes();
        for s in &mut self.slots {
            *s = SlotState::new();
        }
        self.notify = Notify::Off;
        self.changed = 0;
    }

    pub fn notify_mode(&self) -> Notify {
        self.notify
    }

    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Takes in the card movements since the last call.
    pub fn sync_changes(&mut self) {
        // Bounded: a burst of movements is finite; stop at a generous cap.
        for _ in 0..10_000 {
            match self.changes.try_recv() {
                Ok(change) => {
                    if let Some(s) = self.slots.get_mut(change.slot) {
                        s.powered = None;
                        s.pps_allowed = false;
                        s.atr.clear();
                        self.changed |= 1 << change.slot;
                        eprintln!(
                            "lecteur-sim: serial: slot {}: card {}",
                            change.slot,
                            if change.present { "inserted" } else { "removed" }
                        );
                    }
                }
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
            }
        }
    }

    /// `bmSlotICCState`: bit 2n = card present in slot n, bit 2n+1 = changed.
    pub fn slot_icc_state(&self) -> u8 {
        let mut state = 0u8;
        for slot in 0..self.slots.len().min(4) {
            if self.reader.present(slot) {
                state |= 1 << (2 * slot);
            }
            if self.changed & (1 << slot) != 0 {
                state |= 2 << (2 * slot);
            }
        }
        state
    }

    /// The `50 <bmSlotICCState>` pair to send now, if notifications are on
    /// and a card moved since the last one.
    pub fn take_notification(&mut self) -> Option<[u8; 2]> {
        self.sync_changes();
        if self.notify == Notify::Off || self.changed == 0 {
            return None;
        }
        let state = self.slot_icc_state();
        self.changed = 0;
        Some([NOTIFY_SLOT_CHANGE, state])
    }

    fn icc_status(&self, slot: usize) -> u8 {
        if !self.reader.present(slot) {
            ICC_ABSENT
        } else if self.slots.get(slot).is_some_and(|s| s.powered.is_some()) {
            ICC_ACTIVE
        } else {
            ICC_INACTIVE
        }
    }

    /// Handles one CCID message (at least the 10-byte header; the framing
    /// layer checked `dwLength`). Returns the answer message.
    pub fn handle(&mut self, message: &[u8]) -> Vec<u8> {
        self.sync_changes();
        if message.len() < HEADER_LEN {
            // The framing layer never passes this; answer rather than panic.
            let kind = message.first().copied().unwrap_or(0);
            let slot = message.get(5).copied().unwrap_or(0);
            let seq = message.get(6).copied().unwrap_or(0);
            return reply(
                answer_kind(kind),
                slot,
                seq,
                COMMAND_FAILED | ICC_ABSENT,
                error::BAD_LENGTH,
                0,
                &[],
            );
        }
        let h = Header {
            kind: message[0],
            slot: message[5],
            seq: message[6],
            specific: [message[7], message[8], message[9]],
        };
        let data = &message[HEADER_LEN..];
        let slot = usize::from(h.slot);
        if slot >= self.slots.len() {
            eprintln!(
                "lecteur-sim: serial: command {:#04x} for slot {slot}, but the reader has {} slot(s)",
                h.kind,
                self.slots.len()
            );
            return self.fail(&h, ICC_ABSENT, error::BAD_SLOT);
        }
        use pc_to_rdr::*;
        match h.kind {
            ICC_POWER_ON => self.power_on(&h, slot),
            ICC_POWER_OFF => self.power_off(&h, slot),
            GET_SLOT_STATUS => self.slot_status(&h, slot, 0),
            XFR_BLOCK => self.xfr_block(&h, slot, data),
            GET_PARAMETERS | RESET_PARAMETERS | SET_PARAMETERS => self.parameters(&h, slot, data),
            ESCAPE => self.escape(&h, slot, data),
            ICC_CLOCK => self.icc_clock(&h, slot),
            ABORT => self.slot_status(&h, slot, 0),
            SET_DATA_RATE_AND_CLOCK_FREQUENCY => self.data_rate(&h, slot, data),
            other => {
                eprintln!("lecteur-sim: serial: slot {slot}: unsupported command {other:#04x}");
                let icc = self.icc_status(slot);
                self.fail(&h, icc, error::CMD_NOT_SUPPORTED)
            }
        }
    }

    fn fail(&self, h: &Header, icc: u8, err: u8) -> Vec<u8> {
        reply(
            answer_kind(h.kind),
            h.slot,
            h.seq,
            COMMAND_FAILED | icc,
            err,
            0,
            &[],
        )
    }

    fn power_on(&mut self, h: &Header, slot: usize) -> Vec<u8> {
        match self.reader.connect(slot) {
            Ok((generation, atr)) => {
                let atr: Vec<u8> = atr.into_iter().take(MAX_DATA_LEN).collect();
                eprintln!(
                    "lecteur-sim: serial: slot {slot}: power on, ATR {}",
                    hex::encode_upper(&atr)
                );
                let s = &mut self.slots[slot];
                s.powered = Some(generation);
                s.params = t0_params_from_atr(&atr);
                s.pps_allowed = true;
                s.atr = atr.clone();
                reply(rdr_to_pc::DATA_BLOCK, h.slot, h.seq, ICC_ACTIVE, 0, 0, &atr)
            }
            Err(_) => {
                if self.verbose {
                    eprintln!("lecteur-sim: serial: slot {slot}: power on with no card: ICC mute");
                }
                self.slots[slot].powered = None;
                self.fail(h, ICC_ABSENT, error::ICC_MUTE)
            }
        }
    }

    fn power_off(&mut self, h: &Header, slot: usize) -> Vec<u8> {
        if let Some(generation) = self.slots[slot].powered.take() {
            // The card forgets its security state when it loses power.
            let _ = self.reader.reset(slot, generation);
            if self.verbose {
                eprintln!("lecteur-sim: serial: slot {slot}: power off");
            }
        }
        self.slots[slot].pps_allowed = false;
        self.slot_status(h, slot, 0)
    }

    fn slot_status(&self, h: &Header, slot: usize, err: u8) -> Vec<u8> {
        let icc = self.icc_status(slot);
        // bClockStatus: 0 running, 1 stopped in state L (after deactivation).
        let clock = if icc == ICC_ACTIVE { 0 } else { 1 };
        reply(rdr_to_pc::SLOT_STATUS, h.slot, h.seq, icc, err, clock, &[])
    }

    fn xfr_block(&mut self, h: &Header, slot: usize, data: &[u8]) -> Vec<u8> {
        let icc = self.icc_status(slot);
        let Some(generation) = self.slots[slot].powered else {
            if self.verbose {
                eprintln!("lecteur-sim: serial: slot {slot}: XfrBlock to an unpowered or absent card");
            }
            return self.fail(h, icc, error::ICC_MUTE);
        };
        if data.is_empty() {
            return self.fail(h, icc, error::BAD_LENGTH);
        }
        if data[0] == 0xFF && self.slots[slot].pps_allowed {
            // Right after the ATR, FF starts a PPS request: the card accepts
            // it by echoing it.
            self.slots[slot].pps_allowed = false;
            if !is_valid_pps(data) {
                eprintln!("lecteur-sim: serial: slot {slot}: malformed PPS request: card mute");
                return self.fail(h, icc, error::ICC_MUTE);
            }
            if data[1] & 0x10 != 0 {
                self.slots[slot].params[0] = data[2];
            }
            eprintln!(
                "lecteur-sim: serial: slot {slot}: PPS accepted ({})",
                hex::encode_upper(data)
            );
            return reply(rdr_to_pc::DATA_BLOCK, h.slot, h.seq, ICC_ACTIVE, 0, 0, data);
        }
        self.slots[slot].pps_allowed = false;
        match self.reader.transmit(slot, generation, data) {
            Ok(answer) => {
                if self.verbose {
                    let sw = if answer.len() >= 2 {
                        hex::encode_upper(&answer[answer.len() - 2..])
                    } else {
                        "none".to_string()
                    };
                    eprintln!(
                        "lecteur-sim: serial: slot {slot}: TPDU {} ({} bytes) -> {} bytes, SW {sw}",
                        hex::encode_upper(&data[..data.len().min(4)]),
                        data.len(),
                        answer.len()
                    );
                }
                if answer.len() > MAX_DATA_LEN {
                    eprintln!(
                        "lecteur-sim: serial: slot {slot}: the card answered {} bytes, more than a frame carries ({MAX_DATA_LEN}): overrun",
                        answer.len()
                    );
                    return self.fail(h, ICC_ACTIVE, error::XFR_OVERRUN);
                }
                reply(rdr_to_pc::DATA_BLOCK, h.slot, h.seq, ICC_ACTIVE, 0, 0, &answer)
            }
            Err(SlotError::CardChanged) | Err(SlotError::NoCard) | Err(SlotError::NoSlot) => {
                self.slots[slot].powered = None;
                let icc = self.icc_status(slot);
                self.fail(h, icc, error::ICC_MUTE)
            }
        }
    }

    fn parameters(&mut self, h: &Header, slot: usize, data: &[u8]) -> Vec<u8> {
        let icc = self.icc_status(slot);
        if icc == ICC_ABSENT {
            return self.fail(h, icc, error::ICC_MUTE);
        }
        let params_reply = |s: &SlotState, status: u8, err: u8| {
            // bProtocolNum 0: T=0.
            reply(rdr_to_pc::PARAMETERS, h.slot, h.seq, status, err, 0, &s.params)
        };
        match h.kind {
            pc_to_rdr::RESET_PARAMETERS => {
                let atr = self.slots[slot].atr.clone();
                self.slots[slot].params = t0_params_from_atr(&atr);
            }
            pc_to_rdr::SET_PARAMETERS => {
                let protocol = h.specific[0];
                if protocol != 0 {
                    eprintln!(
                        "lecteur-sim: serial: slot {slot}: SetParameters for T={protocol} refused (T=0 only)"
                    );
                    return params_reply(&self.slots[slot], COMMAND_FAILED | icc, error::BAD_PROTOCOL_NUM);
                }
                if data.len() != DEFAULT_T0_PARAMS.len() {
                    return params_reply(&self.slots[slot], COMMAND_FAILED | icc, error::BAD_LENGTH);
                }
                self.slots[slot].params.copy_from_slice(data);
                if self.verbose {
                    eprintln!(
                        "lecteur-sim: serial: slot {slot}: T=0 parameters set to {}",
                        hex::encode_upper(data)
                    );
                }
            }
            _ => {}
        }
        params_reply(&self.slots[slot], icc, 0)
    }

    fn escape(&mut self, h: &Header, slot: usize, data: &[u8]) -> Vec<u8> {
        let icc = self.icc_status(slot);
        match data {
            [0x02] => {
                let version = self.profile.firmware_version();
                eprintln!("lecteur-sim: serial: host asked the firmware version: {version}");
                reply(rdr_to_pc::ESCAPE, h.slot, h.seq, icc, 0, 0, version.as_bytes())
            }
            // GemPC PinPad: load the display strings ("Entrer PIN", ...):
            // B2, memory address A0 00, magic 4D 4C, then 16-byte strings.
            // libccid sends it when it opens the reader and gives up on the
            // reader if it fails.
            [0xB2, 0xA0, 0x00, 0x4D, 0x4C, strings @ ..] if self.keypad.is_some() => {
                eprintln!(
                    "lecteur-sim: serial: display strings loaded ({} bytes)",
                    strings.len()
                );
                reply(rdr_to_pc::ESCAPE, h.slot, h.seq, icc, 0, 0, &[])
            }
            [0x01, on, mode] => {
                self.notify = match (on, mode) {
                    (0, _) => Notify::Off,
                    (_, 0) => Notify::Async,
                    _ => Notify::Sync,
                };
                // Start afresh: report only movements from now on.
                self.sync_changes();
                self.changed = 0;
                eprintln!(
                    "lecteur-sim: serial: card-movement notification {}",
                    match self.notify {
                        Notify::Off => "off",
                        Notify::Sync => "on (synchronous)",
                        Notify::Async => "on (asynchronous)",
                    }
                );
                reply(rdr_to_pc::ESCAPE, h.slot, h.seq, icc, 0, 0, &[])
            }
            _ => {
                eprintln!(
                    "lecteur-sim: serial: unsupported escape command ({} bytes, first {:#04x})",
                    data.len(),
                    data.first().copied().unwrap_or(0)
                );
                self.fail(h, icc, error::CMD_NOT_SUPPORTED)
            }
        }
    }

    fn icc_clock(&self, h: &Header, slot: usize) -> Vec<u8> {
        let icc = self.icc_status(slot);
        if icc == ICC_ABSENT {
            return self.fail(h, icc, error::ICC_MUTE);
        }
        // bClockCommand 0 = restart, 1 = stop.
        let clock = if h.specific[0] == 0 && icc == ICC_ACTIVE {
            0
        } else {
            1
        };
        reply(rdr_to_pc::SLOT_STATUS, h.slot, h.seq, icc, 0, clock, &[])
    }

    fn data_rate(&self, h: &Header, slot: usize, data: &[u8]) -> Vec<u8> {
        let icc = self.icc_status(slot);
        if data.len() != 8 {
            return self.fail(h, icc, error::BAD_LENGTH);
        }
        if icc == ICC_ABSENT {
            return self.fail(h, icc, error::ICC_MUTE);
        }
        let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let mut clock = word(&data[..4]);
        let mut rate = word(&data[4..]);
        if clock == 0 {
            clock = DEFAULT_CLOCK_KHZ;
        }
        if rate == 0 {
            rate = DEFAULT_DATA_RATE;
        }
        let mut out = Vec::with_capacity(8);
        out.extend_from_slice(&clock.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        reply(
            rdr_to_pc::DATA_RATE_AND_CLOCK_FREQUENCY,
            h.slot,
            h.seq,
            icc,
            0,
            0,
            &out,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pps_validation() {
        assert!(is_valid_pps(&[0xFF, 0x10, 0x13, 0xFF ^ 0x10 ^ 0x13]));
        assert!(is_valid_pps(&[0xFF, 0x00, 0xFF]));
        assert!(!is_valid_pps(&[0xFF, 0x10, 0x13, 0x00]));
        assert!(!is_valid_pps(&[0xFF, 0x10, 0xFF ^ 0x10]));
        assert!(!is_valid_pps(&[0x00, 0xA4]));
    }

    #[test]
    fn params_from_atrs() {
        // CPS3: TB1, TD1 (T=0) then TC2 = 0x2A (WI).
        let cps3 = hex::decode("3BAC00402A001225006480000310009000").unwrap();
        assert_eq!(t0_params_from_atr(&cps3), [0x11, 0, 0, 0x2A, 0]);
        // Vitale 2: TA1 = 0x13, TB1, TC1 = 0x00.
        let vitale = hex::decode("3B751300004509EA9000").unwrap();
        assert_eq!(t0_params_from_atr(&vitale), [0x13, 0, 0, 0x0A, 0]);
        assert_eq!(t0_params_from_atr(&[0x3B]), DEFAULT_T0_PARAMS);
        assert_eq!(t0_params_from_atr(&[0x3F, 0xF0]), [0x11, 0x02, 0, 0x0A, 0]);
        // Truncated or looping TDs never panic.
        t0_params_from_atr(&[0x3B, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]);
    }
}
