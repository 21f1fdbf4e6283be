//! `vitale.read`.

use crate::system::CardView;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VitaleParams {
    /// Reader id (e.g. `pcsc:0`, `serial:0.1`, `sim:1`) or name. May be left out when exactly one slot holds a card of the kind needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    /// Read the card even when it has not moved since the last read (default false: the cached read).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fresh: bool,
}

/// `vitale.read`'s answer: a read is whole or fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VitaleResult {
    pub card: CardView,
    /// Card validity start, raw `AAAAMMJJ`.
    pub validity_start: Option<String>,
    pub beneficiaries: Vec<Beneficiary>,
    /// What the card holds that the profile does not map: nothing is lost.
    pub extra: Vec<Extra>,
    /// Other files POINTERS names, whole.
    pub extra_files: Vec<ExtraFile>,
    /// `7F21`/`5F37`/`5F38` named (cardpeek's names), raw values.
    pub certificates: Vec<CardCertificate>,
    /// EF 2F02 (PAN) as read, hex (its layout is not public); `null` when
    /// the card has none.
    pub pan: Option<String>,
    pub warnings: Vec<String>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Beneficiary {
    /// The 13-character NIR.
    pub nir: String,
    /// Its 2-digit key.
    pub nir_key: String,
    /// The key checks (`97 − n mod 97`, Corsica `2A`→19, `2B`→18).
    pub nir_valid: bool,
    /// Sex, birth year and month, place of birth, as the NIR says.
    pub nir_parts: Option<NirParts>,
    pub surname: String,
    pub first_name: String,
    pub birth_date: BirthDate,
    pub nationality: Option<String>,
    pub rights: Rights,
    pub extra: Vec<Extra>,
}

// NIRs and names stay out of logs.
impl std::fmt::Debug for Beneficiary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Beneficiary { .. }")
    }
}

/// The parts of a NIR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NirParts {
    /// 1 male, 2 female; other digits exist for provisional numbers.
    pub sex: u8,
    pub sex_label: Option<String>,
    /// Two digits: the century is not in the NIR.
    pub birth_year: String,
    /// Two characters, kept raw (values over 12 exist).
    pub birth_month: String,
    pub place: Place,
}

/// Where the person was born, as the NIR says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Place {
    /// Département (2 characters, 3 for 97x/98x overseas) and commune.
    France { departement: String, commune: String },
    /// Born abroad (département 99): the INSEE country code.
    Abroad { country: String },
}

/// A birth date as the card holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BirthDate {
    /// Exactly what the card holds (`AAAAMMJJ`; send it back as is on invoices).
    pub raw: String,
    /// `YYYY-MM-DD` when `raw` is a calendar date.
    pub iso: Option<String>,
    /// A date de naissance lunaire: the month or the day is not a calendar value.
    pub lunar: bool,
    /// The card holds a 6-character date: the century is missing.
    pub year_only: bool,
    /// The date to compute with (01/01 of the year for a lunar date; `null`
    /// when the year is unknown).
    pub computation_date: Option<String>,
}

/// Benefits data whose tags the Vitale profile maps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Rights {
    pub regime: Option<String>,
    pub caisse: Option<String>,
    pub centre: Option<String>,
    pub code_gestion: Option<String>,
    /// Qualité du bénéficiaire (0 assuré, 6 enfant, …).
    pub quality: Option<String>,
    pub birth_rank: Option<String>,
    pub amc: Option<String>,
    pub amo_periods: Vec<Period>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Period {
    pub start: Option<String>,
    pub end: Option<String>,
}

/// An object the profile does not map: where it was, its tag, its value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Extra {
    /// File id, then template and 1-based index: `D001/65[1]`.
    pub path: String,
    pub tag: String,
    pub hex: String,
}

impl std::fmt::Debug for Extra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Extra {{ path: {:?}, tag: {:?}, .. }}", self.path, self.tag)
    }
}

/// A file POINTERS names that is not an identity file, whole.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExtraFile {
    /// AID of its application, hex.
    pub application: String,
    pub fid: String,
    pub name: String,
    pub hex: String,
}

impl std::fmt::Debug for ExtraFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ExtraFile {{ fid: {:?}, name: {:?}, .. }}",
            self.fid, self.name
        )
    }
}

/// One card-verifiable certificate of the card (hex values, as read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CardCertificate {
    /// The file it was read from (file id, hex).
    pub file: String,
    /// `7F21`'s value, `null` when the file has only `5F37`/`5F38`.
    pub certificate: Option<String>,
    /// `5F37`: the CA's signature.
    pub ca_signature: Option<String>,
    /// `5F38`.
    pub public_key_remainder: Option<String>,
}
