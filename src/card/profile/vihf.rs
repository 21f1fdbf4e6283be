//! The VIHF profile (`profiles/vihf.toml`): what the public samples of the DMP
//! assertion do not settle (attribute-name casing, digest, code systems,
//! optional parts). Used by `crate::dmp`.

use super::Invalid;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Digest of the XML-DSig reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VihfDigest {
    /// SHA-256 (`"sha256"`, current implementations).
    Sha256,
    /// SHA-1 (`"sha1"`, the 2019 samples).
    Sha1,
}

/// The XML-DSig signature of the assertion (`[signature]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VihfSignature {
    /// Signature method; only `"rsa-sha256"` ([`VIHF_RSA_SHA256`]) is accepted.
    pub method: String,
    /// Digest of the reference.
    pub digest: VihfDigest,
    /// InclusiveNamespaces PrefixList of the exc-c14n transform: prefixes or
    /// `#default` (default profile: none).
    pub inclusive_prefixes: Vec<String>,
}

/// Attribute names written in the assertion (`[names]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VihfNames {
    /// The holder's structure identifier (`Identifiant_Structure`).
    pub structure: String,
    /// The activity sector (`Secteur_Activite`).
    pub sector: String,
    /// The holder's role (XACML subject role).
    pub role: String,
    /// The VIHF version (`VIHF_Version`).
    pub version: String,
    /// The authentication mode (`Authentification_mode`).
    pub mode: String,
    /// The patient's identifier (XACML resource-id).
    pub patient: String,
    /// The resource URN (`Ressource_URN`).
    pub resource_urn: String,
    /// The purpose of use (XSPA purposeofuse).
    pub purpose_of_use: String,
    /// The holder's name (XSPA subject-id), written only when enabled.
    pub subject_id: String,
    /// The software's identifier (`LPS_ID`).
    pub lps_id: String,
    /// The software's name (`LPS_Nom`).
    pub lps_name: String,
    /// The software's version (`LPS_Version`).
    pub lps_version: String,
    /// The software's DMP homologation number (`LPS_ID_HOMOLOGATION_DMP`).
    pub lps_homologation: String,
}

/// Code system OIDs of coded attribute values (`[code_systems]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VihfCodeSystems {
    /// Profession codes (`1.2.250.1.71.1.2.7`).
    pub profession: String,
    /// Specialty codes (`1.2.250.1.71.4.2.5`).
    pub specialty: String,
    /// Activity sector codes (`1.2.250.1.71.4.2.4`).
    pub sector: String,
    /// PurposeOfUse codes (`1.2.250.1.213.1.1.4.248`).
    pub purpose_of_use: String,
    /// The PurposeOfUse code system's name (`mode acces VIHF 2.0`).
    pub purpose_of_use_name: String,
}

/// The VIHF profile: the whole `vihf.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VihfProfile {
    /// The VIHF version written (default profile: `3.0`).
    pub version: String,
    /// Accepted authentication modes (non-empty; default profile: DIRECTE,
    /// INDIRECTE, INDIRECTE_RENFORCEE).
    pub modes: Vec<String>,
    /// The resource URN written (default profile: `urn:dmp`).
    pub resource_urn: String,
    /// Seconds of validity written in a Conditions element; 0 writes no
    /// Conditions (the default profile).
    pub validity_seconds: u32,
    /// Whether the holder's "given name surname" is written as subject-id
    /// (default profile: false).
    pub subject_id: bool,
    /// How the assertion is signed.
    pub signature: VihfSignature,
    /// OID → keyword of the attribute types written by name in the Issuer.
    pub issuer_keywords: BTreeMap<String, String>,
    /// Attribute names.
    pub names: VihfNames,
    /// Code system OIDs.
    pub code_systems: VihfCodeSystems,
    /// PurposeOfUse code → displayName.
    pub purposes: BTreeMap<String, String>,
}

/// The one signature method the card path provides.
pub const VIHF_RSA_SHA256: &str = "rsa-sha256";

impl VihfProfile {
    /// Checks the signature method, that modes and purposes are not empty, that
    /// texts have no control character, and the shape of inclusive prefixes.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.signature.method != VIHF_RSA_SHA256 {
            return Err(format!(
                "signature.method {:?}: only \"rsa-sha256\" (the card signs SHA-256 with PKCS#1 v1.5)",
                self.signature.method
            )
            .into());
        }
        if self.modes.is_empty() || self.purposes.is_empty() {
            return Err("`modes` and [purposes] must not be empty".into());
        }
        let texts = [&self.version, &self.resource_urn]
            .into_iter()
            .chain(self.modes.iter())
            .chain(self.issuer_keywords.values())
            .chain(self.purposes.keys());
        for t in texts {
            if t.is_empty() || t.chars().any(char::is_control) {
                return Err(format!("{t:?}: empty or with a control character").into());
            }
        }
        for p in &self.signature.inclusive_prefixes {
            let ok = p == "#default"
                || (!p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c)));
            if !ok {
                return Err(format!("inclusive prefix {p:?} is not a prefix or #default").into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, VIHF_TOML};
    use super::*;

    #[test]
    fn refusals_name_the_file() {
        let p = parse::<VihfProfile>("vihf.toml", VIHF_TOML, VihfProfile::validate).unwrap();
        assert_eq!(p.purposes["normal"], "Accès normal");
        assert_eq!(p.issuer_keywords["2.5.4.3"], "CN");
        let sha1 = VIHF_TOML.replace("method = \"rsa-sha256\"", "method = \"rsa-sha1\"");
        let e = parse::<VihfProfile>("d/vihf.toml", &sha1, VihfProfile::validate).unwrap_err();
        assert!(
            e.to_string().starts_with("d/vihf.toml: ") && e.message.contains("PKCS#1"),
            "{e}"
        );
        let digest = VIHF_TOML.replace("digest = \"sha256\"", "digest = \"md5\"");
        let e = parse::<VihfProfile>("f", &digest, VihfProfile::validate).unwrap_err();
        assert!(e.line.is_some(), "{e}");
        let prefix = VIHF_TOML.replace("inclusive_prefixes = []", "inclusive_prefixes = [\"a b\"]");
        assert!(parse::<VihfProfile>("f", &prefix, VihfProfile::validate).is_err());
        let empty = VIHF_TOML.replace("version = \"3.0\"", "version = \"\"");
        assert!(parse::<VihfProfile>("f", &empty, VihfProfile::validate).is_err());
    }
}
