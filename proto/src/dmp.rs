//! `dmp.vihf`: a signed VIHF 3.0 assertion (docs/vihf.md).

use crate::bytes::b64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The situation d'exercice: its index in `cps.info` or its structure id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SituationRef {
    Index(u8),
    StructureId(String),
}

/// The patient's INS and the OID of its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    pub ins: String,
    pub oid: String,
}

/// The practice software (LPS_ID, LPS_Nom, LPS_Version, LPS_ID_HOMOLOGATION_DMP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lps {
    pub id: String,
    pub name: String,
    pub version: String,
    pub homologation: String,
}

fn default_mode() -> String {
    "DIRECTE".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VihfParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<Zeroizing<String>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinpad: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_last_try: bool,
    pub situation: SituationRef,
    pub patient: Patient,
    /// One of the VIHF profile's PurposeOfUse codes.
    pub purpose_of_use: String,
    pub lps: Lps,
    /// Authentification_mode, one of the VIHF profile's.
    #[serde(default = "default_mode")]
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vihf {
    /// The signed `saml2:Assertion`, UTF-8 XML without declaration.
    pub assertion: String,
    /// The same bytes, base64.
    #[serde(rename = "assertion_b64", with = "b64")]
    pub assertion_bytes: Vec<u8>,
    pub id: String,
    pub issue_instant: String,
    /// From the Conditions element, `null` when the profile writes none.
    pub not_before: Option<String>,
    pub not_on_or_after: Option<String>,
    /// The index of the situation used.
    pub situation: u8,
}
