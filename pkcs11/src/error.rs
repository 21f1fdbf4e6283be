//! lecteurd's answers as PKCS#11 return values.

use cryptoki_sys::*;
use lecteur::client::ClientError;

/// Every fallible step of the module ends in a `CK_RV`.
pub type Result<T> = std::result::Result<T, CK_RV>;

/// A failed call to lecteurd.
#[derive(Debug)]
pub enum Fail {
    /// lecteurd answered with an error of this `data.kind`.
    Api(String),
    /// lecteurd cannot be reached, or answered something unreadable: the
    /// connection is dropped (and with it any PIN verification).
    Lost,
}

impl From<ClientError> for Fail {
    fn from(e: ClientError) -> Self {
        match &e {
            // An answer, even one without a kind: the connection is sound.
            ClientError::Rpc { .. } => Fail::Api(e.kind().unwrap_or_default().to_string()),
            ClientError::Io(_) | ClientError::Protocol(_) => Fail::Lost,
        }
    }
}

impl Fail {
    pub fn kind(&self) -> Option<&str> {
        match self {
            Fail::Api(k) => Some(k),
            Fail::Lost => None,
        }
    }

    /// The general mapping; callers map what means more in their context
    /// (`invalid_params` during C_Login is a malformed PIN).
    pub fn rv(&self) -> CK_RV {
        match self.kind() {
            Some("no_card" | "wrong_card_type") => CKR_TOKEN_NOT_PRESENT,
            Some("card_removed" | "reader_gone") => CKR_DEVICE_REMOVED,
            Some("pin_incorrect") => CKR_PIN_INCORRECT,
            Some("pin_blocked") => CKR_PIN_LOCKED,
            Some("pin_required") => CKR_USER_NOT_LOGGED_IN,
            Some("pin_cancelled" | "pin_timeout") => CKR_FUNCTION_CANCELED,
            Some("invalid_params") => CKR_ARGUMENTS_BAD,
            Some(_) | None => CKR_DEVICE_ERROR,
        }
    }
}

impl From<Fail> for CK_RV {
    fn from(f: Fail) -> CK_RV {
        f.rv()
    }
}
