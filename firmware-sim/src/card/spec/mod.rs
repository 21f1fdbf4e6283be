//! Cards as data: the TOML description of a card, checked and turned into a
//! model. A file only needs `kind` and the fields it changes: everything left
//! out is taken from the embedded default card of that kind (`cards/*.toml`).
//! Each kind's fields and checks are in [`cps`] and [`vitale`].

mod cps;
mod vitale;

use super::cps3::layout::Generation;
use super::unknown::UnknownCard;
use super::vitale1::Vitale1Card;
use super::SimCard;
use cps::build_cps;
use serde::Deserialize;
use vitale::build_vitale2;

pub const CPS3_TOML: &str = include_str!("../../../cards/cps3.toml");
pub const CPS4_TOML: &str = include_str!("../../../cards/cps4.toml");
pub const VITALE2_TOML: &str = include_str!("../../../cards/vitale2.toml");
pub const VITALE1_TOML: &str = include_str!("../../../cards/vitale1.toml");
pub const UNKNOWN_TOML: &str = include_str!("../../../cards/unknown.toml");

/// Every card file of `cards/`, by name (the file stem): `load(name)` finds them.
pub const BUNDLED: [(&str, &str); 16] = [
    ("cps3", CPS3_TOML),
    ("cps4", CPS4_TOML),
    ("vitale2", VITALE2_TOML),
    ("vitale1", VITALE1_TOML),
    ("unknown", UNKNOWN_TOML),
    ("cps3-blocked", include_str!("../../../cards/cps3-blocked.toml")),
    ("cps3-last-try", include_str!("../../../cards/cps3-last-try.toml")),
    ("cps3-expired", include_str!("../../../cards/cps3-expired.toml")),
    (
        "cps3-16-situations",
        include_str!("../../../cards/cps3-16-situations.toml"),
    ),
    ("cps3-adeli", include_str!("../../../cards/cps3-adeli.toml")),
    (
        "cps3-usage-spent",
        include_str!("../../../cards/cps3-usage-spent.toml"),
    ),
    (
        "cps3-actua-empty",
        include_str!("../../../cards/cps3-actua-empty.toml"),
    ),
    (
        "cps3-actua-garbled",
        include_str!("../../../cards/cps3-actua-garbled.toml"),
    ),
    (
        "vitale2-6-beneficiaries",
        include_str!("../../../cards/vitale2-6-beneficiaries.toml"),
    ),
    (
        "vitale2-missing-century",
        include_str!("../../../cards/vitale2-missing-century.toml"),
    ),
    ("vitale2-lunar", include_str!("../../../cards/vitale2-lunar.toml")),
];

/// The TOML text of a bundled card.
pub fn bundled(name: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// `kind = "unknown"` and `kind = "vitale1"`: only an ATR.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AtrOnlySpec {
    #[allow(dead_code)]
    kind: String,
    atr: String,
}

const KINDS: &str = "cps3, cps4, vitale2, vitale1 or unknown";

/// Builds a card from TOML text; errors are plain messages (the caller adds
/// where the text came from).
pub fn card_from_toml(text: &str) -> Result<Box<dyn SimCard>, String> {
    let user: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let kind = match user.get("kind") {
        Some(toml::Value::String(kind)) => kind.clone(),
        Some(_) => return Err("`kind` must be a string".into()),
        None => return Err(format!("missing `kind` ({KINDS})")),
    };
    let defaults = match kind.as_str() {
        "cps3" => CPS3_TOML,
        "cps4" => CPS4_TOML,
        "vitale2" => VITALE2_TOML,
        "vitale1" => VITALE1_TOML,
        "unknown" => UNKNOWN_TOML,
        other => return Err(format!("unknown kind {other:?}: use {KINDS}")),
    };
    let mut merged: toml::Table = toml::from_str(defaults).map_err(|e| e.to_string())?;
    merge(&mut merged, user);
    let value = toml::Value::Table(merged);
    match kind.as_str() {
        "cps3" => build_cps(value.try_into().map_err(|e| field_error(&e))?, Generation::Cps3),
        "cps4" => build_cps(value.try_into().map_err(|e| field_error(&e))?, Generation::Cps4),
        "vitale2" => build_vitale2(value.try_into().map_err(|e| field_error(&e))?),
        "vitale1" => {
            let spec: AtrOnlySpec = value.try_into().map_err(|e| field_error(&e))?;
            Ok(Box::new(Vitale1Card::new(parse_atr(&spec.atr)?)))
        }
        _ => {
            let spec: AtrOnlySpec = value.try_into().map_err(|e| field_error(&e))?;
            Ok(Box::new(UnknownCard::new(parse_atr(&spec.atr)?)))
        }
    }
}

