//! Reader roles (the card profile file `readers.toml`): which slot of a
//! multi-slot reader is meant for which card (not published; see
//! `profiles/readers.toml`).

use super::Invalid;
use serde::Deserialize;

/// What a slot is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotRole {
    Cps,
    Vitale,
}

impl SlotRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SlotRole::Cps => "cps",
            SlotRole::Vitale => "vitale",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderRule {
    /// A substring of the reader (slot) name.
    pub name: String,
    pub role: SlotRole,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderRoles {
    #[serde(default, rename = "reader")]
    pub rules: Vec<ReaderRule>,
}

impl ReaderRoles {
    /// The role of a slot by its name: the first rule that matches.
    pub fn role(&self, name: &str) -> Option<SlotRole> {
        self.rules.iter().find(|r| name.contains(&r.name)).map(|r| r.role)
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        match self.rules.iter().position(|r| r.name.is_empty()) {
            Some(i) => Err(format!("reader rule {} has an empty name", i + 1).into()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_rule_wins() {
        let p: ReaderRoles = toml::from_str(
            "[[reader]]\nname = \"KAP 00\"\nrole = \"vitale\"\n[[reader]]\nname = \"KAP\"\nrole = \"cps\"\n",
        )
        .unwrap();
        assert_eq!(p.role("Kapelse KAP 00 00"), Some(SlotRole::Vitale));
        assert_eq!(p.role("Kapelse KAP 01 00"), Some(SlotRole::Cps));
        assert_eq!(p.role("Other"), None);
        assert!(toml::from_str::<ReaderRoles>("[[reader]]\nname = \"x\"\nrole = \"other\"\n").is_err());
    }
}
