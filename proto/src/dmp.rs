//! `dmp.vihf`: a signed VIHF 3.0 assertion (docs/vihf.md).

use crate::bytes::b64;
use crate::cps::signing_params;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The situation d'exercice: its index in `cps.info` or its structure id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SituationRef {
    /// The situation's `index` in cps.info (1 to 16).
    Index(#[schemars(range(min = 1, max = 16))] u8),
    /// The situation's `structure_id`.
    StructureId(String),
}

/// The patient's INS and the OID of its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// The INS: 1 to 32 letters and digits.
    pub ins: String,
    /// The OID of the kind of INS (1.2.250.1.213.1.4.8 NIR, .10 test NIR…).
    pub oid: String,
}

/// The practice software (LPS_ID, LPS_Nom, LPS_Version, LPS_ID_HOMOLOGATION_DMP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lps {
    /// LPS_ID.
    pub id: String,
    /// LPS_Nom.
    pub name: String,
    /// LPS_Version.
    pub version: String,
    /// LPS_ID_HOMOLOGATION_DMP.
    pub homologation: String,
}

fn default_mode() -> String {
    "DIRECTE".into()
}

signing_params! {
/// `dmp.vihf`'s params: the PIN policy of `cps.sign`, then what the
/// assertion says.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VihfParams {
    /// The situation d'exercice: its `index` in cps.info (1 to 16) or its structure id.
    pub situation: SituationRef,
    /// The patient's INS (letters and digits) and the OID of its kind (1.2.250.1.213.1.4.8 NIR, .10 test NIR…): written INS^^^&OID&ISO^NH.
    pub patient: Patient,
    /// PurposeOfUse code, one of the VIHF profile's (normal, urgence, brisDeGlace).
    pub purpose_of_use: String,
    /// The practice software: LPS_ID, LPS_Nom, LPS_Version, LPS_ID_HOMOLOGATION_DMP.
    pub lps: Lps,
    /// Authentification_mode, one of the VIHF profile's.
    #[serde(default = "default_mode")]
    pub mode: String,
}
}

/// `dmp.vihf`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Vihf {
    /// The signed saml2:Assertion (UTF-8 XML, no declaration).
    pub assertion: String,
    /// The same bytes, base64.
    #[serde(rename = "assertion_b64", with = "b64")]
    #[schemars(with = "String", extend("contentEncoding" = "base64"))]
    pub assertion_bytes: Vec<u8>,
    /// The assertion's ID: `_` and a random UUID.
    pub id: String,
    /// Its IssueInstant, UTC: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub issue_instant: String,
    /// From the Conditions element, `null` when the profile writes none.
    pub not_before: Option<String>,
    /// From the Conditions element (same format), `null` when the profile writes none.
    pub not_on_or_after: Option<String>,
    /// The index of the situation used.
    pub situation: u8,
}
