//! Transports: the lowest layer. A backend finds readers and reports card
//! movements; each reader slot is driven through a [`SlotLink`] owned by one
//! worker thread of the service layer. Everything here is blocking and runs on
//! dedicated OS threads, never on the async runtime.

pub(crate) mod pcsc;
pub mod serial;
#[cfg(feature = "sim")]
pub mod sim;

use crate::apdu::{Exchange, LinkError};
use std::fmt;

/// The kind of link a slot sits behind, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// PC/SC (pcscd).
    Pcsc,
    /// CCID over a serial line.
    Serial,
    /// The in-process simulated reader.
    Sim,
}

impl TransportKind {
    /// `pcsc`, `serial` or `sim`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Pcsc => "pcsc",
            TransportKind::Serial => "serial",
            TransportKind::Sim => "sim",
        }
    }
}

/// Why a transport could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No card in the slot.
    #[error("no card in the slot")]
    NoCard,
    /// The card was removed or reset during the operation.
    #[error("the card was removed or reset during the operation")]
    CardRemoved,
    /// The reader is gone (unplugged, or its link lost).
    #[error("the reader is gone: {0}")]
    ReaderGone(String),
    /// Another application holds the reader.
    #[error("the reader is used by another application")]
    Busy,
    /// The reader did not answer in time.
    #[error("the reader did not answer in time")]
    Timeout,
    /// The holder cancelled the PIN entry on the reader's keypad.
    #[error("PIN entry on the reader was cancelled")]
    PinCancelled,
    /// The holder did not type the PIN on the reader's keypad in time.
    #[error("PIN entry on the reader timed out")]
    PinTimeout,
    /// The reader's answer broke its protocol.
    #[error("reader protocol error: {0}")]
    Protocol(String),
    /// A keypad PIN entry was asked of a reader without one.
    #[error("the reader has no PIN pad")]
    NoPinpad,
}

/// A PIN verification done on the reader's keypad: the holder types the PIN
/// on the reader and the host never sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinpadVerify {
    /// CLA INS P1 P2 of the VERIFY command; the reader appends Lc and the PIN.
    pub header: [u8; 4],
    /// PIN length bounds, in digits.
    pub min_len: u8,
    /// See `min_len`.
    pub max_len: u8,
    /// Seconds the holder has to type the PIN.
    pub timeout_secs: u8,
}

/// One slot of one reader: the link to the card that may sit in it.
pub trait SlotLink: Send {
    /// Connects to (powers) the card if not yet done and returns its ATR.
    fn connect(&mut self) -> Result<Vec<u8>, TransportError>;
    /// Sends one command APDU (a T=0 TPDU for T=0 cards) and returns data + SW1 SW2.
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError>;
    /// Resets the card so that it forgets any verified PIN; returns the new ATR.
    fn reset(&mut self) -> Result<Vec<u8>, TransportError>;
    /// Leaves the card powered as it is and releases the connection.
    fn disconnect(&mut self);
    /// Whether the reader can take the PIN on its own keypad.
    fn has_pinpad(&mut self) -> bool {
        false
    }
    /// Has the holder type the PIN on the reader; returns the card's SW1 SW2
    /// (`64 00` timeout and `64 01` cancel are mapped to typed errors).
    fn verify_pin_pinpad(&mut self, _request: &PinpadVerify) -> Result<Vec<u8>, TransportError> {
        Err(TransportError::NoPinpad)
    }
    /// Whether the card was found gone, swapped or reset (by another
    /// application) since the last call: what was known of it (a PIN
    /// verification, data read) is void, even before the reader's event
    /// reaches the service.
    fn card_moved(&mut self) -> bool {
        false
    }
    /// The link for one card operation. On PC/SC it holds the card in a
    /// transaction for the operation's duration, so that no other
    /// application's command comes between ours (an MSE and its PSO, say);
    /// elsewhere lecteurd is the card's only user and it is the link itself.
    fn session(&mut self) -> Box<dyn SlotLink + '_>;
}

/// Every slot is a link card code can exchange APDUs over.
impl<C: SlotLink + ?Sized> Exchange for C {
    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, LinkError> {
        self.transmit(apdu).map_err(LinkError::from)
    }
}

