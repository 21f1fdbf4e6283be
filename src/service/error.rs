use crate::apdu::LinkError;
use crate::card::CardError;
use crate::transport::TransportError;
use lecteur_proto::error::{BlockReason, ErrorKind, RpcError};

/// Every way a request can fail, as the API reports it (`data.kind`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// No card where one is needed.
    #[error("{0}")]
    NoCard(String),
    /// The card was removed (or reset) during the operation.
    #[error("the card was removed during the operation")]
    CardRemoved,
    /// The card is not of the kind the method needs.
    #[error("{0}")]
    WrongCardType(String),
    /// A card lecteur does not drive.
    #[error("unsupported card: {0}")]
    UnsupportedCard(String),
    /// The card refused the PIN.
    #[error("wrong PIN, {tries_left} tries left")]
    PinIncorrect {
        /// Tries left before the PIN blocks.
        tries_left: u8,
    },
    /// The PIN is blocked (no tries left).
    #[error("the PIN is blocked")]
    PinBlocked,
    /// The PIN's usage counter (CPS3 GET DATA `9D`) is spent: 0 tries left,
    /// no VERIFY sent.
    #[error("the PIN can no longer be used: the card's PIN usage counter is spent; as for a blocked PIN, unblock it with the PUK (cps.unblock_pin) or ask the ANS")]
    PinUsageSpent,
    /// EF_ACTUA exists but is empty or unreadable (see `CardError::BeingUpdated`).
    #[error("{0}: an update of the card was interrupted, so its data cannot be trusted and it will not sign; let the update finish (the card in a reader of a workstation where the ANS's CPS update runs) or contact the ANS if it persists")]
    CardBeingUpdated(String),
    /// The card refused the PUK.
    #[error("wrong PUK, {tries_left} tries left")]
    PukIncorrect {
        /// Tries left before the PUK blocks.
        tries_left: u8,
    },
    /// The PUK is blocked.
    #[error("the PUK is blocked: the card must be replaced")]
    PukBlocked,
    /// The holder cancelled the PIN entry on the reader's keypad.
    #[error("the holder cancelled the PIN entry on the reader")]
    PinCancelled,
    /// The holder did not type the PIN on the reader's keypad in time.
    #[error("the holder did not type the PIN on the reader in time")]
    PinTimeout,
    /// One try is left and the request did not allow using it.
    #[error("one PIN try is left: ask the holder to confirm, then send allow_last_try: true")]
    PinLastTry,
    /// The operation needs the PIN verified on this connection.
    #[error("the PIN must be verified on this connection first (give `pin`)")]
    PinRequired,
    /// The reader is busy.
    #[error("the reader is busy")]
    ReaderBusy,
    /// The slot waited for the card longer than the bound while another
    /// application held it (a PC/SC transaction): `reader_busy` too.
    #[error("another application holds the card (waited {0} s)")]
    HeldElsewhere(u64),
    /// The reader is gone.
    #[error("the reader is gone")]
    ReaderGone,
    /// The link to the reader failed otherwise.
    #[error("reader transport error: {0}")]
    Transport(String),
    /// The request's params are not acceptable.
    #[error("{0}")]
    InvalidParams(String),
    /// A fault of lecteurd itself.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<LinkError> for ServiceError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::NoCard => ServiceError::NoCard("no card in the reader".into()),
            LinkError::CardRemoved => ServiceError::CardRemoved,
            LinkError::ReaderGone(_) => ServiceError::ReaderGone,
            LinkError::Busy => ServiceError::ReaderBusy,
            e @ (LinkError::Timeout | LinkError::Protocol(_)) => ServiceError::Transport(e.to_string()),
        }
    }
}

/// The PIN pad's outcomes; the rest as an exchange's.
impl From<TransportError> for ServiceError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::PinCancelled => ServiceError::PinCancelled,
            TransportError::PinTimeout => ServiceError::PinTimeout,
            TransportError::NoPinpad => ServiceError::InvalidParams("this reader has no PIN pad".into()),
            e => LinkError::from(e).into(),
        }
    }
}

impl From<CardError> for ServiceError {
    fn from(e: CardError) -> Self {
        match e {
            CardError::Link(l) => l.into(),
            CardError::PinIncorrect { tries_left } => ServiceError::PinIncorrect { tries_left },
            CardError::PinBlocked => ServiceError::PinBlocked,
            e @ CardError::BeingUpdated(_) => ServiceError::CardBeingUpdated(e.to_string()),
            CardError::PinRequired => ServiceError::PinRequired,
            CardError::PinFormat(m) => ServiceError::InvalidParams(m.to_string()),
            e @ (CardError::Status { .. } | CardError::Malformed(_) | CardError::Unsupported(_)) => {
                ServiceError::UnsupportedCard(e.to_string())
            }
        }
    }
}

impl ServiceError {
    /// The stable `data.kind` of the API.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::NoCard(_) => ErrorKind::NoCard,
            ServiceError::CardRemoved => ErrorKind::CardRemoved,
            ServiceError::WrongCardType(_) => ErrorKind::WrongCardType,
            ServiceError::UnsupportedCard(_) => ErrorKind::UnsupportedCard,
            ServiceError::PinIncorrect { .. } => ErrorKind::PinIncorrect,
            ServiceError::PinBlocked | ServiceError::PinUsageSpent => ErrorKind::PinBlocked,
            ServiceError::CardBeingUpdated(_) => ErrorKind::CardBeingUpdated,
            ServiceError::PukIncorrect { .. } => ErrorKind::PukIncorrect,
            ServiceError::PukBlocked => ErrorKind::PukBlocked,
            ServiceError::PinLastTry => ErrorKind::PinLastTry,
            ServiceError::PinCancelled => ErrorKind::PinCancelled,
            ServiceError::PinTimeout => ErrorKind::PinTimeout,
            ServiceError::PinRequired => ErrorKind::PinRequired,
            ServiceError::ReaderBusy | ServiceError::HeldElsewhere(_) => ErrorKind::ReaderBusy,
            ServiceError::ReaderGone => ErrorKind::ReaderGone,
            ServiceError::Transport(_) => ErrorKind::Transport,
            ServiceError::InvalidParams(_) => ErrorKind::InvalidParams,
            ServiceError::Internal(_) => ErrorKind::Internal,
        }
    }
}

/// The one place a service error becomes the API's error object.
impl From<ServiceError> for RpcError {
    fn from(e: ServiceError) -> Self {
        let err = RpcError::new(e.kind(), e.to_string());
        match e {
            ServiceError::PinIncorrect { tries_left } | ServiceError::PukIncorrect { tries_left } => {
                err.with_tries_left(tries_left)
            }
            ServiceError::PinUsageSpent => err.with_tries_left(0).with_reason(BlockReason::UsageCounter),
            _ => err,
        }
    }
}
