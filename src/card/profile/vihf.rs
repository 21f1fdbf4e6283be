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
    Sha256,
    Sha1,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VihfSignature {
    pub method: String,
    pub digest: VihfDigest,
    pub inclusive_prefixes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VihfNames {
    pub structure: String,
    pub sector: String,
    pub role: String,
    pub version: String,
    pub mode: String,
    pub patient: String,
    pub resource_urn: String,
    pub purpose_of_use: String,
    pub subject_id: String,
    pub lps_id: String,
    pub lps_name: String,
    pub lps_version: String,
    pub lps_homologation: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VihfCodeSystems {
    pub profession: String,
    pub specialty: String,
    pub sector: String,
    pub purpose_of_use: String,
    pub purpose_of_use_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VihfProfile {
    pub version: String,
    pub modes: Vec<String>,
    pub resource_urn: String,
    pub validity_seconds: u32,
    pub subject_id: bool,
    pub signature: VihfSignature,
    /// OID → keyword of the attribute types written by name in the Issuer.
    pub issuer_keywords: BTreeMap<String, String>,
    pub names: VihfNames,
    pub code_systems: VihfCodeSystems,
    /// PurposeOfUse code → displayName.
    pub purposes: BTreeMap<String, String>,
}

/// The one signature method the card path provides.
pub const VIHF_RSA_SHA256: &str = "rsa-sha256";

impl VihfProfile {
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
