//! One traced exchange: a small fixed struct made on every APDU (nothing is
//! formatted until someone reads the trace), and its JSON form.

use crate::apdu::{Body, SafeCommand};
use crate::transport::TransportError;
use serde::Serialize;
use std::sync::Arc;

/// The slot an exchange went through, shared by all its records.
#[derive(Debug)]
pub struct SlotLabel {
    pub id: String,
    pub name: String,
}

/// What went to the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A command APDU (a T=0 TPDU on T=0 cards, GET RESPONSE included).
    Apdu,
    /// A VERIFY whose PIN the holder typed on the reader's keypad.
    PinpadVerify,
}

/// One exchange as the trace keeps it.
#[derive(Debug, Clone)]
pub struct Record {
    /// Numbers every exchange since lecteurd started (gaps: none).
    pub seq: u64,
    /// When the command was sent, in ms since the Unix epoch.
    pub time_ms: u64,
    pub slot: Arc<SlotLabel>,
    pub kind: Kind,
    pub command: SafeCommand,
    /// Response data bytes (never the data itself).
    pub resp_len: u32,
    pub sw: Option<[u8; 2]>,
    /// Why the exchange failed below the card, when it did.
    pub error: Option<&'static str>,
    /// From sending the command to its answer.
    pub micros: u32,
}

impl Record {
    /// Fills the answer part from what the transport returned.
    pub fn answered(&mut self, answer: &Result<Vec<u8>, TransportError>) {
        match answer {
            Ok(r) => match r.as_slice() {
                [data @ .., sw1, sw2] => {
                    self.resp_len = u32::try_from(data.len()).unwrap_or(u32::MAX);
                    self.sw = Some([*sw1, *sw2]);
                }
                _ => self.error = Some("no status word"),
            },
            Err(e) => self.error = Some(error_kind(e)),
        }
    }
}

fn error_kind(e: &TransportError) -> &'static str {
    match e {
        TransportError::NoCard => "no_card",
        TransportError::CardRemoved => "card_removed",
        TransportError::ReaderGone(_) => "reader_gone",
        TransportError::Busy => "reader_busy",
        TransportError::Timeout => "timeout",
        TransportError::PinCancelled => "pin_cancelled",
        TransportError::PinTimeout => "pin_timeout",
        TransportError::Protocol(_) => "protocol",
        TransportError::NoPinpad => "no_pinpad",
    }
}

/// The JSON form (docs/api.md, `diag.trace`).
#[derive(Serialize)]
struct View<'a> {
    seq: u64,
    time_ms: u64,
    reader: &'a str,
    reader_name: &'a str,
    kind: &'static str,
    header: String,
    /// `empty`, `shown`, `masked` (length only) or `secret` (not even that).
    body: &'static str,
    lc: Option<u16>,
    data: Option<String>,
    truncated: bool,
    le: Option<u16>,
    resp_len: u32,
    sw: Option<String>,
    error: Option<&'static str>,
    us: u32,
}

impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let body = self.command.body;
        View {
            seq: self.seq,
            time_ms: self.time_ms,
            reader: &self.slot.id,
            reader_name: &self.slot.name,
            kind: match self.kind {
                Kind::Apdu => "apdu",
                Kind::PinpadVerify => "pinpad_verify",
            },
            header: hex::encode_upper(self.command.header),
            body: match body {
                Body::Empty => "empty",
                Body::Shown { .. } => "shown",
                Body::Masked { .. } => "masked",
                Body::Secret => "secret",
            },
            lc: body.data_len().filter(|n| *n > 0),
            data: body.shown().map(hex::encode_upper),
            truncated: body.truncated(),
            le: self.command.le,
            resp_len: self.resp_len,
            sw: self.sw.map(hex::encode_upper),
            error: self.error,
            us: self.micros,
        }
        .serialize(s)
    }
}
