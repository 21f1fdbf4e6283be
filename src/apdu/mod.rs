//! Command and response APDUs, status words, and the exchange trait through
//! which card logic reaches a card. T=0 rules live here ([`transmit`]); what
//! a trace may show of a command, in [`safe_command`].

mod chain;
mod command;
mod link;
#[cfg(test)]
pub(crate) mod replay;
mod safe;
mod status;
mod t0;

pub use chain::transmit_chained;
pub use command::Command;
pub use link::{Exchange, LinkError};
pub use safe::{safe_command, Body, SafeCommand, SHOWN_MAX};
pub use status::StatusWord;
pub use t0::{transmit, CLA_CPS2TER};

/// A response APDU: data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The response data, without the status word.
    pub data: Vec<u8>,
    /// SW1 SW2.
    pub sw: StatusWord,
}

impl Response {
    /// Splits raw response bytes; fewer than two bytes is a reader/card fault.
    pub fn from_bytes(mut raw: Vec<u8>) -> Result<Self, ApduError> {
        if raw.len() < 2 {
            return Err(ApduError::Malformed(format!(
                "response of {} byte(s) has no status word",
                raw.len()
            )));
        }
        let sw2 = raw.pop().unwrap_or_default();
        let sw1 = raw.pop().unwrap_or_default();
        Ok(Response {
            data: raw,
            sw: StatusWord::from_bytes(sw1, sw2),
        })
    }

    /// The data when the status is 90 00, else the status as an error.
    pub fn ok(self) -> Result<Vec<u8>, StatusWord> {
        if self.sw == StatusWord::Ok {
            Ok(self.data)
        } else {
            Err(self.sw)
        }
    }
}

/// Why an APDU exchange failed below the card logic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    /// The link to the card failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The exchange broke the APDU rules: a command that does not fit a short
    /// APDU, an answer without status word, endless GET RESPONSE...
    #[error("malformed exchange: {0}")]
    Malformed(String),
}
