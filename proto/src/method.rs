//! Every method, declared once: its name, params and result. The list
//! yields the [`Method`] marker types, [`METHODS`], and [`Request`], the
//! parsed request the daemon matches exhaustively.

use crate::cps::*;
use crate::dmp::{Vihf, VihfParams};
use crate::error::{ErrorKind, RpcError};
use crate::event::Subscribed;
use crate::system::{DaemonInfo, NoParams, ReaderParams, ReaderView};
use crate::trace::{Trace, TraceParams};
use crate::vitale::{VitaleParams, VitaleResult};
use schemars::{Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// A method of the API.
pub trait Method {
    /// The JSON-RPC `method`.
    const NAME: &'static str;
    /// Its params (an object on the wire).
    type Params: Serialize + DeserializeOwned + schemars::JsonSchema;
    /// Its result.
    type Result: Serialize + DeserializeOwned + schemars::JsonSchema;
}

/// What the OpenRPC document says of a method (see [`crate::openrpc`]).
pub(crate) struct MethodDoc {
    pub name: &'static str,
    pub doc: &'static [&'static str],
    pub result_name: &'static str,
    pub errors: &'static [ErrorKind],
    pub example: fn() -> Value,
    pub params: fn(&mut SchemaGenerator) -> Schema,
    pub result: fn(&mut SchemaGenerator) -> Schema,
    /// The notifications that follow the answer: method and params.
    pub notifications: fn(&mut SchemaGenerator) -> Vec<(&'static str, Schema)>,
}

macro_rules! methods {
    ($(
        $(#[doc = $doc:literal])*
        $ty:ident = $name:literal ($params:ty) -> $result:ty as $result_name:literal {
            errors: [$($err:ident),* $(,)?],
            example: $example:tt
            $(, notifications: [$(($note:expr, $note_ty:ty)),* $(,)?])? $(,)?
        }
    )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug, Clone, Copy)]
            pub enum $ty {}

            impl Method for $ty {
                const NAME: &'static str = $name;
                type Params = $params;
                type Result = $result;
            }
        )*

        /// Every method name, in the order of docs/openrpc.json.
        pub const METHODS: &[&str] = &[$($name),*];

        /// A request's method and its params, parsed.
        #[derive(Debug)]
        pub enum Request {
            $(#[doc = concat!("`", $name, "` and its params.")] $ty($params),)*
        }

        impl Request {
            /// Parses `params` as `method`'s: `method_not_found` for an
            /// unknown method, `invalid_params` for params that do not fit.
            pub fn parse(method: &str, params: Value) -> Result<Request, RpcError> {
                match method {
                    $($name => Ok(Request::$ty(parse_params(params)?)),)*
                    m => Err(RpcError::new(ErrorKind::MethodNotFound, format!("unknown method {m:?}"))),
                }
            }

            /// The method's name.
            pub fn method(&self) -> &'static str {
                match self {
                    $(Request::$ty(_) => $name,)*
                }
            }
        }

        pub(crate) fn docs() -> Vec<MethodDoc> {
            vec![$(MethodDoc {
                name: $name,
                doc: &[$($doc),*],
                result_name: $result_name,
                errors: &[$(ErrorKind::$err),*],
                example: || serde_json::json!($example),
                params: |g| g.root_schema_for::<$params>(),
                result: |g| g.root_schema_for::<$result>(),
                notifications: |_g| vec![$($(($note, _g.root_schema_for::<$note_ty>())),*)?],
            }),*]
        }
    };
}

fn parse_params<P: DeserializeOwned>(params: Value) -> Result<P, RpcError> {
    serde_json::from_value(params).map_err(|e| RpcError::invalid_params(e.to_string()))
}

