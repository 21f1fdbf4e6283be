//! The NIR (numéro d'inscription au répertoire): 13 characters and a 2-digit
//! key, key = 97 − (NIR mod 97) with Corsica `2A` → 19 and `2B` → 18.
//! Layout: sex (1), birth year (2), birth month (2), place of birth (5:
//! département + commune, or 99 + country), order number (3).

pub use lecteur_proto::vitale::{NirParts, Place};

/// Decodes the 13-character NIR; `None` when it does not have the NIR shape.
pub fn parts(number: &str) -> Option<NirParts> {
    let b = number.as_bytes();
    if b.len() != 13 || !number.is_ascii() {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !digits(0..5) || !digits(7..13) {
        return None;
    }
    let dept = &number[5..7];
    let place = match dept {
        "99" => Place::Abroad {
            country: number[7..10].to_string(),
        },
        "97" | "98" => Place::France {
            departement: number[5..8].to_string(),
            commune: number[8..10].to_string(),
        },
        "2A" | "2B" | "2a" | "2b" => Place::France {
            departement: dept.to_ascii_uppercase(),
            commune: number[7..10].to_string(),
        },
        _ if digits(5..7) => Place::France {
            departement: dept.to_string(),
            commune: number[7..10].to_string(),
        },
        _ => return None,
    };
    let sex = b[0] - b'0';
    Some(NirParts {
        sex,
        sex_label: match sex {
            1 => Some("masculin".to_string()),
            2 => Some("féminin".to_string()),
            _ => None,
        },
        birth_year: number[1..3].to_string(),
        birth_month: number[3..5].to_string(),
        place,
    })
}

/// Splits a 15-character NIR into (13-character number, key, key valid).
pub fn split(nir: &str) -> Option<(&str, &str, bool)> {
    if nir.len() != 15 || !nir.is_ascii() {
        return None;
    }
    let (number, key) = nir.split_at(13);
    Some((number, key, key_is_valid(number, key)))
}

/// Computes the key of a 13-character NIR, `None` if it is not one.
pub fn key(number: &str) -> Option<u8> {
    if number.len() != 13 || !number.is_ascii() {
        return None;
    }
    let digits = match &number[5..7] {
        "2A" | "2a" => format!("{}19{}", &number[..5], &number[7..]),
        "2B" | "2b" => format!("{}18{}", &number[..5], &number[7..]),
        _ => number.to_string(),
    };
    let n: u64 = digits
        .parse()
        .ok()
        .filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))?;
    Some((97 - n % 97) as u8)
}

fn key_is_valid(number: &str, key_str: &str) -> bool {
    match (key(number), key_str.parse::<u8>()) {
        (Some(k), Ok(given)) => key_str.bytes().all(|b| b.is_ascii_digit()) && k == given,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_keys() {
        // 1 85 05 78 006 084 → key 91 (a classic public example).
        assert_eq!(key("1850578006084"), Some(91));
        assert_eq!(split("185057800608491"), Some(("1850578006084", "91", true)));
        assert_eq!(split("185057800608492").map(|s| s.2), Some(false));
        assert_eq!(split("18505780060849"), None);
    }

    #[test]
    fn decodes_the_parts() {
        let p = parts("1850578006084").unwrap();
        assert_eq!(
            (
                p.sex,
                p.sex_label.as_deref(),
                p.birth_year.as_str(),
                p.birth_month.as_str()
            ),
            (1, Some("masculin"), "85", "05")
        );
        assert_eq!(
            p.place,
            Place::France {
                departement: "78".into(),
                commune: "006".into()
            }
        );
        let p = parts("2830999350018").unwrap();
        assert_eq!(
            p.place,
            Place::Abroad {
                country: "350".into()
            }
        );
        assert_eq!(
            serde_json::to_value(&p.place).unwrap(),
            serde_json::json!({"country": "350"})
        );
        let p = parts("2830997105018").unwrap();
        assert_eq!(
            p.place,
            Place::France {
                departement: "971".into(),
                commune: "05".into()
            }
        );
        assert_eq!(
            parts("185052A006084").unwrap().place,
            Place::France {
                departement: "2A".into(),
                commune: "006".into()
            }
        );
        assert!(parts("18505X8006084").is_none());
        assert!(parts("185057800608").is_none());
        assert!(parts("185057800608é").is_none());
    }

    #[test]
    fn corsica_uses_19_and_18() {
        let a = key("185052A006084").unwrap();
        let n19: u64 = 1850519006084;
        assert_eq!(a as u64, 97 - n19 % 97);
        let b = key("185052B006084").unwrap();
        let n18: u64 = 1850518006084;
        assert_eq!(b as u64, 97 - n18 % 97);
        assert_eq!(key("185052C006084"), None);
    }

    #[test]
    fn random_strings_never_panic() {
        let mut rng = crate::card::testutil::Rng::new(13);
        for input in rng.inputs(&[b"185057800608491".to_vec(), b"185052A00608491".to_vec()]) {
            let s: String = input.iter().map(|&b| b as char).collect();
            let _ = split(&s);
            let _ = key(&s);
            let _ = parts(&s);
            if s.len() >= 13 && s.is_char_boundary(13) {
                let _ = parts(&s[..13]);
            }
        }
    }
}
