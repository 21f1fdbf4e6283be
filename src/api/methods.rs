//! The methods of the API: typed params in (`lecteur_proto::Request`),
//! service call, typed result out. The contract is `lecteur_proto`'s
//! (docs/api.md, docs/openrpc.json).

use super::rpc::RpcError;
use super::Api;
use crate::card::cps::{parse_digest_info, SignScheme};
use crate::dmp::vihf::{self, Lps};
use crate::service::{AuthInput, ConnId, Freshness, LastTry, PinEntry, SignInput, SituationPick};
use lecteur_proto::cps::{self as p, AuthAlgorithm, SignAlgorithm};
use lecteur_proto::dmp::SituationRef;
use lecteur_proto::method::*;
use lecteur_proto::system::DaemonInfo;
use lecteur_proto::{Method, Request};
use serde_json::Value;
use std::sync::Arc;
use zeroize::Zeroizing;

pub use lecteur_proto::METHODS;

/// A method's result: a typed value to serialise, or JSON text serialised
/// once and shared (a cached Vitale read goes out as it was serialised when
/// the card was read).
pub enum Reply {
    /// A value, serialised into the answer.
    Value(Value),
    /// JSON text, put in the answer as is.
    Json(Arc<str>),
}

/// `M`'s result, checked to be `M`'s type.
fn reply<M: Method>(result: M::Result) -> Result<Reply, RpcError> {
    serde_json::to_value(result)
        .map(Reply::Value)
        .map_err(|e| RpcError::new(lecteur_proto::ErrorKind::Internal, e.to_string()))
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

/// What to sign: the data itself, or what the caller made of it (a digest).
enum Input {
    Data(Vec<u8>),
    Other(Vec<u8>),
}

/// `data_b64` or `other` (named `other_name`): exactly one of them.
fn data_or(data: Option<Vec<u8>>, other: Option<Vec<u8>>, other_name: &str) -> Result<Input, RpcError> {
    match (data, other) {
        (Some(d), None) => Ok(Input::Data(d)),
        (None, Some(o)) => Ok(Input::Other(o)),
        _ => Err(RpcError::invalid_params(format!(
            "give exactly one of data_b64 and {other_name}"
        ))),
    }
}

fn scheme(algorithm: SignAlgorithm) -> SignScheme {
    match algorithm {
        SignAlgorithm::RsaPkcs1Sha256 => SignScheme::Pkcs1Sha256,
        SignAlgorithm::RsaPssSha256 => SignScheme::PssSha256,
    }
}

/// Runs one method. `events.subscribe` and `diag.trace` last beyond their
/// answer: the connection serves them (`connection::handle`).
pub async fn call(api: &Api, conn: ConnId, request: Request) -> Result<Reply, RpcError> {
    let svc = &api.service;
    match request {
        Request::SystemInfo(_) => reply::<SystemInfo>(DaemonInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            transports: api.transports.iter().map(|t| t.to_string()).collect(),
        }),
        Request::ReadersList(_) => reply::<ReadersList>(svc.readers()),
        Request::VitaleRead(p) => {
            let freshness = if p.fresh {
                Freshness::Fresh
            } else {
                Freshness::Cached
            };
            let read = svc.vitale_read(conn, p.reader.as_deref(), freshness).await?;
            Ok(Reply::Json(read.json.clone()))
        }
        Request::CpsInfo(p) => reply::<CpsInfo>(svc.cps_info(conn, p.reader.as_deref()).await?),
        Request::CpsVerifyPin(p) => {
            let entry = pin_entry(p.pin, p.pinpad)?.ok_or_else(|| {
                RpcError::invalid_params("give `pin`, or `pinpad: true` to type it on the reader")
            })?;
            let tries_left = svc
                .cps_verify_pin(conn, p.reader.as_deref(), entry, last_try(p.allow_last_try))
                .await?;
            reply::<CpsVerifyPin>(p::TriesLeft { tries_left })
        }
        Request::CpsCertificates(p) => {
            reply::<CpsCertificates>(svc.cps_certificates(conn, p.reader.as_deref()).await?)
        }
        Request::CpsSign(p) => {
            let input = match data_or(p.data, p.digest, "digest_b64")? {
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
            let scheme = scheme(p.algorithm);
            reply::<CpsSign>(
                svc.cps_sign(conn, p.reader.as_deref(), entry, allow, p.key, scheme, input)
                    .await?,
            )
        }
        Request::CpsAuthenticate(p) => {
            // The DigestInfo names the hash: "rsa-pkcs1" says only the padding.
            let scheme = match p.algorithm {
                AuthAlgorithm::RsaPkcs1 | AuthAlgorithm::RsaPkcs1Sha256 => SignScheme::Pkcs1Sha256,
                AuthAlgorithm::RsaPssSha256 => SignScheme::PssSha256,
            };
            let input = match data_or(p.data, p.digest_info, "digest_info_b64")? {
                Input::Data(data) => AuthInput::Data(data),
                Input::Other(di) if parse_digest_info(&di).is_some() => AuthInput::DigestInfo(di),
                Input::Other(_) => {
                    return Err(RpcError::invalid_params(
                        "digest_info_b64 must be a PKCS#1 DigestInfo (SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512)",
                    ))
                }
            };
            let entry = pin_entry(p.pin, p.pinpad)?;
            let allow = last_try(p.allow_last_try);
            reply::<CpsAuthenticate>(
                svc.cps_authenticate(conn, p.reader.as_deref(), entry, allow, scheme, input)
                    .await?,
            )
        }
        Request::CpsDataObjects(p) => {
            let objects = svc.cps_data_objects(conn, p.reader.as_deref()).await?;
            reply::<CpsDataObjects>(p::DataObjects { objects })
        }
        Request::CpsChangePin(p) => {
            let allow = last_try(p.allow_last_try);
            let tries_left = svc
                .cps_change_pin(conn, p.reader.as_deref(), p.old, p.new, allow)
                .await?;
            reply::<CpsChangePin>(p::TriesLeft { tries_left })
        }
        Request::CpsUnblockPin(p) => {
            let tries_left = svc
                .cps_unblock_pin(conn, p.reader.as_deref(), p.puk, p.new)
                .await?;
            reply::<CpsUnblockPin>(p::TriesLeft { tries_left })
        }
        Request::CpsLogout(p) => {
            let logged_out = svc.cps_logout(conn, p.reader.as_deref()).await?;
            reply::<CpsLogout>(p::LoggedOut { logged_out })
        }
        Request::DmpVihf(p) => {
            let entry = pin_entry(p.pin, p.pinpad)?;
            let situation = match p.situation {
                SituationRef::Index(i) => SituationPick::Index(i),
                SituationRef::StructureId(id) => SituationPick::StructureId(id),
            };
            let request = vihf::Request {
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
            reply::<DmpVihf>(
                svc.dmp_vihf(conn, p.reader.as_deref(), entry, allow, situation, request)
                    .await?,
            )
        }
        Request::EventsSubscribe(_) | Request::DiagTrace(_) => Err(RpcError::new(
            lecteur_proto::ErrorKind::Internal,
            "served by the connection",
        )),
    }
}
