//! `diag.trace`: the masked APDU trace (docs/diag.md).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceParams {
    /// Keep sending new exchanges (`trace.apdu`) after the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow: Option<bool>,
}

/// One APDU exchange, masked as lecteurd recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    pub seq: u64,
    pub time_ms: u64,
    pub reader: String,
    pub reader_name: String,
    /// `apdu` or `pinpad_verify`.
    pub kind: String,
    /// CLA INS P1 P2, upper-case hex.
    pub header: String,
    /// `empty`, `shown`, `masked`, `secret`.
    pub body: String,
    pub lc: Option<u32>,
    pub data: Option<String>,
    pub truncated: bool,
    pub le: Option<u32>,
    pub resp_len: u32,
    pub sw: Option<String>,
    pub error: Option<String>,
    pub us: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub recent: Vec<TraceRecord>,
    pub following: bool,
}

/// `trace.lost`: records dropped for a follower that read too slowly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceLost {
    pub lost: u64,
}