/// The message on one line; toml appends the key path (in `pin.tries_left`).
fn field_error(e: &toml::de::Error) -> String {
    e.to_string().trim().replace('\n', " ")
}

/// Overlays `user` on `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut toml::Table, user: toml::Table) {
    for (key, value) in user {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(u)) => merge(b, u),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// `3B AC 00 …` (spaces or colons allowed) → bytes of a plausible ATR.
pub fn parse_atr(text: &str) -> Result<Vec<u8>, String> {
    let atr = parse_hex("atr", text)?;
    if !(2..=33).contains(&atr.len()) || !matches!(atr.first(), Some(0x3B | 0x3F)) {
        return Err(format!(
            "atr {text:?}: an ATR is 2 to 33 bytes starting with 3B or 3F"
        ));
    }
    Ok(atr)
}

/// Hex bytes, spaces or colons allowed.
fn parse_hex(field: &str, text: &str) -> Result<Vec<u8>, String> {
    let hex_digits: String = text.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    hex::decode(&hex_digits).map_err(|e| format!("{field} {text:?}: {e}"))
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.is_empty() || value.len() > max {
        return Err(format!("{field} must be 1 to {max} bytes long"));
    }
    Ok(())
}

/// Non-empty, at most `max` characters, all in Latin-1 (the data objects' encoding).
fn check_latin1(field: &str, value: &str, max: usize) -> Result<(), String> {
    let count = value.chars().count();
    if count == 0 || count > max {
        return Err(format!("{field} must be 1 to {max} characters long"));
    }
    if let Some(c) = value.chars().find(|c| u32::from(*c) > 0xFF) {
        return Err(format!("{field}: {c:?} is not a Latin-1 character"));
    }
    Ok(())
}

fn check_digits(field: &str, value: &str, lengths: std::ops::RangeInclusive<usize>) -> Result<(), String> {
    if !lengths.contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{field} {value:?} must be {} to {} ASCII digits",
            lengths.start(),
            lengths.end()
        ));
    }
    Ok(())
}

fn check_tries(field: &str, left: u8, max: u8) -> Result<(), String> {
    if !(1..=15).contains(&max) || left > max {
        return Err(format!(
            "{field}: tries_max must be 1 to 15 and tries_left at most tries_max (got {left}/{max})"
        ));
    }
    Ok(())
}

/// `YYYYMMDDhhmmss`, a plausible date and time.
fn check_timestamp(field: &str, value: &str) -> Result<(), String> {
    check_digits(field, value, 14..=14)?;
    let n = |r: std::ops::Range<usize>| value[r].parse::<u32>().unwrap_or(99);
    if !(1..=12).contains(&n(4..6))
        || !(1..=31).contains(&n(6..8))
        || n(8..10) > 23
        || n(10..12) > 59
        || n(12..14) > 59
    {
        return Err(format!("{field} {value:?} is not a date-time YYYYMMDDhhmmss"));
    }
    Ok(())
}

