//! Notifications: card and reader events after `events.subscribe`, trace
//! records after `diag.trace` with `follow`.

use crate::frame::FrameError;
use crate::system::CardView;
use crate::trace::{TraceLost, TraceRecord};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The notification method of card and reader events.
pub const EVENT: &str = "event";
/// The notification method of a new trace record (`diag.trace` with `follow`).
pub const TRACE_APDU: &str = "trace.apdu";
/// The notification method of trace records dropped for a slow follower.
pub const TRACE_LOST: &str = "trace.lost";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum EventType {
    /// A card was inserted; `card` says which.
    #[serde(rename = "card.inserted")]
    CardInserted,
    /// The card left the slot (also sent before `reader.removed` when the reader goes with a card in it).
    #[serde(rename = "card.removed")]
    CardRemoved,
    /// A reader slot appeared.
    #[serde(rename = "reader.added")]
    ReaderAdded,
    /// A reader slot went away.
    #[serde(rename = "reader.removed")]
    ReaderRemoved,
}

/// A reader or card event, as subscribers receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The reader slot's id, as in readers.list.
    pub reader: String,
    /// The card, on `card.inserted` only; null otherwise.
    pub card: Option<CardView>,
}

/// `events.subscribe`'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Subscribed {
    /// Always true: events follow on this connection until it closes.
    pub subscribed: bool,
}

/// A notification a client may receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// `event`: a card or reader event.
    Event(Event),
    /// `trace.apdu`: a new APDU exchange.
    TraceApdu(TraceRecord),
    /// `trace.lost`: records dropped before the next one.
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
