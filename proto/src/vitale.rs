//! `vitale.read`.

use crate::system::CardView;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `vitale.read`'s params.
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
    /// The card.
    pub card: CardView,
    /// Card validity start, raw `AAAAMMJJ`.
    pub validity_start: Option<String>,
    /// Every beneficiary on the card, in card order.
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
    /// What lecteurd could not read or fell back on (POINTERS unusable, a
    /// named file unreadable, the PAN…): for people, not to be parsed.
    pub warnings: Vec<String>,
}

/// One beneficiary (the insured person or a dependant).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Beneficiary {
    /// The 13-character NIR.
    pub nir: String,
    /// Its 2-digit key.
    pub nir_key: String,
    /// The key checks (`97 − n mod 97`, Corsica `2A`→19, `2B`→18).
    pub nir_valid: bool,
    /// Sex, birth year and month, place of birth, as the NIR says.
    /// `null` when the NIR does not decode.
    pub nir_parts: Option<NirParts>,
    /// As the card holds it.
    pub surname: String,
    /// As the card holds it.
    pub first_name: String,
    /// The birth date as the card holds it, and decoded.
    pub birth_date: BirthDate,
    /// As the card holds it; `null` when absent.
    pub nationality: Option<String>,
    /// Rights data: each field `null` unless the Vitale profile maps its tag (the built-in profile maps none; the values are in `extra`).
    pub rights: Rights,
    /// This beneficiary's objects the profile does not map.
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
    /// `masculin` (1), `féminin` (2), else `null`.
    pub sex_label: Option<String>,
    /// Two digits: the century is not in the NIR.
    pub birth_year: String,
    /// Two characters, kept raw (values over 12 exist).
    pub birth_month: String,
    /// Place of birth: `{departement, commune}`, or `{country}` when born abroad.
    pub place: Place,
}

/// Where the person was born, as the NIR says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Place {
    /// Département (2 characters, 3 for 97x/98x overseas) and commune.
    France {
        /// 2 characters (`2A`/`2B` for Corsica), 3 for 97x/98x.
        departement: String,
        /// The commune's number within the département: 3 characters (2 for 97x/98x).
        commune: String,
    },
    /// Born abroad (département 99): the INSEE country code.
    Abroad {
        /// The 3 characters after `99`: the INSEE country code.
        country: String,
    },
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

/// Rights data, each field as the card holds it, `null` unless the Vitale
/// profile maps its tag (lecteur's built-in profile maps none: their tags
/// are not public, so the values come back in `extra`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Rights {
    /// Code régime.
    pub regime: Option<String>,
    /// Caisse gestionnaire.
    pub caisse: Option<String>,
    /// Centre gestionnaire.
    pub centre: Option<String>,
    /// Code gestion.
    pub code_gestion: Option<String>,
    /// Qualité du bénéficiaire (0 assuré, 6 enfant, …).
    pub quality: Option<String>,
    /// Rang de naissance.
    pub birth_rank: Option<String>,
    /// Complementary insurance (AMC) data.
    pub amc: Option<String>,
    /// Periods of mandatory insurance (AMO) rights.
    pub amo_periods: Vec<Period>,
}

/// A period of rights, its dates as the card holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Period {
    /// Start; `null` when absent.
    pub start: Option<String>,
    /// End; `null` when absent.
    pub end: Option<String>,
}

/// An object the profile does not map: where it was, its tag, its value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Extra {
    /// File id, then template and 1-based index: `D001/65[1]`.
    pub path: String,
    /// The tag, upper-case hex.
    pub tag: String,
    /// The value, upper-case hex.
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
    /// File id, hex.
    pub fid: String,
    /// Its name in POINTERS.
    pub name: String,
    /// The whole file, upper-case hex.
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
