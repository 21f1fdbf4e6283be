//! Card applications: what the CPS and the carte Vitale hold and how to get it.
//! Card code reaches a card only through [`crate::apdu::Exchange`].

pub mod atr;
pub mod cert;
pub(crate) mod codes;
pub mod cps;
pub(crate) mod files;
pub mod nir;
pub mod pkcs15;
pub mod profile;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_sim;
#[cfg(test)]
pub(crate) mod testutil;
mod tlv;
pub mod vitale;

pub use atr::CardKind;
pub use profile::{ProfileError, Profiles};

use crate::apdu::{ApduError, LinkError, StatusWord};

/// Why a card operation failed, in terms the service layer maps to API errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// The link to the card failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The card refused a command.
    #[error("the card answered {sw} to {what}")]
    Status {
        /// The command, for people.
        what: &'static str,
        /// Its status word.
        sw: StatusWord,
    },
    /// The card's data do not parse.
    #[error("the card sent malformed data: {0}")]
    Malformed(String),
    /// The card refused the PIN.
    #[error("wrong PIN, {tries_left} tries left")]
    PinIncorrect {
        /// Tries left before the PIN blocks.
        tries_left: u8,
    },
    /// The PIN is blocked.
    #[error("the PIN is blocked")]
    PinBlocked,
    /// The command needs the PIN verified first.
    #[error("the PIN must be verified first")]
    PinRequired,
    /// The PIN's length or characters do not fit the card.
    #[error("invalid PIN format: {0}")]
    PinFormat(&'static str),
    /// Something this card or lecteur does not do.
    #[error("{0}")]
    Unsupported(String),
    /// EF_ACTUA is there but empty or unreadable: an update of the card's
    /// data was interrupted, and nothing on it can be trusted (Cryptolib's
    /// "bad actua").
    #[error("the card's data are being updated (EF_ACTUA {0})")]
    BeingUpdated(&'static str),
}

impl From<ApduError> for CardError {
    fn from(e: ApduError) -> Self {
        match e {
            ApduError::Link(l) => CardError::Link(l),
            ApduError::Malformed(m) => CardError::Malformed(m),
        }
    }
}

/// Checks the status of a response, naming the step for the error message.
fn expect_ok(resp: crate::apdu::Response, what: &'static str) -> Result<Vec<u8>, CardError> {
    resp.ok().map_err(|sw| CardError::Status { what, sw })
}
