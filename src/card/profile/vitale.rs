//! The Vitale 2 profile (`profiles/vitale2.toml`): applications, files and
//! the tag map. Rights tags are not public, so the default maps none.

use super::hex::{Fid, Hex, Tag};
use super::Invalid;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitaleProfile {
    pub applications: VitaleApplications,
    pub pointers: Pointers,
    pub identity: Identity,
    /// EF PAN in MF_VITALE, read when present (cardpeek's `2F02`).
    #[serde(default)]
    pub pan: Option<Identity>,
    pub read: VitaleRead,
    pub limits: Limits,
    pub tags: VitaleTags,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitaleApplications {
    pub vitale: Hex,
    pub mf_vitale: Hex,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pointers {
    pub fid: Fid,
    pub max_files: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub fid: Fid,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitaleRead {
    pub chunk: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub max_beneficiaries: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodTags {
    pub template: Tag,
    pub start: Tag,
    pub end: Tag,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryTags {
    pub surname: Tag,
    pub first_name: Tag,
    pub birth_date: Tag,
    pub nationality: Option<Tag>,
    pub nir: Tag,
    pub birth_rank: Option<Tag>,
    pub quality: Option<Tag>,
    pub regime: Option<Tag>,
    pub caisse: Option<Tag>,
    pub centre: Option<Tag>,
    pub code_gestion: Option<Tag>,
    pub amc: Option<Tag>,
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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardTags {
    pub validity_start: Tag,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitaleTags {
    pub beneficiary: Tag,
    pub card: Tag,
    pub beneficiary_fields: BeneficiaryTags,
    pub card_fields: CardTags,
}

impl VitaleProfile {
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
