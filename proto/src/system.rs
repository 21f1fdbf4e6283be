//! `system.info`, `readers.list`: the daemon and its slots.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The params of a method that takes none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// The params of a card method that only names the reader.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReaderParams {
    /// Reader id (e.g. `pcsc:0`, `serial:0.1`, `sim:1`) or name. May be left out when exactly one slot holds a card of the kind needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
}

impl ReaderParams {
    /// The params naming `reader` (an id or a name), or none.
    pub fn new(reader: Option<&str>) -> Self {
        ReaderParams {
            reader: reader.map(str::to_string),
        }
    }
}

/// `system.info`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DaemonInfo {
    /// lecteurd's version (its crate version, e.g. `0.1.0`).
    pub version: String,
    /// The transports this lecteurd runs: `pcsc`, `serial`, `sim`.
    pub transports: Vec<String>,
}

/// A card as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CardView {
    /// `cps3`, `cps3_contactless`, `cps4`, `vitale2`, `vitale1`, `unknown`.
    pub kind: String,
    /// The ATR in upper-case hex.
    pub atr: String,
}

/// One slot of `readers.list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReaderView {
    /// The slot's id, stable while lecteurd runs: `pcsc:N`, `serial:N.S`, `sim:N`. Requests' `reader` takes it (or the name).
    pub id: String,
    /// The reader's name (PC/SC's reader name for pcsc).
    pub name: String,
    /// `pcsc`, `serial`, `sim`.
    pub transport: String,
    /// The reader can take the PIN on its keypad.
    pub pinpad: bool,
    /// What the reader profile (profiles/readers.toml) says the slot is for
    /// (`cps`, `vitale`); used to choose when a request names no reader and
    /// several slots hold the kind of card asked.
    #[serde(default)]
    pub role: Option<String>,
    /// The card in the slot; null when empty.
    pub card: Option<CardView>,
    /// Serial readers only: what the reader's firmware answered at start-up
    /// and the reader profile lecteurd drives it with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelView>,
}

/// A serial reader's model: how lecteurd knows what it drives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ModelView {
    /// The firmware-version string (printable ASCII).
    pub firmware: String,
    /// `GemPCTwin`, `GemCoreSIMPro`, `GemCorePOSPro`, `GemPCPinPad`.
    pub profile: String,
    /// configured: PATH:PROFILE; firmware: named by the firmware string;
    /// default: the firmware names no known model, GemPCTwin assumed.
    pub chosen_by: String,
}
