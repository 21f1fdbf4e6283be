//! Which card sits in which slot (by name), and the `--control` Unix socket
//! that lets tests or a person insert and remove cards while a front-end runs.
//!
//! Protocol: one command per line, one answer per line (`ok` or
//! `error: <message>`); `status` first prints one line per slot
//! (`0 cps3 3BAC0040…` or `1 empty`), then `ok`.
//!
//! ```text
//! insert SLOT SPEC   SPEC as for --card: cps3, vitale2, unknown, a TOML path,
//!                    echo[:ATRHEX] (diagnostic card), none/empty (= remove)
//! remove SLOT
//! status
//! help
//! ```
//!
//! A PIN-pad reader (`serial --reader gempc-pinpad`) also takes what the
//! holder does at the next (or current) PIN entry, one action per entry:
//!
//! ```text
//! keys DIGITS        types DIGITS then presses the validation key
//! cancel             presses the cancel key
//! timeout            lets the entry time out
//! keypad             prints `entering` or `idle` and the actions queued, then ok
//! ```
//!
//! A serial reader also takes line faults (see [`crate::serial::faults`])
//! and tells what the cards received:
//!
//! ```text
//! fault SPEC...      replaces the faults: ber=P rx-ber=P drop=P dup=P garbage=P
//!                    nak-storm time-ext[=MS] mute-after=N delay=MS unplug seed=S, or none
//! fault              prints the faults in force and the faults applied so far
//! counters           prints `apdus N` and `verify N` (VERIFY commands with a PIN)
//! ```
//!
//! The vpcd front-end takes its own faults with the same `fault` command
//! (see [`crate::vpcd_faults`]): `delay=MS pull-after=N pull-on=INS
//! disconnect`, or `none`; `counters` works there too.

use crate::card::{self, SimCard};
use crate::reader::{SimReader, SlotError};
use crate::serial::faults::{FaultParseError, FaultSpec, Faults};
use crate::serial::keypad::{Keypad, KeypadError};
use crate::vpcd_faults::{VpcdFaultParseError, VpcdFaultSpec, VpcdFaults};
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

// The socket is a Unix one; Windows has the card bay and its commands
// (used in-process) but no control server yet.
#[cfg_attr(unix, path = "control/unix.rs")]
#[cfg_attr(windows, path = "control/windows.rs")]
mod server;
pub use server::{request, ControlServer};

/// Longest command line accepted, newline included.
pub const MAX_LINE: usize = 1024;
/// Clients served at the same time; more are turned away.
pub const MAX_CLIENTS: usize = 8;

