//! The one error table of the API: a stable `data.kind` string and its
//! JSON-RPC code per kind, and the error object as it goes on the wire.

use serde::{Deserialize, Serialize};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;

macro_rules! kinds {
    ($($(#[$doc:meta])* $v:ident = $s:literal, $code:expr;)*) => {
        /// Every `data.kind` an error may carry (stable: clients rely on them).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorKind {
            $($(#[$doc])* $v,)*
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

            /// The kind of a `data.kind` string.
            pub fn parse(s: &str) -> Option<ErrorKind> {
                match s { $($s => Some(ErrorKind::$v),)* _ => None }
            }
        }
    };
}

kinds! {
    /// Not a JSON-RPC request (or not JSON), a line too long.
    InvalidRequest = "invalid_request", INVALID_REQUEST;
    MethodNotFound = "method_not_found", METHOD_NOT_FOUND;
    /// Wrong or unknown parameters, unknown reader, several candidate
    /// readers, malformed PIN.
    InvalidParams = "invalid_params", INVALID_PARAMS;
    NoCard = "no_card", -32001;
    CardRemoved = "card_removed", -32002;
    WrongCardType = "wrong_card_type", -32003;
    UnsupportedCard = "unsupported_card", -32004;
    /// `data.tries_left`.
    PinIncorrect = "pin_incorrect", -32005;
    /// `data.reason: "usage_counter"`, `data.tries_left: 0` when a CPS3's
    /// PIN usage counter is spent.
    PinBlocked = "pin_blocked", -32006;
    PinRequired = "pin_required", -32007;
    ReaderBusy = "reader_busy", -32008;
    ReaderGone = "reader_gone", -32009;
    Transport = "transport", -32010;
    PinLastTry = "pin_last_try", -32011;
    PinCancelled = "pin_cancelled", -32012;
    PinTimeout = "pin_timeout", -32013;
    /// `data.tries_left`.
    PukIncorrect = "puk_incorrect", -32014;
    PukBlocked = "puk_blocked", -32015;
    NotAllowed = "not_allowed", -32016;
    RateLimited = "rate_limited", -32017;
    CardBeingUpdated = "card_being_updated", -32018;
    /// A bug.
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
    #[serde(with = "kind_or_unknown")]
    pub kind: Option<ErrorKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<BlockReason>,
}

mod kind_or_unknown {
    use super::ErrorKind;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(k: &Option<ErrorKind>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.map_or("", ErrorKind::as_str))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ErrorKind>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.and_then(|s| ErrorKind::parse(&s)))
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: ErrorData,
}

impl RpcError {
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

    pub fn kind(&self) -> Option<ErrorKind> {
        self.data.kind
    }

    pub fn with_tries_left(mut self, tries_left: u8) -> Self {
        self.data.tries_left = Some(tries_left);
        self
    }

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
        let plain = json!({"code": -32005, "message": "m", "data": {"kind": "pin_incorrect", "tries_left": 2}});
        let e: RpcError = serde_json::from_value(plain.clone()).unwrap();
        assert_eq!(e.kind(), Some(ErrorKind::PinIncorrect));
        assert_eq!(serde_json::to_value(&e).unwrap(), plain);
        let future: RpcError =
            serde_json::from_value(json!({"code": -32099, "message": "m", "data": {"kind": "new_kind"}})).unwrap();
        assert_eq!(future.kind(), None);
    }
}
