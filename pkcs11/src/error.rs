//! lecteurd's answers as PKCS#11 return values.

use cryptoki_sys::*;
use lecteur_client::ClientError;
use lecteur_proto::ErrorKind;

/// Every fallible step of the module ends in a `CK_RV`.
pub(crate) type Result<T> = std::result::Result<T, CK_RV>;

/// A failed call to lecteurd.
#[derive(Debug)]
pub enum Fail {
    /// lecteurd answered with an error of this `data.kind` (`None`: a kind
    /// this module does not know).
    Api(Option<ErrorKind>),
    /// lecteurd cannot be reached, or answered something unreadable: the
    /// connection is dropped (and with it any PIN verification).
    Lost,
}

impl From<ClientError> for Fail {
    fn from(e: ClientError) -> Self {
        match &e {
            // An answer, even one without a kind: the connection is sound.
            ClientError::Rpc(rpc) => Fail::Api(rpc.kind()),
            ClientError::Io(_) | ClientError::Closed | ClientError::Protocol(_) | ClientError::Frame(_) => {
                Fail::Lost
            }
        }
    }
}

impl Fail {
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Fail::Api(k) => *k,
            Fail::Lost => None,
        }
    }

    /// The general mapping; callers map what means more in their context
    /// (`invalid_params` during C_Login is a malformed PIN).
    pub fn rv(&self) -> CK_RV {
        match self.kind() {
            Some(ErrorKind::NoCard | ErrorKind::WrongCardType) => CKR_TOKEN_NOT_PRESENT,
            Some(ErrorKind::CardRemoved | ErrorKind::ReaderGone) => CKR_DEVICE_REMOVED,
            Some(ErrorKind::PinIncorrect) => CKR_PIN_INCORRECT,
            Some(ErrorKind::PinBlocked) => CKR_PIN_LOCKED,
            Some(ErrorKind::PinRequired) => CKR_USER_NOT_LOGGED_IN,
            Some(ErrorKind::PinCancelled | ErrorKind::PinTimeout) => CKR_FUNCTION_CANCELED,
            Some(ErrorKind::InvalidParams) => CKR_ARGUMENTS_BAD,
            Some(_) | None => CKR_DEVICE_ERROR,
        }
    }
}

impl From<Fail> for CK_RV {
    fn from(f: Fail) -> CK_RV {
        f.rv()
    }
}
