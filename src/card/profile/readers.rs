//! Reader roles (the card profile file `readers.toml`): which slot of a
//! multi-slot reader is meant for which card (not published; see
//! `profiles/readers.toml`).

use super::Invalid;
use serde::Deserialize;

/// What a slot is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotRole {
    /// The slot for the CPS (`role = "cps"`).
    Cps,
    /// The slot for the carte Vitale (`role = "vitale"`).
    Vitale,
}

impl SlotRole {
    /// The role as written in `readers.toml` and shown in `readers.list`.
    pub fn as_str(self) -> &'static str {
        match self {
            SlotRole::Cps => "cps",
            SlotRole::Vitale => "vitale",
        }
    }
}

/// One `[[reader]]` rule: slots whose name contains `name` have `role`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderRule {
    /// A substring of the reader (slot) name.
    pub name: String,
    /// The role of the slots it matches.
    pub role: SlotRole,
}

/// The whole `readers.toml`: its rules, in file order (default: none).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderRoles {
    /// The `[[reader]]` rules; the first that matches wins.
    #[serde(default, rename = "reader")]
    pub rules: Vec<ReaderRule>,
}

impl ReaderRoles {
    /// The role of a slot by its name: the first rule that matches.
    pub fn role(&self, name: &str) -> Option<SlotRole> {
        self.rules.iter().find(|r| name.contains(&r.name)).map(|r| r.role)
    }

    /// Rejects a rule with an empty `name` (it would match every slot).
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
