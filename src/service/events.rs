use super::CardView;
use serde::Serialize;

/// A reader or card event, as subscribers receive it.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub reader: String,
    pub card: Option<CardView>,
}
