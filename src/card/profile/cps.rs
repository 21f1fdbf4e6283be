//! The CPS profile (`profiles/cps3.toml`, `cps4.toml`): everything about a
//! CPS generation that is not public. The format is documented in the files.

use super::hex::{Fid, FilePath, Hex, Tag};
use super::Invalid;
use serde::Deserialize;

/// Which command dialect the card speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generation {
    /// IAS-ECC: MSE `41`, PSO CDS for the signature key, INTERNAL
    /// AUTHENTICATE for the authentication key, PKCS#1 v1.5 only.
    Cps3,
    /// ChipDoc: MSE `81 B6 91 02` + PSO CDS (the signature key, and RSA-PSS
    /// with either key), RSA-PSS too; the authentication key's PKCS#1 v1.5
    /// signature as [`CpsProfile::authentication`] says.
    Cps4,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpsProfile {
    pub generation: Generation,
    pub application: Application,
    pub read: Read,
    pub pin: PinProfile,
    pub discovery: Discovery,
    pub files: Files,
    pub labels: Labels,
    pub keys: Keys,
    pub algorithms: Algorithms,
    /// How the authentication key makes a PKCS#1 v1.5 signature; absent = the
    /// generation's usual command (see [`CpsProfile::authentication_pkcs1`]).
    #[serde(default)]
    pub authentication: Option<Authentication>,
    pub objects: Objects,
    /// The CPS2ter volet's objects (a CPS3 only, as in Cryptolib).
    #[serde(default)]
    pub cps2ter: Option<Cps2ter>,
}

/// The CPS2ter volet of a CPS3 (class `A0`): the objects Cryptolib adds
/// after the DODF's, private (public-sources §1.2.6).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cps2ter {
    /// `CPS_SIT_FACT`, the billing situation.
    pub billing: FilePath,
    pub billing_label: String,
    /// `CPS2TER_ACTIVITY_nn_PS`, one per `CPS_ACTIVITY_nn_PS` of the DODF.
    pub activities: Situations,
    /// `{nn}` = 01 … 16.
    pub activity_label: String,
}

/// The command that makes a PKCS#1 v1.5 signature with the authentication key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthPkcs1 {
    /// MSE `41 A4 {80 alg, 84 key}` + INTERNAL AUTHENTICATE over the
    /// DigestInfo; the card pads (IAS-ECC).
    InternalAuthenticate,
    /// MSE `81 B6 {91 02 alg key}` + PSO CDS over the SHA-256 digest.
    PsoCds,
    /// MSE `41 B8 {83 01 key}` + PSO DECIPHER (`2A 80 86`, chained) over a
    /// PKCS#1 type-01 block the host builds around the DigestInfo; the card's
    /// raw RSA result is the signature (ChipDoc, Cryptolib `card-cps4.c`).
    Decipher,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authentication {
    pub pkcs1: AuthPkcs1,
    /// The key id in MSE `41 B8 {83 01 <id>}` (needed by `decipher`).
    #[serde(default)]
    pub decipher_key: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub aid: Hex,
    pub cla: u8,
    pub path: FilePath,
    /// What to select before selecting the application again when its
    /// SELECT answers a given status (absent: no second try).
    #[serde(default)]
    pub reselect: Option<Reselect>,
}

