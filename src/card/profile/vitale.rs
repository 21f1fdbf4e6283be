//! The Vitale 2 profile (`profiles/vitale2.toml`): applications, files and
//! the tag map. Rights tags are not public, so the default maps none.

use super::hex::{Fid, Hex, Tag};
use super::Invalid;
use serde::Deserialize;

/// The Vitale 2 profile: what to select and read, and how its tags map to fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitaleProfile {
    /// The AIDs of the card's applications (`[applications]`).
    pub applications: VitaleApplications,
    /// The POINTERS file that lists the named EFs (`[pointers]`).
    pub pointers: Pointers,
    /// The EF read when POINTERS is absent or malformed (`[identity]`).
    pub identity: Identity,
    /// EF PAN in MF_VITALE, read when present (cardpeek's `2F02`).
    #[serde(default)]
    pub pan: Option<Identity>,
    /// How files are read (`[read]`).
    pub read: VitaleRead,
    /// Bounds on what is parsed (`[limits]`).
    pub limits: Limits,
    /// The tag map (`[tags]`).
    pub tags: VitaleTags,
}

/// The AIDs of the Vitale 2 applications.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitaleApplications {
    /// The VITALE application, which holds POINTERS.
    pub vitale: Hex,
    /// The MF_VITALE application, which holds the data EFs.
    pub mf_vitale: Hex,
}

/// The POINTERS EF, in VITALE: the list of named EFs and their file ids.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pointers {
    /// Its file id (default profile: `2001`).
    pub fid: Fid,
    /// At most this many named EFs are read (1 to 64; default profile: 16).
    pub max_files: usize,
}

/// One EF of MF_VITALE, by file id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Its file id (default profile: `D001` for identity, `2F02` for PAN).
    pub fid: Fid,
}

/// How EFs are read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitaleRead {
    /// Bytes asked per READ BINARY (1 to 256; default profile: 256).
    pub chunk: usize,
}

/// Bounds on what is parsed from the card.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// At most this many beneficiaries are returned (1 to 64; default profile: 16).
    pub max_beneficiaries: usize,
}

/// Tags of a dated period (e.g. AMO rights): a template holding a start and an end.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodTags {
    /// The constructed tag of one period.
    pub template: Tag,
    /// Its start date, inside the template.
    pub start: Tag,
    /// Its end date, inside the template.
    pub end: Tag,
}

/// Tags inside a beneficiary object; an unset optional tag is not mapped,
/// and its data come back as `extra`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryTags {
    /// Surname (default profile: `80`).
    pub surname: Tag,
    /// First name (default profile: `81`).
    pub first_name: Tag,
    /// Birth date (default profile: `82`).
    pub birth_date: Tag,
    /// Nationality (default profile: `90`).
    pub nationality: Option<Tag>,
    /// NIR, the social security number (default profile: `93`).
    pub nir: Tag,
    /// Birth rank (not public: unset by default).
    pub birth_rank: Option<Tag>,
    /// Beneficiary quality (not public: unset by default).
    pub quality: Option<Tag>,
    /// Insurance scheme code (not public: unset by default).
    pub regime: Option<Tag>,
    /// Paying fund code (not public: unset by default).
    pub caisse: Option<Tag>,
    /// Paying centre code (not public: unset by default).
    pub centre: Option<Tag>,
    /// Management code (not public: unset by default).
    pub code_gestion: Option<Tag>,
    /// Complementary insurance (AMC) data (not public: unset by default).
    pub amc: Option<Tag>,
    /// Periods of compulsory insurance (AMO) rights (not public: unset by default).
    pub amo_periods: Option<PeriodTags>,
}

impl BeneficiaryTags {
    /// Every tag the map consumes directly inside a beneficiary.
    pub fn mapped(&self) -> Vec<&Tag> {
        let mut v = vec![&self.surname, &self.first_name, &self.birth_date, &self.nir];
        v.extend(
            [
                &self.nationality,
                &self.birth_rank,
                &self.quality,
                &self.regime,
                &self.caisse,
                &self.centre,
                &self.code_gestion,
                &self.amc,
            ]
            .into_iter()
            .flatten(),
        );
        v.extend(self.amo_periods.as_ref().map(|p| &p.template));
        v
    }
}

/// Tags inside the card object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardTags {
    /// Start of the card's validity (default profile: `80`).
    pub validity_start: Tag,
}

/// Where data lie in the card's BER-TLV objects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitaleTags {
    /// The constructed tag of one beneficiary (default profile: `65`).
    pub beneficiary: Tag,
    /// The constructed tag of the card object (default profile: `66`); differs from `beneficiary`.
    pub card: Tag,
    /// Tags inside each beneficiary.
    pub beneficiary_fields: BeneficiaryTags,
    /// Tags inside the card object.
    pub card_fields: CardTags,
}

impl VitaleProfile {
    /// Checks the bounds above, that no beneficiary tag is mapped twice, and that
    /// the beneficiary and card tags differ.
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(1..=256).contains(&self.read.chunk) {
            return Err("read.chunk must be 1 to 256".into());
        }
        if !(1..=64).contains(&self.pointers.max_files) {
            return Err("pointers.max_files must be 1 to 64".into());
        }
        if !(1..=64).contains(&self.limits.max_beneficiaries) {
            return Err("limits.max_beneficiaries must be 1 to 64".into());
        }
        let mapped = self.tags.beneficiary_fields.mapped();
        for (i, t) in mapped.iter().enumerate() {
            if mapped[..i].contains(t) {
                return Err(format!("tag {} is mapped twice", hex::encode_upper(&t.0)).into());
            }
        }
        if self.tags.beneficiary == self.tags.card {
            return Err("tags.beneficiary and tags.card must differ".into());
        }
        Ok(())
    }
}
