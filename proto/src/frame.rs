//! JSON-RPC 2.0 frames as they go on the wire, one JSON object a line.

use crate::error::RpcError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request a client sends (`id` set) or a notification it sends (`id: None`).
#[derive(Debug, Serialize)]
pub struct RequestFrame<'a, P> {
    /// Always `"2.0"`.
    pub jsonrpc: &'static str,
    /// Echoed in the answer; none for a notification (no answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// The method's name ([`crate::Method::NAME`]).
    pub method: &'a str,
    /// The method's params (an object).
    pub params: &'a P,
}

impl<'a, P> RequestFrame<'a, P> {
    /// A request with `id`.
    pub fn new(id: u64, method: &'a str, params: &'a P) -> Self {
        RequestFrame {
            jsonrpc: "2.0",
            id: Some(id),
            method,
            params,
        }
    }
}

/// What a client reads: an answer (`id` with `result` or `error`) or a
/// notification (`method` with `params`).
#[derive(Debug, Deserialize)]
pub struct Incoming {
    /// The request's `id`, in an answer (null when the request could not be read, and with `not_allowed`).
    #[serde(default)]
    pub id: Option<Value>,
    /// The notification's method (`event`, `trace.apdu`, `trace.lost`).
    #[serde(default)]
    pub method: Option<String>,
    /// The notification's params.
    #[serde(default)]
    pub params: Option<Value>,
    /// A success answer's result.
    #[serde(default)]
    pub result: Option<Value>,
    /// An error answer's error.
    #[serde(default)]
    pub error: Option<RpcError>,
}

/// A success answer.
#[derive(Debug, Serialize)]
pub struct Success<'a, R> {
    /// Always `"2.0"`.
    pub jsonrpc: &'static str,
    /// The request's `id`.
    pub id: &'a Value,
    /// The method's result.
    pub result: R,
}

/// An error answer.
#[derive(Debug, Serialize)]
pub struct Failure<'a> {
    /// Always `"2.0"`.
    pub jsonrpc: &'static str,
    /// The request's `id` (null when it could not be read).
    pub id: &'a Value,
    /// What went wrong.
    pub error: &'a RpcError,
}

/// A notification the daemon sends.
#[derive(Debug, Serialize)]
pub struct NotificationFrame<'a, P> {
    /// Always `"2.0"`.
    pub jsonrpc: &'static str,
    /// The notification's method (`event`, `trace.apdu`, `trace.lost`).
    pub method: &'a str,
    /// Its params.
    pub params: P,
}

impl<'a, P> NotificationFrame<'a, P> {
    /// A notification of `method`.
    pub fn new(method: &'a str, params: P) -> Self {
        NotificationFrame {
            jsonrpc: "2.0",
            method,
            params,
        }
    }
}

/// A frame that does not say what the contract says.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A known notification whose params do not fit its type.
    #[error("{0}: unexpected params: {1}")]
    Notification(String, serde_json::Error),
    /// A notification method this version does not know.
    #[error("unknown notification {0:?}")]
    UnknownNotification(String),
}