/// A recovery for an application that refuses to be selected: SELECT each
/// step's AID (P1 04 P2 0C) on its CLA, then the application again, once.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reselect {
    /// The status word of the application's SELECT that starts it (`69 85`).
    pub status: Hex,
    pub steps: Vec<SelectStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectStep {
    pub cla: u8,
    pub aid: Hex,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Read {
    pub chunk: usize,
    /// How a file is selected by its path (absent: `mf_path`).
    #[serde(default)]
    pub select: PathSelection,
}

/// How SELECT names a file given by its path from the MF.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathSelection {
    /// P1 09 with the whole path, `3F00` first (IAS-ECC, CPS3).
    #[default]
    MfPath,
    /// `3F00` left out; one file id: P1 00; more: the last file id with P1 09
    /// (from the current DF), and on `6A 82` the first file id with P1 00
    /// then the rest with P1 09 (Cryptolib `card-cps4.c`, CPS4).
    Relative,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinEncoding {
    Ascii,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryCounter {
    /// GET DATA on the CHV SDO (CPS3, Cryptolib).
    GetData,
    /// VERIFY without data (CPS4; ISO 7816-4).
    VerifyEmpty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Padding {
    pub char: u8,
    pub length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinProfile {
    pub reference: u8,
    pub encoding: PinEncoding,
    pub min_length: usize,
    pub max_length: usize,
    pub padding: Option<Padding>,
    pub retry_counter: RetryCounter,
    pub counter_select_mf: bool,
    pub tries_max: u8,
    pub reverify_before_signature: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discovery {
    pub pkcs15: bool,
    pub dir: FilePath,
    pub odf: Fid,
    /// The AID of the PKCS#15 application's EF.DIR entry (absent: the
    /// application's own AID).
    #[serde(default)]
    pub dir_aid: Option<Hex>,
}

impl Discovery {
    /// The AID to look for in EF.DIR.
    pub fn dir_aid<'a>(&'a self, application: &'a Application) -> &'a [u8] {
        self.dir_aid.as_ref().unwrap_or(&application.aid).0.as_slice()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Situations {
    pub first: FilePath,
    pub count: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Files {
    pub serial: FilePath,
    pub actua: FilePath,
    pub signature_certificate: FilePath,
    pub authentication_certificate: FilePath,
    pub id_card: FilePath,
    pub name: FilePath,
    pub info: FilePath,
    pub data: Option<FilePath>,
    pub situations: Situations,
}

impl Files {
    /// The pinned path of situation `index` (1-based).
    pub fn situation(&self, index: u8) -> Option<Vec<u8>> {
        self.situations.path(index)
    }
}

impl Situations {
    /// The path of number `index` (1-based): `first`'s last file id + index - 1.
    pub fn path(&self, index: u8) -> Option<Vec<u8>> {
        if index == 0 || index > self.count {
            return None;
        }
        let mut path = self.first.0.clone();
        let n = path.len();
        let fid = u16::from_be_bytes([path[n - 2], path[n - 1]]).checked_add(u16::from(index) - 1)?;
        path[n - 2..].copy_from_slice(&fid.to_be_bytes());
        Some(path)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    pub signature_certificate: String,
    pub authentication_certificate: String,
    pub signature_key: String,
    pub authentication_key: String,
    pub id_card: String,
    pub name: String,
    pub info: String,
    pub data: String,
    pub situation: String,
}

impl Labels {
    /// The label of situation `index` (1-based): `{nn}` → `01` … `16`.
    pub fn situation(&self, index: u8) -> String {
        self.situation.replace("{nn}", &format!("{index:02}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyProfile {
    pub reference: u8,
    pub modulus_bits: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    pub signature: KeyProfile,
    pub authentication: KeyProfile,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Algorithms {
    pub sha256_pkcs1: u8,
    pub sha256_pss: Option<u8>,
    pub authentication_pkcs1: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdCardTags {
    pub template: Option<Tag>,
    pub card_type: Option<Tag>,
    pub category: Option<Tag>,
    pub serial: Option<Tag>,
    pub validity_start: Option<Tag>,
    pub validity_end: Option<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameTags {
    pub template: Option<Tag>,
    pub id_type: Option<Tag>,
    pub national_id: Option<Tag>,
    pub civility: Option<Tag>,
    pub surname: Option<Tag>,
    pub given_name: Option<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfoTags {
    pub template: Option<Tag>,
    pub profession: Option<Tag>,
    pub category: Option<Tag>,
    pub specialty: Option<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SituationTags {
    pub template: Option<Tag>,
    pub mode: Option<Tag>,
    pub status: Option<Tag>,
    pub structure_id_type: Option<Tag>,
    pub structure_name: Option<Tag>,
    pub structure_id: Option<Tag>,
    pub sector: Option<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objects {
    pub id_card: IdCardTags,
    pub name: NameTags,
    pub info: InfoTags,
    pub situation: SituationTags,
}

impl CpsProfile {
    /// How the authentication key signs with PKCS#1 v1.5: the profile's
    /// `[authentication]`, else what the generation's dialect had before
    /// the profile said it.
    pub fn authentication_pkcs1(&self) -> AuthPkcs1 {
        match (self.authentication, self.generation) {
            (Some(a), _) => a.pkcs1,
            (None, Generation::Cps3) => AuthPkcs1::InternalAuthenticate,
            (None, Generation::Cps4) => AuthPkcs1::PsoCds,
        }
    }

    /// Checks what serde cannot: ranges and consistency.
    pub fn validate(&self) -> Result<(), Invalid> {
        let p = &self.pin;
        if !(1..=256).contains(&self.read.chunk) {
            return Err("read.chunk must be 1 to 256".into());
        }
        if p.min_length == 0 || p.min_length > p.max_length || p.max_length > 64 {
            return Err("pin: need 1 <= min_length <= max_length <= 64".into());
        }
        if p.padding
            .is_some_and(|pad| pad.length < p.max_length || pad.length > 64)
        {
            return Err("pin.padding.length must be max_length to 64".into());
        }
        if p.tries_max == 0 || p.tries_max > 15 {
            return Err("pin.tries_max must be 1 to 15".into());
        }
        for k in [self.keys.signature, self.keys.authentication] {
            if !(512..=4096).contains(&k.modulus_bits) || k.modulus_bits % 8 != 0 {
                return Err("keys: modulus_bits must be a multiple of 8 from 512 to 4096".into());
            }
        }
        let s = &self.files.situations;
        if s.count > 16 {
            return Err("files.situations.count is at most 16".into());
        }
        if self.files.situation(s.count.max(1)).is_none() {
            return Err("files.situations runs past file id FFFF".into());
        }
        if !self.labels.situation.contains("{nn}") {
            return Err("labels.situation must contain {nn}".into());
        }
        if let Some(c) = &self.cps2ter {
            if c.activities.count > 16 || c.activities.path(c.activities.count.max(1)).is_none() {
                return Err("cps2ter.activities: at most 16, file ids up to FFFF".into());
            }
            if !c.activity_label.contains("{nn}") {
                return Err("cps2ter.activity_label must contain {nn}".into());
            }
        }
        if self.authentication_pkcs1() == AuthPkcs1::InternalAuthenticate
            && self.algorithms.authentication_pkcs1.is_none()
        {
            return Err("internal_authenticate needs algorithms.authentication_pkcs1".into());
        }
        if self.authentication_pkcs1() == AuthPkcs1::Decipher
            && self.authentication.and_then(|a| a.decipher_key).is_none()
        {
            return Err("authentication.pkcs1 = \"decipher\" needs authentication.decipher_key".into());
        }
        if let Some(r) = &self.application.reselect {
            if r.status.0.len() != 2 {
                return Err("application.reselect.status is a status word (two bytes)".into());
            }
            if r.steps.is_empty() || r.steps.len() > 4 {
                return Err("application.reselect.steps: 1 to 4 steps".into());
            }
        }
        Ok(())
    }
}
