//! The one error table of the API: a stable `data.kind` string and its
//! JSON-RPC code per kind, and the error object as it goes on the wire.

use serde::{Deserialize, Serialize};

/// JSON-RPC's code for a line that is not JSON (`invalid_request`).
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC's code for JSON that is not a request, or a line too long.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC's code for an unknown method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC's code for params that do not fit the method.
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC's code for an internal error (a bug).
pub const INTERNAL_ERROR: i64 = -32603;

macro_rules! kinds {
    ($($(#[doc = $doc:literal])* $v:ident = $s:literal, $code:expr;)*) => {
        /// Every `data.kind` an error may carry (stable: clients rely on them).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorKind {
            $($(#[doc = $doc])* $v,)*
        }

        impl ErrorKind {
            /// Every kind, in the order of docs/api.md.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$v),*];

            /// The `data.kind` string.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorKind::$v => $s,)* }
            }

            /// The JSON-RPC `code` of this kind. `invalid_request` answers
            /// unreadable JSON with [`PARSE_ERROR`] instead.
            pub fn code(self) -> i64 {
                match self { $(ErrorKind::$v => $code,)* }
            }

            /// When lecteurd answers with this kind (docs/api.md).
            pub fn doc(self) -> &'static [&'static str] {
                match self { $(ErrorKind::$v => &[$($doc),*],)* }
            }

            /// The kind of a `data.kind` string.
            pub fn parse(s: &str) -> Option<ErrorKind> {
                match s { $($s => Some(ErrorKind::$v),)* _ => None }
            }
        }
    };
}

kinds! {
    /// Not a JSON-RPC request (-32600), not JSON (-32700), a line too long.
    InvalidRequest = "invalid_request", INVALID_REQUEST;
    /// Unknown method.
    MethodNotFound = "method_not_found", METHOD_NOT_FOUND;
    /// Wrong or unknown parameters, unknown reader, several candidate
    /// readers, malformed PIN.
    InvalidParams = "invalid_params", INVALID_PARAMS;
    /// No card (of the kind needed).
    NoCard = "no_card", -32001;
    /// The card left (or was reset) during the operation.
    CardRemoved = "card_removed", -32002;
    /// The named reader holds another kind of card.
    WrongCardType = "wrong_card_type", -32003;
    /// The card does not answer as its kind should.
    UnsupportedCard = "unsupported_card", -32004;
    /// Wrong PIN; `data.tries_left`.
    PinIncorrect = "pin_incorrect", -32005;
    /// The PIN is blocked (no VERIFY was sent); `data.reason: "usage_counter"`
    /// and `data.tries_left: 0` when the CPS3's PIN usage counter is spent.
    PinBlocked = "pin_blocked", -32006;
    /// This connection has not verified the PIN.
    PinRequired = "pin_required", -32007;
    /// Too many operations queued on the slot, or another application has
    /// held the card (a PC/SC transaction) for `--card-wait` seconds while
    /// the request waited; nothing was sent to the card.
    ReaderBusy = "reader_busy", -32008;
    /// The reader was unplugged, or pcscd went away.
    ReaderGone = "reader_gone", -32009;
    /// The reader link failed (timeout, protocol error).
    Transport = "transport", -32010;
    /// One try left and `allow_last_try` not given (no VERIFY was sent).
    PinLastTry = "pin_last_try", -32011;
    /// The holder cancelled the PIN entry on the reader.
    PinCancelled = "pin_cancelled", -32012;
    /// The holder did not type the PIN on the reader in time.
    PinTimeout = "pin_timeout", -32013;
    /// Wrong PUK; `data.tries_left`.
    PukIncorrect = "puk_incorrect", -32014;
    /// The PUK is blocked.
    PukBlocked = "puk_blocked", -32015;
    /// The connecting uid is not in lecteurd's `--allow-uid` list (sent
    /// once, `id` null, then the connection is closed).
    NotAllowed = "not_allowed", -32016;
    /// This connection sent more than `--max-rate` requests a second; the
    /// request was not run.
    RateLimited = "rate_limited", -32017;
    /// A CPS3's EF_ACTUA exists but is empty or unreadable: an update of the
    /// card was interrupted; nothing was signed.
    CardBeingUpdated = "card_being_updated", -32018;
    /// A bug: please report it.
    Internal = "internal", INTERNAL_ERROR;
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a PIN is blocked, when it is not the tries counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockReason {
    /// A CPS3's PIN usage counter (GET DATA `9D`) is spent.
    UsageCounter,
}

/// An error's `data`. A kind this version does not know is kept as `None`
/// (its code and message still say what happened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    /// `data.kind`: what went wrong, the field to branch on.
    #[serde(with = "kind_or_unknown")]
    pub kind: Option<ErrorKind>,
    /// The tries left, with `pin_incorrect`, `puk_incorrect`, and
    /// `pin_blocked` for a spent usage counter (0); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u8>,
    /// Why the PIN is blocked, with `pin_blocked` when it is not the tries
    /// counter; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<BlockReason>,
}

mod kind_or_unknown {
    use super::ErrorKind;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(k: &Option<ErrorKind>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.map_or("", ErrorKind::as_str))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ErrorKind>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.and_then(|s| ErrorKind::parse(&s)))
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct RpcError {
    /// The JSON-RPC code: one per kind ([`ErrorKind::code`]).
    pub code: i64,
    /// What happened, in English, for people (not to be parsed).
    pub message: String,
    /// The kind and its details.
    pub data: ErrorData,
}

impl RpcError {
    /// An error of `kind`, with its code.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RpcError {
            code: kind.code(),
            message: message.into(),
            data: ErrorData {
                kind: Some(kind),
                tries_left: None,
                reason: None,
            },
        }
    }

    /// An `invalid_params` error.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        RpcError::new(ErrorKind::InvalidParams, message)
    }

    /// Not JSON at all: `invalid_request` with the parse error's code.
    pub fn parse_error(message: impl Into<String>) -> Self {
        RpcError {
            code: PARSE_ERROR,
            ..RpcError::new(ErrorKind::InvalidRequest, message)
        }
    }

    /// Its `data.kind`; `None` for a kind this version does not know.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.data.kind
    }

    /// Adds `data.tries_left`.
    pub fn with_tries_left(mut self, tries_left: u8) -> Self {
        self.data.tries_left = Some(tries_left);
        self
    }

    /// Adds `data.reason`.
    pub fn with_reason(mut self, reason: BlockReason) -> Self {
        self.data.reason = Some(reason);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_round_trip_and_keep_their_codes() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::parse(k.as_str()), Some(*k));
            assert_eq!(serde_json::to_value(k).unwrap(), json!(k.as_str()));
        }
        assert_eq!(ErrorKind::PinBlocked.code(), -32006);
        assert_eq!(ErrorKind::CardBeingUpdated.code(), -32018);
        assert_eq!(ErrorKind::InvalidParams.code(), INVALID_PARAMS);
    }

    #[test]
    fn the_error_object_is_as_documented() {
        let e = RpcError::new(ErrorKind::PinBlocked, "blocked")
            .with_tries_left(0)
            .with_reason(BlockReason::UsageCounter);
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"code": -32006, "message": "blocked",
                   "data": {"kind": "pin_blocked", "tries_left": 0, "reason": "usage_counter"}})
        );
        let plain =
            json!({"code": -32005, "message": "m", "data": {"kind": "pin_incorrect", "tries_left": 2}});
        let e: RpcError = serde_json::from_value(plain.clone()).unwrap();
        assert_eq!(e.kind(), Some(ErrorKind::PinIncorrect));
        assert_eq!(serde_json::to_value(&e).unwrap(), plain);
        let future: RpcError =
            serde_json::from_value(json!({"code": -32099, "message": "m", "data": {"kind": "new_kind"}}))
                .unwrap();
        assert_eq!(future.kind(), None);
    }
}
