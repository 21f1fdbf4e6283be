//! Code tables (`data/*.toml`, compiled in): a code read from a card comes
//! back with its label, or with `label: null` when the table does not know it.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The nomenclatures lecteur knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Table {
    /// Card category.
    G01,
    /// Card type (CPS, CPF, CPE, CPA).
    G02,
    /// Structure identifier type.
    G07,
    /// National identifier type of a person.
    G08,
    /// Profession.
    G15,
    /// Specialty.
    R01,
    /// Activity sector.
    R02,
}

impl Table {
    const ALL: [Table; 7] = [
        Table::G01,
        Table::G02,
        Table::G07,
        Table::G08,
        Table::G15,
        Table::R01,
        Table::R02,
    ];

    fn source(self) -> &'static str {
        match self {
            Table::G01 => include_str!("../../data/g01.toml"),
            Table::G02 => include_str!("../../data/g02.toml"),
            Table::G07 => include_str!("../../data/g07.toml"),
            Table::G08 => include_str!("../../data/g08.toml"),
            Table::G15 => include_str!("../../data/g15.toml"),
            Table::R01 => include_str!("../../data/r01.toml"),
            Table::R02 => include_str!("../../data/r02.toml"),
        }
    }
}

/// A code and its label (`null` when unknown), as the API gives it.
pub(crate) use lecteur_proto::cps::Coded;

/// `code` with its label from `table`.
pub(crate) fn coded(table: Table, code: &str) -> Coded {
    Coded {
        code: code.to_string(),
        label: label(table, code).map(str::to_string),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    codes: HashMap<String, String>,
}

fn tables() -> &'static HashMap<Table, HashMap<String, String>> {
    static TABLES: OnceLock<HashMap<Table, HashMap<String, String>>> = OnceLock::new();
    TABLES.get_or_init(|| {
        Table::ALL
            .iter()
            // A broken table (caught by the tests) only loses its labels.
            .map(|t| {
                (
                    *t,
                    toml::from_str::<File>(t.source())
                        .map(|f| f.codes)
                        .unwrap_or_default(),
                )
            })
            .collect()
    })
}

/// The label of `code` in `table`.
pub(crate) fn label(table: Table, code: &str) -> Option<&'static str> {
    tables().get(&table)?.get(code).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_parses() {
        for t in Table::ALL {
            let f: File = toml::from_str(t.source()).unwrap_or_else(|e| panic!("{t:?}: {e}"));
            assert!(!f.codes.is_empty(), "{t:?}");
        }
    }

    #[test]
    fn known_and_unknown_codes() {
        assert_eq!(label(Table::G15, "10"), Some("Médecin"));
        assert_eq!(label(Table::G15, "70"), Some("Masseur-Kinésithérapeute"));
        assert_eq!(label(Table::R01, "SM26"), Some("Qualifié en Médecine générale"));
        assert_eq!(label(Table::R02, "SA07"), Some("Cabinet individuel"));
        assert_eq!(label(Table::G08, "8"), Some("N° RPPS"));
        let c = coded(Table::R02, "SA99");
        assert_eq!((c.code.as_str(), c.label.as_deref()), ("SA99", None));
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"code":"SA99","label":null}"#
        );
    }
}
