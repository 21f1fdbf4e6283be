//! One traced exchange: a small fixed struct made on every APDU (nothing is
//! formatted until someone reads the trace), and its JSON form.

use crate::apdu::{Body, SafeCommand};
use crate::transport::TransportError;
use lecteur_proto::trace::TraceRecord;
use serde::Serialize;
use std::sync::Arc;

/// The slot an exchange went through, shared by all its records.
#[derive(Debug)]
pub struct SlotLabel {
    /// The slot's API id (`SlotInfo::id`).
    pub id: String,
    /// The slot's human name (`SlotInfo::name`).
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
    /// The slot it went through.
    pub slot: Arc<SlotLabel>,
    /// What went to the card.
    pub kind: Kind,
    /// The command, masked.
    pub command: SafeCommand,
    /// Response data bytes (never the data itself).
    pub resp_len: u32,
    /// SW1 SW2, when the answer had them.
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

impl Record {
    /// The contract's form (`diag.trace`, `trace.apdu`): made only when someone
    /// reads the trace.
    pub fn view(&self) -> TraceRecord {
        let body = self.command.body;
        TraceRecord {
            seq: self.seq,
            time_ms: self.time_ms,
            reader: self.slot.id.clone(),
            reader_name: self.slot.name.clone(),
            kind: match self.kind {
                Kind::Apdu => "apdu",
                Kind::PinpadVerify => "pinpad_verify",
            }
            .into(),
            header: hex::encode_upper(self.command.header),
            body: match body {
                Body::Empty => "empty",
                Body::Shown { .. } => "shown",
                Body::Masked { .. } => "masked",
                Body::Secret => "secret",
            }
            .into(),
            lc: body.data_len().filter(|n| *n > 0).map(u32::from),
            data: body.shown().map(hex::encode_upper),
            truncated: body.truncated(),
            le: self.command.le.map(u32::from),
            resp_len: self.resp_len,
            sw: self.sw.map(hex::encode_upper),
            error: self.error.map(str::to_string),
            us: self.micros,
        }
    }
}

impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::safe_command;
    use serde_json::json;

    fn record(apdu: &[u8], answer: Result<Vec<u8>, TransportError>) -> serde_json::Value {
        let mut rec = Record {
            seq: 7,
            time_ms: 1,
            slot: Arc::new(SlotLabel {
                id: "serial:0".into(),
                name: "GemPC".into(),
            }),
            kind: Kind::Apdu,
            command: safe_command(apdu),
            resp_len: 0,
            sw: None,
            error: None,
            micros: 3,
        };
        rec.answered(&answer);
        serde_json::to_value(&rec).unwrap()
    }

    #[test]
    fn a_verify_shows_neither_pin_nor_length() {
        let v = record(
            &[0, 0x20, 0, 0x81, 4, b'1', b'2', b'3', b'4'],
            Ok(vec![0x63, 0xC2]),
        );
        assert_eq!(v["body"], "secret");
        assert_eq!((&v["lc"], &v["data"]), (&json!(null), &json!(null)));
        assert_eq!((&v["sw"], &v["resp_len"]), (&json!("63C2"), &json!(0)));
        assert!(!v.to_string().contains("31323334"));
    }

    #[test]
    fn response_data_is_a_length() {
        let v = record(&[0, 0xB0, 0, 0, 0], Ok(b"LEGRAND\x90\x00".to_vec()));
        assert_eq!(
            (&v["resp_len"], &v["sw"], &v["le"]),
            (&json!(7), &json!("9000"), &json!(256))
        );
        assert!(!v.to_string().contains("LEGRAND"));
    }

    #[test]
    fn a_failed_exchange_says_why() {
        let v = record(&[0, 0xB0, 0, 0, 0], Err(TransportError::Timeout));
        assert_eq!((&v["sw"], &v["error"]), (&json!(null), &json!("timeout")));
        let v = record(&[0, 0xB0, 0, 0, 0], Ok(vec![0x90]));
        assert_eq!(v["error"], "no status word");
    }
}
