//! JSON-RPC 2.0 frames as they go on the wire, one JSON object a line.

use crate::error::RpcError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request a client sends (`id` set) or a notification it sends (`id: None`).
#[derive(Debug, Serialize)]
pub struct RequestFrame<'a, P> {
    pub jsonrpc: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    pub method: &'a str,
    pub params: &'a P,
}

impl<'a, P> RequestFrame<'a, P> {
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
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub params: Option<Value>,
    #[serde(default)]
    pub result: Option<Value>,
    #[serde(default)]
    pub error: Option<RpcError>,
}

/// A success answer.
#[derive(Debug, Serialize)]
pub struct Success<'a, R> {
    pub jsonrpc: &'static str,
    pub id: &'a Value,
    pub result: R,
}

/// An error answer.
#[derive(Debug, Serialize)]
pub struct Failure<'a> {
    pub jsonrpc: &'static str,
    pub id: &'a Value,
    pub error: &'a RpcError,
}

/// A notification the daemon sends.
#[derive(Debug, Serialize)]
pub struct NotificationFrame<'a, P> {
    pub jsonrpc: &'static str,
    pub method: &'a str,
    pub params: P,
}

impl<'a, P> NotificationFrame<'a, P> {
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
    #[error("{0}: unexpected params: {1}")]
    Notification(String, serde_json::Error),
    #[error("unknown notification {0:?}")]
    UnknownNotification(String),
}
