//! Every method, declared once: its name, params and result. The list
//! yields the [`Method`] marker types, [`METHODS`], and [`Request`], the
//! parsed request the daemon matches exhaustively.

use crate::cps::*;
use crate::dmp::{Vihf, VihfParams};
use crate::error::{ErrorKind, RpcError};
use crate::event::Subscribed;
use crate::system::{DaemonInfo, NoParams, ReaderParams, ReaderView};
use crate::trace::{Trace, TraceParams};
use crate::vitale::VitaleParams;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// A method of the API.
pub trait Method {
    /// The JSON-RPC `method`.
    const NAME: &'static str;
    type Params: Serialize + DeserializeOwned;
    type Result: Serialize + DeserializeOwned;
}

macro_rules! methods {
    ($($(#[$doc:meta])* $ty:ident = $name:literal ($params:ty) -> $result:ty;)*) => {
        $(
            $(#[$doc])*
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
            $($ty($params),)*
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

            pub fn method(&self) -> &'static str {
                match self {
                    $(Request::$ty(_) => $name,)*
                }
            }
        }
    };
}

fn parse_params<P: DeserializeOwned>(params: Value) -> Result<P, RpcError> {
    serde_json::from_value(params).map_err(|e| RpcError::invalid_params(e.to_string()))
}

methods! {
    /// The daemon's version and transports.
    SystemInfo = "system.info" (NoParams) -> DaemonInfo;
    /// The slots and their cards.
    ReadersList = "readers.list" (NoParams) -> Vec<ReaderView>;
    /// A Vitale 2 card: beneficiaries, certificates, and what is not mapped.
    VitaleRead = "vitale.read" (VitaleParams) -> crate::vitale::VitaleResult;
    /// The CPS's card, holder, profession, certificates, PIN and, once this
    /// connection has verified the PIN, situations and CPS2ter objects.
    CpsInfo = "cps.info" (ReaderParams) -> crate::cps::CpsInfo;
    /// Verifies the PIN for this connection.
    CpsVerifyPin = "cps.verify_pin" (VerifyPinParams) -> TriesLeft;
    CpsCertificates = "cps.certificates" (ReaderParams) -> Vec<Certificate>;
    /// Signs with the signature or authentication key.
    CpsSign = "cps.sign" (SignParams) -> Signature;
    /// Signs a DigestInfo with the authentication key, as a TLS client does.
    CpsAuthenticate = "cps.authenticate" (AuthenticateParams) -> Signature;
    /// The CPS data objects as the card holds them.
    CpsDataObjects = "cps.data_objects" (ReaderParams) -> DataObjects;
    CpsChangePin = "cps.change_pin" (ChangePinParams) -> TriesLeft;
    CpsUnblockPin = "cps.unblock_pin" (UnblockPinParams) -> TriesLeft;
    /// Closes this connection's verification (card reset).
    CpsLogout = "cps.logout" (ReaderParams) -> LoggedOut;
    /// A VIHF 3.0 SAML assertion signed by the CPS signature key.
    DmpVihf = "dmp.vihf" (VihfParams) -> Vihf;
    /// Card and reader events on this connection from now on.
    EventsSubscribe = "events.subscribe" (NoParams) -> Subscribed;
    /// The recent APDU exchanges, masked; with `follow`, every new one.
    DiagTrace = "diag.trace" (TraceParams) -> Trace;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_parse_by_method() {
        let r = Request::parse("cps.sign", json!({"key": "signature", "data_b64": "AAEC"})).unwrap();
        let Request::CpsSign(p) = r else { panic!("{r:?}") };
        assert_eq!((p.key, p.algorithm, p.data), (KeyUsage::Signature, SignAlgorithm::RsaPkcs1Sha256, Some(vec![0, 1, 2])));
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
