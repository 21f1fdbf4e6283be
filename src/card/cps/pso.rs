//! The card's signature commands, shared by `sign` and `authenticate`: MSE
//! SET, PSO COMPUTE DIGITAL SIGNATURE, and the signature in an answer.

use super::super::CardError;
use super::KeyUsage;
use crate::apdu::{transmit, Command, Exchange, StatusWord};
use crate::card::profile::{CpsProfile, Generation};
use serde::{Deserialize, Serialize};

/// Padding scheme of an RSA signature over a SHA-256 digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignScheme {
    /// PKCS#1 v1.5.
    Pkcs1Sha256,
    /// PSS.
    PssSha256,
}

/// MSE SET for signature in the generation's dialect, then PSO COMPUTE
/// DIGITAL SIGNATURE over the digest (the card pads).
pub(super) fn pso_cds(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    usage: KeyUsage,
    scheme: SignScheme,
    digest: &[u8],
) -> Result<Vec<u8>, CardError> {
    let cla = profile.application.cla;
    let key = match usage {
        KeyUsage::Signature => profile.keys.signature,
        KeyUsage::Authentication => profile.keys.authentication,
    };
    match (profile.generation, scheme) {
        (Generation::Cps3, SignScheme::PssSha256) => {
            return Err(CardError::Unsupported("RSA-PSS signatures need a CPS4".into()))
        }
        (Generation::Cps3, SignScheme::Pkcs1Sha256) => {
            let alg = profile.algorithms.sha256_pkcs1;
            set_env(ex, cla, 0x41, 0xB6, &[0x80, 0x01, alg, 0x84, 0x01, key.reference])?;
        }
        (Generation::Cps4, scheme) => {
            let alg = match scheme {
                SignScheme::Pkcs1Sha256 => profile.algorithms.sha256_pkcs1,
                SignScheme::PssSha256 => profile
                    .algorithms
                    .sha256_pss
                    .ok_or_else(|| CardError::Unsupported("no RSA-PSS algorithm in the profile".into()))?,
            };
            set_env(ex, cla, 0x81, 0xB6, &[0x91, 0x02, alg, key.reference])?;
        }
    }
    let resp = transmit(ex, &Command::new(cla, 0x2A, 0x9E, 0x9A).data(digest).le(256))?;
    signature_of(resp, key.modulus_bits / 8)
}

/// The signature in a card's answer, of the key's size.
pub(super) fn signature_of(resp: crate::apdu::Response, expected: usize) -> Result<Vec<u8>, CardError> {
    match resp.sw {
        StatusWord::Ok if resp.data.len() == expected => Ok(resp.data),
        StatusWord::Ok => Err(CardError::Malformed(format!(
            "signature of {} bytes, expected {expected}",
            resp.data.len()
        ))),
        StatusWord::SecurityNotSatisfied => Err(CardError::PinRequired),
        sw => Err(CardError::Status {
            what: "signature",
            sw,
        }),
    }
}

pub(super) fn set_env(ex: &mut dyn Exchange, cla: u8, p1: u8, crt: u8, body: &[u8]) -> Result<(), CardError> {
    match transmit(ex, &Command::new(cla, 0x22, p1, crt).data(body))?.sw {
        StatusWord::Ok => Ok(()),
        StatusWord::SecurityNotSatisfied => Err(CardError::PinRequired),
        sw => Err(CardError::Status { what: "MSE SET", sw }),
    }
}
