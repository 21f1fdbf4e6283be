//! What card code needs of the link to a card: one exchange at a time, and
//! the failures it must tell apart. Transports implement [`Exchange`] for
//! their reader slots and map their own errors into [`LinkError`]; unit
//! tests use [`super::replay::Replay`].

/// Sends raw command bytes to a card and returns data + SW1 SW2.
pub trait Exchange {
    /// Sends one command APDU (or T=0 TPDU) and returns the raw answer.
    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, LinkError>;
}

/// Why an exchange did not reach the card or bring its answer back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// No card in the slot.
    #[error("no card in the slot")]
    NoCard,
    /// The card was removed or reset during the operation.
    #[error("the card was removed or reset during the operation")]
    CardRemoved,
    /// The reader is gone (unplugged, or its link lost).
    #[error("the reader is gone: {0}")]
    ReaderGone(String),
    /// Another application holds the reader.
    #[error("the reader is used by another application")]
    Busy,
    /// The reader did not answer in time.
    #[error("the reader did not answer in time")]
    Timeout,
    /// The reader's answer broke its protocol.
    #[error("reader protocol error: {0}")]
    Protocol(String),
}
