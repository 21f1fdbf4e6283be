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

/// The profile of one CPS generation: the whole `cps3.toml` or `cps4.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpsProfile {
    /// The command dialect (`"cps3"` or `"cps4"`).
    pub generation: Generation,
    /// The PKCS#15 application (`[application]`).
    pub application: Application,
    /// How files are read and selected (`[read]`).
    pub read: Read,
    /// The PIN (`[pin]`).
    pub pin: PinProfile,
    /// How the files are found (`[discovery]`).
    pub discovery: Discovery,
    /// Where the files are when PKCS#15 discovery fails or is off (`[files]`).
    pub files: Files,
    /// PKCS#15 labels of the objects (`[labels]`).
    pub labels: Labels,
    /// The private keys (`[keys]`).
    pub keys: Keys,
    /// Algorithm references for MSE (`[algorithms]`).
    pub algorithms: Algorithms,
    /// How the authentication key makes a PKCS#1 v1.5 signature; absent = the
    /// generation's usual command (see [`CpsProfile::authentication_pkcs1`]).
    #[serde(default)]
    pub authentication: Option<Authentication>,
    /// Tags of the data objects' fields (`[objects]`).
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
    /// Its label (`CPS_SIT_FACT`).
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

/// How the authentication key makes a PKCS#1 v1.5 signature (`[authentication]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authentication {
    /// The command used.
    pub pkcs1: AuthPkcs1,
    /// The key id in MSE `41 B8 {83 01 <id>}` (needed by `decipher`).
    #[serde(default)]
    pub decipher_key: Option<u8>,
}

/// The CPS's PKCS#15 application.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Its AID, selected with P2 0C.
    pub aid: Hex,
    /// CLA of every command to it (00: basic channel; 01 on the CPS4).
    pub cla: u8,
    /// Its DF, used when EF.DIR does not give one (e.g. `3F00 0001`).
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
    /// What to select, in order, before the application again.
    pub steps: Vec<SelectStep>,
}

/// One SELECT by AID of a [`Reselect`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectStep {
    /// Its CLA.
    pub cla: u8,
    /// The AID selected.
    pub aid: Hex,
}

/// How files are read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Read {
    /// Largest READ BINARY, in bytes (1 to 256; CPS3: `0xE7`, Cryptolib's max_recv).
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

/// How PIN digits are sent in VERIFY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinEncoding {
    /// As ASCII characters, one byte a digit.
    Ascii,
}

/// How the tries left are read without using one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryCounter {
    /// GET DATA on the CHV SDO (CPS3, Cryptolib).
    GetData,
    /// VERIFY without data (CPS4; ISO 7816-4).
    VerifyEmpty,
}

/// Padding of the PIN in VERIFY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Padding {
    /// The pad byte (e.g. `0xFF`).
    pub char: u8,
    /// The padded length, in bytes (`max_length` to 64).
    pub length: usize,
}

/// The PIN and how it is verified.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinProfile {
    /// VERIFY P2: the PIN's reference (CPS3: `0x01`, the global CHV).
    pub reference: u8,
    /// How the digits are sent.
    pub encoding: PinEncoding,
    /// Fewest characters accepted (at least 1).
    pub min_length: usize,
    /// Most characters accepted (at most 64).
    pub max_length: usize,
    /// Padding (absent: the PIN is sent as typed).
    pub padding: Option<Padding>,
    /// How the tries left are read.
    pub retry_counter: RetryCounter,
    /// Whether the MF is selected before reading the tries left (the CHV SDO is
    /// global; as Cryptolib does on the CPS3).
    pub counter_select_mf: bool,
    /// Tries reported as the maximum when the card gives none (1 to 15).
    pub tries_max: u8,
    /// Whether the card forgets the PIN after each signature, so it is verified
    /// again before the next.
    pub reverify_before_signature: bool,
}

/// How the files are found.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discovery {
    /// Find them through PKCS#15 (EF.DIR, ODF, then PrKDF, CDF, AODF, DODF);
    /// false: use the paths in [`Files`] directly.
    pub pkcs15: bool,
    /// EF.DIR's path (`3F00 2F00`).
    pub dir: FilePath,
    /// The ODF's file id, relative to the application DF (`5031`).
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

/// Consecutive files, one per situation (activity): `count` file ids from `first`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Situations {
    /// The first one's path.
    pub first: FilePath,
    /// How many (at most 16).
    pub count: u8,
}

