//! Notifications: card and reader events after `events.subscribe`, trace
//! records after `diag.trace` with `follow`.

use crate::frame::FrameError;
use crate::system::CardView;
use crate::trace::{TraceLost, TraceRecord};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The notification method of card and reader events.
pub const EVENT: &str = "event";
pub const TRACE_APDU: &str = "trace.apdu";
pub const TRACE_LOST: &str = "trace.lost";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum EventType {
    #[serde(rename = "card.inserted")]
    CardInserted,
    #[serde(rename = "card.removed")]
    CardRemoved,
    #[serde(rename = "reader.added")]
    ReaderAdded,
    #[serde(rename = "reader.removed")]
    ReaderRemoved,
}

/// A reader or card event, as subscribers receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventType,
    pub reader: String,
    pub card: Option<CardView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Subscribed {
    pub subscribed: bool,
}

/// A notification a client may receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    Event(Event),
    TraceApdu(TraceRecord),
    TraceLost(TraceLost),
}

impl Notification {
    /// The notification of `method` with these `params`.
    pub fn parse(method: &str, params: serde_json::Value) -> Result<Notification, FrameError> {
        let bad = |e| FrameError::Notification(method.to_string(), e);
        match method {
            EVENT => serde_json::from_value(params)
                .map(Notification::Event)
                .map_err(bad),
            TRACE_APDU => serde_json::from_value(params)
                .map(Notification::TraceApdu)
                .map_err(bad),
            TRACE_LOST => serde_json::from_value(params)
                .map(Notification::TraceLost)
                .map_err(bad),
            m => Err(FrameError::UnknownNotification(m.to_string())),
        }
    }
}

impl EventType {
    /// The `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CardInserted => "card.inserted",
            EventType::CardRemoved => "card.removed",
            EventType::ReaderAdded => "reader.added",
            EventType::ReaderRemoved => "reader.removed",
        }
    }
}