/// Why a control command or the control socket failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no slot {slot}: this reader has {count} slot(s)")]
    NoSlot { slot: usize, count: usize },
    #[error("invalid slot number {0:?}")]
    BadSlot(String),
    #[error("cannot load card {spec:?}: {message}")]
    Load { spec: String, message: String },
    #[error("unknown command {0:?} (commands: insert SLOT SPEC, remove SLOT, status, counters, help; keypad readers: keys DIGITS, cancel, timeout, keypad; serial readers: fault SPEC)")]
    UnknownCommand(String),
    #[error("this reader has no keypad")]
    NoKeypad,
    #[error("faults exist on the serial reader and the vpcd card only")]
    NoFaults,
    #[error(transparent)]
    Fault(#[from] FaultParseError),
    #[error(transparent)]
    VpcdFault(#[from] VpcdFaultParseError),
    #[error(transparent)]
    Keypad(#[from] KeypadError),
    #[error("usage: {0}")]
    Usage(&'static str),
    #[error("empty command")]
    Empty,
    #[error("control socket {}: {source}", path.display())]
    Socket { path: PathBuf, source: io::Error },
    #[error("{} exists and is not a socket; refusing to replace it", path.display())]
    NotASocket { path: PathBuf },
    #[error("{} is in use by another running simulator", path.display())]
    InUse { path: PathBuf },
    #[error("the control socket is a Unix socket: not available on this system")]
    Unsupported,
}

/// Makes a card from a spec string.
pub type Loader = Arc<dyn Fn(&str) -> Result<Box<dyn SimCard>, String> + Send + Sync>;

/// The loader used by the binary: `echo[:ATRHEX]` gives an [`EchoCard`],
/// anything else goes to [`card::load`].
pub fn default_loader() -> Loader {
    Arc::new(|spec: &str| {
        if let Some(card) = EchoCard::from_spec(spec)? {
            return Ok(Box::new(card) as Box<dyn SimCard>);
        }
        card::load(spec).map_err(|e| e.to_string())
    })
}

/// Whether a spec means "no card".
pub fn is_empty_spec(spec: &str) -> bool {
    matches!(spec.trim(), "none" | "empty" | "")
}

/// A diagnostic card for plumbing checks: it answers every command with the
/// command's data field (if any) followed by `90 00`. It knows no file system.
pub struct EchoCard {
    atr: Vec<u8>,
}

impl EchoCard {
    /// The default ATR: direct convention, T=0 only, historical bytes `14 50`.
    pub const DEFAULT_ATR: [u8; 4] = [0x3B, 0x02, 0x14, 0x50];

    pub fn new(atr: Vec<u8>) -> Self {
        EchoCard { atr }
    }

    /// `echo` or `echo:ATRHEX`; `Ok(None)` for any other spec.
    pub fn from_spec(spec: &str) -> Result<Option<Self>, String> {
        let spec = spec.trim();
        if spec == "echo" {
            return Ok(Some(EchoCard::new(Self::DEFAULT_ATR.to_vec())));
        }
        let Some(hex_atr) = spec.strip_prefix("echo:") else {
            return Ok(None);
        };
        let cleaned: String = hex_atr.chars().filter(|c| !c.is_whitespace()).collect();
        let atr = hex::decode(&cleaned).map_err(|e| format!("bad ATR hex {hex_atr:?}: {e}"))?;
        if !(2..=33).contains(&atr.len()) {
            return Err(format!("an ATR is 2 to 33 bytes, got {}", atr.len()));
        }
        Ok(Some(EchoCard::new(atr)))
    }
}

impl SimCard for EchoCard {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn reset(&mut self) {}

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        if apdu.len() < 4 {
            return vec![0x67, 0x00];
        }
        let mut out = Vec::new();
        if apdu.len() > 5 {
            let lc = usize::from(apdu[4]);
            let end = apdu.len().min(5 + lc);
            out.extend_from_slice(&apdu[5..end]);
        }
        out.extend_from_slice(&[0x90, 0x00]);
        out
    }
}

/// A [`SimReader`] plus the name of the card in each slot, shared by the
/// front-end, `main` and the control socket.
#[derive(Clone)]
pub struct CardBay {
    reader: SimReader,
    labels: Arc<Mutex<Vec<Option<String>>>>,
    loader: Loader,
    /// The reader's keypad, for `keys`, `cancel`, `timeout`.
    keypad: Option<Keypad>,
    /// The serial line's faults, for `fault`.
    faults: Option<Faults>,
    /// The vpcd front-end's faults, for `fault`.
    vpcd_faults: Option<VpcdFaults>,
}

impl CardBay {
    /// A bay over `reader` that loads cards with [`default_loader`].
    pub fn new(reader: SimReader) -> Self {
        Self::with_loader(reader, default_loader())
    }

    /// A bay with a custom card loader (tests use their own cards).
    pub fn with_loader(reader: SimReader, loader: Loader) -> Self {
        let labels = vec![None; reader.slot_count()];
        CardBay {
            reader,
            labels: Arc::new(Mutex::new(labels)),
            loader,
            keypad: None,
            faults: None,
            vpcd_faults: None,
        }
    }

    /// The same bay, with the line faults of a serial reader.
    pub fn with_faults(mut self, faults: Option<Faults>) -> Self {
        self.faults = faults;
        self
    }

    /// The same bay, with the faults of the vpcd front-end.
    pub fn with_vpcd_faults(mut self, faults: Option<VpcdFaults>) -> Self {
        self.vpcd_faults = faults;
        self
    }

    /// The same bay, with the keypad of a PIN-pad reader (or none).
    pub fn with_keypad(mut self, keypad: Option<Keypad>) -> Self {
        self.keypad = keypad;
        self
    }

    pub fn reader(&self) -> &SimReader {
        &self.reader
    }

    fn keypad(&self) -> Result<&Keypad, ControlError> {
        self.keypad.as_ref().ok_or(ControlError::NoKeypad)
    }

    fn check_slot(&self, slot: usize) -> Result<(), ControlError> {
        let count = self.reader.slot_count();
        if slot >= count {
            return Err(ControlError::NoSlot { slot, count });
        }
        Ok(())
    }

    fn set_label(&self, slot: usize, label: Option<String>) {
        let mut labels = self.labels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = labels.get_mut(slot) {
            *l = label;
        }
    }

    /// Loads `spec` and puts the card in `slot`; `none`/`empty` removes the card.
    pub fn insert_spec(&self, slot: usize, spec: &str) -> Result<(), ControlError> {
        self.check_slot(slot)?;
        let spec = spec.trim();
        if is_empty_spec(spec) {
            return self.remove(slot);
        }
        let card = (self.loader)(spec).map_err(|message| ControlError::Load {
            spec: spec.to_string(),
            message,
        })?;
        self.insert_card(slot, spec, card)
    }

    /// Puts an already built card in `slot` under the name `label`.
    pub fn insert_card(&self, slot: usize, label: &str, card: Box<dyn SimCard>) -> Result<(), ControlError> {
        self.check_slot(slot)?;
        self.set_label(slot, Some(label.to_string()));
        self.reader
            .insert(slot, card)
            .map_err(|e| slot_error(e, slot, &self.reader))
    }

    /// Takes the card out of `slot` (not an error when the slot is empty).
    pub fn remove(&self, slot: usize) -> Result<(), ControlError> {
        self.check_slot(slot)?;
        self.reader
            .remove(slot)
            .map_err(|e| slot_error(e, slot, &self.reader))?;
        self.set_label(slot, None);
        Ok(())
    }

    /// One line per slot: `0 cps3 3BAC0040…` or `1 empty`.
    pub fn status(&self) -> Vec<String> {
        let labels = self.labels.lock().unwrap_or_else(|e| e.into_inner()).clone();
        (0..self.reader.slot_count())
            .map(|slot| match self.reader.atr(slot) {
                Some(atr) => {
                    let label = labels.get(slot).cloned().flatten();
                    format!(
                        "{slot} {} {}",
                        label.as_deref().unwrap_or("card"),
                        hex::encode_upper(atr)
                    )
                }
                None => format!("{slot} empty"),
            })
            .collect()
    }

    /// Runs one command line; returns the lines to answer (the last one is
    /// `ok` or `error: …`).
    pub fn execute(&self, line: &str) -> Vec<String> {
        match self.execute_inner(line) {
            Ok(mut lines) => {
                lines.push("ok".to_string());
                lines
            }
            Err(e) => vec![format!("error: {e}")],
        }
    }

    fn execute_inner(&self, line: &str) -> Result<Vec<String>, ControlError> {
        let line = line.trim();
        let (command, rest) = match line.split_once(char::is_whitespace) {
            Some((c, r)) => (c, r.trim()),
            None => (line, ""),
        };
        match command {
            "" => Err(ControlError::Empty),
            "insert" => {
                const USAGE: &str = "insert SLOT SPEC";
                let (slot, spec) = rest
                    .split_once(char::is_whitespace)
                    .ok_or(ControlError::Usage(USAGE))?;
                let slot = parse_slot(slot)?;
                let spec = spec.trim();
                if spec.is_empty() {
                    return Err(ControlError::Usage(USAGE));
                }
                self.insert_spec(slot, spec)?;
                eprintln!("lecteur-sim: control: slot {slot}: inserted {spec}");
                Ok(Vec::new())
            }
            "remove" => {
                if rest.is_empty() || rest.contains(char::is_whitespace) {
                    return Err(ControlError::Usage("remove SLOT"));
                }
                let slot = parse_slot(rest)?;
                self.remove(slot)?;
                eprintln!("lecteur-sim: control: slot {slot}: card removed");
                Ok(Vec::new())
            }
            "status" => {
                if !rest.is_empty() {
                    return Err(ControlError::Usage("status"));
                }
                Ok(self.status())
            }
            "keys" => {
                if rest.is_empty() || rest.contains(char::is_whitespace) {
                    return Err(ControlError::Usage("keys DIGITS"));
                }
                self.keypad()?.keys(rest)?;
                // Never the digits themselves.
                eprintln!("lecteur-sim: control: keypad: digits and validation queued");
                Ok(Vec::new())
            }
            "cancel" | "timeout" => {
                if !rest.is_empty() {
                    return Err(ControlError::Usage(if command == "cancel" {
                        "cancel"
                    } else {
                        "timeout"
                    }));
                }
                let keypad = self.keypad()?;
                if command == "cancel" {
                    keypad.cancel()?;
                } else {
                    keypad.timeout()?;
                }
                eprintln!("lecteur-sim: control: keypad: {command} queued");
                Ok(Vec::new())
            }
            "keypad" => {
                if !rest.is_empty() {
                    return Err(ControlError::Usage("keypad"));
                }
                let (entering, queued) = self.keypad()?.status();
                Ok(vec![format!(
                    "{} {queued} queued",
                    if entering { "entering" } else { "idle" }
                )])
            }
            "fault" if self.faults.is_none() && self.vpcd_faults.is_some() => {
                let faults = self.vpcd_faults.as_ref().ok_or(ControlError::NoFaults)?;
                if rest.is_empty() {
                    let (pulls, disconnects) = faults.counts();
                    return Ok(vec![
                        faults.spec().describe(),
                        format!("applied: {pulls} card(s) pulled, {disconnects} disconnection(s)"),
                    ]);
                }
                let spec = VpcdFaultSpec::parse(rest)?;
                eprintln!("lecteur-sim: control: fault: {}", spec.describe());
                faults.set(spec);
                Ok(Vec::new())
            }
            "fault" => {
                let faults = self.faults.as_ref().ok_or(ControlError::NoFaults)?;
                if rest.is_empty() {
                    let c = faults.counts();
                    return Ok(vec![
                        faults.spec().describe(),
                        format!(
                            "applied: {} bit(s) flipped, {} received bit(s) flipped, {} dropped, {} duplicated, {} garbage, {} muted",
                            c.bits_flipped, c.rx_bits_flipped, c.dropped, c.duplicated, c.garbage, c.muted
                        ),
                    ]);
                }
                let spec = FaultSpec::parse(rest)?;
                eprintln!("lecteur-sim: control: fault: {}", spec.describe());
                faults.set(spec);
                Ok(Vec::new())
            }
            "counters" => {
                if !rest.is_empty() {
                    return Err(ControlError::Usage("counters"));
                }
                let c = self.reader.counters();
                Ok(vec![
                    format!("apdus {}", c.apdus),
                    format!("verify {}", c.verify_with_pin),
                ])
            }
            "help" => {
                let mut lines = vec![
                    "insert SLOT SPEC  (SPEC: cps3, vitale2, unknown, FILE.toml, echo[:ATRHEX], none)"
                        .to_string(),
                    "remove SLOT".to_string(),
                    "status".to_string(),
                    "counters  (APDUs and VERIFY commands with a PIN the cards received)".to_string(),
                ];
                if self.faults.is_some() {
                    lines.push(
                        "fault [ber=P rx-ber=P drop=P dup=P garbage=P nak-storm time-ext[=MS] mute-after=N delay=MS unplug seed=S | none]"
                            .to_string(),
                    );
                }
                if self.vpcd_faults.is_some() {
                    lines.push("fault [delay=MS pull-after=N pull-on=INS disconnect | none]".to_string());
                }
                if self.keypad.is_some() {
                    lines.extend([
                        "keys DIGITS  (typed at the next or current PIN entry, then validated)".to_string(),
                        "cancel  (the next or current PIN entry is cancelled)".to_string(),
                        "timeout  (the next or current PIN entry times out)".to_string(),
                        "keypad  (entering or idle, actions queued)".to_string(),
                    ]);
                }
                Ok(lines)
            }
            other => {
                let shown: String = other.chars().take(40).collect();
                Err(ControlError::UnknownCommand(shown))
            }
        }
    }
}

fn parse_slot(s: &str) -> Result<usize, ControlError> {
    let shown = || s.chars().take(20).collect::<String>();
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ControlError::BadSlot(shown()));
    }
    s.parse().map_err(|_| ControlError::BadSlot(shown()))
}