/// Where the files are when PKCS#15 discovery fails or is off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Files {
    /// The card serial number EF.
    pub serial: FilePath,
    /// EF_ACTUA, whose state says whether an update of the data was interrupted.
    pub actua: FilePath,
    /// The signature certificate.
    pub signature_certificate: FilePath,
    /// The authentication certificate.
    pub authentication_certificate: FilePath,
    /// The card data object (`CPS_ID_CARD`).
    pub id_card: FilePath,
    /// The holder's name object (`CPS_NAME_PS`).
    pub name: FilePath,
    /// The holder's professional information object (`CPS_INFO_PS`).
    pub info: FilePath,
    /// The `CPS_DATA` object (absent: not read).
    pub data: Option<FilePath>,
    /// The situation objects (`CPS_ACTIVITY_nn_PS`).
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

/// PKCS#15 labels of the objects (public: Cryptolib's "Labels des cartes CPS").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    /// The signature certificate's.
    pub signature_certificate: String,
    /// The authentication certificate's.
    pub authentication_certificate: String,
    /// The signature key's (`CPS_PRIV_SIG`).
    pub signature_key: String,
    /// The authentication key's (`CPS_PRIV_AUT`).
    pub authentication_key: String,
    /// The card data object's (`CPS_ID_CARD`).
    pub id_card: String,
    /// The name object's (`CPS_NAME_PS`).
    pub name: String,
    /// The information object's (`CPS_INFO_PS`).
    pub info: String,
    /// The `CPS_DATA` object's.
    pub data: String,
    /// The situations' label, `{nn}` standing for 01 … 16.
    pub situation: String,
}

impl Labels {
    /// The label of situation `index` (1-based): `{nn}` → `01` … `16`.
    pub fn situation(&self, index: u8) -> String {
        self.situation.replace("{nn}", &format!("{index:02}"))
    }
}

/// One private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyProfile {
    /// Its key reference in MSE (CPS3: `0x81` signature, `0x82` authentication).
    pub reference: u8,
    /// Its RSA modulus size, in bits (a multiple of 8 from 512 to 4096).
    pub modulus_bits: usize,
}

/// The two private keys.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// The signature (non-repudiation) key.
    pub signature: KeyProfile,
    /// The authentication key.
    pub authentication: KeyProfile,
}

/// Algorithm references written in MSE.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Algorithms {
    /// The signature key, SHA-256 with PKCS#1 v1.5 (CPS3: `0x42`).
    pub sha256_pkcs1: u8,
    /// SHA-256 with RSA-PSS (absent: the card does no PSS, as the CPS3).
    pub sha256_pss: Option<u8>,
    /// The authentication key with PKCS#1 v1.5 (CPS3: `0x02`, over a DigestInfo).
    pub authentication_pkcs1: Option<u8>,
}

/// Tags of the card data object (`CPS_ID_CARD`); an absent tag is not read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdCardTags {
    /// The object's template (absent: the fields are at top level).
    pub template: Option<Tag>,
    /// Card type.
    pub card_type: Option<Tag>,
    /// Card category.
    pub category: Option<Tag>,
    /// Card serial number.
    pub serial: Option<Tag>,
    /// Start of validity.
    pub validity_start: Option<Tag>,
    /// End of validity.
    pub validity_end: Option<Tag>,
}

/// Tags of the holder's name object (`CPS_NAME_PS`); an absent tag is not read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameTags {
    /// The object's template (absent: the fields are at top level).
    pub template: Option<Tag>,
    /// Type of the national identifier.
    pub id_type: Option<Tag>,
    /// National identifier (e.g. RPPS).
    pub national_id: Option<Tag>,
    /// Civility code.
    pub civility: Option<Tag>,
    /// Surname.
    pub surname: Option<Tag>,
    /// Given name.
    pub given_name: Option<Tag>,
}

/// Tags of the holder's information object (`CPS_INFO_PS`); an absent tag is not read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfoTags {
    /// The object's template (absent: the fields are at top level).
    pub template: Option<Tag>,
    /// Profession code.
    pub profession: Option<Tag>,
    /// Professional category code.
    pub category: Option<Tag>,
    /// Specialty code.
    pub specialty: Option<Tag>,
}

/// Tags of a situation object (`CPS_ACTIVITY_nn_PS`); an absent tag is not read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SituationTags {
    /// The object's template (absent: the fields are at top level).
    pub template: Option<Tag>,
    /// Practice mode.
    pub mode: Option<Tag>,
    /// Status.
    pub status: Option<Tag>,
    /// Type of the structure's identifier.
    pub structure_id_type: Option<Tag>,
    /// The structure's name.
    pub structure_name: Option<Tag>,
    /// The structure's identifier.
    pub structure_id: Option<Tag>,
    /// Activity sector.
    pub sector: Option<Tag>,
}

/// Tags of the data objects' fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objects {
    /// The card data object.
    pub id_card: IdCardTags,
    /// The holder's name.
    pub name: NameTags,
    /// The holder's professional information.
    pub info: InfoTags,
    /// Each situation.
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
