//! `system.info`, `readers.list`: the daemon and its slots.

use serde::{Deserialize, Serialize};

/// The params of a method that takes none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// The params of a card method that only names the reader.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderParams {
    /// A reader id from `readers.list` (`pcsc:0`, `serial:0.1`, `sim:1`) or
    /// its name; may be left out when one slot holds a card of the kind needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
}

impl ReaderParams {
    pub fn new(reader: Option<&str>) -> Self {
        ReaderParams {
            reader: reader.map(str::to_string),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonInfo {
    pub version: String,
    /// `pcsc`, `serial`, `sim`.
    pub transports: Vec<String>,
}

/// A card as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardView {
    /// `cps3`, `cps3_contactless`, `cps4`, `vitale2`, `vitale1`, `unknown`.
    pub kind: String,
    /// The ATR in upper-case hex.
    pub atr: String,
}

/// One slot of `readers.list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderView {
    pub id: String,
    pub name: String,
    /// `pcsc`, `serial`, `sim`.
    pub transport: String,
    /// The reader can take the PIN on its keypad.
    pub pinpad: bool,
    /// `cps` or `vitale` when the reader profile names the slot's purpose.
    #[serde(default)]
    pub role: Option<String>,
    pub card: Option<CardView>,
    /// A serial reader's firmware and the profile lecteurd drives it with
    /// (and why); absent on other transports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelView {
    /// The firmware-version string (printable ASCII).
    pub firmware: String,
    /// `GemPCTwin`, `GemCoreSIMPro`, `GemCorePOSPro`, `GemPCPinPad`.
    pub profile: String,
    /// `configured`, `firmware` or `default`.
    pub chosen_by: String,
}