fn slot_error(e: SlotError, slot: usize, reader: &SimReader) -> ControlError {
    match e {
        SlotError::NoSlot => ControlError::NoSlot {
            slot,
            count: reader.slot_count(),
        },
        other => ControlError::Load {
            spec: format!("slot {slot}"),
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bay(slots: usize) -> CardBay {
        CardBay::new(SimReader::new(slots))
    }

    #[test]
    fn echo_card_echoes_data() {
        let mut c = EchoCard::new(EchoCard::DEFAULT_ATR.to_vec());
        assert_eq!(c.transmit(&[0, 0xA4, 0, 0, 2, 0x3F, 0]), vec![0x3F, 0, 0x90, 0]);
        assert_eq!(c.transmit(&[0, 0xB0, 0, 0, 0x10]), vec![0x90, 0]);
        assert_eq!(c.transmit(&[0, 0xB0, 0, 0, 9, 1]), vec![1, 0x90, 0]);
        assert_eq!(c.transmit(&[0]), vec![0x67, 0]);
    }

    #[test]
    fn echo_spec() {
        assert!(EchoCard::from_spec("cps3").unwrap().is_none());
        assert_eq!(
            EchoCard::from_spec("echo:3B 00").unwrap().unwrap().atr(),
            vec![0x3B, 0]
        );
        assert!(EchoCard::from_spec("echo:3G").is_err());
        assert!(EchoCard::from_spec("echo:3B").is_err());
    }

    #[test]
    fn commands() {
        let b = bay(2);
        assert_eq!(b.execute("status"), vec!["0 empty", "1 empty", "ok"]);
        assert_eq!(b.execute("insert 1 echo"), vec!["ok"]);
        assert_eq!(b.execute("status"), vec!["0 empty", "1 echo 3B021450", "ok"]);
        assert_eq!(b.execute("remove 1"), vec!["ok"]);
        assert_eq!(b.execute("remove 1"), vec!["ok"]);
        assert_eq!(b.execute("insert 0 echo:3B00"), vec!["ok"]);
        assert_eq!(b.execute("insert 0 none"), vec!["ok"]);
        assert_eq!(b.execute("status")[0], "0 empty");
        assert!(b.execute("insert 2 echo")[0].starts_with("error: no slot 2"));
        assert!(b.execute("insert x echo")[0].starts_with("error: invalid slot"));
        assert!(b.execute("insert 0")[0].starts_with("error: usage"));
        assert!(b.execute("insert 0 nonsense-card")[0].starts_with("error: cannot load card"));
        assert!(b.execute("frobnicate")[0].starts_with("error: unknown command"));
        assert!(b.execute("")[0].starts_with("error: empty"));
        assert!(b.execute("remove 99999999999999999999")[0].starts_with("error: invalid slot"));
        assert_eq!(b.execute("keys 1234"), vec!["error: this reader has no keypad"]);
        assert_eq!(b.execute("cancel"), vec!["error: this reader has no keypad"]);
    }

    #[test]
    fn fault_and_counter_commands() {
        let b = bay(1);
        assert_eq!(
            b.execute("fault ber=1e-4"),
            vec!["error: faults exist on the serial reader and the vpcd card only"]
        );
        assert_eq!(b.execute("counters"), vec!["apdus 0", "verify 0", "ok"]);
        assert_eq!(b.execute("insert 0 echo"), vec!["ok"]);
        let (generation, _) = b.reader().connect(0).unwrap();
        b.reader().transmit(0, generation, &[0, 0x20, 0, 1]).unwrap();
        b.reader()
            .transmit(0, generation, &[0, 0x20, 0, 1, 4, 1, 2, 3, 4])
            .unwrap();
        assert_eq!(b.execute("counters"), vec!["apdus 2", "verify 1", "ok"]);
        let faults = Faults::default();
        let b = b.with_faults(Some(faults.clone()));
        assert_eq!(b.execute("fault ber=1e-4 seed=7"), vec!["ok"]);
        assert_eq!(faults.spec().seed, 7);
        let status = b.execute("fault");
        assert_eq!(status[0], "ber=1e-4 seed=7");
        assert!(status[1].starts_with("applied: "), "{status:?}");
        assert!(b.execute("fault ber=7")[0].starts_with("error: ber: 7 is not a probability"));
        assert_eq!(b.execute("fault none"), vec!["ok"]);
        assert_eq!(b.execute("fault")[0], "none");
        assert!(b.execute("help").iter().any(|l| l.starts_with("fault ")));
    }

    #[test]
    fn keypad_commands() {
        let keypad = Keypad::new();
        let b = bay(1).with_keypad(Some(keypad.clone()));
        assert_eq!(b.execute("keypad"), vec!["idle 0 queued", "ok"]);
        assert_eq!(b.execute("keys 1234"), vec!["ok"]);
        assert_eq!(b.execute("cancel"), vec!["ok"]);
        assert_eq!(b.execute("timeout"), vec!["ok"]);
        assert_eq!(b.execute("keypad"), vec!["idle 3 queued", "ok"]);
        assert!(b.execute("keys")[0].starts_with("error: usage"));
        assert!(b.execute("keys 12 34")[0].starts_with("error: usage"));
        assert!(b.execute("keys 12a4")[0].starts_with("error: keys must be"));
        assert!(b.execute("cancel now")[0].starts_with("error: usage"));
        assert!(b.execute("help").len() > 5);
        keypad.clear();
        assert_eq!(b.execute("keypad"), vec!["idle 0 queued", "ok"]);
    }
}
