//! `diag.trace`: the masked APDU trace (docs/diag.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `diag.trace`'s params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceParams {
    /// Keep sending new exchanges (`trace.apdu`) after the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow: Option<bool>,
}

/// One APDU exchange, masked as lecteurd recorded it (docs/diag.md, the masking rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TraceRecord {
    /// Numbers every exchange since lecteurd started, without gaps.
    pub seq: u64,
    /// When the command was sent, ms since the Unix epoch.
    pub time_ms: u64,
    /// Reader id.
    pub reader: String,
    /// The reader slot's name, as in readers.list.
    pub reader_name: String,
    /// `apdu`, or `pinpad_verify`: a VERIFY whose PIN the holder typed on the reader.
    pub kind: String,
    /// CLA INS P1 P2 in upper-case hex.
    pub header: String,
    /// The command data: `empty` (none), `shown` (known safe), `masked` (length only), `secret` (PIN data: not even its length).
    pub body: String,
    /// Command data length; null when none or secret.
    pub lc: Option<u32>,
    /// Command data in upper-case hex when body is shown (at most 32 bytes).
    pub data: Option<String>,
    /// Shown data was longer than 32 bytes.
    pub truncated: bool,
    /// Expected response length (256 for 00).
    pub le: Option<u32>,
    /// Response data bytes (the data itself is never shown).
    pub resp_len: u32,
    /// SW1 SW2 in hex; null when the exchange failed.
    pub sw: Option<String>,
    /// Why the exchange failed below the card (timeout, card_removed, reader_gone...).
    pub error: Option<String>,
    /// Duration in microseconds.
    pub us: u32,
}

/// `diag.trace`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Trace {
    /// The last exchanges, all slots together (512 at most), oldest first.
    pub recent: Vec<TraceRecord>,
    /// `trace.apdu` notifications follow (the request said `follow: true`).
    pub following: bool,
}

/// `trace.lost`: records dropped for a follower that read too slowly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TraceLost {
    /// How many records were dropped since the last one this connection got.
    pub lost: u64,
}
