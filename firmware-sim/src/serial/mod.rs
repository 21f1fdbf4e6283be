//! A CCID-over-serial reader (GemPC Twin / GemCore SIM Pro / GemPC PinPad
//! behaviour) on a pseudo-terminal, for pcscd's `libccidtwin.so` and
//! lecteur's own serial transport.
//!
//! Layers: [`frame`] cuts the byte stream into frames, [`firmware`] answers
//! CCID messages (with [`pinpad`] for PIN entry on the [`keypad`]), [`link`]
//! adds echo, NAK, retransmission, card-movement and time-extension bytes (no
//! I/O, usable in-process), and [`Reader`] runs a link on a pty (Unix only).

pub mod faults;
pub mod firmware;
pub mod frame;
pub mod keypad;
pub mod link;
pub mod pace;
pub mod pinpad;
// The pty is a Unix thing: on Windows `Reader::open` says so.
#[cfg_attr(unix, path = "front/unix.rs")]
#[cfg_attr(windows, path = "front/windows.rs")]
mod front;

pub use faults::{FaultSpec, Faults};
pub use front::Reader;
pub use keypad::Keypad;
pub use link::Link;

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Which reader to behave like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// GemCore SIM Pro: 2 slots, no echo.
    #[default]
    GemCoreSimPro,
    /// GemPC Twin: 1 slot, echoes every host frame before answering.
    GemPcTwin,
    /// GemPC PinPad: a GemPC Twin with a keypad (PC_to_RDR_Secure).
    GemPcPinpad,
}

impl Profile {
    /// Slot count of the real reader.
    pub fn default_slots(self) -> usize {
        match self {
            Profile::GemCoreSimPro => 2,
            Profile::GemPcTwin | Profile::GemPcPinpad => 1,
        }
    }

    /// Whether the reader echoes host frames.
    pub fn echoes(self) -> bool {
        matches!(self, Profile::GemPcTwin | Profile::GemPcPinpad)
    }

    /// Whether the reader has a keypad for PIN entry.
    pub fn has_keypad(self) -> bool {
        matches!(self, Profile::GemPcPinpad)
    }

    /// The answer to Escape `02` (under 50 bytes: the reference driver's buffer).
    pub fn firmware_version(self) -> &'static str {
        match self {
            Profile::GemCoreSimPro => "GemCore SIM Pro v1.0-lecteur-sim",
            Profile::GemPcTwin => "GemPC Twin v1.0-lecteur-sim",
            Profile::GemPcPinpad => "GemPC PinPad v1.0-lecteur-sim",
        }
    }

    /// The name after `:` in pcscd's `DEVICENAME` for libccidtwin.
    pub fn ccidtwin_name(self) -> &'static str {
        match self {
            Profile::GemCoreSimPro => "GemCoreSIMPro",
            Profile::GemPcTwin => "GemPCTwin",
            Profile::GemPcPinpad => "GemPCPinPad",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Profile::GemCoreSimPro => "gemcore-sim-pro",
            Profile::GemPcTwin => "gempc-twin",
            Profile::GemPcPinpad => "gempc-pinpad",
        })
    }
}

/// An unknown `--reader` name.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown reader {0:?}: use gemcore-sim-pro, gempc-twin or gempc-pinpad")]
pub struct UnknownProfile(pub String);

impl std::str::FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "gemcore-sim-pro" | "gemcoresimpro" => Ok(Profile::GemCoreSimPro),
            "gempc-twin" | "gempctwin" => Ok(Profile::GemPcTwin),
            "gempc-pinpad" | "gempcpinpad" => Ok(Profile::GemPcPinpad),
            _ => Err(UnknownProfile(s.to_string())),
        }
    }
}

/// Why the serial front-end failed.
#[derive(Debug, thiserror::Error)]
pub enum SerialError {
    #[error("cannot create a pseudo-terminal: {0}")]
    Pty(io::Error),
    #[error("cannot create the link {}: {source}", path.display())]
    Link { path: PathBuf, source: io::Error },
    #[error("{} exists and is not a symbolic link; refusing to replace it", path.display())]
    LinkOccupied { path: PathBuf },
    #[error("a serial reader has 1 to 4 slots (one bmSlotICCState byte); this one has {0}")]
    SlotCount(usize),
    #[error("pseudo-terminal I/O failed: {0}")]
    Io(io::Error),
    #[error("the serial reader runs on a pseudo-terminal: not available on this system")]
    Unsupported,
}