/// A BER tag: one byte (not 00/FF, low bits not 1F), or a first byte with low
/// bits 1F followed by bytes with bit 8 set but the last.
fn parse_tag(field: &str, text: &str) -> Result<Vec<u8>, String> {
    let tag = parse_hex(field, text)?;
    let ok = match tag.as_slice() {
        [first] => *first != 0x00 && *first != 0xFF && first & 0x1F != 0x1F,
        [first, rest @ .., last] => {
            first & 0x1F == 0x1F && rest.iter().all(|b| b & 0x80 != 0) && last & 0x80 == 0 && tag.len() <= 3
        }
        [] => false,
    };
    if !ok {
        return Err(format!("{field} {text:?} is not a BER tag (1 to 3 bytes)"));
    }
    Ok(tag)
}

/// Whether `data` is a sequence of well-formed BER-TLV objects (definite lengths).
fn is_ber_sequence(mut data: &[u8]) -> bool {
    while !data.is_empty() {
        let tag_len = match data {
            [first, ..] if first & 0x1F != 0x1F => 1,
            [_, rest @ ..] => match rest.iter().position(|b| b & 0x80 == 0) {
                Some(i) => i + 2,
                None => return false,
            },
            [] => return true,
        };
        let Some(rest) = data.get(tag_len..) else {
            return false;
        };
        let (len, header) = match rest {
            [n, ..] if *n < 0x80 => (usize::from(*n), 1),
            [0x81, n, ..] => (usize::from(*n), 2),
            [0x82, a, b, ..] => (usize::from(u16::from_be_bytes([*a, *b])), 3),
            _ => return false,
        };
        match rest.get(header..header + len) {
            Some(_) => data = &rest[header + len..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        card_from_toml(text).err().expect("should fail")
    }

    #[test]
    fn every_bundled_card_loads() {
        for (name, text) in BUNDLED {
            let card = card_from_toml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(card.atr().len() >= 2, "{name}");
        }
    }

    #[test]
    fn bundled_names_are_the_files() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cards");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                Some(name.strip_suffix(".toml")?.to_string())
            })
            .collect();
        names.sort();
        let mut bundled: Vec<String> = BUNDLED.iter().map(|(n, _)| n.to_string()).collect();
        bundled.sort();
        assert_eq!(names, bundled);
        for (name, text) in BUNDLED {
            let on_disk = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
            assert_eq!(on_disk, text, "{name}");
        }
    }

    #[test]
    fn partial_files_take_the_defaults() {
        let card = card_from_toml("kind = \"vitale2\"\natr = \"3B 75 13 00 00 45 09 FA 90 00\"").unwrap();
        assert_eq!(card.atr(), [0x3B, 0x75, 0x13, 0, 0, 0x45, 0x09, 0xFA, 0x90, 0]);
    }

    #[test]
    fn errors_are_clear() {
        assert!(err("kind = \"cps3\"\nfoo = 1").contains("unknown field `foo`"));
        assert!(err("kind = \"cps3\"\n[pin]\nbar = 1").contains("unknown field `bar`"));
        assert!(err("serial = \"1\"").contains("missing `kind`"));
        assert!(err("kind = \"cps9\"").contains("unknown kind"));
        assert!(err("kind = \"cps3\"\nserial = \"12\"").contains("serial"));
        assert!(err("kind = \"cps3\"\natr = \"zz\"").contains("atr"));
        assert!(err("kind = \"cps3\"\natr = \"11 22\"").contains("3B or 3F"));
        assert!(err("kind = \"cps3\"\n[pin]\ntries_left = 4").contains("tries_left"));
        assert!(err("kind = \"cps3\"\n[pin]\ntries_left = \"x\"").contains("in `pin.tries_left`"));
        assert!(err("kind = \"cps3\"\n[pin]\nvalue = \"12a4\"").contains("pin.value"));
        assert!(err("kind = \"cps3\"\n[certificates]\nnot_after = \"2034-13-01\"").contains("not_after"));
        assert!(err("kind = \"cps3\"\n[certificates]\nnot_after = \"2023-01-01\"").contains("before"));
        assert!(err("kind = \"cps3\"\n[holder]\nsurname = \"\"").contains("holder.surname"));
        assert!(err("kind = \"cps3\"\n[holder]\nsurname = \"Ł\"").contains("Latin-1"));
        assert!(err("kind = \"cps3\"\n[card]\ntype = \"0\"").contains("card.type"));
        assert!(err("kind = \"cps4\"\n[card]\ndata = \"0\"").contains("card.data"));
        assert!(err("kind = \"cps3\"\n[card]\nvalidity_end = \"2020-01-01\"").contains("validity_start"));
        assert!(err("kind = \"cps3\"\n[actua]\nstart = \"20241301000000\"").contains("actua.start"));
        assert!(err("kind = \"cps3\"\n[[situations]]\nmode = \"1\"").contains("missing field"));
        let many = "[[situations]]\nmode = \"1\"\nstatut = \"1\"\nstructure_id_type = \"1\"\nraison_sociale = \"X\"\nstructure_id = \"1\"\nsector = \"SA01\"\n";
        assert!(err(&format!("kind = \"cps3\"\n{}", many.repeat(17))).contains("16"));
        assert!(err("kind = \"vitale2\"\nbeneficiaries = []").contains("beneficiaries"));
        assert!(err("kind = \"vitale2\"\n[[beneficiaries]]\nsurname = \"A\"").contains("missing field"));
        let person = "[[beneficiaries]]\nsurname = \"A\"\nfirst_name = \"B\"\nbirth_date = \"800101\"\nnationality = \"FR\"\nnir = \"180017512345678\"\n";
        for (extra, needle) in [
            ("{ tag = \"A5\", hex = \"0102\" }", "constructed"),
            ("{ tag = \"80\", hex = \"01\" }", "known tag"),
            ("{ tag = \"1F\", hex = \"01\" }", "BER tag"),
            ("{ tag = \"5F81\", hex = \"01\" }", "BER tag"),
            ("{ tag = \"A5\", hex = \"zz\" }", "hex"),
        ] {
            let text = format!("kind = \"vitale2\"\n{person}extra = [{extra}]\n");
            assert!(err(&text).contains(needle), "{extra}: {}", err(&text));
        }
        for (file, needle) in [
            ("fid = \"D001\", name = \"X\", hex = \"\"", "already used"),
            ("fid = \"D0\", name = \"X\", hex = \"\"", "2 bytes"),
            ("fid = \"D003\", name = \"TOO LONG9\", hex = \"\"", "name"),
        ] {
            let text = format!("kind = \"vitale2\"\nextra_files = [{{ {file} }}]\n");
            assert!(err(&text).contains(needle), "{file}: {}", err(&text));
        }
        assert!(err("kind = \"unknown\"\nserial = \"1\"").contains("unknown field"));
        assert!(err("kind = \"vitale1\"\nserial = \"1\"").contains("unknown field"));
        assert!(err("kind = ").contains("line 1"));
    }

    #[test]
    fn ber_checks() {
        assert!(is_ber_sequence(&[]));
        assert!(is_ber_sequence(&[0x80, 0x01, 0x06, 0x5F, 0x20, 0x00]));
        assert!(is_ber_sequence(&[0xA1, 0x81, 0x01, 0x00]));
        assert!(!is_ber_sequence(&[0x01, 0x02]));
        assert!(!is_ber_sequence(&[0x5F]));
        assert!(!is_ber_sequence(&[0x80, 0x84, 0, 0, 0, 1, 0]));
        assert_eq!(parse_tag("t", "9F 02").unwrap(), [0x9F, 0x02]);
        assert_eq!(parse_tag("t", "BF8101").unwrap(), [0xBF, 0x81, 0x01]);
        assert!(parse_tag("t", "BF81818101").is_err());
        assert!(parse_tag("t", "").is_err());
        assert!(parse_tag("t", "00").is_err());
    }

    #[test]
    fn atr_parsing() {
        assert_eq!(parse_atr("3b:75 13").unwrap(), [0x3B, 0x75, 0x13]);
        assert!(parse_atr("3B").is_err());
    }
}
