//! The methods of the API: parameters in, service call, result out.
//! The contract is documented in docs/api.md and docs/openrpc.json.

use super::rpc::RpcError;
use super::Api;
use crate::card::cps::KeyUsage;
use crate::card::cps::SignScheme;
use crate::dmp::vihf::{Lps, Request};
use crate::service::{AuthInput, ConnId, Freshness, LastTry, PinEntry, SignInput, SituationPick};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Every method name, in the order of docs/openrpc.json.
pub const METHODS: &[&str] = &[
    "system.info",
    "readers.list",
    "vitale.read",
    "cps.info",
    "cps.verify_pin",
    "cps.certificates",
    "cps.sign",
    "cps.authenticate",
    "cps.data_objects",
    "cps.change_pin",
    "cps.unblock_pin",
    "cps.logout",
    "dmp.vihf",
    "events.subscribe",
    "diag.trace",
];

fn params<T: DeserializeOwned>(v: Value) -> Result<T, RpcError> {
    serde_json::from_value(v).map_err(|e| RpcError::invalid_params(e.to_string()))
}

fn to_value<T: serde::Serialize>(v: T) -> Result<Value, RpcError> {
    serde_json::to_value(v).map_err(|e| RpcError::new(super::rpc::INTERNAL_ERROR, "internal", e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReaderParams {
    reader: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VitaleParams {
    reader: Option<String>,
    /// Read the card even when it has not moved since the last read.
    #[serde(default)]
    fresh: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyParams {
    reader: Option<String>,
    pin: Option<Zeroizing<String>>,
    #[serde(default)]
    pinpad: bool,
    #[serde(default)]
    allow_last_try: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeParams {
    reader: Option<String>,
    old: Zeroizing<String>,
    new: Zeroizing<String>,
    #[serde(default)]
    allow_last_try: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnblockParams {
    reader: Option<String>,
    puk: Zeroizing<String>,
    new: Zeroizing<String>,
}

/// The PIN of a request: given, or typed on the reader (never both).
fn pin_entry(pin: Option<Zeroizing<String>>, pinpad: bool) -> Result<Option<PinEntry>, RpcError> {
    match (pin, pinpad) {
        (Some(_), true) => Err(RpcError::invalid_params("give `pin` or `pinpad: true`, not both")),
        (Some(pin), false) => Ok(Some(PinEntry::Given(pin))),
        (None, true) => Ok(Some(PinEntry::Pinpad)),
        (None, false) => Ok(None),
    }
}

fn last_try(allow: bool) -> LastTry {
    if allow {
        LastTry::Allow
    } else {
        LastTry::Refuse
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignParams {
    reader: Option<String>,
    pin: Option<Zeroizing<String>>,
    #[serde(default)]
    pinpad: bool,
    #[serde(default)]
    allow_last_try: bool,
    key: String,
    #[serde(default = "default_algorithm")]
    algorithm: String,
    data_b64: Option<String>,
    digest_b64: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SituationParam {
    Index(u8),
    StructureId(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatientParams {
    ins: String,
    oid: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LpsParams {
    id: String,
    name: String,
    version: String,
    homologation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VihfParams {
    reader: Option<String>,
    pin: Option<Zeroizing<String>>,
    #[serde(default)]
    pinpad: bool,
    #[serde(default)]
    allow_last_try: bool,
    situation: SituationParam,
    patient: PatientParams,
    purpose_of_use: String,
    lps: LpsParams,
    #[serde(default = "default_mode")]
    mode: String,
}

fn default_mode() -> String {
    "DIRECTE".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthenticateParams {
    reader: Option<String>,
    pin: Option<Zeroizing<String>>,
    #[serde(default)]
    pinpad: bool,
    #[serde(default)]
    allow_last_try: bool,
    #[serde(default = "default_auth_algorithm")]
    algorithm: String,
    data_b64: Option<String>,
    digest_info_b64: Option<String>,
}

fn default_auth_algorithm() -> String {
    "rsa-pkcs1".into()
}

fn default_algorithm() -> String {
    "rsa-pkcs1-sha256".into()
}

/// What to sign: the data itself, or what the caller made of it (a digest).
enum Input {
    Data(Vec<u8>),
    Other(Vec<u8>),
}

/// `data_b64` or `other` (named `other_name`), decoded: exactly one of them.
fn data_or(data: &Option<String>, other: &Option<String>, other_name: &str) -> Result<Input, RpcError> {
    match (data, other) {
        (Some(d), None) => Ok(Input::Data(b64("data_b64", d)?)),
        (None, Some(o)) => Ok(Input::Other(b64(other_name, o)?)),
        _ => Err(RpcError::invalid_params(format!(
            "give exactly one of data_b64 and {other_name}"
        ))),
    }
}

fn b64(field: &str, s: &str) -> Result<Vec<u8>, RpcError> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| RpcError::invalid_params(format!("{field} is not base64: {e}")))
}

fn scheme(algorithm: &str) -> Result<SignScheme, RpcError> {
    match algorithm {
        "rsa-pkcs1-sha256" => Ok(SignScheme::Pkcs1Sha256),
        "rsa-pss-sha256" => Ok(SignScheme::PssSha256),
        a => Err(RpcError::invalid_params(format!(
            "unsupported algorithm {a:?} (rsa-pkcs1-sha256, rsa-pss-sha256)"
        ))),
    }
}

/// A method's result: a JSON value, or JSON text serialised once and shared
/// (a cached Vitale read goes out as it was serialised when the card was read).
pub enum Reply {
    Value(Value),
    Json(Arc<str>),
}

/// Runs one method.
pub async fn call(api: &Api, conn: ConnId, method: &str, p: Value) -> Result<Reply, RpcError> {
    if method == "vitale.read" {
        let p: VitaleParams = params(p)?;
        let freshness = if p.fresh {
            Freshness::Fresh
        } else {
            Freshness::Cached
        };
        let read = api
            .service
            .vitale_read(conn, p.reader.as_deref(), freshness)
            .await?;
        return Ok(Reply::Json(read.json.clone()));
    }
    call_value(api, conn, method, p).await.map(Reply::Value)
}

/// Runs one method whose result is built as a JSON value.
async fn call_value(api: &Api, conn: ConnId, method: &str, p: Value) -> Result<Value, RpcError> {
    let svc = &api.service;
    match method {
        "system.info" => {
            params::<NoParams>(p)?;
            Ok(json!({ "version": env!("CARGO_PKG_VERSION"), "transports": api.transports }))
        }
        "readers.list" => {
            params::<NoParams>(p)?;
            to_value(svc.readers())
        }
        "cps.info" => {
            let p: ReaderParams = params(p)?;
            to_value(svc.cps_info(conn, p.reader.as_deref()).await?)
        }
        "cps.verify_pin" => {
            let p: VerifyParams = params(p)?;
            let entry = pin_entry(p.pin, p.pinpad)?.ok_or_else(|| {
                RpcError::invalid_params("give `pin`, or `pinpad: true` to type it on the reader")
            })?;
            let tries_left = svc
                .cps_verify_pin(conn, p.reader.as_deref(), entry, last_try(p.allow_last_try))
                .await?;
            Ok(json!({ "tries_left": tries_left }))
        }
        "cps.certificates" => {
            let p: ReaderParams = params(p)?;
            to_value(svc.cps_certificates(conn, p.reader.as_deref()).await?)
        }
        "cps.sign" => {
            let p: SignParams = params(p)?;
            let usage = match p.key.as_str() {
                "signature" => KeyUsage::Signature,
                "authentication" => KeyUsage::Authentication,
                k => return Err(RpcError::invalid_params(format!("unknown key {k:?}"))),
            };
            let scheme = scheme(&p.algorithm)?;
            let input = match data_or(&p.data_b64, &p.digest_b64, "digest_b64")? {
                Input::Data(data) => SignInput::Data(data),
                Input::Other(digest) if digest.len() == 32 => SignInput::Digest(digest),
                Input::Other(_) => {
                    return Err(RpcError::invalid_params(
                        "digest_b64 must be a 32-byte SHA-256 digest",
                    ))
                }
            };
            let entry = pin_entry(p.pin, p.pinpad)?;
            let allow = last_try(p.allow_last_try);
            to_value(
                svc.cps_sign(conn, p.reader.as_deref(), entry, allow, usage, scheme, input)
                    .await?,
            )
        }
        "cps.authenticate" => {
            let p: AuthenticateParams = params(p)?;
            // The DigestInfo names the hash: "rsa-pkcs1" says only the padding.
            let scheme = match p.algorithm.as_str() {
                "rsa-pkcs1" => SignScheme::Pkcs1Sha256,
                a => scheme(a)?,
            };
            let input = match data_or(&p.data_b64, &p.digest_info_b64, "digest_info_b64")? {
                Input::Data(data) => AuthInput::Data(data),
                Input::Other(di) if crate::card::cps::parse_digest_info(&di).is_some() => AuthInput::DigestInfo(di),
                Input::Other(_) => {
                    return Err(RpcError::invalid_params(
                        "digest_info_b64 must be a PKCS#1 DigestInfo (SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512)",
                    ))
                }
            };
            let entry = pin_entry(p.pin, p.pinpad)?;
            let allow = last_try(p.allow_last_try);
            to_value(
                svc.cps_authenticate(conn, p.reader.as_deref(), entry, allow, scheme, input)
                    .await?,
            )
        }
        "cps.data_objects" => {
            let p: ReaderParams = params(p)?;
            let objects = svc.cps_data_objects(conn, p.reader.as_deref()).await?;
            Ok(json!({ "objects": objects }))
        }
        "cps.change_pin" => {
            let p: ChangeParams = params(p)?;
            let allow = last_try(p.allow_last_try);
            let tries_left = svc
                .cps_change_pin(conn, p.reader.as_deref(), p.old, p.new, allow)
                .await?;
            Ok(json!({ "tries_left": tries_left }))
        }
        "cps.unblock_pin" => {
            let p: UnblockParams = params(p)?;
            let tries_left = svc
                .cps_unblock_pin(conn, p.reader.as_deref(), p.puk, p.new)
                .await?;
            Ok(json!({ "tries_left": tries_left }))
        }
        "cps.logout" => {
            let p: ReaderParams = params(p)?;
            let had = svc.cps_logout(conn, p.reader.as_deref()).await?;
            Ok(json!({ "logged_out": had }))
        }
        "dmp.vihf" => {
            let p: VihfParams = params(p)?;
            let entry = pin_entry(p.pin, p.pinpad)?;
            let situation = match p.situation {
                SituationParam::Index(i) => SituationPick::Index(i),
                SituationParam::StructureId(id) => SituationPick::StructureId(id),
            };
            let request = Request {
                mode: p.mode,
                ins: p.patient.ins,
                ins_oid: p.patient.oid,
                purpose: p.purpose_of_use,
                lps: Lps {
                    id: p.lps.id,
                    name: p.lps.name,
                    version: p.lps.version,
                    homologation: p.lps.homologation,
                },
            };
            let allow = last_try(p.allow_last_try);
            to_value(
                svc.dmp_vihf(conn, p.reader.as_deref(), entry, allow, situation, request)
                    .await?,
            )
        }
        _ => Err(RpcError::new(
            super::rpc::METHOD_NOT_FOUND,
            "method_not_found",
            format!("unknown method {method:?}"),
        )),
    }
}