methods! {
    /// The daemon's version and the transports it runs.
    SystemInfo = "system.info" (NoParams) -> DaemonInfo as "info" {
        errors: [],
        example: {},
    }
    /// The reader slots and the cards in them.
    ReadersList = "readers.list" (NoParams) -> Vec<ReaderView> as "readers" {
        errors: [],
        example: {},
    }
    /// Reads every beneficiary of the carte Vitale. A card that has not left
    /// its slot since the last read is answered from lecteurd's cache (no
    /// APDU); `fresh: true` reads the card. A Vitale 1 is refused with
    /// unsupported_card (its layout is not public).
    VitaleRead = "vitale.read" (VitaleParams) -> VitaleResult as "vitale" {
        errors: [NoCard, CardRemoved, WrongCardType, UnsupportedCard],
        example: {},
    }
    /// The CPS: card, holder, profession, certificates, PIN tries. Read once
    /// per card and kept: asking again for the same card sends no APDU.
    /// `situations` and `cps2ter_objects` are null unless this connection has
    /// verified the PIN.
    CpsInfo = "cps.info" (ReaderParams) -> crate::cps::CpsInfo as "info" {
        errors: [NoCard, CardRemoved, WrongCardType, UnsupportedCard, CardBeingUpdated],
        example: {},
    }
    /// Verifies the PIN for this connection: the tries left are read first
    /// (a blocked PIN is never sent), one VERIFY, never retried.
    CpsVerifyPin = "cps.verify_pin" (VerifyPinParams) -> TriesLeft as "verified" {
        errors: [PinIncorrect, PinBlocked, InvalidParams, PinLastTry, PinCancelled, PinTimeout, CardBeingUpdated],
        example: {"pin": "1234"},
    }
    /// The CPS's certificates.
    CpsCertificates = "cps.certificates" (ReaderParams) -> Vec<Certificate> as "certificates" {
        errors: [CardBeingUpdated],
        example: {},
    }
    /// Signs with the signature or authentication key, RSA PKCS#1 v1.5 over
    /// SHA-256 (RSA-PSS on a CPS4). With `pin`, verifies and signs in one
    /// call; without, this connection must have verified the PIN.
    CpsSign = "cps.sign" (SignParams) -> Signature as "signed" {
        errors: [PinIncorrect, PinBlocked, PinRequired, InvalidParams, PinLastTry, CardBeingUpdated],
        example: {"pin": "1234", "key": "signature", "data_b64": "bGVjdGV1cg=="},
    }
    /// Signs with the authentication key (CPS_PRIV_AUT) as a TLS client does:
    /// over a DigestInfo. CPS3: INTERNAL AUTHENTICATE over the DigestInfo
    /// (the card pads with PKCS#1 type 01; SHA-1, SHA-224, SHA-256, SHA-384
    /// or SHA-512, at most 40 % of the modulus). CPS4, PKCS#1 v1.5: MSE 41 B8
    /// {83 01 20} + chained PSO DECIPHER of the type 01 block lecteurd builds
    /// around the DigestInfo (any of the hashes above), as Cryptolib does;
    /// RSA-PSS: PSO CDS over a SHA-256 digest. Same PIN policy as cps.sign.
    CpsAuthenticate = "cps.authenticate" (AuthenticateParams) -> Signature as "signed" {
        errors: [PinIncorrect, PinBlocked, PinRequired, InvalidParams, PinLastTry, CardBeingUpdated],
        example: {"pin": "1234", "data_b64": "bGVjdGV1cg=="},
    }
    /// The CPS data objects as raw bytes with their PKCS#15 labels (CKA_VALUE
    /// of Cryptolib's CKO_DATA objects): CPS_ID_CARD, CPS_NAME_PS,
    /// CPS_LANG_PS, CPS_INFO_PS, CPS_DATA, and the situations
    /// CPS_ACTIVITY_xx_PS (private) only once this connection has verified
    /// the PIN. Objects whose file is absent are left out. After the PIN, a
    /// CPS3 adds its CPS2ter volet's objects, as Cryptolib does:
    /// CPS2TER_ACTIVITY_nn_PS (one per situation the DODF lists) and
    /// CPS_SIT_FACT (the billing situation), raw.
    CpsDataObjects = "cps.data_objects" (ReaderParams) -> DataObjects as "data_objects" {
        errors: [NoCard, PinRequired, CardBeingUpdated],
        example: {},
    }
    /// Changes the PIN; the same policy as a verification (tries read first,
    /// last try only when allowed). The card is reset afterwards.
    CpsChangePin = "cps.change_pin" (ChangePinParams) -> TriesLeft as "changed" {
        errors: [PinIncorrect, PinBlocked, PinLastTry],
        example: {"old": "1234", "new": "1234"},
    }
    /// Unblocks the PIN with the PUK (8 digits) and sets a new PIN. The card
    /// is reset afterwards.
    CpsUnblockPin = "cps.unblock_pin" (UnblockPinParams) -> TriesLeft as "unblocked" {
        errors: [PukIncorrect, PukBlocked],
        example: {"puk": "12345678", "new": "1234"},
    }
    /// Closes this connection's PIN verification: the card is reset.
    CpsLogout = "cps.logout" (ReaderParams) -> LoggedOut as "logout" {
        errors: [],
        example: {},
    }
    /// A signed VIHF 3.0 SAML assertion for the DMP, signed by the CPS
    /// signature key (docs/vihf.md), with the PIN policy of cps.sign.
    DmpVihf = "dmp.vihf" (VihfParams) -> Vihf as "vihf" {
        errors: [PinIncorrect, PinBlocked, PinRequired, InvalidParams, PinLastTry, UnsupportedCard, CardBeingUpdated],
        example: {
            "pin": "1234",
            "situation": 1,
            "patient": {"ins": "207058575627097", "oid": "1.2.250.1.213.1.4.10"},
            "purpose_of_use": "normal",
            "lps": {"id": "01.01.01.01", "name": "Mon LPS", "version": "1.0", "homologation": "NumAutorisation"}
        },
    }
    /// Then notifications {"jsonrpc":"2.0","method":"event","params":Event}
    /// on this connection until it closes.
    EventsSubscribe = "events.subscribe" (NoParams) -> Subscribed as "subscribed" {
        errors: [],
        example: {},
        notifications: [(crate::event::EVENT, crate::event::Event)],
    }
    /// The last exchanges, all slots together (one ring of 512, oldest
    /// first), masked. With `follow: true`, then notifications `trace.apdu` (a
    /// record) for every new exchange on this connection until it closes,
    /// none missing or repeated after `recent`; a client that reads too
    /// slowly loses records and gets `trace.lost` with their count (card
    /// work never waits for it).
    DiagTrace = "diag.trace" (TraceParams) -> Trace as "trace" {
        errors: [],
        example: {"follow": false},
        notifications: [
            (crate::event::TRACE_APDU, crate::trace::TraceRecord),
            (crate::event::TRACE_LOST, crate::trace::TraceLost),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_parse_by_method() {
        let r = Request::parse("cps.sign", json!({"key": "signature", "data_b64": "AAEC"})).unwrap();
        let Request::CpsSign(p) = r else { panic!("{r:?}") };
        assert_eq!(
            (p.key, p.algorithm, p.data),
            (
                KeyUsage::Signature,
                SignAlgorithm::RsaPkcs1Sha256,
                Some(vec![0, 1, 2])
            )
        );
        let e = Request::parse("cps.sign", json!({"key": "signature", "typo": 1})).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::InvalidParams));
        let e = Request::parse("cps.nope", json!({})).unwrap_err();
        assert_eq!(e.code, crate::error::METHOD_NOT_FOUND);
        assert_eq!(METHODS.len(), 15);
        for m in METHODS {
            let r = Request::parse(m, json!({}));
            assert!(r.as_ref().map_or(true, |r| r.method() == *m), "{m}");
        }
    }

    #[test]
    fn params_write_only_what_is_given() {
        let p = VerifyPinParams {
            pin: Some("1234".to_string().into()),
            ..Default::default()
        };
        assert_eq!(serde_json::to_value(&p).unwrap(), json!({"pin": "1234"}));
        let p = AuthenticateParams {
            digest_info: Some(vec![0xff]),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"algorithm": "rsa-pkcs1", "digest_info_b64": "/w=="})
        );
    }
}