impl From<TransportError> for LinkError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::NoCard => LinkError::NoCard,
            TransportError::CardRemoved => LinkError::CardRemoved,
            TransportError::ReaderGone(r) => LinkError::ReaderGone(r),
            TransportError::Busy => LinkError::Busy,
            TransportError::Timeout => LinkError::Timeout,
            TransportError::Protocol(m) => LinkError::Protocol(m),
            // Only a PIN-pad verification ends so, never an exchange.
            e @ (TransportError::PinCancelled | TransportError::PinTimeout | TransportError::NoPinpad) => {
                LinkError::Protocol(e.to_string())
            }
        }
    }
}

/// The reader's answer must be exactly SW1 SW2; `64 00` (timeout) and
/// `64 01` (cancel) become typed errors (libccid maps the CCID errors
/// 0xF0 and 0xEF to them).
pub fn pinpad_answer(answer: &[u8]) -> Result<Vec<u8>, TransportError> {
    match answer {
        [0x64, 0x00] => Err(TransportError::PinTimeout),
        [0x64, 0x01] => Err(TransportError::PinCancelled),
        [sw1, sw2] => Ok(vec![*sw1, *sw2]),
        other => Err(TransportError::Protocol(format!(
            "the reader answered the PIN-pad verification with {} bytes instead of a status word",
            other.len()
        ))),
    }
}

/// A link used as it is: the `session` of transports that need no lock.
pub struct Direct<'a, C: SlotLink + ?Sized>(pub &'a mut C);

impl<C: SlotLink + ?Sized> SlotLink for Direct<'_, C> {
    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        self.0.connect()
    }
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.0.transmit(apdu)
    }
    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        self.0.reset()
    }
    fn disconnect(&mut self) {
        self.0.disconnect()
    }
    fn has_pinpad(&mut self) -> bool {
        self.0.has_pinpad()
    }
    fn verify_pin_pinpad(&mut self, request: &PinpadVerify) -> Result<Vec<u8>, TransportError> {
        self.0.verify_pin_pinpad(request)
    }
    fn card_moved(&mut self) -> bool {
        self.0.card_moved()
    }
    fn session(&mut self) -> Box<dyn SlotLink + '_> {
        Box::new(Direct(&mut *self.0))
    }
}

/// What a backend reports to the service layer.
pub enum ReaderEvent {
    /// A slot appeared; `link` is moved to the slot's worker thread.
    Added {
        /// The slot.
        slot: SlotInfo,
        /// Its link.
        link: Box<dyn SlotLink>,
    },
    /// A slot disappeared (its reader is gone).
    Removed {
        /// The slot's id.
        id: String,
    },
    /// A card was inserted in a slot.
    CardInserted {
        /// The slot's id.
        id: String,
        /// The card's ATR.
        atr: Vec<u8>,
    },
    /// A card was removed from a slot.
    CardRemoved {
        /// The slot's id.
        id: String,
    },
}

impl fmt::Debug for ReaderEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReaderEvent::Added { slot, .. } => write!(f, "Added({})", slot.id),
            ReaderEvent::Removed { id } => write!(f, "Removed({id})"),
            ReaderEvent::CardInserted { id, .. } => write!(f, "CardInserted({id})"),
            ReaderEvent::CardRemoved { id } => write!(f, "CardRemoved({id})"),
        }
    }
}

/// A slot as the service layer knows it.
#[derive(Debug, Clone)]
pub struct SlotInfo {
    /// Stable id used by the API (`pcsc:0`, `serial:0`, `sim:1`, ...).
    pub id: String,
    /// Human name (the PC/SC reader name, the serial device and slot, ...).
    pub name: String,
    /// The transport it sits behind.
    pub kind: TransportKind,
    /// A serial reader's firmware and the profile chosen for it.
    pub model: Option<ReaderModel>,
    /// Whether the reader has a PIN pad, known before the slot is announced
    /// so that `readers.list` never shows a keypad reader without it.
    pub pinpad: bool,
}

/// What a serial reader answered to the firmware-version escape, and the
/// reader profile lecteurd drives it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderModel {
    /// The firmware-version string (printable ASCII, at most 64 characters).
    pub firmware: String,
    /// The profile's key (`GemCoreSIMPro`, ...).
    pub profile: &'static str,
    /// Why that profile: `configured` (`PATH:PROFILE`), `firmware` (named by
    /// the firmware string), `default` (the firmware names no known model).
    pub chosen_by: &'static str,
}

/// Where backends send their events. Sending never blocks.
pub type EventSink = tokio::sync::mpsc::UnboundedSender<ReaderEvent>;
